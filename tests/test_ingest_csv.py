"""SSDA903 / CIN CSV ingest: tables recognised by header, encodings, notices, typed values, findings."""

from __future__ import annotations

import codecs
from pathlib import Path

import pandas as pd
import pytest
from helpers import SAMPLES, write

from validator.ingest.csv_reader import read_csv_file
from validator.ingest.loader import InputError, load_return

HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
EPISODES = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"


def codes(dataset) -> list[str]:
    return [f.code for f in dataset.findings]


def test_bom_extra_column_lower_case_headers_and_iso_dates_are_read_with_notices(tmp_path: Path) -> None:
    text = "child,sex,dob,ethnic,upn,mother,mc_dob,Team\r\nC1,M,2015-03-01,WBRI,UN1,,,North\r\nC2,F,01/02/2014,WBRI,UN2,,,South\r\n"
    write(tmp_path, "export.csv", codecs.BOM_UTF8 + text.encode())
    dataset = load_return([tmp_path], year="2024_25")
    header = dataset.tables["Header"].df
    assert list(header["CHILD"]) == ["C1", "C2"]
    assert header["DOB"].tolist() == [pd.Timestamp("2015-03-01"), pd.Timestamp("2014-02-01")]
    assert list(header["Team"]) == ["North", "South"]  # kept, not checked
    found = {f.code: f for f in dataset.findings}
    assert "COLUMN-EXTRA" in found and "Team" in found["COLUMN-EXTRA"].message
    assert found["DATE-FORMAT"].severity == "notice" and "yyyy-mm-dd" in found["DATE-FORMAT"].message
    assert not [f for f in dataset.findings if f.severity == "error"]


def test_an_unparseable_date_is_a_finding_with_file_line_column_and_value(tmp_path: Path) -> None:
    write(tmp_path, "h.csv", f"{HEADER}\nC1,1,31/02/2015,WBRI,UN1,,\nC2,1,01/02/2015,WBRI,UN1,,\n")
    dataset = load_return([tmp_path], year="2023_24")
    (bad,) = [f for f in dataset.findings if f.code == "DATE-INVALID"]
    assert (bad.file, bad.line, bad.fields, bad.values, bad.row, bad.child) == (
        str(tmp_path / "h.csv"),  # the path as given
        2,
        ("DOB",),
        ("31/02/2015",),
        0,
        "C1",
    )
    assert "h.csv line 2" in bad.message and "31/02/2015" in bad.message
    df = dataset.tables["Header"].df
    assert pd.isna(df["DOB"].iloc[0]) and df["DOB@raw"].iloc[0] == "31/02/2015"  # never silently blank


@pytest.mark.parametrize(
    ("encoding", "bom", "label"),
    [
        ("utf-16-le", codecs.BOM_UTF16_LE, "UTF-16"),
        ("utf-16-le", b"", "UTF-16 (little-endian, no BOM)"),
        ("cp1252", b"", "cp1252"),
    ],
)
def test_other_encodings(tmp_path: Path, encoding: str, bom: bytes, label: str) -> None:
    sep = "\t" if encoding.startswith("utf-16") else ","  # Excel's "Unicode text" is tab separated
    text = f"{HEADER.replace(',', sep)}\r\nC1{sep}1{sep}01/02/2015{sep}WBRI{sep}UN1{sep}{sep}\r\nCé{sep}2{sep}01/02/2015{sep}WBRI{sep}UN1{sep}{sep}\r\n"
    write(tmp_path, "h.txt", bom + text.encode(encoding))
    dataset = load_return([tmp_path], year="2023_24")
    assert list(dataset.tables["Header"].df["CHILD"]) == ["C1", "Cé"]
    (note,) = [f for f in dataset.findings if f.code == "FILE-ENCODING"]
    assert label in note.message


def test_tables_are_recognised_by_header_not_file_name(tmp_path: Path) -> None:
    write(tmp_path, "episodes.csv", f"{HEADER}\nC1,1,01/02/2015,WBRI,UN1,,\n")  # a header file, misnamed
    write(tmp_path, "anything.csv", f"{EPISODES}\nC1,01/04/2023,S,C2,N1,U1,PR1,,,,,,\n")
    dataset = load_return([tmp_path], year="2023_24")
    assert len(dataset.tables["Header"].df) == 1 and len(dataset.tables["Episodes"].df) == 1


def test_missing_column_is_a_finding_and_its_rules_do_not_run(tmp_path: Path) -> None:
    write(tmp_path, "h.csv", "CHILD,DOB,ETHNIC,UPN\nC1,01/02/2015,WBRI,UN1\n")
    dataset = load_return([tmp_path], year="2023_24")
    missing = sorted(f.fields[0] for f in dataset.findings if f.code == "COLUMN-MISSING")
    assert missing == ["MC_DOB", "MOTHER", "SEX"]
    assert dataset.tables["Header"].missing_columns["SEX"] == [str(tmp_path / "h.csv")]


