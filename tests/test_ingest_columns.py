"""Ingest builds columns, shares repeated values and types each distinct value once (docs/performance.md):
the results must be those of typing record by record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from helpers import write

from validator.ingest import coerce
from validator.ingest.coerce import DMY, ISO, Factored, parse_dates_in_range
from validator.ingest.csv_reader import read_csv_file
from validator.ingest.loader import load_return
from validator.ingest.xml_cin import read_cin_xml
from validator.schema import load_schema

DATES = ["01/02/2024", "2024-02-01", None, "31/02/2024", "01/02/1066", " ", "01/02/2024", "2024-02-01 10:00:00"]


def test_dates_parsed_once_per_distinct_text_equal_those_parsed_one_by_one(monkeypatch) -> None:
    text = pd.Series(DATES * 10, index=range(100, 180), dtype="object")
    shared = parse_dates_in_range(text, (DMY,))
    monkeypatch.setattr(coerce, "_FEW", 10**9)  # every value parsed on its own
    alone = parse_dates_in_range(text, (DMY,))
    pd.testing.assert_series_equal(shared[0], alone[0])
    assert shared[1] == alone[1] == {"yyyy-mm-dd": 10, "yyyy-mm-dd hh:mm:ss": 10}  # counted in records
    pd.testing.assert_series_equal(shared[2], alone[2])
    pd.testing.assert_series_equal(shared[3], alone[3])
    assert shared[2].sum() == 30 and shared[3].sum() == 10  # 31/02, 1066 (outside the range) and " "


def test_factored_text_is_trimmed_with_blanks_missing_and_equal_values_shared() -> None:
    values = Factored.of([" A1 ", "A1", "", None, "  ", "B", 7, "B"])  # type: ignore[list-item]
    text = values.text()
    assert text.tolist() == ["A1", "A1", None, None, None, "B", None, "B"]  # a non-text cell counts as blank
    assert text[0] is text[1] and text[5] is text[7]
    assert values.counts().tolist() == [2, 2]


def test_typing_by_distinct_value_keeps_each_records_finding(tmp_path: Path) -> None:
    rows = "".join(f"C{n},M,{'32/01/2015' if n % 3 == 0 else '01/01/2015'},WBRI,UN1,,\n" for n in range(9))
    write(tmp_path, "header.csv", "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n" + rows)
    dataset = load_return([tmp_path], year="2024_25")
    bad = [f for f in dataset.findings if f.code == "DATE-INVALID"]
    assert [(f.line, f.row, f.child, f.values) for f in bad] == [
        (2, 0, "C0", ("32/01/2015",)),
        (5, 3, "C3", ("32/01/2015",)),
        (8, 6, "C6", ("32/01/2015",)),
    ]
    header = dataset.tables["Header"].df
    assert header["DOB"].isna().tolist() == [n % 3 == 0 for n in range(9)]
    assert header["DOB@raw"][0] == "32/01/2015" and header["DOB@raw"][1] == "01/01/2015"


def test_csv_columns_share_equal_values_and_keep_short_rows(tmp_path: Path) -> None:
    text = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB,Team\nC1,M,01/01/2015,WBRI,UN1,,,North\nC2,M,01/01/2015\nC3,F\n"
    path = write(tmp_path, "header.csv", text)
    _schema, raw, _findings = read_csv_file(path, [load_schema("ssda903")])
    assert raw is not None
    assert raw.columns["SEX"] == ["M", "M", "F"] and raw.columns["DOB"] == ["01/01/2015", "01/01/2015", None]
    assert raw.columns["SEX"][0] is raw.columns["SEX"][1] and raw.columns["DOB"][0] is raw.columns["DOB"][1]
    assert list(raw.columns)[:4] == ["Team", "CHILD", "SEX", "DOB"] and raw.columns["Team"] == ["North", None, None]
    assert list(raw.lines) == [2, 3, 4]  # kept as machine integers, read as the lines


CIN = """<Message><Children>
<Child><ChildIdentifiers><LAchildID>C1</LAchildID><Sex>M</Sex></ChildIdentifiers>
  <CINdetails><CINreferralDate>2024-05-01</CINreferralDate><ReferralSource><x/></ReferralSource>
    <ReferralSource> 1A </ReferralSource><ReferralSource>2B</ReferralSource><LAchildID>X</LAchildID>
    <Assessments><LAchildID>Y</LAchildID><AssessmentActualStartDate>2024-05-01</AssessmentActualStartDate>
    </Assessments></CINdetails></Child>
