"""CIN census XML ingest: flattening with parent keys, every repeated value, schema findings, safety."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers import write

from validator import validate
from validator.ingest.loader import load_return
from validator.ingest.xml_cin import read_cin_xml

DOC = """<?xml version="1.0" encoding="UTF-8"?>
<Message>
  <Header>
    <CollectionDetails><Collection>CIN</Collection><Year>2025</Year><ReferenceDate>2025-03-31</ReferenceDate></CollectionDetails>
    <Source><SourceLevel>L</SourceLevel><LEA>999</LEA><SoftwareCode>Synthetic</SoftwareCode><Release>1</Release><SerialNo>001</SerialNo><DateTime>2025-05-01T10:00:00</DateTime></Source>
  </Header>
  <Children>
    <Child>
      <ChildIdentifiers><LAchildID>C1</LAchildID><UPN>A123456789012</UPN><PersonBirthDate>2015-01-01</PersonBirthDate><Sex>M</Sex></ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>WBRI</Ethnicity><Disabilities><Disability>MOB</Disability><Disability>HEAR</Disability></Disabilities></ChildCharacteristics>
      <CINdetails>
        <CINreferralDate>{referral}</CINreferralDate><ReferralSource>1A</ReferralSource><PrimaryNeedCode>N1</PrimaryNeedCode>
        <Assessments><AssessmentActualStartDate>2024-05-01</AssessmentActualStartDate><AssessmentAuthorisationDate>2024-05-20</AssessmentAuthorisationDate>
          <FactorsIdentifiedAtAssessment><AssessmentFactors>1A</AssessmentFactors><AssessmentFactors>2B</AssessmentFactors></FactorsIdentifiedAtAssessment></Assessments>
        <Section47><S47ActualStartDate>2024-05-02</S47ActualStartDate><ICPCnotRequired>true</ICPCnotRequired></Section47>
        <ReferralNFA>0</ReferralNFA>
        <ChildProtectionPlans><CPPstartDate>2024-06-01</CPPstartDate><InitialCategoryOfAbuse>NEG</InitialCategoryOfAbuse><LatestCategoryOfAbuse>NEG</LatestCategoryOfAbuse><NumberOfPreviousCPP>0</NumberOfPreviousCPP>
          <Reviews><CPPreviewDate>2024-07-01</CPPreviewDate><CPPreviewDate>2024-10-01</CPPreviewDate></Reviews></ChildProtectionPlans>
      </CINdetails>
      <CINdetails>
        <CINreferralDate>2024-11-01</CINreferralDate><ReferralSource>6</ReferralSource>
        <ReferralNFA>false</ReferralNFA>
        <ChildProtectionPlans><CPPstartDate>2024-12-01</CPPstartDate><InitialCategoryOfAbuse>PHY</InitialCategoryOfAbuse><LatestCategoryOfAbuse>PHY</LatestCategoryOfAbuse><NumberOfPreviousCPP>1</NumberOfPreviousCPP></ChildProtectionPlans>
      </CINdetails>
    </Child>
    <Child>
      <ChildIdentifiers><LAchildID>C2</LAchildID><ExpectedPersonBirthDate>2025-06-01</ExpectedPersonBirthDate><Sex>U</Sex></ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>NOBT</Ethnicity></ChildCharacteristics>
      <CINdetails><CINreferralDate>2025-01-10</CINreferralDate><ReferralSource>3B</ReferralSource><ReferralNFA>true</ReferralNFA></CINdetails>
    </Child>
  </Children>
