"""CIN census XML -> raw tables with full parent keys, streamed with lxml iterparse.

Each <Child> is read and then cleared, so memory stays bounded however large the file. Every repeated value
keeps its own row: each Disability, each AssessmentFactors code, each CPPreviewDate. CINdetailsID,
AssessmentID and CPPID are the 1-based positions of the block within its parent.

CINdetailsID counts on across <Child> blocks that share an LAchildID (a mistake DfE reports as 8510): the second
block's first episode is numbered after the first block's last, so each episode's assessments, section 47
enquiries and plans stay with their own episode instead of being paired with the other block's.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from lxml import etree

from ..findings import Finding, ingest_finding
from ..schema import load_schema
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


def _nested(el: etree._Element, block: str, leaf: str) -> Iterator[etree._Element]:
    """The <leaf> elements inside each <block> child of ``el`` (e.g. an assessment's factors), in order."""
    for group in el:
        if _local(group.tag) == block:
            for item in group:
                if _local(item.tag) == leaf:
                    yield item


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


CHILD_KEY = "LAchildID"
# Blocks of an episode that each make one record of a table, keyed by the child and the episode.
_EPISODE_BLOCKS = {"CINPlanDates": "CINplanDates", "Section47": "Section47", "PreProceedingsandFGDM": "PreProceedings"}
_UNSET: Any = object()  # a column no leaf has set yet in the record being read
_IDS = [str(n) for n in range(64)]  # CINdetailsID, AssessmentID, CPPID texts: the same few, shared
# The keys the reader gives each table's records: the child's id, then the episode's, then the assessment's or plan's.
_KEYS = {
    "ChildIdentifiers": (),
    "ChildCharacteristics": (CHILD_KEY,),
    "Disabilities": (CHILD_KEY,),
    "CINdetails": (CHILD_KEY, "CINdetailsID"),
    "Assessments": (CHILD_KEY, "CINdetailsID", "AssessmentID"),
    "AssessmentFactors": (CHILD_KEY, "CINdetailsID", "AssessmentID"),
    "CINplanDates": (CHILD_KEY, "CINdetailsID"),
    "Section47": (CHILD_KEY, "CINdetailsID"),
    "ChildProtectionPlans": (CHILD_KEY, "CINdetailsID", "CPPID"),
    "Reviews": (CHILD_KEY, "CINdetailsID", "CPPID"),
    "PreProceedings": (CHILD_KEY, "CINdetailsID"),
}
# The columns whose values differ child by child: not pooled with equal values (the pool would hold each once more).
_UNSHARED = frozenset({CHILD_KEY, "UPN", "FormerUPN"})
# Tables of one value per element (each <Disability>, ...): the column the element's text goes in.
_SINGLE_VALUES = {"Disabilities": "Disability", "AssessmentFactors": "AssessmentFactor", "Reviews": "CPPreviewDate"}


def _id_text(n: int) -> str:
    return _IDS[n] if n < len(_IDS) else str(n)


class _Columns:
    """One table's records, kept row after row in one flat list (a record's values, one per declared column)
    and made columns when the file has been read.

    ``settable`` are the columns a leaf element of the record's block may set (the first leaf of a name wins, as
    its text stripped, blank as None); ``keys`` the columns the reader fills from the parent's keys, unless a leaf
    set them. A value read is shared with equal earlier values (``shared``), so that a date or code read a million
    times is held once, except in the ``unshared`` columns, whose values differ child by child (ids, UPNs).
    """

    def __init__(
        self,
        name: str,
        columns: tuple[str, ...],
        settable: tuple[str, ...],
        keys: tuple[str, ...],
        shared: dict[str, str],
        unshared: frozenset[str] = frozenset(),
    ) -> None:
        self.name = name
        self.names = columns
        self.width = len(columns)
        self.flat: list[str | None] = []
        self.lines = array("q")  # source lines as machine integers: no Python object per record
        self.index = {c: i for i, c in enumerate(columns) if c in settable}
        self.key_at = tuple(columns.index(k) for k in keys)
        self.value_at = columns.index(_SINGLE_VALUES[name]) if name in _SINGLE_VALUES else -1
        self._by_tag: dict[object, int | None] = {}  # element tag -> column it sets (namespaces aside)
        self._blank = [_UNSET] * self.width
        self._shared = shared
        # per column: the values it shares, or None (ChildIdentifiers' dates and codes are shared, its ids not)
        self._shared_in = [None if c in unshared else shared for c in columns]

    def _column_of(self, tag: object) -> int | None:
        column = self.index.get(_local(tag))
        if len(self._by_tag) < 1_000:  # a hostile file with many distinct tags does not grow it
            self._by_tag[tag] = column
        return column

    def add(
        self,
        block: etree._Element | None,
        keys: tuple[str | None, ...],
        line: int | None,
        others: list[etree._Element] | None = None,
    ) -> None:
        """One record: the block's leaves, then the keys for the columns its leaves did not set. The block's
        elements that set no column are put in ``others`` when given (e.g. an episode's assessments)."""
        row = self._blank[:]
        if block is not None:
            by_tag, shared_in = self._by_tag, self._shared_in
            for el in block:
                tag = el.tag
                i = by_tag.get(tag, _UNSET)
                if i is _UNSET:
                    i = self._column_of(tag)
                if i is None:
                    if others is not None:
                        others.append(el)
                    continue
                if row[i] is not _UNSET or len(el):
                    continue
                text = el.text
                if text is not None:
                    text = text.strip() or None
                    if text is not None and (shared := shared_in[i]) is not None:
                        text = shared.setdefault(text, text)
                row[i] = text
        for i, value in zip(self.key_at, keys, strict=True):
            if row[i] is _UNSET:
                row[i] = value
        self.flat.extend(row)
        self.lines.append(line or 0)

    def add_value(self, keys: tuple[str | None, ...], el: etree._Element) -> None:
        """One record of a single value: the element's own text (e.g. each <Disability>)."""
        row: list[str | None] = [None] * self.width
        for i, value in zip(self.key_at, keys, strict=True):
            row[i] = value
        text = el.text
        if text is not None:
            text = text.strip() or None
            if text is not None:
                text = self._shared.setdefault(text, text)
        row[self.value_at] = text
        self.flat.extend(row)
        self.lines.append(el.sourceline or 0)

    def add_record(self, record: dict[str, str | None], line: int) -> None:
        self.flat.extend(record.get(name) for name in self.names)
        self.lines.append(line)

    def raw(self, file: str) -> RawTable:
        width, flat = self.width, self.flat
        columns = {}
        for i, name in enumerate(self.names):
            values = flat[i::width]
            if i not in self.key_at:  # a key is always set, by a leaf or by the reader
                values = [None if v is _UNSET else v for v in values]
            columns[name] = values
        self.flat = []  # the columns are made: the rows' list goes before the next table's columns are made
        table = RawTable(name=self.name, file=file, columns=columns)
        table.lines = self.lines
        table.clean = True
        return table


class _CinTables:
    """The tables of one CIN file, filled child by child straight from the elements (no record per row)."""

    def __init__(self, file: str) -> None:
        self.file = file
        schema = load_schema("cin")
        shared: dict[str, str] = {}
        self.cols: dict[str, _Columns] = {}
        for name in TABLES:
            columns = tuple(schema.tables[name].columns)
            settable = CIN_FIELDS if name == "CINdetails" else () if name in _SINGLE_VALUES else columns
            self.cols[name] = _Columns(
                name,
                columns,
                settable,
                _KEYS.get(name, ()),
                shared,
                _UNSHARED if name == "ChildIdentifiers" else frozenset(),
            )
        self._child_id_at = self.cols["ChildIdentifiers"].names.index(CHILD_KEY)
        self.header_rows = 0
        self.children_taken = 0  # children of the tables already taken (take_tables)
        self._episodes_read: dict[str | None, int] = {}  # LAchildID -> CINdetails blocks read so far

    @property
    def tables(self) -> dict[str, RawTable]:
        return {name: cols.raw(self.file) for name, cols in self.cols.items()}

    def take_tables(self) -> dict[str, RawTable]:
        """The tables of the children read since the last call, which start again empty (the reader's other state,
        the episodes each child id has had, carries on)."""
        tables = self.tables
        for cols in self.cols.values():
            cols.lines = array("q")
        self.children_taken += len(tables["ChildIdentifiers"])
        return tables

    def children_read(self) -> int:
        return self.children_taken + len(self.cols["ChildIdentifiers"].lines)

    def read_header(self, header: etree._Element) -> None:
        record: dict[str, str | None] = {}
        for block in ("CollectionDetails", "Source"):
            found = _children(header, block)
            if found:  # DfE's schema allows several Source blocks; the first describes the return
                record.update(_leaf_values(found[0]))
        self.cols["Header"].add_record(record, header.sourceline or 0)
        self.header_rows += 1

    def read_child(self, child: etree._Element) -> None:
        ident = None
        for el in child:
            if _local(el.tag) == "ChildIdentifiers":
                ident = el
                break
        ids = self.cols["ChildIdentifiers"]
        ids.add(ident, (), (ident if ident is not None else child).sourceline)
        child_id = ids.flat[self._child_id_at - ids.width]
        if child_id is _UNSET:
            child_id = None
        first = self._episodes_read.get(child_id, 0) + 1
        n = first
        for el in child:
            tag = _local(el.tag)
            if tag == "ChildCharacteristics":
                self._read_characteristics(el, child_id)
            elif tag == "CINdetails":
                self._read_cin_details(el, child_id, _id_text(n))
                n += 1
        self._episodes_read[child_id] = n - 1

    def _read_characteristics(self, chars: etree._Element, child_id: str | None) -> None:
        self._add_with_items(chars, "ChildCharacteristics", (child_id,), ("Disabilities", "Disability"), "Disabilities")

    def _add_with_items(
        self, el: etree._Element, table: str, key: tuple[str | None, ...], items: tuple[str, str], items_table: str
    ) -> None:
        """A record, and the values of its list ``items`` (wrapper, item) as the records of ``items_table``."""
        self.cols[table].add(el, key, el.sourceline)
        listed = self.cols[items_table]
        for value in _nested(el, *items):
            listed.add_value(key, value)

    def _read_cin_details(self, cin: etree._Element, child_id: str | None, episode: str) -> None:
        cols = self.cols
        key = (child_id, episode)
        blocks: list[etree._Element] = []
        cols["CINdetails"].add(cin, key, cin.sourceline, blocks)
        assessment = cpp = 0
        for el in blocks:
            tag = _local(el.tag)
            if tag == "Assessments":
                assessment += 1
                akey = (child_id, episode, _id_text(assessment))
                items = ("FactorsIdentifiedAtAssessment", "AssessmentFactors")
                self._add_with_items(el, "Assessments", akey, items, "AssessmentFactors")
            elif tag in _EPISODE_BLOCKS:
                cols[_EPISODE_BLOCKS[tag]].add(el, key, el.sourceline)
            elif tag == "ChildProtectionPlans":
                cpp += 1
                pkey = (child_id, episode, _id_text(cpp))
                self._add_with_items(el, "ChildProtectionPlans", pkey, ("Reviews", "CPPreviewDate"), "Reviews")


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


def _child_id(child: etree._Element) -> str | None:
    """The child's id as schema findings name it: the text of the first <LAchildID> of its first
    <ChildIdentifiers>."""
    ids = _children(child, "ChildIdentifiers")
    found = _children(ids[0], "LAchildID") if ids else []
    return _text(found[0]) if found else None


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


def _foreign_namespace(root: etree._Element, name: str) -> Finding | None:
    """Said once, clearly: checking each child against a schema without namespace would say every element is
    unexpected."""
    namespace = etree.QName(root).namespace
    if not namespace:
        return None
    return ingest_finding(
        "XML-SCHEMA",
        f"{name} line {root.sourceline}: the elements are in the namespace '{namespace}', but CIN census XML "
        "elements have none (DfE would reject the file); the file was read but not checked against the schema",
        file=name,
        line=root.sourceline,
    )


def _read_record(el: etree._Element, out: _CinTables, xsd: CinSchemaCheck | None, findings: list[Finding]) -> None:
    """A <Header> or <Child> has ended: check it, read it, and drop it and what came before it."""
    tag = _local(el.tag)
    parent = el.getparent()
    parent_tag = _local(parent.tag) if parent is not None else ""
    if tag == "Header" and parent_tag == "Message":
        if out.header_rows:
            findings.append(
                ingest_finding(
                    "XML-SCHEMA",
                    f"{out.file} line {el.sourceline}: a second <Header>; a CIN census file has one, so only the "
                    "first was read",
                    file=out.file,
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
        foreign = etree.QName(el).namespace if el.tag.startswith("{") else None
        if xsd and foreign and foreign != etree.QName(parent).namespace:
            xsd.missing(
                f"this <Child> is in the namespace '{foreign}', which DfE's schema does not have; it was read as a "
                "child, but DfE would reject the file",
                el.sourceline,
            )
        if xsd:
            xsd.check(el, _child_id)
        out.read_child(el)
        el.clear()
        _free_passed(el)
    elif tag == "Child":  # a <Child> outside <Children> is not read: not kept either
        el.clear()


def _schema_closing(xsd: CinSchemaCheck, out: _CinTables, root_seen: bool, findings: list[Finding]) -> None:
    """The schema findings, and what the schema requires of the whole file that it lacks."""
    name = out.file
    findings.extend(xsd.finish())
    if root_seen and not out.header_rows:
        findings.append(
            ingest_finding(
                "XML-SCHEMA",
                f"{name}: the file has no <Header>; DfE's schema requires one before <Children>",
                file=name,
            )
        )
    if root_seen and not out.children_read() and not any(f.code == "XML-MALFORMED" for f in findings):
        findings.append(
            ingest_finding(
                "XML-SCHEMA",
                f"{name}: the file has no <Child> (in <Children>); DfE's schema requires at least one",
                file=name,
            )
        )


def read_cin_xml(path: Path, schema_year: str | None = None) -> tuple[dict[str, RawTable], list[Finding]]:
    """Read a CIN census XML file into raw tables; problems become findings, never exceptions.

    With ``schema_year``, each <Header> and <Child> is also checked against that year's XSD as it is read.
    """
    findings: list[Finding] = []
    pieces = list(read_cin_chunks(path, findings, schema_year))  # one piece, or none for a file not read
    return (pieces[0] if pieces else {}), findings


def read_cin_chunks(
    path: Path, findings: list[Finding], schema_year: str | None = None, children: int | None = None
) -> Iterator[dict[str, RawTable]]:
    """:func:`read_cin_xml` in pieces: the raw tables of each ``children`` children read in turn (all of them in
    one piece without ``children``); the header is in the first piece. The findings go into ``findings`` as they
    are made; the schema's and the file's closing ones once the last piece is given. A file refused or empty gives
    no piece; else the last piece is given after the file has been read to its end, even when it has no records."""
    name = str(path)
    xsd = CinSchemaCheck(schema_year, name) if schema_year else None
    reason = unsafe_xml_reason(path)
    if reason:
        findings.append(ingest_finding("XML-UNSAFE", f"{name}: {reason}; the file was not read", file=name))
        return
    out = _CinTables(name)
    root_checked = False
    ids = out.cols["ChildIdentifiers"].lines
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
                    return
                foreign = _foreign_namespace(root, name) if xsd is not None else None
                if foreign is not None:
                    findings.append(foreign)
                    xsd = None
            if event == "end":
                _read_record(el, out, xsd, findings)
                if children is not None and len(ids) >= children:
                    yield out.take_tables()
                    ids = out.cols["ChildIdentifiers"].lines
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
            findings[:] = [refused]
            return
        findings.append(ingest_finding("FILE-EMPTY", f"{name}: the file has no XML content", file=name))
    if xsd:
        _schema_closing(xsd, out, root_checked, findings)
    yield out.take_tables()
