"""CIN census XML -> raw tables with full parent keys, streamed with lxml iterparse.

Each <Child> is read and then cleared, so memory stays bounded however large the file. Every repeated value
keeps its own row: each Disability, each AssessmentFactors code, each CPPreviewDate. CINdetailsID,
AssessmentID and CPPID are the 1-based positions of the block within its parent.

CINdetailsID counts on across <Child> blocks that share an LAchildID (a mistake DfE reports as 8510): the second
block's first episode is numbered after the first block's last, so each episode's assessments, section 47
enquiries and plans stay with their own episode instead of being paired with the other block's.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from lxml import etree

from ..findings import Finding, ingest_finding
from ..years import year_containing
from .coerce import DMY, ISO, parse_dates
from .raw import RawTable
from .xml_safety import declared_doctype, open_safe_iterparse, syntax_error, unsafe_xml_reason
from .xsd_check import CinSchemaCheck

IDENTIFIER_FIELDS = (
    "LAchildID",
    "UPN",
    "FormerUPN",
    "UPNunknown",
    "PersonBirthDate",
    "ExpectedPersonBirthDate",
    "GenderCurrent",
    "Sex",
    "PersonDeathDate",
)
CIN_FIELDS = (
    "CINreferralDate",
    "ReferralSource",
    "PrimaryNeedCode",
    "CINclosureDate",
    "ReasonForClosure",
    "DateOfInitialCPC",
    "ReferralNFA",
)
TABLES = (
    "Header",
    "ChildIdentifiers",
    "ChildCharacteristics",
    "Disabilities",
    "CINdetails",
    "Assessments",
    "AssessmentFactors",
    "CINplanDates",
    "Section47",
    "ChildProtectionPlans",
    "Reviews",
    "PreProceedings",
)


_LOCAL_NAMES: dict[object, str] = {}  # tag -> local name: a file has few distinct tags, each seen many times


def _local(tag: object) -> str:
    """The tag without any namespace ("{uri}Child" -> "Child"); comments and the like give ""."""
    try:
        return _LOCAL_NAMES[tag]
    except KeyError:
        name = tag.rpartition("}")[2] if isinstance(tag, str) else ""
        if len(_LOCAL_NAMES) < 10_000:  # a hostile file with millions of distinct tags does not grow it
            _LOCAL_NAMES[tag] = name
        return name


def _text(el: etree._Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    value = el.text.strip()
    return value or None


def _leaf_values(parent: etree._Element, skip: frozenset[str] = frozenset()) -> dict[str, str | None]:
    """Text of the parent's leaf children, by local name (first occurrence wins)."""
    values: dict[str, str | None] = {}
    for el in parent:
        name = _local(el.tag)
        if name and name not in skip and len(el) == 0 and name not in values:
            values[name] = _text(el)
    return values


def _children(parent: etree._Element, name: str) -> list[etree._Element]:
    return [el for el in parent if _local(el.tag) == name]


def _by_name(parent: etree._Element) -> dict[str, list[etree._Element]]:
    """The parent's child elements grouped by local name, in document order (one pass over them)."""
    groups: dict[str, list[etree._Element]] = {}
    for el in parent:
        groups.setdefault(_local(el.tag), []).append(el)
    return groups


