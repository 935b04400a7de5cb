"""SSDA903 XML reader and writer. All ids, dates and postcodes here are invented."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import write

from validator.ingest.raw import RawTable
from validator.ingest.xml903 import TABLE_COLUMNS, read_ssda903_xml
from validator.ingest.xml903_writer import text_value, write_ssda903_xml

# Line numbers matter: the expected records below name the line of each record's element.
DOCUMENT = """\
<?xml version="1.0" encoding="UTF-8"?>
<EXPSSDA903>
  <CHILD>
    <HEADER>
      <CHILDID>ZZ0001</CHILDID>
      <UPN>A000000000001</UPN>
      <SEX>M</SEX>
      <DOB>14/02/2012</DOB>
      <ETHNIC>WBRI</ETHNIC>
      <UASC>1</UASC>
      <DUC>13/02/2030</DUC>
      <AMISSING>
        <MISSING>M</MISSING>
        <MIS_START>03/05/2024</MIS_START>
        <MIS_END> 04/05/2024 </MIS_END>
      </AMISSING>
      <AREVIEW>
        <REVIEW>10/06/2024</REVIEW>
        <REVIEW_CODE>PN1</REVIEW_CODE>
      </AREVIEW>
      <AREVIEW>
        <REVIEW>10/12/2024</REVIEW>
        <REVIEW_CODE/>
      </AREVIEW>
      <MOTHER/>
      <MC_DOB></MC_DOB>
      <PERMANENCE>
        <PREV_PERM>Z1</PREV_PERM>
      </PERMANENCE>
      <OC2>
        <SDQ_SCORE>12</SDQ_SCORE>
        <CONVICTED>0</CONVICTED>
        <HEALTH_CHECK>1</HEALTH_CHECK>
      </OC2>
    </HEADER>
    <EPISODE>
      <DECOM>01/04/2024</DECOM>
      <RNE>S</RNE>
      <LS>C2</LS>
      <CIN>N1</CIN>
      <PL>U1</PL>
      <PL_POST>ZZ1 1ZZ</PL_POST>
      <HOME_POST>ZZ2 2ZZ</HOME_POST>
      <URN>SC999999</URN>
      <PLACE_PROVIDER>PR1</PLACE_PROVIDER>
      <DEC>05/06/2024</DEC>
      <REC>X1</REC>
      <REASON_PLACE_CHANGE>CARPL</REASON_PLACE_CHANGE>
    </EPISODE>
    <EPISODE>
      <DECOM>05/06/2024</DECOM>
      <RNE>P</RNE>
      <LS>C2</LS>
      <CIN>N1</CIN>
      <PL>U3</PL>
      <DEC/>
    </EPISODE>
  </CHILD>
  <CHILD>
    <HEADER>
      <CHILDID>ZZ0002</CHILDID>
      <UPN>UN1</UPN>
      <SEX>F</SEX>
      <DOB>20/09/2005</DOB>
      <ETHNIC>MOTH</ETHNIC>
      <UASC>0</UASC>
      <DATE_INT>01/01/2024</DATE_INT>
      <DATE_MATCH>02/02/2024</DATE_MATCH>
      <FOSTER_CARE>1</FOSTER_CARE>
      <NB_ADOPTR>2</NB_ADOPTR>
      <SEX_ADOPTR>MF</SEX_ADOPTR>
      <LS_ADOPTR>L0</LS_ADOPTR>
      <IN_TOUCH>YES</IN_TOUCH>
      <ACTIV>F2</ACTIV>
      <ACCOM>Z1</ACCOM>
      <MOTHER>1</MOTHER>
      <MC_DOB>01/03/2024</MC_DOB>
      <AD_PLACED>
        <DATE_PLACED>01/01/2024</DATE_PLACED>
        <DATE_PLACED_CEASED/>
        <REASON_PLACED_CEASED/>
      </AD_PLACED>
    </HEADER>
  </CHILD>