</Message>
"""


def write_doc(tmp_path: Path, referral: str = "2024-04-20", text: str | None = None) -> Path:
    """DOC with the referral date given (or the text given) as cin.xml."""
    return write(tmp_path, "cin.xml", text if text is not None else DOC.replace("{referral}", referral))


def test_tables_have_full_parent_keys_and_every_repeated_value(tmp_path: Path) -> None:
    dataset = load_return([write_doc(tmp_path)])
    t = {name: table.df for name, table in dataset.tables.items()}
    assert dataset.context.year == "2024_25" and str(dataset.context.reference_date) == "2025-03-31"
    assert list(t["ChildIdentifiers"]["LAchildID"]) == ["C1", "C2"]
    assert list(t["Disabilities"]["Disability"]) == ["MOB", "HEAR"]
    assert t["CINdetails"][["LAchildID", "CINdetailsID"]].values.tolist() == [["C1", 1], ["C1", 2], ["C2", 1]]
    assert list(t["CINdetails"]["ReferralNFA"]) == [False, False, True]
    assert t["AssessmentFactors"][["CINdetailsID", "AssessmentID", "AssessmentFactor"]].values.tolist() == [
        [1, 1, "1A"],
        [1, 1, "2B"],
    ]
    assert t["ChildProtectionPlans"][["CINdetailsID", "CPPID"]].values.tolist() == [[1, 1], [2, 1]]
    assert t["Reviews"]["CPPreviewDate"].tolist() == [pd.Timestamp("2024-07-01"), pd.Timestamp("2024-10-01")]
    assert t["Section47"]["ICPCnotRequired"].tolist() == [True]
    assert len(t["CINplanDates"]) == 0  # present and empty: rules on it run and pass
    assert not [f for f in dataset.findings if f.severity == "error"]


def test_a_repeated_child_keeps_its_episodes_apart(tmp_path: Path) -> None:
    # C1 again, in a second <Child> block: its episode is numbered 3 (after C1's first two), so 1103 compares its
    # assessment (2025-01-05) with its own referral (2025-01-02), not with the first block's (2024-04-20 and
    # 2024-11-01); 8510 reports the repeated LAchildID.
    again = """    <Child>
      <ChildIdentifiers><LAchildID>C1</LAchildID><PersonBirthDate>2015-01-01</PersonBirthDate><Sex>M</Sex></ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>WBRI</Ethnicity></ChildCharacteristics>
      <CINdetails><CINreferralDate>2025-01-02</CINreferralDate><ReferralSource>1A</ReferralSource><ReferralNFA>false</ReferralNFA>
        <Assessments><AssessmentActualStartDate>2025-01-05</AssessmentActualStartDate></Assessments></CINdetails>
    </Child>
  </Children>"""
    text = DOC.replace("{referral}", "2024-04-20").replace("  </Children>", again)
    dataset = load_return([write_doc(tmp_path, text=text)])
    cin = dataset.tables["CINdetails"].df
    assert cin[["LAchildID", "CINdetailsID"]].values.tolist() == [["C1", 1], ["C1", 2], ["C2", 1], ["C1", 3]]
    assessments = dataset.tables["Assessments"].df
    assert assessments[["LAchildID", "CINdetailsID"]].values.tolist() == [["C1", 1], ["C1", 3]]
    result = validate([tmp_path / "cin.xml"], rules=["1103", "8510"])
    assert sorted(f.code for f in result.findings if f.code in {"1103", "8510"}) == ["8510", "8510"]


def test_schema_violations_have_lines_and_plain_words_and_rules_still_get_the_data(tmp_path: Path) -> None:
    dataset = load_return([write_doc(tmp_path, referral="2024-13-01")])
    (finding,) = [f for f in dataset.findings if f.code == "XML-SCHEMA"]
    assert finding.line == 12 and finding.child == "C1"
    assert "CINreferralDate '2024-13-01' is not a valid date" in finding.message
    assert len(dataset.tables["CINdetails"].df) == 3  # the record is kept; the bad date is missing to rules
    assert not [f for f in dataset.findings if f.code == "DATE-INVALID"]  # reported once, by the schema


def test_a_truncated_file_keeps_the_children_read_before_the_break(tmp_path: Path) -> None:
    text = DOC.replace("{referral}", "2024-04-20")
    cut = text.index("<Child>", text.index("</Child>"))
    tables, findings = read_cin_xml(write_doc(tmp_path, text=text[: cut + 40]))
    assert [f.code for f in findings] == ["XML-MALFORMED"]
    assert findings[0].line is not None
    assert tables["ChildIdentifiers"].columns["LAchildID"] == ["C1"]


def test_entity_declarations_are_refused(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><Message>&b;</Message>'
    )
    tables, findings = read_cin_xml(write_doc(tmp_path, text=bomb))
    assert [f.code for f in findings] == ["XML-UNSAFE"] and tables == {}


def test_wrong_root_is_named(tmp_path: Path) -> None:
    _tables, findings = read_cin_xml(write_doc(tmp_path, text="<Return><Children/></Return>"))
    assert [f.code for f in findings] == ["XML-ROOT"]
    assert "<Return>" in findings[0].message and "<Message>" in findings[0].message


def test_cin_as_flattened_csv_tables_gives_the_same_findings_as_the_xml(tmp_path: Path) -> None:
    from validator import validate
    from validator.convert import convert_xml

    xml = write_doc(tmp_path, referral="2024-06-15")  # after the assessment started: 1103 fires
    csv_dir = tmp_path / "csv"
    written = convert_xml([xml], csv_dir).written
    assert {p.name for p in written} >= {"cin_ChildIdentifiers.csv", "cin_CINdetails.csv", "cin_Reviews.csv"}
    from_xml = validate([xml])
    from_csv = validate([csv_dir], year="2024_25")

    def rule_findings(result):
        return sorted((f.code, f.table, f.row, f.child) for f in result.findings if f.code[0].isdigit())

    assert rule_findings(from_xml) == rule_findings(from_csv)
    assert from_csv.rules_run == from_xml.rules_run


def test_a_parse_error_names_this_files_problem_not_an_earlier_documents(tmp_path: Path) -> None:
    from lxml import etree

    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(b"\n<a>x</b>")  # an earlier parse leaves its error in libxml2's log
    text = DOC.replace("{referral}", "2024-04-20").replace(
        "<Ethnicity>WBRI</Ethnicity>", "<Ethnicity>&nbsp;</Ethnicity>"
    )
    _, findings = read_cin_xml(write_doc(tmp_path, text=text))
    (malformed,) = [f for f in findings if f.code == "XML-MALFORMED"]
    assert "line 10: the XML is not well formed (Entity 'nbsp' not defined)" in malformed.message


ODD_CHILDREN = """<?xml version="1.0" encoding="UTF-8"?>
<Message xmlns:x="urn:other">
  <Header><CollectionDetails><Collection>CIN</Collection><Year>2025</Year><ReferenceDate>2025-03-31</ReferenceDate></CollectionDetails></Header>
  <Children>
    <Child>
      <ChildIdentifiers><LAchildID> C1 </LAchildID><Sex>M</Sex><Sex>F</Sex><x:UPN>A123456789012</x:UPN></ChildIdentifiers>
      <CINdetails><CINreferralDate>2024-05-01</CINreferralDate><ReferralSource></ReferralSource><ReferralNFA>0</ReferralNFA>
        <Assessments><LAchildID>OTHER</LAchildID><AssessmentActualStartDate>2024-05-02</AssessmentActualStartDate></Assessments>
        <Assessments/>
      </CINdetails>
    </Child>
    <Child>
      <ChildIdentifiers><Sex>U</Sex></ChildIdentifiers>
      <ChildCharacteristics><Disabilities><Disability> MOB </Disability><Disability/></Disabilities></ChildCharacteristics>
      <CINdetails><CINreferralDate>2024-06-01</CINreferralDate></CINdetails>
    </Child>
  </Children>
