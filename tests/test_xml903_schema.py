"""SSDA903 XML read with the year's schema checked while streaming, the social worker file, and DoLo blocks.

All ids, dates and postcodes are invented. Line numbers matter: each document below is written so that the
element a finding should point at is on a known line.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers import SAMPLES, write

from validator.ingest.loader import load_return, sniff_xml_layout, sniff_xml_root
from validator.ingest.xml903 import check_ssda903_xml, read_ssda903_xml
from validator.ingest.xml903_writer import write_ssda903_sw_xml, write_ssda903_xml
from validator.samples import generate_samples

# 2024_25 layout. Line 5: CHILDID of the first child; line 12: DECOM; line 13: RNE; line 20: the second CHILD.
MAIN = """<?xml version="1.0" encoding="UTF-8"?>
<EXPSSDA903>
  <CHILD>
    <HEADER>
      <CHILDID>ZZ0001</CHILDID>
      <SEX>M</SEX>
      <DOB>14/02/2012</DOB>
      <ETHNIC>WBRI</ETHNIC>
      <UASC>0</UASC>
    </HEADER>
    <EPISODE>
      <DECOM>01/04/2024</DECOM>
      <RNE>S</RNE>
      <LS>C2</LS>
      <CIN>N1</CIN>
      <PL>U1</PL>
      <DEC/>
    </EPISODE>
  </CHILD>
  <CHILD>
    <HEADER>
      <CHILDID>ZZ0002</CHILDID>
      <SEX>F</SEX>
      <DOB>20/09/2009</DOB>
    </HEADER>
  </CHILD>
</EXPSSDA903>
"""

# Line 5: CHILDID; line 6: DOB; line 8: first SW_EPISODE; line 14: second.
SOCIAL_WORKER = """<?xml version="1.0" encoding="UTF-8"?>
<EXPSSDA903SW>
  <CHILD>
    <HEADER>
      <CHILDID>ZZ0001</CHILDID>
      <DOB>14/02/2012</DOB>
    </HEADER>
    <SW_EPISODE>
      <SW_ID>SW0001</SW_ID>
      <SW_DECOM>ZZ/ZZ/2023</SW_DECOM>
      <SW_DEC>03/06/2024</SW_DEC>
      <SW_REASON>MANAGE</SW_REASON>
    </SW_EPISODE>
    <SW_EPISODE>
      <SW_ID>SW0002</SW_ID>
      <SW_DECOM>03/06/2024</SW_DECOM>
    </SW_EPISODE>
  </CHILD>