</EXPSSDA903>
"""

EXPECTED: dict[str, list[tuple[int, dict[str, str | None]]]] = {
    "Header": [
        (
            4,
            {
                "CHILD": "ZZ0001",
                "SEX": "M",
                "DOB": "14/02/2012",
                "ETHNIC": "WBRI",
                "UPN": "A000000000001",
                "MOTHER": None,
                "MC_DOB": None,
                "UASC": "1",
            },
        ),
        (
            60,
            {
                "CHILD": "ZZ0002",
                "SEX": "F",
                "DOB": "20/09/2005",
                "ETHNIC": "MOTH",
                "UPN": "UN1",
                "MOTHER": "1",
                "MC_DOB": "01/03/2024",
                "UASC": "0",
            },
        ),
    ],
    "Episodes": [
        (
            36,
            {
                "CHILD": "ZZ0001",
                "DECOM": "01/04/2024",
                "RNE": "S",
                "LS": "C2",
                "CIN": "N1",
                "PLACE": "U1",
                "PLACE_PROVIDER": "PR1",
                "DEC": "05/06/2024",
                "REC": "X1",
                "REASON_PLACE_CHANGE": "CARPL",
                "HOME_POST": "ZZ2 2ZZ",
                "PL_POST": "ZZ1 1ZZ",
                "URN": "SC999999",
            },
        ),
        (
            50,
            {
                "CHILD": "ZZ0001",
                "DECOM": "05/06/2024",
                "RNE": "P",
                "LS": "C2",
                "CIN": "N1",
                "PLACE": "U3",
                "PLACE_PROVIDER": None,
                "DEC": None,
                "REC": None,
                "REASON_PLACE_CHANGE": None,
                "HOME_POST": None,
                "PL_POST": None,
                "URN": None,
            },
        ),
    ],
    "UASC": [  # ZZ0002's <UASC>0</UASC> says the child is not UASC: no UASC record
        (10, {"CHILD": "ZZ0001", "SEX": "M", "DOB": "14/02/2012", "DUC": "13/02/2030"}),
    ],
    "Missing": [
        (
            12,
            {
                "CHILD": "ZZ0001",
                "DOB": "14/02/2012",
                "MISSING": "M",
                "MIS_START": "03/05/2024",
                "MIS_END": "04/05/2024",
            },
        ),
    ],
    "Reviews": [
        (17, {"CHILD": "ZZ0001", "DOB": "14/02/2012", "REVIEW": "10/06/2024", "REVIEW_CODE": "PN1"}),
        (21, {"CHILD": "ZZ0001", "DOB": "14/02/2012", "REVIEW": "10/12/2024", "REVIEW_CODE": None}),
    ],
    "PrevPerm": [
        (27, {"CHILD": "ZZ0001", "DOB": "14/02/2012", "PREV_PERM": "Z1", "LA_PERM": None, "DATE_PERM": None}),
    ],
    "OC2": [
        (
            30,
            {
                "CHILD": "ZZ0001",
                "DOB": "14/02/2012",
                "SDQ_SCORE": "12",
                "SDQ_REASON": None,
                "CONVICTED": "0",
                "HEALTH_CHECK": "1",
                "IMMUNISATIONS": None,
                "TEETH_CHECK": None,
                "HEALTH_ASSESSMENT": None,
                "SUBSTANCE_MISUSE": None,
                "INTERVENTION_RECEIVED": None,
                "INTERVENTION_OFFERED": None,
            },
        ),
    ],
    "AD1": [
        (
            67,
            {
                "CHILD": "ZZ0002",
                "DOB": "20/09/2005",
                "DATE_INT": "01/01/2024",
                "DATE_MATCH": "02/02/2024",
                "FOSTER_CARE": "1",
                "NB_ADOPTR": "2",
                "SEX_ADOPTR": "MF",
                "LS_ADOPTR": "L0",
            },
        ),
    ],
    "OC3": [
        (73, {"CHILD": "ZZ0002", "DOB": "20/09/2005", "IN_TOUCH": "YES", "ACTIV": "F2", "ACCOM": "Z1"}),
    ],
    "PlacedAdoption": [
        (
            78,
            {
                "CHILD": "ZZ0002",
                "DOB": "20/09/2005",
                "DATE_PLACED": "01/01/2024",
                "DATE_PLACED_CEASED": None,
                "REASON_PLACED_CEASED": None,
            },
        ),
    ],
}


def _records(raw: RawTable) -> list[tuple[int, dict[str, str | None]]]:
    return [(line, {c: values[i] for c, values in raw.columns.items()}) for i, line in enumerate(raw.lines)]


def _frame(raw: RawTable, columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: raw.columns[c] for c in columns}, dtype="object")


def test_hand_written_document_gives_exact_records(tmp_path: Path) -> None:
    tables, findings = read_ssda903_xml(write(tmp_path, "return.xml", DOCUMENT))
    assert findings == []
    assert set(tables) == set(EXPECTED)
    for name, expected in EXPECTED.items():
        assert _records(tables[name]) == expected, name
        assert tables[name].file == str(tmp_path / "return.xml")


def test_empty_return_still_has_header_and_episodes(tmp_path: Path) -> None:
    tables, findings = read_ssda903_xml(write(tmp_path, "return.xml", "<EXPSSDA903/>"))
    assert findings == []
    assert set(tables) == {"Header", "Episodes"}
    assert len(tables["Header"]) == 0 and list(tables["Header"].columns) == list(TABLE_COLUMNS["Header"])
    assert list(tables["Episodes"].columns) == list(TABLE_COLUMNS["Episodes"])


def test_flat_groups_need_text_and_aliases_are_read(tmp_path: Path) -> None:
    doc = """<EXPSSDA903 xmlns="urn:example:ns">
  <CHILD><HEADER><CHILD>ZZ0003</CHILD><DOB>01/01/2010</DOB><UASC/><IN_TOUCH> </IN_TOUCH><ACTIV>G4</ACTIV></HEADER>
    <EPISODE><DECOM>01/05/2024</DECOM><PLACE>U1</PLACE></EPISODE></CHILD>