def test_whitespace_is_trimmed_and_blank_cells_are_missing(tmp_path: Path) -> None:
    write(tmp_path, "h.csv", f"{HEADER}\n  C1 , 1 ,01/02/2015,   ,UN1,,\n")
    df = load_return([tmp_path], year="2023_24").tables["Header"].df
    assert df["CHILD"].iloc[0] == "C1" and df["SEX"].iloc[0] == "1" and pd.isna(df["ETHNIC"].iloc[0])


def test_lower_case_codes_are_reported_not_fixed(tmp_path: Path) -> None:
    write(tmp_path, "h.csv", f"{HEADER}\nC1,m,01/02/2015,wbri,UN1,,\n")
    dataset = load_return([tmp_path], year="2024_25")
    assert sorted(f.fields[0] for f in dataset.findings if f.code == "CODE-CASE") == ["ETHNIC", "SEX"]
    assert dataset.tables["Header"].df["SEX"].iloc[0] == "m"


def test_excel_datetimes_are_read_and_noted(tmp_path: Path) -> None:
    write(tmp_path, "h.csv", f"{HEADER}\nC1,1,01/02/2015 00:00,WBRI,UN1,,\nC2,1,01/02/2015 00:00:00,WBRI,UN1,,\n")
    dataset = load_return([tmp_path], year="2023_24")
    assert dataset.tables["Header"].df["DOB"].notna().all()
    assert sorted(
        f.message.split(" are written ")[1].split(",")[0] for f in dataset.findings if f.code == "DATE-FORMAT"
    ) == [
        "dd/mm/yyyy hh:mm",
        "dd/mm/yyyy hh:mm:ss",
    ]


def test_ragged_rows_and_unknown_files(tmp_path: Path) -> None:
    write(tmp_path, "h.csv", f"{HEADER}\nC1,1,01/02/2015\n")
    write(tmp_path, "notes.csv", "colour,size\nred,3\n")
    dataset = load_return([tmp_path], year="2023_24")
    assert "ROW-RAGGED" in codes(dataset) and "FILE-UNKNOWN-TABLE" in codes(dataset)


def test_nothing_usable_is_an_input_error(tmp_path: Path) -> None:
    write(tmp_path, "notes.csv", "colour,size\nred,3\n")
    with pytest.raises(InputError):
        load_return([tmp_path], year="2023_24")
    with pytest.raises(InputError, match="no such file"):
        load_return([tmp_path / "absent"], year="2023_24")


def test_rows_from_two_files_of_one_table_are_combined_in_order(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", f"{HEADER}\nC1,1,01/02/2015,WBRI,UN1,,\n")
    write(tmp_path, "b.csv", f"{HEADER}\nC2,1,31/02/2015,WBRI,UN1,,\n")
    dataset = load_return([tmp_path], year="2023_24")
    df = dataset.tables["Header"].df
    assert list(df["CHILD"]) == ["C1", "C2"] and list(df["_row"]) == [0, 1]
    (bad,) = [f for f in dataset.findings if f.code == "DATE-INVALID"]
    assert (bad.row, bad.file, bad.line) == (1, str(tmp_path / "b.csv"), 2)
    assert "FILE-DUPLICATE-TABLE" in codes(dataset)


def test_year_is_inferred_from_the_episodes_when_not_given(tmp_path: Path) -> None:
    write(tmp_path, "e.csv", f"{EPISODES}\nC1,01/04/2023,S,C2,N1,U1,PR1,,,,,,\nC1,10/02/2024,P,C2,N1,U1,PR1,,,,,,\n")
    dataset = load_return([tmp_path])
    assert dataset.context.year == "2023_24"
    assert "YEAR-INFERRED" in codes(dataset) and "RETURN-INFERRED" in codes(dataset)


def test_csv_header_gets_the_uasc_flag_from_the_uasc_table(tmp_path: Path) -> None:
    write(tmp_path, "h.csv", f"{HEADER}\nC1,1,01/02/2010,WBRI,UN1,,\nC2,1,01/02/2010,WBRI,UN1,,\n")
    dataset = load_return([tmp_path], year="2023_24")
    assert "UASC" in dataset.tables["Header"].missing_columns  # no UASC file: rules on the flag do not run
    write(tmp_path, "u.csv", "CHILD,SEX,DOB,DUC\nC2,1,01/02/2010,\n")
    dataset = load_return([tmp_path], year="2023_24")
    assert list(dataset.tables["Header"].df["UASC"]) == ["0", "1"]
    assert "UASC" not in dataset.tables["Header"].missing_columns


def test_a_table_of_the_other_return_is_named_as_such() -> None:
    from validator.schema import load_schema

    path = SAMPLES / "ssda903/2024_25/episodes.csv"
    _, raw, findings = read_csv_file(path, [load_schema("cin")])
    (finding,) = findings
    assert raw is None and finding.code == "FILE-UNKNOWN-TABLE"
    assert "any table of the CIN census return (it is a table of the SSDA903 return)" in finding.message