</EXPSSDA903SW>
"""


def schema_findings(findings) -> list[tuple[int | None, str | None, str]]:
    return [(f.line, f.child, f.message) for f in findings if f.code == "XML-SCHEMA"]


def test_a_valid_document_gives_no_schema_findings(tmp_path: Path) -> None:
    tables, findings = read_ssda903_xml(write(tmp_path, "return.xml", MAIN), schema_year="2024_25")
    assert findings == []
    assert tables["Header"].columns["CHILD"] == ["ZZ0001", "ZZ0002"]


@pytest.mark.parametrize(
    ("old", "new", "line", "child", "words"),
    [
        (
            "<DECOM>01/04/2024</DECOM>",
            "<DECOM>31/04/2024</DECOM>",
            12,
            "ZZ0001",
            "DECOM '31/04/2024' is not a valid date",
        ),
        ("<DECOM>01/04/2024</DECOM>", "<DECOM>2024-04-01</DECOM>", 12, "ZZ0001", "written dd/mm/yyyy"),
        ("<RNE>S</RNE>", "<RNE>Q</RNE>", 13, "ZZ0001", "RNE 'Q' is not one of the allowed codes"),
        ("<SEX>F</SEX>", "<SEX>2</SEX>", 23, "ZZ0002", "SEX '2' is not one of the allowed codes (SexCode: M, F, U)"),
        ("<CIN>N1</CIN>", "<CIN>n1</CIN>", 15, "ZZ0001", "write 'N1'"),
        ("<RNE>S</RNE>\n      <LS>C2</LS>", "<LS>C2</LS>\n      <RNE>S</RNE>", 14, "ZZ0001", "<RNE> is not allowed"),
        ("<CHILDID>ZZ0002</CHILDID>", "", 23, None, "<SEX> is not expected here inside <HEADER>: <CHILDID>"),
        ("<CHILDID>ZZ0002</CHILDID>", "<CHILDID> </CHILDID>", 22, None, "CHILDID is empty"),
        ("<PL>U1</PL>", "<PL>U1</PL><PL_LA>E09000027</PL_LA>", 16, "ZZ0001", "<PL_LA> is not allowed"),
    ],
)
def test_each_violation_has_its_line_child_and_plain_words(
    tmp_path: Path, old: str, new: str, line: int, child: str | None, words: str
) -> None:
    assert old in MAIN
    tables, findings = read_ssda903_xml(write(tmp_path, "return.xml", MAIN.replace(old, new, 1)), schema_year="2024_25")
    found = schema_findings(findings)
    assert len(found) == 1, found
    assert found[0][:2] == (line, child)
    assert words in found[0][2] and found[0][2].startswith(f"{tmp_path / 'return.xml'} line {line}: ")
    assert len(tables["Header"]) == 2  # the records are kept; rules see the values


def test_the_documents_own_structure_is_checked(tmp_path: Path) -> None:
    stray = MAIN.replace(
        "  <CHILD>\n    <HEADER>\n      <CHILDID>ZZ0002", "  <NOTE/>\n  <CHILD>\n    <HEADER>\n      <CHILDID>ZZ0002"
    )
    _, findings = read_ssda903_xml(write(tmp_path, "return.xml", stray), schema_year="2024_25")
    assert [(line, child) for line, child, _ in schema_findings(findings)] == [(20, None)]
    assert "<NOTE> is not allowed inside <EXPSSDA903>" in schema_findings(findings)[0][2]
    assert [f.code for f in findings if f.code != "XML-SCHEMA"] == ["COLUMN-EXTRA"]  # and it is listed as ignored
    _, findings = read_ssda903_xml(
        write(tmp_path, "return.xml", "<EXPSSDA903>\n</EXPSSDA903>\n"), schema_year="2024_25"
    )
    assert [(f.code, f.line) for f in findings] == [("XML-SCHEMA", 1)]
    namespaced = MAIN.replace("<EXPSSDA903>", '<EXPSSDA903 xmlns="urn:example:ns">')
    tables, findings = read_ssda903_xml(write(tmp_path, "return.xml", namespaced), schema_year="2024_25")
    assert [f.code for f in findings] == ["XML-SCHEMA"] and "namespace" in findings[0].message
    assert len(tables["Header"]) == 2


def test_a_child_without_header_is_reported_once(tmp_path: Path) -> None:
    doc = "<EXPSSDA903>\n<CHILD>\n<EPISODE><DECOM>01/04/2024</DECOM></EPISODE>\n</CHILD>\n</EXPSSDA903>\n"
    _, findings = read_ssda903_xml(write(tmp_path, "return.xml", doc), schema_year="2024_25")
    assert [(f.code, f.line) for f in findings] == [("XML-SCHEMA", 3)]
    assert "<EPISODE> is not expected here inside <CHILD>: <HEADER> must come first" in findings[0].message


def test_year_differences_reach_the_reader(tmp_path: Path) -> None:
    path = write(tmp_path, "return.xml", MAIN)
    assert [f.child for f in read_ssda903_xml(path, "2023_24")[1]] == ["ZZ0001", "ZZ0002"]  # SEX was 1/2
    assert read_ssda903_xml(path, "2026_27")[1] == []
    assert read_ssda903_xml(path, "2021_22")[1] == []  # no schema for the year: nothing checked


def test_the_year_is_inferred_first_and_the_schema_checked_after(tmp_path: Path) -> None:
    path = write(tmp_path, "return.xml", MAIN.replace("<RNE>S</RNE>", "<RNE>Q</RNE>"))
    dataset = load_return([path], today=pd.Timestamp("2025-06-01").date())
    assert dataset.context.year == "2024_25"
    assert [(f.line, f.child) for f in dataset.findings if f.code == "XML-SCHEMA"] == [(13, "ZZ0001")]
    # The schema-only pass reports every schema problem, and nothing twice.
    doc = "<EXPSSDA903>\n<CHILD>\n<EPISODE><DECOM>01/04/2024</DECOM></EPISODE>\n</CHILD>\n</EXPSSDA903>\n"
    dataset = load_return([write(tmp_path, "return.xml", doc)], today=pd.Timestamp("2025-06-01").date())
    assert [f.line for f in dataset.findings if f.code == "XML-SCHEMA"] == [3]
    assert [f.line for f in check_ssda903_xml(tmp_path / "return.xml", "2024_25")] == [3]


def test_an_invalid_date_is_reported_by_the_schema_alone(tmp_path: Path) -> None:
    dataset = load_return([write(tmp_path, "return.xml", MAIN.replace("14/02/2012", "30/02/2012"))], year="2024_25")
    assert [(f.code, f.line) for f in dataset.findings if f.severity == "error"] == [("XML-SCHEMA", 7)]
    assert dataset.tables["Header"].df["DOB@raw"].tolist() == ["30/02/2012", "20/09/2009"]


def test_social_worker_file_is_recognised_and_read(tmp_path: Path) -> None:
    path = write(tmp_path, "sw.xml", SOCIAL_WORKER)
    assert sniff_xml_root(path) == "ssda903" and sniff_xml_layout(path) == ("ssda903", "social_worker")
    assert sniff_xml_layout(write(tmp_path, "return.xml", MAIN)) == ("ssda903", "main")
    tables, findings = read_ssda903_xml(path, schema_year="2024_25")
    assert findings == [] and set(tables) == {"SWEpisodes"}
    raw = tables["SWEpisodes"]
    assert raw.lines == [8, 14]
    assert raw.columns == {
        "CHILD": ["ZZ0001", "ZZ0001"],
        "DOB": ["14/02/2012", "14/02/2012"],
        "SW_ID": ["SW0001", "SW0002"],
        "SW_DECOM": ["ZZ/ZZ/2023", "03/06/2024"],
        "SW_DEC": ["03/06/2024", None],
        "SW_REASON": ["MANAGE", None],
    }
    bad = SOCIAL_WORKER.replace("<SW_REASON>MANAGE</SW_REASON>", "<SW_REASON>BOSS</SW_REASON>")
    _, findings = read_ssda903_xml(write(tmp_path, "sw.xml", bad), schema_year="2024_25")
    assert [(f.line, f.child) for f in findings] == [(12, "ZZ0001")]
    assert "SW_REASON 'BOSS' is not one of the allowed codes" in findings[0].message


def test_social_worker_file_with_the_main_file_fills_the_sw_table(tmp_path: Path) -> None:
    main, sw = write(tmp_path, "return.xml", MAIN), write(tmp_path, "sw.xml", SOCIAL_WORKER)
    both = load_return([main, sw], year="2024_25")
    assert not [f for f in both.findings if f.severity == "error"]
    df = both.tables["SWEpisodes"].df
    assert df["SW_ID"].tolist() == ["SW0001", "SW0002"] and df["DOB"].tolist() == [pd.Timestamp("2012-02-14")] * 2
    assert both.inputs[1].tables == ["SWEpisodes"]
    # The main file alone does not carry social worker episodes: no (empty) table is made up for them.
    alone = load_return([main], year="2024_25")
    assert "SWEpisodes" not in alone.tables and len(alone.tables["Missing"].df) == 0


def test_dolo_blocks_are_read_from_2026_27(tmp_path: Path) -> None:
    dolo = (
        "<DOLO>\n        <DOLO_START>01/05/2026</DOLO_START>\n        <DOLO_END>01/08/2026</DOLO_END>\n      </DOLO>"
        "\n      <DOLO><DOLO_START>01/09/2026</DOLO_START></DOLO>\n    </HEADER>"
    )
    doc = MAIN.replace("<UASC>0</UASC>\n    </HEADER>", "<UASC>0</UASC>\n      " + dolo, 1)
    path = write(tmp_path, "return.xml", doc)
    tables, findings = read_ssda903_xml(path, schema_year="2026_27")
    assert findings == []
    assert tables["DoLo"].lines == [10, 14]
    assert tables["DoLo"].columns == {
        "CHILD": ["ZZ0001", "ZZ0001"],
        "DOB": ["14/02/2012", "14/02/2012"],
        "DOLO_START": ["01/05/2026", "01/09/2026"],
        "DOLO_END": ["01/08/2026", None],
    }
    _, findings = read_ssda903_xml(path, schema_year="2025_26")
    assert [(line, child) for line, child, _ in schema_findings(findings)] == [
        (10, "ZZ0001"),
        (14, "ZZ0001"),
    ]  # 2026_27+
    dataset = load_return([write(tmp_path, "return.xml", MAIN)], year="2026_27")
    assert len(dataset.tables["DoLo"].df) == 0  # the main file carries DoLo: none given means none


def test_writers_round_trip_dolo_and_social_worker_episodes(tmp_path: Path) -> None:
    header = pd.DataFrame({"CHILD": ["ZZ0101"], "SEX": ["F"], "DOB": ["02/03/2011"], "ETHNIC": ["WBRI"]})
    dolo = pd.DataFrame({"CHILD": ["ZZ0101"], "DOB": ["02/03/2011"], "DOLO_START": ["01/05/2026"], "DOLO_END": [None]})
    sw = pd.DataFrame(
        {
            "CHILD": ["ZZ0101", "ZZ0102", "ZZ0101"],
            "DOB": ["02/03/2011", "05/06/2015", "02/03/2011"],
            "SW_ID": ["SW1", "SW2", "SW3"],
            "SW_DECOM": ["01/04/2026", "01/05/2026", "ZZ/06/2026"],
            "SW_DEC": ["01/06/2026", None, None],
            "SW_REASON": ["OTHERS", "MANAGE", None],
        }
    )
    tables = {"Header": header, "DoLo": dolo, "SWEpisodes": sw}
    write_ssda903_xml(tables, tmp_path / "main.xml")
    write_ssda903_sw_xml(tables, tmp_path / "sw.xml")
    main, findings = read_ssda903_xml(tmp_path / "main.xml", "2026_27")
    assert findings == [] and main["DoLo"].columns["DOLO_START"] == ["01/05/2026"] and "SWEpisodes" not in main
    back, findings = read_ssda903_xml(tmp_path / "sw.xml", "2026_27")
    assert findings == []
    assert back["SWEpisodes"].columns["SW_ID"] == ["SW1", "SW3", "SW2"]  # grouped by child, first seen first
    assert back["SWEpisodes"].columns["DOB"] == ["02/03/2011", "02/03/2011", "05/06/2015"]
    clash = sw.assign(DOB=["02/03/2011", "05/06/2015", "03/03/2011"])
    with pytest.raises(ValueError, match="more than one DOB"):
        write_ssda903_sw_xml({"SWEpisodes": clash}, tmp_path / "sw.xml")


@pytest.mark.parametrize("year", ["2022_23", "2023_24", "2024_25", "2025_26", "2026_27"])
def test_generated_samples_as_xml_validate_cleanly_and_match_the_csv(tmp_path: Path, year: str) -> None:
    generate_samples("ssda903", year, 30, 1, 0.0, tmp_path, previous=False)
    folder = tmp_path / "ssda903"
    files = [folder / f"{year}.xml"] + ([folder / f"{year}_sw.xml"] if year >= "2023_24" else [])
    from_xml = load_return(files, year=year, la="E09000027")
    from_csv = load_return([folder / year], year=year, la="E09000027")
    assert not [f for f in from_xml.findings if f.code.startswith("XML")]
    for name in ("Header", "Episodes", "SWEpisodes", "DoLo", "Missing", "Reviews"):
        if name not in from_csv.tables:
            assert name not in from_xml.tables or len(from_xml.tables[name].df) == 0, name
            continue
        xml_df, csv_df = from_xml.tables[name].df, from_csv.tables[name].df
        columns = [c for c in csv_df.columns if c in xml_df.columns and c not in ("__file__", "__line__", "__row__")]
        columns = [c for c in columns if not c.startswith("_")]
        assert len(xml_df) == len(csv_df), name
        key = ["CHILD", columns[1]]
        got = xml_df[columns].sort_values(key, ignore_index=True)
        want = csv_df[columns].sort_values(key, ignore_index=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False, obj=name)


def test_bundled_clean_xml_sample_with_its_social_worker_file_has_no_errors() -> None:
    import validator

    samples = SAMPLES / "clean" / "ssda903"
    result = validator.validate([samples / "2024_25.xml", samples / "2024_25_sw.xml"], year="2024_25", la="E09000027")
    assert [(f.code, f.child) for f in result.findings if f.severity == "error"] == []
    assert result.rules_crashed == []
    assert {code for code in result.rules_run if code.startswith("SW")} >= {"SW01aSTG1", "SW08STG2", "SW13STG1"}
