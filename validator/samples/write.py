"""Writing the samples: CSV tables, the SSDA903 XML files (through ingest's XML writer) and the CIN census XML."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from lxml import etree

from ..years import collection_end
from .common import LA_NUMBER, Tables
from .model_903 import Year
from .simulate_cin import CinChild, CinEpisode
from .tables_903 import SSDA903_COLUMNS, SSDA903_FILES, tables_of


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def write_903_csv(tables: Tables, year: Year, folder: Path) -> list[Path]:
    """One CSV file per table of ``year``'s return."""
    return [write_csv(folder / SSDA903_FILES[n], SSDA903_COLUMNS[n], tables[n]) for n in tables_of(year)]


def write_903_xml(tables: Tables, uasc_flags: list[str], year: Year, folder: Path) -> list[Path]:
    """The return as XML: ``<year>.xml`` (the main file, with DoLo blocks from 2026_27) and, from 2023_24,
    ``<year>_sw.xml`` (the social worker file)."""
    import pandas as pd

    from ..ingest.xml903_writer import write_ssda903_sw_xml, write_ssda903_xml

    frames = {
        name: pd.DataFrame(tables[name], columns=list(SSDA903_COLUMNS[name]), dtype=object) for name in tables_of(year)
    }
    frames["Header"]["UASC"] = uasc_flags
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / f"{year.name}.xml"]
    write_ssda903_xml(frames, written[0])
    if year.social_workers:
        written.append(folder / f"{year.name}_sw.xml")
        write_ssda903_sw_xml(frames, written[-1])
    return written


def write_cin_xml(root: etree._Element, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    etree.indent(root, space="  ")
    etree.ElementTree(root).write(str(path), xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return path


# --- the CIN census as XML --------------------------------------------------------------------------------------


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _iso(day: dt.date) -> str:
    return day.isoformat()


def cin_xml(children: list[CinChild], year: str) -> etree._Element:
    """The census as an lxml tree, in the element order of schemas/cin/cin_<year>.xsd."""
    ref = collection_end(year)
    root = etree.Element("Message")
    header = _sub(root, "Header")
    details = _sub(header, "CollectionDetails")
    _sub(details, "Collection", "CIN")
    _sub(details, "Year", str(ref.year))
    _sub(details, "ReferenceDate", _iso(ref))
    source = _sub(header, "Source")
    _sub(source, "SourceLevel", "L")
    _sub(source, "LEA", LA_NUMBER)
    _sub(source, "SoftwareCode", "cscvalidate synthetic samples")
    _sub(source, "Release", "1")
    _sub(source, "SerialNo", "001")
    _sub(source, "DateTime", f"{ref.year}-05-01T09:00:00")
    holder = _sub(root, "Children")
    sex_element = "GenderCurrent" if year <= "2023_24" else "Sex"
    for c in children:
        _cin_child(_sub(holder, "Child"), c, sex_element)
    return root


_GENDER = {"M": "1", "F": "2", "U": "0"}


def _cin_child(child: etree._Element, c: CinChild, sex_element: str) -> None:
    ids = _sub(child, "ChildIdentifiers")
    _sub(ids, "LAchildID", c.child)
    if c.upn:
        _sub(ids, "UPN", c.upn)
    if c.former_upn:
        _sub(ids, "FormerUPN", c.former_upn)
    if c.upn_unknown:
        _sub(ids, "UPNunknown", c.upn_unknown)
    if c.dob is not None:
        _sub(ids, "PersonBirthDate", _iso(c.dob))
    if c.expected is not None:
        _sub(ids, "ExpectedPersonBirthDate", _iso(c.expected))
    _sub(ids, sex_element, _GENDER[c.sex] if sex_element == "GenderCurrent" else c.sex)
    if c.death is not None:
        _sub(ids, "PersonDeathDate", _iso(c.death))
    characteristics = _sub(child, "ChildCharacteristics")
    _sub(characteristics, "Ethnicity", c.ethnic)
    if c.disabilities:
        block = _sub(characteristics, "Disabilities")
        for code in c.disabilities:
            _sub(block, "Disability", code)
    for e in c.episodes:
        _cin_details(_sub(child, "CINdetails"), e)


def _cin_details(details: etree._Element, e: CinEpisode) -> None:
    _sub(details, "CINreferralDate", _iso(e.referral))
    _sub(details, "ReferralSource", e.source)
    if e.need:
        _sub(details, "PrimaryNeedCode", e.need)
    if e.closure is not None:
        _sub(details, "CINclosureDate", _iso(e.closure))
        _sub(details, "ReasonForClosure", e.reason)
    for begin, end, factors in e.assessments:
        block = _sub(details, "Assessments")
        _sub(block, "AssessmentActualStartDate", _iso(begin))
        if end is not None:
            _sub(block, "AssessmentAuthorisationDate", _iso(end))
        if factors:
            found = _sub(block, "FactorsIdentifiedAtAssessment")
            for code in factors:
                _sub(found, "AssessmentFactors", code)
    for plan in e.cin_plans:
        block = _sub(details, "CINPlanDates")
        _sub(block, "CINPlanStartDate", _iso(plan.start))
        if plan.end is not None:
            _sub(block, "CINPlanEndDate", _iso(plan.end))
    for begin, target, icpc, not_required in e.section47:
        block = _sub(details, "Section47")
        _sub(block, "S47ActualStartDate", _iso(begin))
        if target is not None:
            _sub(block, "InitialCPCtarget", _iso(target))
        if icpc is not None:
            _sub(block, "DateOfInitialCPC", _iso(icpc))
        _sub(block, "ICPCnotRequired", "true" if not_required else "false")
    _sub(details, "ReferralNFA", "true" if e.nfa else "false")
    for plan in e.cp_plans:
        block = _sub(details, "ChildProtectionPlans")
        _sub(block, "CPPstartDate", _iso(plan.start))
        if plan.end is not None:
            _sub(block, "CPPendDate", _iso(plan.end))
        _sub(block, "InitialCategoryOfAbuse", plan.initial)
        _sub(block, "LatestCategoryOfAbuse", plan.latest)
        _sub(block, "NumberOfPreviousCPP", str(plan.previous))
        if plan.reviews:
            reviews = _sub(block, "Reviews")
            for day in plan.reviews:
                _sub(reviews, "CPPreviewDate", _iso(day))
