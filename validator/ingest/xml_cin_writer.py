"""CIN census tables (as text, the layout ``xml_cin.read_cin_xml`` produces) -> a CIN census XML file, its inverse.

Used by ``convert``. Elements are written in the order of DfE's schema; a blank value is left out. One <Child> is
written per ChildIdentifiers row, so two blocks that share an LAchildID (DfE's rule 8510) stay two blocks. Records
are joined to their block as :class:`_Blocks` says (by where they were read), to their episode by CINdetailsID
(which counts on across the blocks of an LAchildID, as the reader numbers it), assessments by AssessmentID and
plan reviews by CPPID. Validating the file written gives the findings of the tables it was written from.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from lxml import etree

from ..dataset import FILE, LINE
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


# The CIN tables whose records are placed in a <Child> block (the rest follow their episode), and ChildIdentifiers
BLOCK_TABLES = frozenset({"ChildIdentifiers", "ChildCharacteristics", "Disabilities", "CINdetails"})


class _Blocks:
    """Which <Child> block each record of ChildCharacteristics, Disabilities and CINdetails goes into.

    Block n of an LAchildID is its n-th ChildIdentifiers row. A record read from the same XML file as those rows
    (its ``FILE``, with its ``LINE``) goes into the block of its LAchildID that it was read in: the last one
    starting at or before its line. Records of flattened tables (CSV files, workbook sheets, or no ``FILE``) say
    nothing of blocks: the n-th ChildCharacteristics row of an LAchildID goes into its n-th block (any more into
    the last), its disabilities and episodes into its first block; ``guessed`` lists the LAchildIDs with more
    than one block whose records were so placed.
    """

    def __init__(self, idents: Sequence[Row]) -> None:
        self.count: dict[str | None, int] = defaultdict(int)
        self.starts: dict[tuple[str | None, str | None], tuple[list[int], list[int]]] = {}
        for ident in idents:
            key = ident.get("LAchildID")
            line = _line(ident)
            if line is not None:
                lines, blocks = self.starts.setdefault((ident.get(FILE), key), ([], []))
                lines.append(line)
                blocks.append(self.count[key])
            self.count[key] += 1
        self.guessed: set[str | None] = set()

    def place(self, table: str, rows: Sequence[Row]) -> dict[tuple[str | None, int], list[Row]]:
        placed: dict[tuple[str | None, int], list[Row]] = defaultdict(list)
        nth: dict[str | None, int] = defaultdict(int)
        orphans: list[str] = []
        for row in rows:
            key = row.get("LAchildID")
            blocks = self.count.get(key, 0)
            starts = self.starts.get((row.get(FILE), key))
            line = _line(row)
            if not blocks:
                orphans.append(str(key))
                continue
            if starts is not None and line is not None:
                lines, numbers = starts
                block = numbers[max(bisect_right(lines, line) - 1, 0)]
            elif table == "ChildCharacteristics":
                block = min(nth[key], blocks - 1)
                nth[key] += 1
            else:
                block = 0
                if blocks > 1:
                    self.guessed.add(key)
            placed[(key, block)].append(row)
        if orphans:
            raise ValueError(
                f"{table} has records of child(ren) with no ChildIdentifiers row, which XML cannot hold: "
                f"{', '.join(sorted(set(orphans))[:10])}"
            )
        return placed


def _line(row: Row) -> int | None:
    text = row.get(LINE)
    return int(text) if text else None


class _Tables:
    def __init__(self, tables: dict[str, Sequence[Row]]) -> None:
        get = lambda name: tables.get(name, ())  # noqa: E731
        self.blocks = _Blocks(get("ChildIdentifiers"))
        self.characteristics = self.blocks.place("ChildCharacteristics", get("ChildCharacteristics"))
        self.disabilities = self.blocks.place("Disabilities", get("Disabilities"))
        self.episodes = self.blocks.place("CINdetails", get("CINdetails"))
        self.assessments = _group(get("Assessments"), "LAchildID", "CINdetailsID")
        self.factors = _group(get("AssessmentFactors"), "LAchildID", "CINdetailsID", "AssessmentID")
        self.plan_dates = _group(get("CINplanDates"), "LAchildID", "CINdetailsID")
        self.section47 = _group(get("Section47"), "LAchildID", "CINdetailsID")
        self.plans = _group(get("ChildProtectionPlans"), "LAchildID", "CINdetailsID")
        self.reviews = _group(get("Reviews"), "LAchildID", "CINdetailsID", "CPPID")
        self.pre_proceedings = _group(get("PreProceedings"), "LAchildID", "CINdetailsID")

    def child(self, ident: Row, block: int) -> etree._Element:
        """The <Child> of the ``block``-th ChildIdentifiers row of its LAchildID, with that block's records."""
        key = ident.get("LAchildID")
        child = etree.Element("Child")
        _leaves(etree.SubElement(child, "ChildIdentifiers"), ident, IDENTIFIER_FIELDS)
        chars = self.characteristics.get((key, block), [])
        disabilities = self.disabilities.get((key, block), [])
        if disabilities and not chars:
            chars = [{}]  # disabilities are written inside a ChildCharacteristics
        for n, row in enumerate(chars):
            element = etree.SubElement(child, "ChildCharacteristics")
            _leaves(element, row, ("Ethnicity",))
            if disabilities and n == 0:  # a block's disabilities in its first ChildCharacteristics
                _leaves_repeated(etree.SubElement(element, "Disabilities"), "Disability", disabilities)
        for episode in self.episodes.get((key, block), []):
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