</EXPSSDA903>"""
    tables, findings = read_ssda903_xml(write(tmp_path, "return.xml", doc))
    assert findings == []
    assert tables["Header"].columns["CHILD"] == ["ZZ0003"] and tables["Header"].columns["UASC"] == [None]
    assert "UASC" not in tables  # an empty <UASC/> and no <DUC>: no UASC record
    assert _records(tables["OC3"]) == [
        (2, {"CHILD": "ZZ0003", "DOB": "01/01/2010", "IN_TOUCH": None, "ACTIV": "G4", "ACCOM": None})
    ]
    assert tables["Episodes"].columns["PLACE"] == ["U1"]


def test_duc_without_uasc_flag_is_kept(tmp_path: Path) -> None:
    doc = "<EXPSSDA903><CHILD><HEADER><CHILDID>ZZ0004</CHILDID><SEX>F</SEX><DOB>01/01/2009</DOB><UASC/>\n"
    doc += "<DUC>01/01/2027</DUC></HEADER></CHILD></EXPSSDA903>"
    tables, findings = read_ssda903_xml(write(tmp_path, "return.xml", doc))
    assert findings == []
    assert tables["Header"].columns["UASC"] == [None]
    assert _records(tables["UASC"]) == [(2, {"CHILD": "ZZ0004", "SEX": "F", "DOB": "01/01/2009", "DUC": "01/01/2027"})]


def _sample_tables() -> dict[str, pd.DataFrame]:
    dob = {"ZZ0101": "02/03/2011", "ZZ0102": "15/07/2006", "ZZ0103": "30/11/2019"}
    sex = {"ZZ0101": "F", "ZZ0102": "M", "ZZ0103": "U"}
    return {
        "Header": pd.DataFrame(
            {
                "CHILD": list(dob),
                "SEX": list(sex.values()),
                "DOB": list(dob.values()),
                "ETHNIC": ["WBRI", np.nan, "AIND"],
                "UPN": ["A000000000002", None, "UN2"],
                "MOTHER": ["0", None, None],
                "MC_DOB": [None, None, None],
                "UASC": ["1", "1", "1"],
            }
        ),
        "Episodes": pd.DataFrame(
            {
                "CHILD": ["ZZ0101", "ZZ0101", "ZZ0103"],
                "DECOM": ["01/04/2024", "03/08/2024", "12/12/2024"],
                "RNE": ["S", "P", "S"],
                "LS": ["C2", "C2", "V2"],
                "CIN": ["N1", "N1", "N4"],
                "PLACE": ["U1", "K2", "R1"],
                "PLACE_PROVIDER": ["PR1", "PR2", None],
                "DEC": ["03/08/2024", None, np.nan],
                "REC": ["X1", None, None],
                "REASON_PLACE_CHANGE": ["CHILD", None, None],
                "HOME_POST": ["ZZ3 3ZZ", "ZZ3 3ZZ", None],
                "PL_POST": ["ZZ4 4ZZ", None, None],
                "URN": ["SC000001", "XXXXXXX", None],
            }
        ),
        "UASC": pd.DataFrame(
            {
                "CHILD": ["ZZ0101", "ZZ0102", "ZZ0103"],
                "SEX": ["F", "M", "U"],
                "DOB": [dob["ZZ0101"], dob["ZZ0102"], dob["ZZ0103"]],
                "DUC": [None, "15/07/2024", None],
            }
        ),
        "Reviews": pd.DataFrame(
            {
                "CHILD": ["ZZ0101", "ZZ0101"],
                "DOB": [dob["ZZ0101"]] * 2,
                "REVIEW": ["05/05/2024", "05/11/2024"],
                "REVIEW_CODE": ["PN1", None],
            }
        ),
        "OC2": pd.DataFrame(
            {
                "CHILD": ["ZZ0101"],
                "DOB": [dob["ZZ0101"]],
                "SDQ_SCORE": [None],
                "SDQ_REASON": ["SDQ1"],
                "CONVICTED": ["0"],
                "HEALTH_CHECK": [None],
                "IMMUNISATIONS": ["1"],
                "TEETH_CHECK": ["1"],
                "HEALTH_ASSESSMENT": ["0"],
                "SUBSTANCE_MISUSE": ["0"],
                "INTERVENTION_RECEIVED": [None],
                "INTERVENTION_OFFERED": [None],
            }
        ),
        "OC3": pd.DataFrame(
            {"CHILD": ["ZZ0102"], "DOB": [dob["ZZ0102"]], "IN_TOUCH": ["NO"], "ACTIV": [None], "ACCOM": ["0"]}
        ),
        "AD1": pd.DataFrame(
            {
                "CHILD": ["ZZ0103"],
                "DOB": [dob["ZZ0103"]],
                "DATE_INT": ["01/06/2024"],
                "DATE_MATCH": [None],
                "FOSTER_CARE": ["0"],
                "NB_ADOPTR": ["1"],
                "SEX_ADOPTR": ["F1"],
                "LS_ADOPTR": ["L11"],
            }
        ),
        "PlacedAdoption": pd.DataFrame(
            {
                "CHILD": ["ZZ0103", "ZZ0103"],
                "DOB": [dob["ZZ0103"]] * 2,
                "DATE_PLACED": ["01/06/2024", "01/09/2024"],
                "DATE_PLACED_CEASED": ["15/08/2024", None],
                "REASON_PLACED_CEASED": ["RD1", None],
            }
        ),
        "PrevPerm": pd.DataFrame(
            {
                "CHILD": ["ZZ0101", "ZZ0103"],
                "DOB": [dob["ZZ0101"], dob["ZZ0103"]],
                "PREV_PERM": ["Z1", "P1"],
                "LA_PERM": [None, "889"],
                "DATE_PERM": [None, "ZZ/ZZ/2015"],
            }
        ),
        "Missing": pd.DataFrame(
            {
                "CHILD": ["ZZ0102"] * 2,
                "DOB": [dob["ZZ0102"]] * 2,
                "MISSING": ["M", "A"],
                "MIS_START": ["01/05/2024", "09/09/2024"],
                "MIS_END": ["02/05/2024", None],
            }
        ),
    }


def _normalised(df: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: [text_value(v) for v in df[c]] for c in columns}, dtype="object")


def test_round_trip_writer_then_reader(tmp_path: Path) -> None:
    tables = _sample_tables()
    path = tmp_path / "written.xml"
    write_ssda903_xml(tables, path)
    read, findings = read_ssda903_xml(path)
    assert findings == []
    assert set(read) == set(tables)
    for name, df in tables.items():
        columns = TABLE_COLUMNS[name]
        got = _frame(read[name], columns).sort_values(list(columns[:2]), kind="stable", ignore_index=True)
        want = _normalised(df, columns).sort_values(list(columns[:2]), kind="stable", ignore_index=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False, obj=name)
    # Lines point at real elements of the written file.
    lines = path.read_text(encoding="utf-8").splitlines()
    assert all(lines[n - 1].strip() == "<EPISODE>" for n in read["Episodes"].lines)
    assert all(lines[n - 1].strip() == "<AREVIEW>" for n in read["Reviews"].lines)


def test_writer_formats_typed_values_and_refuses_what_xml_cannot_hold(tmp_path: Path) -> None:
    header = pd.DataFrame(
        {
            "CHILD": ["ZZ0201"],
            "SEX": ["F"],
            "DOB": [pd.Timestamp("2015-04-03")],
            "ETHNIC": ["WBRI"],
            "UPN": [None],
            "MOTHER": [np.nan],
            "MC_DOB": [pd.NaT],
        }
    )
    path = tmp_path / "typed.xml"
    write_ssda903_xml({"Header": header, "SWEpisodes": pd.DataFrame()}, path)
    read, _ = read_ssda903_xml(path)
    assert read["Header"].columns["DOB"] == ["03/04/2015"]
    assert read["Header"].columns["MOTHER"] == [None] and read["Header"].columns["MC_DOB"] == [None]
    orphan = pd.DataFrame({"CHILD": ["ZZ9999"], "DECOM": ["01/04/2024"]})
    with pytest.raises(ValueError, match="no Header row"):
        write_ssda903_xml({"Header": header, "Episodes": orphan}, path)
    twice = pd.DataFrame({"CHILD": ["ZZ0201", "ZZ0201"], "IN_TOUCH": ["YES", "NO"]})
    with pytest.raises(ValueError, match="more than one record"):
        write_ssda903_xml({"Header": header, "OC3": twice}, path)
    with pytest.raises(ValueError, match="not SSDA903 tables"):
        write_ssda903_xml({"Header": header, "Episode": orphan}, path)


def test_truncated_document_keeps_complete_children(tmp_path: Path) -> None:
    cut = DOCUMENT.index("<IN_TOUCH>")
    tables, findings = read_ssda903_xml(write(tmp_path, "return.xml", DOCUMENT[:cut]))
    assert [f.code for f in findings] == ["XML-MALFORMED"]
    finding = findings[0]
    assert finding.severity == "error" and finding.file == str(tmp_path / "return.xml")
    assert finding.line is not None and finding.line >= 73
    assert "return.xml" in finding.message and "not well formed" in finding.message
    assert "Traceback" not in finding.message
    assert tables["Header"].columns["CHILD"] == ["ZZ0001"]  # the second, broken child is not half-read
    assert len(tables["Episodes"]) == 2 and "AD1" not in tables and "OC3" not in tables


def test_mismatched_tag_reports_its_line(tmp_path: Path) -> None:
    broken = DOCUMENT.replace("<ETHNIC>MOTH</ETHNIC>", "<ETHNIC>MOTH</ETHNICITY>")
    tables, findings = read_ssda903_xml(write(tmp_path, "return.xml", broken))
    assert [(f.code, f.line) for f in findings] == [("XML-MALFORMED", 65)]
    assert "line 65" in findings[0].message
    assert tables["Header"].columns["CHILD"] == ["ZZ0001"]


def test_wrong_root_is_refused(tmp_path: Path) -> None:
    doc = '<?xml version="1.0"?>\n<Message><Children><Child/></Children></Message>\n'
    tables, findings = read_ssda903_xml(write(tmp_path, "return.xml", doc))
    assert [(f.code, f.line) for f in findings] == [("XML-ROOT", 2)]
    assert "<Message>" in findings[0].message and "<EXPSSDA903>" in findings[0].message
    assert set(tables) == {"Header", "Episodes"} and len(tables["Header"]) == 0


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE EXPSSDA903 [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<EXPSSDA903><CHILD><HEADER><CHILDID>&lol9;</CHILDID></HEADER></CHILD></EXPSSDA903>
"""