<Child><ChildIdentifiers><LAchildID>C2</LAchildID><Sex>M</Sex></ChildIdentifiers>
  <CINdetails><CINreferralDate>2024-05-01</CINreferralDate></CINdetails></Child>
</Children></Message>"""


def test_cin_columns_follow_the_leaves_and_share_repeated_values(tmp_path: Path) -> None:
    tables, _findings = read_cin_xml(write(tmp_path, "cin.xml", CIN))
    cin = tables["CINdetails"].columns
    # the first leaf of a name wins (an element with children is passed over); the episode's keys are the reader's
    assert cin["ReferralSource"] == ["1A", None] and cin["LAchildID"] == ["C1", "C2"]
    assert cin["CINdetailsID"] == ["1", "1"] and list(tables["CINdetails"].lines) == [3, 8]
    # a block's own leaf takes the place of a key, as the block's values always have
    assert tables["Assessments"].columns["LAchildID"] == ["Y"]
    assert cin["CINreferralDate"][0] is cin["CINreferralDate"][1]
    assert tables["Assessments"].columns["AssessmentActualStartDate"][0] is cin["CINreferralDate"][0]
    assert tables["CINdetails"].clean and not np.any([v == "" for v in cin["ReferralSource"]])
    assert set(tables["ChildIdentifiers"].columns) == set(load_schema("cin").tables["ChildIdentifiers"].columns)


def test_iso_dates_of_the_standard_form_are_not_counted_as_another_form() -> None:
    text = pd.Series(["2024-01-01"] * 50 + ["01/01/2024"] * 3, dtype="object")
    _dates, forms, bad, _far = parse_dates_in_range(text, (ISO, DMY))
    assert forms == {} and not bad.any()


def test_cin_child_identifiers_share_dates_and_codes_but_not_ids(tmp_path: Path) -> None:
    doc = CIN.replace("<Sex>M</Sex>", "<PersonBirthDate>2015-01-01</PersonBirthDate><UPNunknown>UN1</UPNunknown>")
    tables, _findings = read_cin_xml(write(tmp_path, "cin.xml", doc))
    ids = tables["ChildIdentifiers"].columns
    assert ids["PersonBirthDate"] == ["2015-01-01"] * 2 and ids["PersonBirthDate"][0] is ids["PersonBirthDate"][1]
    assert ids["UPNunknown"][0] is ids["UPNunknown"][1]
    assert list(tables["ChildIdentifiers"].lines) == [2, 7]  # kept as machine integers, read as the lines


# dates written in full in the two forms read without pandas, and values next to them that must not be read so
FULL_WRITTEN = [
    "01/02/2024", "29/02/2024", "29/02/2023", "31/04/2024", "30/04/2024", "00/01/2024", "01/00/2024", "01/13/2024",
    "31/12/2261", "01/01/2262", "31/12/1677", "01/01/1678", "1/02/2024x", "01-02-2024", "01/02/20a4", "٠١/٠٢/٢٠٢٤",
    "2024-02-29", "2023-02-29", "2024-13-01", "2024-00-10", "2024-12-31", "0202-01-01", "2024/02/01", "01/02/2024 ",
    "2024-02-01\x00", "1/2/2024", "2024-2-1", "01/02/2024 10:00", "",
]  # fmt: skip


def test_dates_written_in_full_are_read_as_pandas_reads_them(monkeypatch) -> None:
    text = pd.Series(FULL_WRITTEN * 3, dtype="object")
    for standard in ((DMY,), (ISO, DMY), (ISO,)):
        fast = parse_dates_in_range(text, standard)
        monkeypatch.setattr(coerce, "_FIXED", {})  # every value read by pandas' strptime
        slow = parse_dates_in_range(text, standard)
        monkeypatch.undo()
        assert fast[1] == slow[1]
        for got, expected in zip((fast[0], fast[2], fast[3]), (slow[0], slow[2], slow[3]), strict=True):
            pd.testing.assert_series_equal(got, expected)
    read = coerce._fixed_width_dates(np.array(FULL_WRITTEN, dtype=object), DMY)
    assert read is not None  # the fast way reads real dates in range only, and leaves the rest to pandas
    assert [v for v, taken in zip(FULL_WRITTEN, read[0], strict=True) if taken] == [
        "01/02/2024", "29/02/2024", "30/04/2024", "31/12/2261", "01/01/1678"
    ]  # fmt: skip
    assert read[1].astype("datetime64[D]").astype(str).tolist() == [
        "2024-02-01", "2024-02-29", "2024-04-30", "2261-12-31", "1678-01-01"
    ]  # fmt: skip