def _check_parents(data: _Tables, tables: dict[str, Sequence[Row]]) -> None:
    """Refuse (ValueError) records the XML cannot hold: nested in an episode, assessment or plan the tables lack."""
    episodes = {(r.get("LAchildID"), r.get("CINdetailsID")) for r in tables.get("CINdetails", ())}
    assessments = {(*key, r.get("AssessmentID")) for key, rows in data.assessments.items() for r in rows}
    plans = {(*key, r.get("CPPID")) for key, rows in data.plans.items() for r in rows}
    nested = (
        ("Assessments", data.assessments, episodes, "CINdetails"),
        ("CINplanDates", data.plan_dates, episodes, "CINdetails"),
        ("Section47", data.section47, episodes, "CINdetails"),
        ("ChildProtectionPlans", data.plans, episodes, "CINdetails"),
        ("PreProceedings", data.pre_proceedings, episodes, "CINdetails"),
        ("AssessmentFactors", data.factors, assessments, "Assessments"),
        ("Reviews", data.reviews, plans, "ChildProtectionPlans"),
    )
    for name, groups, known, parent in nested:
        lost = sorted({" ".join(str(v) for v in key) for key in groups if key not in known})
        if lost:
            raise ValueError(
                f"{name} has records with no {parent} record, which XML cannot hold: {', '.join(lost[:10])}"
            )


def write_cin_xml(tables: dict[str, Sequence[Row]], path: Path) -> list[str | None]:
    """Write the tables (name -> rows of text, blank as None or "") as one CIN census XML file at ``path``.

    A row may say where it was read (``FILE``, ``LINE`` as text), which tells repeated <Child> blocks of one
    LAchildID apart (:class:`_Blocks`). Returns the LAchildIDs of several blocks whose disabilities and episodes
    came from flattened tables and were written into their first block. Records the XML cannot hold (of a child
    with no ChildIdentifiers row, or of an episode, assessment or plan that is not there) raise ValueError.
    """
    data = _Tables(tables)
    _check_parents(data, tables)
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
                    child = data.child(ident, seen[key])
                    seen[key] += 1
                    etree.indent(child, space="  ", level=2)
                    child.tail = "\n"
                    xf.write("    ")
                    xf.write(child)
                xf.write("  ")
            xf.write("\n")
    return sorted(data.blocks.guessed, key=str)