def test_entity_declarations_are_refused_without_expansion(tmp_path: Path) -> None:
    tables, findings = read_ssda903_xml(write(tmp_path, "return.xml", BILLION_LAUGHS))
    assert [f.code for f in findings] == ["XML-UNSAFE"]
    assert "return.xml" in findings[0].message and "DOCTYPE" in findings[0].message
    assert len(tables["Header"]) == 0


def test_doctype_after_a_long_prologue_is_still_refused(tmp_path: Path) -> None:
    padding = "<!-- " + "x" * 70_000 + " -->\n"
    doc = (
        '<?xml version="1.0"?>\n' + padding + '<!DOCTYPE EXPSSDA903 [<!ENTITY secret SYSTEM "file:///etc/hostname">]>\n'
        "<EXPSSDA903><CHILD><HEADER><CHILDID>&secret;</CHILDID></HEADER></CHILD></EXPSSDA903>\n"
    )
    tables, findings = read_ssda903_xml(write(tmp_path, "return.xml", doc))
    assert [f.code for f in findings] == ["XML-UNSAFE"]
    assert "declares a DOCTYPE" in findings[0].message  # found by the parser, past the prologue check
    assert len(tables["Header"]) == 0


def test_unknown_elements_give_one_notice(tmp_path: Path) -> None:
    doc = DOCUMENT.replace("<UPN>UN1</UPN>", "<UPN>UN1</UPN>\n      <NICKNAME>Zed</NICKNAME>").replace(
        "<RNE>P</RNE>", "<RNE>P</RNE><RNE>T</RNE><PL_LA>E09000001</PL_LA>"
    )
    tables, findings = read_ssda903_xml(write(tmp_path, "return.xml", doc))
    assert [(f.code, f.severity) for f in findings] == [("COLUMN-EXTRA", "notice")]
    message = findings[0].message
    assert message.startswith(f"{tmp_path / 'return.xml'}: ")
    for name in (
        "EXPSSDA903/CHILD/EPISODE/PL_LA",
        "EXPSSDA903/CHILD/EPISODE/RNE (repeated)",
        "EXPSSDA903/CHILD/HEADER/NICKNAME",
    ):
        assert name in message and name in findings[0].values
    assert tables["Episodes"].columns["RNE"] == ["S", "P"]  # the first value is kept
    assert "NICKNAME" not in tables["Header"].columns


def test_child_without_header_is_a_schema_finding(tmp_path: Path) -> None:
    doc = "<EXPSSDA903>\n<CHILD>\n<EPISODE><DECOM>01/04/2024</DECOM></EPISODE>\n</CHILD>\n</EXPSSDA903>\n"
    tables, findings = read_ssda903_xml(write(tmp_path, "return.xml", doc))
    assert [(f.code, f.line) for f in findings] == [("XML-SCHEMA", 2)]
    assert tables["Episodes"].columns["CHILD"] == [None] and len(tables["Header"]) == 0


def test_empty_file(tmp_path: Path) -> None:
    tables, findings = read_ssda903_xml(write(tmp_path, "return.xml", ""))
    assert [f.code for f in findings] == ["FILE-EMPTY"]
    assert set(tables) == {"Header", "Episodes"}