class _CinTables:
    def __init__(self, file: str) -> None:
        self.tables = {name: RawTable(name=name, file=file) for name in TABLES}
        self._episodes_read: dict[str | None, int] = {}  # LAchildID -> CINdetails blocks read so far

    def add(self, table: str, record: dict[str, str | None], line: int | None) -> None:
        self.tables[table].append(record, line or 0)

    def read_header(self, header: etree._Element) -> None:
        record: dict[str, str | None] = {}
        for block in ("CollectionDetails", "Source"):
            found = _children(header, block)
            if found:  # DfE's schema allows several Source blocks; the first describes the return
                record.update(_leaf_values(found[0]))
        self.add("Header", record, header.sourceline)

    def read_child(self, child: etree._Element) -> None:
        parts = _by_name(child)
        ident = (parts.get("ChildIdentifiers") or [None])[0]
        ids = _leaf_values(ident) if ident is not None else {}
        child_id = ids.get("LAchildID")
        key = {"LAchildID": child_id}
        self.add(
            "ChildIdentifiers",
            {**{f: None for f in IDENTIFIER_FIELDS}, **ids},
            (ident if ident is not None else child).sourceline,
        )
        for chars in parts.get("ChildCharacteristics", ()):
            self.add("ChildCharacteristics", {**key, **_leaf_values(chars)}, chars.sourceline)
            for block in _children(chars, "Disabilities"):
                for dis in _children(block, "Disability"):
                    self.add("Disabilities", {**key, "Disability": _text(dis)}, dis.sourceline)
        first = self._episodes_read.get(child_id, 0) + 1
        episodes = parts.get("CINdetails", [])
        for n, cin in enumerate(episodes, start=first):
            self._read_cin_details(cin, {**key, "CINdetailsID": str(n)})
        self._episodes_read[child_id] = first - 1 + len(episodes)

    def _read_cin_details(self, cin: etree._Element, key: dict[str, str | None]) -> None:
        values = _leaf_values(cin)
        self.add("CINdetails", {**key, **{f: values.get(f) for f in CIN_FIELDS}}, cin.sourceline)
        parts = _by_name(cin)
        for n, assess in enumerate(parts.get("Assessments", ()), start=1):
            akey = {**key, "AssessmentID": str(n)}
            self.add("Assessments", {**akey, **_leaf_values(assess)}, assess.sourceline)
            for block in _children(assess, "FactorsIdentifiedAtAssessment"):
                for factor in _children(block, "AssessmentFactors"):
                    self.add("AssessmentFactors", {**akey, "AssessmentFactor": _text(factor)}, factor.sourceline)
        for plan in parts.get("CINPlanDates", ()):
            self.add("CINplanDates", {**key, **_leaf_values(plan)}, plan.sourceline)
        for s47 in parts.get("Section47", ()):
            self.add("Section47", {**key, **_leaf_values(s47)}, s47.sourceline)
        for n, cpp in enumerate(parts.get("ChildProtectionPlans", ()), start=1):
            pkey = {**key, "CPPID": str(n)}
            self.add("ChildProtectionPlans", {**pkey, **_leaf_values(cpp)}, cpp.sourceline)
            for block in _children(cpp, "Reviews"):
                for review in _children(block, "CPPreviewDate"):
                    self.add("Reviews", {**pkey, "CPPreviewDate": _text(review)}, review.sourceline)
        for pre in parts.get("PreProceedingsandFGDM", ()):
            self.add("PreProceedings", {**key, **_leaf_values(pre)}, pre.sourceline)


def peek_reference_date(path: Path) -> str | None:
    """The header's ReferenceDate text, read without going past the header."""
    if unsafe_xml_reason(path):
        return None
    try:
        for _event, el in open_safe_iterparse(path, events=("end",)):
            tag = _local(el.tag)
            if tag == "ReferenceDate":
                return _text(el)
            if tag in ("Header", "Child"):
                return None
    except (etree.XMLSyntaxError, OSError):
        return None
    return None


def peek_header_year(path: Path) -> str | None:
    """The collection year the header names: its <Year> (the year the census ends, 2025 for 2024_25), else the
    year its <ReferenceDate> falls in; None when neither is usable. Read without going past the header."""
    if unsafe_xml_reason(path):
        return None
    found: dict[str, str | None] = {}
    try:
        for _event, el in open_safe_iterparse(path, events=("end",)):
            tag = _local(el.tag)
            if tag in ("Year", "ReferenceDate"):
                found.setdefault(tag, _text(el))
            if tag in ("Header", "Child"):
                break
    except (etree.XMLSyntaxError, OSError):
        pass
    return year_of_header(found.get("Year"), found.get("ReferenceDate"))


def year_of_header(year: object, reference_date: object) -> str | None:
    """The collection year from the CIN header's Year (e.g. 2025), else from its ReferenceDate."""
    text = str(year or "").strip()
    if text.isdigit() and len(text) == 4:
        return f"{int(text) - 1}_{int(text) % 100:02d}"
    ref = str(reference_date or "").strip()
    if ref:
        dates = parse_dates(pd.Series([ref], dtype="object"), (ISO, DMY))[0].dropna()
        if not dates.empty:
            return year_containing(dates.iloc[0].date())
    return None


def _refused_root(root: etree._Element, name: str) -> Finding | None:
    """Why the document cannot be read as a CIN census: a DOCTYPE (refused for safety) or another root element."""
    if declared_doctype(root):
        return ingest_finding(
            "XML-UNSAFE",
            f"{name}: it declares a DOCTYPE, which is refused for safety; the file was not read",
            file=name,
            line=root.sourceline,
        )
    tag = _local(root.tag)
    if tag != "Message":
        return ingest_finding(
            "XML-ROOT",
            f"{name} line {root.sourceline}: the root element is <{tag}>, but a CIN census file starts with <Message>",
            file=name,
            line=root.sourceline,
        )
    return None


def _free_passed(el: etree._Element) -> None:
    """Drop what the parser has passed before ``el``: its earlier siblings and those of each of its ancestors
    (other records, and markup outside records such as elements before <Children>), so the tree holds only the
    path to the current record whatever the file holds besides records."""
    node = el
    while (parent := node.getparent()) is not None:
        while node.getprevious() is not None:
            del parent[0]
        node = parent


