"""Tests for the CIN census XML schemas in schemas/cin/ (one per collection year).

Every document here is synthetic: invented IDs, UPNs and dates, no real child.
Each test starts from a valid document for the year and changes one thing.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from functools import cache

import pytest
import xmlschema
from helpers import ROOT

SCHEMA_DIR = ROOT / "schemas" / "cin"
YEARS = ["2022_23", "2023_24", "2024_25", "2025_26"]
GENDER_YEARS = ["2022_23", "2023_24"]  # GenderCurrent (1, 2, 0, 9)
SEX_YEARS = ["2024_25", "2025_26"]  # Sex (M, F, U) in the same position

CHILD_IDENTIFIERS_ORDER = {
    "gender": [
        "LAchildID",
        "UPN",
        "FormerUPN",
        "UPNunknown",
        "PersonBirthDate",
        "ExpectedPersonBirthDate",
        "GenderCurrent",
        "PersonDeathDate",
    ],
    "sex": [
        "LAchildID",
        "UPN",
        "FormerUPN",
        "UPNunknown",
        "PersonBirthDate",
        "ExpectedPersonBirthDate",
        "Sex",
        "PersonDeathDate",
    ],
}
CINDETAILS_ORDER = [
    "CINreferralDate",
    "ReferralSource",
    "PrimaryNeedCode",
    "CINclosureDate",
    "ReasonForClosure",
    "DateOfInitialCPC",
    "Assessments",
    "CINPlanDates",
    "Section47",
    "ReferralNFA",
    "ChildProtectionPlans",
]


# --- helpers -----------------------------------------------------------------


@cache
def schema(year: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_DIR / f"cin_{year}.xsd"))


def uses_sex(year: str) -> bool:
    return year in SEX_YEARS


def add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def valid_document(year: str) -> ET.Element:
    """A small complete synthetic return: one fully populated child, one minimal."""
    # The census period runs from 1 April <start> to 31 March <census_end>.
    start = int(year[:4])
    census_end = start + 1

    message = ET.Element("Message")
    header = add(message, "Header")
    details = add(header, "CollectionDetails")
    add(details, "Collection", "CIN")
    add(details, "Year", str(census_end))
    add(details, "ReferenceDate", f"{census_end}-03-31")
    source = add(header, "Source")
    add(source, "SourceLevel", "L")
    add(source, "LEA", "999")
    add(source, "SoftwareCode", "Synthetic test data")
    add(source, "Release", "0.0.1")
    add(source, "SerialNo", "001")
    add(source, "DateTime", f"{census_end}-04-15T09:30:00")

    children = add(message, "Children")

    # Child 1: every optional element present, in DfE's order.
    child = add(children, "Child")
    ids = add(child, "ChildIdentifiers")
    add(ids, "LAchildID", "TESTCHILD001")
    add(ids, "UPN", "Z123456789012")
    add(ids, "FormerUPN", "Z12345678901A")
    add(ids, "UPNunknown", "UN3")
    add(ids, "PersonBirthDate", "2015-06-01")
    add(ids, "ExpectedPersonBirthDate", "2015-06-10")
    if uses_sex(year):
        add(ids, "Sex", "F")
    else:
        add(ids, "GenderCurrent", "2")
    add(ids, "PersonDeathDate", f"{census_end}-02-01")
    chars = add(child, "ChildCharacteristics")
    add(chars, "Ethnicity", "WBRI")
    disabilities = add(chars, "Disabilities")
    add(disabilities, "Disability", "HAND")
    add(disabilities, "Disability", "HEAR")

    episode = add(child, "CINdetails")
    add(episode, "CINreferralDate", f"{start}-05-02")
    add(episode, "ReferralSource", "5D")
    add(episode, "PrimaryNeedCode", "N4")
    add(episode, "CINclosureDate", f"{census_end}-01-20")
    add(episode, "ReasonForClosure", "RC9")
    add(episode, "DateOfInitialCPC", f"{start}-06-10")
    assessment = add(episode, "Assessments")
    add(assessment, "AssessmentActualStartDate", f"{start}-05-03")
    add(assessment, "AssessmentInternalReviewDate", f"{start}-05-20")
    add(assessment, "AssessmentAuthorisationDate", f"{start}-06-01")
    factors = add(assessment, "FactorsIdentifiedAtAssessment")
    for code in ("1B", "18C", "24A"):
        add(factors, "AssessmentFactors", code)
    add(add(episode, "Assessments"), "AssessmentActualStartDate", f"{start}-09-01")
    plan = add(episode, "CINPlanDates")
    add(plan, "CINPlanStartDate", f"{start}-06-05")
    add(plan, "CINPlanEndDate", f"{start}-06-09")
    s47 = add(episode, "Section47")
    add(s47, "S47ActualStartDate", f"{start}-05-10")
    add(s47, "InitialCPCtarget", f"{start}-06-01")
    add(s47, "DateOfInitialCPC", f"{start}-06-10")
    add(s47, "ICPCnotRequired", "false")
    add(episode, "ReferralNFA", "0")
    cpp = add(episode, "ChildProtectionPlans")
    add(cpp, "CPPstartDate", f"{start}-06-10")
    add(cpp, "CPPendDate", f"{census_end}-01-15")
    add(cpp, "InitialCategoryOfAbuse", "NEG")
    add(cpp, "LatestCategoryOfAbuse", "EMO")
    add(cpp, "NumberOfPreviousCPP", "0")
    reviews = add(cpp, "Reviews")
    add(reviews, "CPPreviewDate", f"{start}-09-01")
    add(reviews, "CPPreviewDate", f"{start}-12-01")

    # A second episode for the same child, open at the end of the year.
    second = add(child, "CINdetails")
    add(second, "CINreferralDate", f"{census_end}-02-10")
    add(second, "ReferralSource", "10")
    add(second, "ReferralNFA", "true")

    # Child 2: only what the schema requires (an unborn child).
    child = add(children, "Child")
    ids = add(child, "ChildIdentifiers")
    add(ids, "LAchildID", "TESTCHILD002")
    add(ids, "ExpectedPersonBirthDate", f"{census_end}-05-01")
    if uses_sex(year):
        add(ids, "Sex", "U")
    else:
        add(ids, "GenderCurrent", "0")
    add(add(child, "ChildCharacteristics"), "Ethnicity", "NOBT")
    episode = add(child, "CINdetails")
    add(episode, "CINreferralDate", f"{census_end}-03-01")
    add(episode, "ReferralSource", "3B")
    add(episode, "ReferralNFA", "1")
    return message


def first(doc: ET.Element, path: str) -> ET.Element:
    found = doc.find(path)
    assert found is not None, path
    return found


def set_text(doc: ET.Element, path: str, text: str) -> ET.Element:
    first(doc, path).text = text
    return doc


def remove(doc: ET.Element, parent_path: str, tag: str) -> ET.Element:
    parent = first(doc, parent_path)
    parent.remove(first(parent, tag))
    return doc


def errors(year: str, doc: ET.Element) -> list[xmlschema.XMLSchemaValidationError]:
    return list(schema(year).iter_errors(ET.tostring(doc, encoding="unicode")))


def assert_valid(year: str, doc: ET.Element) -> None:
    found = errors(year, doc)
    assert not found, "\n\n".join(str(e) for e in found)


def concerns(error: xmlschema.XMLSchemaValidationError, tag: str) -> bool:
    """True when the error is about element `tag`: its value, or its place."""
    last_step = re.sub(r"\[\d+\]$", "", (error.path or "").rsplit("/", 1)[-1])
    return last_step == tag or f"'{tag}'" in (error.reason or "")


def assert_invalid(year: str, doc: ET.Element, at: str | None = None) -> None:
    found = errors(year, doc)
    assert found, "expected a schema error"
    if at is not None:
        assert any(concerns(e, at) for e in found), [(e.path, e.reason) for e in found]


def type_name(error: xmlschema.XMLSchemaValidationError) -> str | None:
    """The named simple type whose facet rejected the value (None for built-ins)."""
    validator = error.validator
    return getattr(getattr(validator, "parent", None), "name", None)


CHILD1 = "Children/Child[1]"
IDS1 = f"{CHILD1}/ChildIdentifiers"
EPISODE1 = f"{CHILD1}/CINdetails[1]"


# --- schema files ------------------------------------------------------------


@pytest.mark.parametrize("year", YEARS)
def test_schema_is_self_contained_and_unqualified(year):
    tree = ET.parse(SCHEMA_DIR / f"cin_{year}.xsd")
    root = tree.getroot()
    xs = "{http://www.w3.org/2001/XMLSchema}"
    for tag in ("import", "include", "redefine"):
        assert root.find(f"{xs}{tag}") is None, tag
    assert "schemaLocation" not in (SCHEMA_DIR / f"cin_{year}.xsd").read_text()
    assert root.get("targetNamespace") is None
    assert schema(year).target_namespace == ""


@pytest.mark.parametrize("year", YEARS)
def test_element_order_is_dfe_order(year):
    s = schema(year)
    ids = s.types["ChildIdentifiersBlock"].content
    key = "sex" if uses_sex(year) else "gender"
    assert [e.name for e in ids] == CHILD_IDENTIFIERS_ORDER[key]
    episode = s.types["CINdetailsBlock"].content
    assert [e.name for e in episode] == CINDETAILS_ORDER


# --- valid documents ---------------------------------------------------------


@pytest.mark.parametrize("year", YEARS)
def test_valid_synthetic_document(year):
    assert_valid(year, valid_document(year))
    assert schema(year).is_valid(ET.tostring(valid_document(year), encoding="unicode"))


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("flag", ["true", "false", "1", "0"])
def test_yes_no_flag_accepts_both_spellings(year, flag):
    doc = set_text(valid_document(year), f"{EPISODE1}/ReferralNFA", flag)
    set_text(doc, f"{EPISODE1}/Section47/ICPCnotRequired", flag)
    assert_valid(year, doc)


@pytest.mark.parametrize("year", YEARS)
def test_several_sources_in_header_are_allowed(year):
    doc = valid_document(year)
    header = first(doc, "Header")
    header.append(copy.deepcopy(first(header, "Source")))
    assert_valid(year, doc)


# --- invalid values ----------------------------------------------------------


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize(
    "path",
    [
        f"{EPISODE1}/CINreferralDate",
        f"{IDS1}/PersonBirthDate",
        f"{EPISODE1}/ChildProtectionPlans/Reviews/CPPreviewDate",
        "Header/CollectionDetails/ReferenceDate",
    ],
)
def test_impossible_date_is_rejected(year, path):
    doc = set_text(valid_document(year), path, "2024-13-01")
    assert_invalid(year, doc, at=path.split("/")[-1])


@pytest.mark.parametrize("year", YEARS)
def test_date_in_uk_format_is_rejected(year):
    doc = set_text(valid_document(year), f"{EPISODE1}/CINreferralDate", "01/05/2024")
    assert_invalid(year, doc, at="CINreferralDate")


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize(
    ("path", "bad", "type_"),
    [
        (f"{EPISODE1}/ReferralSource", "5E", "ReferralSourceCode"),
        (f"{EPISODE1}/PrimaryNeedCode", "N10", "PrimaryNeedCode"),
        (f"{EPISODE1}/ReasonForClosure", "RC10", "ReasonForClosureCode"),
        (f"{CHILD1}/ChildCharacteristics/Ethnicity", "WXYZ", "EthnicityCode"),
        (
            f"{CHILD1}/ChildCharacteristics/Disabilities/Disability",
            "ABC",
            "DisabilityCode",
        ),
        (
            f"{EPISODE1}/Assessments/FactorsIdentifiedAtAssessment/AssessmentFactors",
            "25A",
            "AssessmentFactorCode",
        ),
        (
            f"{EPISODE1}/ChildProtectionPlans/InitialCategoryOfAbuse",
            "XXX",
            "CategoryOfAbuseCode",
        ),
        (f"{IDS1}/UPNunknown", "UN8", "UPNUnknownCode"),
        (f"{EPISODE1}/ReferralNFA", "yes", "YesNoFlag"),
        ("Header/CollectionDetails/Collection", "SSDA903", "CollectionCode"),
    ],
)
def test_unknown_code_is_rejected_and_names_its_type(year, path, bad, type_):
    doc = set_text(valid_document(year), path, bad)
    found = errors(year, doc)
    assert found
    assert type_ in {type_name(e) for e in found}


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("flag", ["TRUE", "FALSE", "True", "Y", ""])
def test_yes_no_flag_rejects_other_spellings(year, flag):
    doc = set_text(valid_document(year), f"{EPISODE1}/ReferralNFA", flag)
    assert_invalid(year, doc, at="ReferralNFA")


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (f"{IDS1}/UPN", "Z12345678901"),  # 12 characters
        (f"{IDS1}/UPN", "1123456789012"),  # digit first
        (f"{IDS1}/FormerUPN", "Z1234567890AB"),  # letter in position 12
        ("Header/Source/LEA", "99"),
        ("Header/Source/LEA", "A99"),
        ("Header/Source/SerialNo", "01"),
        ("Header/CollectionDetails/Year", "24-25"),
        ("Header/Source/DateTime", "2025-04-15"),
        (f"{EPISODE1}/ChildProtectionPlans/NumberOfPreviousCPP", "-1"),
        (f"{EPISODE1}/ChildProtectionPlans/NumberOfPreviousCPP", "two"),
    ],
)
def test_badly_formed_value_is_rejected(year, path, bad):
    doc = set_text(valid_document(year), path, bad)
    assert_invalid(year, doc, at=path.split("/")[-1])


@pytest.mark.parametrize("year", YEARS)
def test_zero_previous_plans_is_allowed(year):
    doc = set_text(
        valid_document(year),
        f"{EPISODE1}/ChildProtectionPlans/NumberOfPreviousCPP",
        "0",
    )
    assert_valid(year, doc)


# --- structure ---------------------------------------------------------------


def move_after(doc: ET.Element, parent_path: str, tag: str, after: str) -> ET.Element:
    parent = first(doc, parent_path)
    moving = first(parent, tag)
    parent.remove(moving)
    anchor = [i for i, e in enumerate(parent) if e.tag == after][-1]
    parent.insert(anchor + 1, moving)
    return doc


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize(
    ("parent", "tag", "after"),
    [
        (
            EPISODE1,
            "ReferralNFA",
            "ChildProtectionPlans",
        ),  # NFA belongs before the plans
        (EPISODE1, "ReferralNFA", "CINPlanDates"),  # ... and after the Section47 blocks
        (EPISODE1, "CINreferralDate", "ReferralSource"),
        (EPISODE1, "Assessments", "Section47"),
        (IDS1, "LAchildID", "UPN"),
        (IDS1, "PersonDeathDate", "PersonBirthDate"),
        (CHILD1, "ChildIdentifiers", "ChildCharacteristics"),
        (f"{EPISODE1}/Section47", "ICPCnotRequired", "S47ActualStartDate"),
    ],
)
def test_elements_out_of_order_are_rejected(year, parent, tag, after):
    doc = move_after(valid_document(year), parent, tag, after)
    found = errors(year, doc)
    assert found, "expected a schema error"
    # The complaint is about the sequence of the moved block's parent.
    assert all(e.path and e.path.endswith(parent.rsplit("/", 1)[-1]) for e in found), [
        (e.path, e.reason) for e in found
    ]


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize(
    ("parent", "tag"),
    [
        (EPISODE1, "CINreferralDate"),
        (EPISODE1, "ReferralSource"),
        (EPISODE1, "ReferralNFA"),
        (IDS1, "LAchildID"),
        (f"{CHILD1}/ChildCharacteristics", "Ethnicity"),
        (f"{EPISODE1}/Assessments", "AssessmentActualStartDate"),
        (f"{EPISODE1}/Section47", "ICPCnotRequired"),
        (f"{EPISODE1}/ChildProtectionPlans", "NumberOfPreviousCPP"),
        (f"{EPISODE1}/ChildProtectionPlans", "LatestCategoryOfAbuse"),
        (f"{EPISODE1}/CINPlanDates", "CINPlanStartDate"),
        ("Header/CollectionDetails", "ReferenceDate"),
        ("Header/Source", "LEA"),
        ("", "Header"),
    ],
)
def test_missing_required_element_is_rejected(year, parent, tag):
    assert_invalid(year, remove(valid_document(year), parent or ".", tag), at=tag)


@pytest.mark.parametrize("year", YEARS)
def test_missing_sex_or_gender_is_rejected(year):
    tag = "Sex" if uses_sex(year) else "GenderCurrent"
    assert_invalid(year, remove(valid_document(year), IDS1, tag), at=tag)


@pytest.mark.parametrize("year", YEARS)
def test_child_without_an_episode_is_rejected(year):
    doc = valid_document(year)
    child = first(doc, CHILD1)
    for episode in child.findall("CINdetails"):
        child.remove(episode)
    assert_invalid(year, doc, at="CINdetails")


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize(
    ("parent", "tag"),
    [
        (EPISODE1, "ReferralNFA"),
        (EPISODE1, "CINreferralDate"),
        (IDS1, "UPN"),
        (f"{CHILD1}/ChildCharacteristics", "Ethnicity"),
        (f"{EPISODE1}/ChildProtectionPlans", "Reviews"),
    ],
)
def test_single_valued_element_repeated_is_rejected(year, parent, tag):
    doc = valid_document(year)
    holder = first(doc, parent)
    original = first(holder, tag)
    holder.insert(list(holder).index(original) + 1, copy.deepcopy(original))
    assert_invalid(year, doc)


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize(
    "path",
    [
        f"{CHILD1}/ChildCharacteristics/Disabilities",
        f"{EPISODE1}/ChildProtectionPlans/Reviews",
        f"{EPISODE1}/Assessments/FactorsIdentifiedAtAssessment",
    ],
)
def test_empty_list_wrapper_is_rejected(year, path):
    """Disabilities, Reviews and FactorsIdentifiedAtAssessment need an item."""
    doc = valid_document(year)
    wrapper = first(doc, path)
    for item in list(wrapper):
        wrapper.remove(item)
    assert_invalid(year, doc, at=path.rsplit("/", 1)[-1])


@pytest.mark.parametrize("year", YEARS)
def test_unknown_element_is_rejected(year):
    doc = valid_document(year)
    add(first(doc, EPISODE1), "SomethingNew", "x")
    assert_invalid(year, doc)


# --- year differences --------------------------------------------------------


@pytest.mark.parametrize("year", GENDER_YEARS)
def test_sex_is_rejected_before_2024_25(year):
    doc = valid_document(year)
    gender = first(doc, f"{IDS1}/GenderCurrent")
    gender.tag = "Sex"
    gender.text = "F"
    assert_invalid(year, doc, at="Sex")


@pytest.mark.parametrize("year", SEX_YEARS)
def test_gender_current_is_rejected_from_2024_25(year):
    doc = valid_document(year)
    sex = first(doc, f"{IDS1}/Sex")
    sex.tag = "GenderCurrent"
    sex.text = "2"
    assert_invalid(year, doc, at="GenderCurrent")


@pytest.mark.parametrize("year", GENDER_YEARS)
@pytest.mark.parametrize(("value", "ok"), [("1", True), ("9", True), ("M", False), ("3", False)])
def test_gender_current_codes(year, value, ok):
    doc = set_text(valid_document(year), f"{IDS1}/GenderCurrent", value)
    (assert_valid if ok else assert_invalid)(year, doc)


@pytest.mark.parametrize("year", SEX_YEARS)
@pytest.mark.parametrize(("value", "ok"), [("M", True), ("U", True), ("1", False), ("m", False)])
def test_sex_codes(year, value, ok):
    doc = set_text(valid_document(year), f"{IDS1}/Sex", value)
    (assert_valid if ok else assert_invalid)(year, doc)


@pytest.mark.parametrize("year", YEARS)
def test_early_help_codes_accepted_in_every_year(year):
    doc = set_text(valid_document(year), f"{EPISODE1}/ReferralSource", "5D")
    set_text(doc, f"{EPISODE1}/ReasonForClosure", "RC9")
    assert_valid(year, doc)


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("code", ["18B", "18C", "19B", "19C", "24A", "21"])
def test_current_assessment_factors_accepted(year, code):
    path = f"{EPISODE1}/Assessments/FactorsIdentifiedAtAssessment/AssessmentFactors"
    assert_valid(year, set_text(valid_document(year), path, code))


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("code", ["18A", "19A"])
def test_legacy_assessment_factors(year, code):
    """18A/19A: rejected up to 2023-24; from 2024-25 left to queries 8945Q/8950Q."""
    path = f"{EPISODE1}/Assessments/FactorsIdentifiedAtAssessment/AssessmentFactors"
    doc = set_text(valid_document(year), path, code)
    if year in SEX_YEARS:
        assert_valid(year, doc)
    else:
        assert_invalid(year, doc, at="AssessmentFactors")


@pytest.mark.parametrize("year", YEARS)
def test_pre_proceedings_block_is_not_part_of_these_years(year):
    """PreProceedingsandFGDM belongs to the 2026-27 census (see docs/cin-schema.md)."""
    doc = valid_document(year)
    block = ET.Element("PreProceedingsandFGDM")
    add(block, "PPStartDate", f"{int(year[:4])}-09-09")
    first(doc, EPISODE1).append(block)
    assert_invalid(year, doc)
