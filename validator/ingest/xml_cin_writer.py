"""CIN census tables (as text, the layout ``xml_cin.read_cin_xml`` produces) -> a CIN census XML file, its inverse.

Used by ``convert``. Elements are written in the order of DfE's schema; a blank value is left out. Records are
joined to their child by LAchildID and to their episode by CINdetailsID (assessments by AssessmentID, plan
reviews by CPPID). What the flattened tables cannot say is written the simplest way: when two <Child> blocks
share an LAchildID (DfE's rule 8510), every episode and disability of that child goes into the first block.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from lxml import etree

from .xml_cin import IDENTIFIER_FIELDS

Row = dict[str, str | None]

_COLLECTION = ("Collection", "Year", "ReferenceDate")
_SOURCE = ("SourceLevel", "LEA", "SoftwareCode", "Release", "SerialNo", "DateTime")
_CIN_FIRST = ("CINreferralDate", "ReferralSource", "PrimaryNeedCode", "CINclosureDate", "ReasonForClosure")
_ASSESSMENT = ("AssessmentActualStartDate", "AssessmentInternalReviewDate", "AssessmentAuthorisationDate")
_PLAN_DATES = ("CINPlanStartDate", "CINPlanEndDate")
_SECTION47 = ("S47ActualStartDate", "InitialCPCtarget", "DateOfInitialCPC", "ICPCnotRequired")
_CPP = ("CPPstartDate", "CPPendDate", "InitialCategoryOfAbuse", "LatestCategoryOfAbuse", "NumberOfPreviousCPP")
_PRE_PROCEEDINGS = (
    "PPStartDate",
    "LBPSentDate",
    "FGDMMeetingOffer",
    "FGDMMeetingFac",
    "InitialPPMeetingDate",
    "ReviewMeetingsCount",
    "StepDecisionDate",
    "PPOutcome",
    "CourtAppDate",
    "LetterInitCPDate",
)


def _leaves(parent: etree._Element, row: Row, names: Iterable[str]) -> None:
    for name in names:
        value = row.get(name)
        if value is not None and value != "":
            etree.SubElement(parent, name).text = value


def _group(rows: Sequence[Row], *keys: str) -> dict[tuple[str | None, ...], list[Row]]:
    grouped: dict[tuple[str | None, ...], list[Row]] = defaultdict(list)
    for row in rows:
        grouped[tuple(row.get(k) for k in keys)].append(row)
    return grouped


class _Tables:
    def __init__(self, tables: dict[str, Sequence[Row]]) -> None:
        get = lambda name: tables.get(name, ())  # noqa: E731
        self.characteristics = _group(get("ChildCharacteristics"), "LAchildID")
        self.disabilities = _group(get("Disabilities"), "LAchildID")
        self.episodes = _group(get("CINdetails"), "LAchildID")
        self.assessments = _group(get("Assessments"), "LAchildID", "CINdetailsID")
        self.factors = _group(get("AssessmentFactors"), "LAchildID", "CINdetailsID", "AssessmentID")
        self.plan_dates = _group(get("CINplanDates"), "LAchildID", "CINdetailsID")
        self.section47 = _group(get("Section47"), "LAchildID", "CINdetailsID")
        self.plans = _group(get("ChildProtectionPlans"), "LAchildID", "CINdetailsID")
        self.reviews = _group(get("Reviews"), "LAchildID", "CINdetailsID", "CPPID")
        self.pre_proceedings = _group(get("PreProceedings"), "LAchildID", "CINdetailsID")

    def child(self, ident: Row, first: bool, block: int) -> etree._Element:
        key = ident.get("LAchildID")
        child = etree.Element("Child")
        _leaves(etree.SubElement(child, "ChildIdentifiers"), ident, IDENTIFIER_FIELDS)
        chars = self.characteristics.get((key,), [])
        disabilities = self.disabilities.get((key,), []) if first else []
        if block < len(chars) or disabilities:
            element = etree.SubElement(child, "ChildCharacteristics")
            if block < len(chars):
                _leaves(element, chars[block], ("Ethnicity",))
            if disabilities:
                holder = etree.SubElement(element, "Disabilities")
                _leaves_repeated(holder, "Disability", disabilities)
        for episode in self.episodes.get((key,), []) if first else []:
            child.append(self.episode(key, episode))
        return child

    def episode(self, key: str | None, row: Row) -> etree._Element:
        cin_id = row.get("CINdetailsID")
        element = etree.Element("CINdetails")
        _leaves(element, row, (*_CIN_FIRST, "DateOfInitialCPC"))
        for assess in self.assessments.get((key, cin_id), []):
            block = etree.SubElement(element, "Assessments")
            _leaves(block, assess, _ASSESSMENT)
            factors = self.factors.get((key, cin_id, assess.get("AssessmentID")), [])
            if factors:
                _leaves_repeated(etree.SubElement(block, "FactorsIdentifiedAtAssessment"), "AssessmentFactors", factors,
                                 "AssessmentFactor")  # fmt: skip
        for plan in self.plan_dates.get((key, cin_id), []):
            _leaves(etree.SubElement(element, "CINPlanDates"), plan, _PLAN_DATES)
        for s47 in self.section47.get((key, cin_id), []):
            _leaves(etree.SubElement(element, "Section47"), s47, _SECTION47)
        _leaves(element, row, ("ReferralNFA",))
        for plan in self.plans.get((key, cin_id), []):
            block = etree.SubElement(element, "ChildProtectionPlans")
            _leaves(block, plan, _CPP)
            reviews = self.reviews.get((key, cin_id, plan.get("CPPID")), [])
            if reviews:
                _leaves_repeated(etree.SubElement(block, "Reviews"), "CPPreviewDate", reviews)
        for pre in self.pre_proceedings.get((key, cin_id), []):
            _leaves(etree.SubElement(element, "PreProceedingsandFGDM"), pre, _PRE_PROCEEDINGS)
        return element


def _leaves_repeated(parent: etree._Element, name: str, rows: Sequence[Row], column: str | None = None) -> None:
    for row in rows:
        value = row.get(column or name)
        if value is not None and value != "":
            etree.SubElement(parent, name).text = value


def write_cin_xml(tables: dict[str, Sequence[Row]], path: Path) -> None:
    """Write the tables (name -> rows of text, blank as None or "") as one CIN census XML file at ``path``."""
    data = _Tables(tables)
    seen: dict[str | None, int] = defaultdict(int)
    with etree.xmlfile(str(path), encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("Message"):
            xf.write("\n")
            header = etree.Element("Header")
            for row in list(tables.get("Header", ()))[:1]:
                _leaves(etree.SubElement(header, "CollectionDetails"), row, _COLLECTION)
                _leaves(etree.SubElement(header, "Source"), row, _SOURCE)
            etree.indent(header, space="  ", level=1)
            header.tail = "\n  "
            xf.write("  ")
            xf.write(header)
            with xf.element("Children"):
                xf.write("\n")
                for ident in tables.get("ChildIdentifiers", ()):
                    key = ident.get("LAchildID")
                    child = data.child(ident, seen[key] == 0, seen[key])
                    seen[key] += 1
                    etree.indent(child, space="  ", level=2)
                    child.tail = "\n"
                    xf.write("    ")
                    xf.write(child)
                xf.write("  ")
            xf.write("\n")