def read_cin_xml(path: Path, schema_year: str | None = None) -> tuple[dict[str, RawTable], list[Finding]]:
    """Read a CIN census XML file into raw tables; problems become findings, never exceptions.

    With ``schema_year``, each <Header> and <Child> is also checked against that year's XSD as it is read.
    """
    name = str(path)
    xsd = CinSchemaCheck(schema_year, name) if schema_year else None
    reason = unsafe_xml_reason(path)
    if reason:
        return {}, [ingest_finding("XML-UNSAFE", f"{name}: {reason}; the file was not read", file=name)]
    out = _CinTables(name)
    findings: list[Finding] = []
    root_checked = False
    try:
        # Only the root's start and the ends of <Header> and <Child> are reported: the parser walks the rest
        # without a Python call per element.
        events = open_safe_iterparse(path, events=("start", "end"), tag=("{*}Message", "{*}Header", "{*}Child"))
        for event, el in events:
            if not root_checked:
                root_checked = True
                root = el.getroottree().getroot()
                refused = _refused_root(root, name)
                if refused is not None:
                    findings.append(refused)
                    return {}, findings
                namespace = etree.QName(root).namespace
                if namespace and xsd is not None:
                    # said once, clearly: checking each child against a schema without namespace would say
                    # every element is unexpected
                    findings.append(
                        ingest_finding(
                            "XML-SCHEMA",
                            f"{name} line {root.sourceline}: the elements are in the namespace '{namespace}', but "
                            "CIN census XML elements have none (DfE would reject the file); the file was read but "
                            "not checked against the schema",
                            file=name,
                            line=root.sourceline,
                        )
                    )
                    xsd = None
            if event == "start":
                continue
            tag = _local(el.tag)
            parent = el.getparent()
            parent_tag = _local(parent.tag) if parent is not None else ""
            if tag == "Header" and parent_tag == "Message":
                if len(out.tables["Header"]):
                    findings.append(
                        ingest_finding(
                            "XML-SCHEMA",
                            f"{name} line {el.sourceline}: a second <Header>; a CIN census file has one, so only "
                            "the first was read",
                            file=name,
                            line=el.sourceline,
                        )
                    )
                else:
                    if xsd:
                        xsd.check(el)
                    out.read_header(el)
                el.clear()
                _free_passed(el)
            elif tag == "Child" and parent_tag == "Children":
                foreign = etree.QName(el).namespace
                if xsd and foreign and foreign != etree.QName(parent).namespace:
                    xsd.missing(
                        f"this <Child> is in the namespace '{foreign}', which DfE's schema does not have; it was "
                        "read as a child, but DfE would reject the file",
                        el.sourceline,
                    )
                if xsd:
                    ids = _children(el, "ChildIdentifiers")
                    xsd.check(
                        el, _text(_children(ids[0], "LAchildID")[0]) if ids and _children(ids[0], "LAchildID") else None
                    )
                out.read_child(el)
                el.clear()
                _free_passed(el)
            elif event == "end" and tag == "Child":  # a <Child> outside <Children> is not read: not kept either
                el.clear()
    except etree.XMLSyntaxError as exc:
        line, msg = syntax_error(exc)
        findings.append(
            ingest_finding(
                "XML-MALFORMED",
                f"{name} line {line}: the XML is not well formed ({msg}); records read before this point were kept",
                file=name,
                line=line,
            )
        )
    except OSError as exc:
        findings.append(ingest_finding("FILE-UNREADABLE", f"{name}: {exc.strerror or exc}", file=name))
    if not root_checked and not findings:
        root = getattr(events, "root", None)  # no <Message>, <Header> or <Child> at all: what was there?
        refused = _refused_root(root, name) if root is not None else None
        if refused is not None:
            return {}, [refused]
        findings.append(ingest_finding("FILE-EMPTY", f"{name}: the file has no XML content", file=name))
    if xsd:
        findings.extend(xsd.finish())
        if root_checked and not len(out.tables["Header"]):
            findings.append(
                ingest_finding(
                    "XML-SCHEMA",
                    f"{name}: the file has no <Header>; DfE's schema requires one before <Children>",
                    file=name,
                )
            )
        if (
            root_checked
            and not len(out.tables["ChildIdentifiers"])
            and not any(f.code == "XML-MALFORMED" for f in findings)
        ):
            findings.append(
                ingest_finding(
                    "XML-SCHEMA",
                    f"{name}: the file has no <Child> (in <Children>); DfE's schema requires at least one",
                    file=name,
                )
            )
    return out.tables, findings