</Message>
"""


def test_leaves_are_read_as_before_whatever_their_order_or_namespace(tmp_path: Path) -> None:
    # The first of repeated leaves wins, text is trimmed and blank is None, a leaf in a block naming a key column
    # (LAchildID) keeps its own value, a namespaced leaf counts by its local name, an empty block is a record, and
    # a child without an id gives its records no id.
    tables, _ = read_cin_xml(write(tmp_path, "odd.xml", ODD_CHILDREN))
    ids = tables["ChildIdentifiers"].columns
    assert ids["LAchildID"] == ["C1", None] and ids["Sex"] == ["M", "U"] and ids["UPN"] == ["A123456789012", None]
    details = tables["CINdetails"].columns
    assert details["LAchildID"] == ["C1", None] and details["CINdetailsID"] == ["1", "1"]
    assert details["ReferralSource"] == [None, None] and details["ReferralNFA"] == ["0", None]
    assessments = tables["Assessments"].columns
    assert assessments["LAchildID"] == ["OTHER", "C1"] and assessments["AssessmentID"] == ["1", "2"]
    assert assessments["AssessmentActualStartDate"] == ["2024-05-02", None]
    assert tables["Disabilities"].columns["Disability"] == ["MOB", None]
    assert tables["Disabilities"].columns["LAchildID"] == [None, None]
    assert list(tables["Assessments"].lines) == [8, 9]
