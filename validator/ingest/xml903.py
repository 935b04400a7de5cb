"""SSDA903 (children looked after) XML -> raw tables, streamed with lxml iterparse.

Two layouts are read (see docs/ssda903-xml.md). The main return: the root <EXPSSDA903> holds one <CHILD> per
child; each CHILD holds one <HEADER> and any number of <EPISODE>. The HEADER holds the child's own fields, three
flat groups of fields (UASC/DUC, the AD1 adoption fields, the OC3 care-leaver fields) and the repeated or optional
blocks <AREVIEW>, <AMISSING>, <OC2>, <PERMANENCE>, <AD_PLACED> and, from 2026_27, <DOLO>. The social worker file
(from 2023_24): the root <EXPSSDA903SW> holds one <CHILD> per child, each a <HEADER> with CHILDID and DOB and any
number of <SW_EPISODE>. Every record gets the child id in CHILD and, where its table has them, the HEADER's DOB
and SEX, as the CSV files carry them. Each <CHILD> is read, checked against the year's XSD when a year is given
(validator/ingest/xsd_check.py), and then cleared, so memory stays bounded however large the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from ..findings import Finding, ingest_finding
from ..schema import load_schema
from .raw import RawTable
from .xml_safety import declared_doctype, open_safe_iterparse, syntax_error, unsafe_xml_reason
from .xsd_check import SSDA903_SCHEMA, SSDA903_SW_SCHEMA, SchemaCheck, SchemaSpec

ROOT = "EXPSSDA903"
SW_ROOT = "EXPSSDA903SW"  # the social worker file's root: the project's own name (DfE's was not found)
RECORD = "CHILD"
HEADER = "HEADER"


@dataclass(frozen=True)
class Block:
    """One group of XML elements that becomes records of one table.

    ``fields`` maps element name -> column, in the order the writer emits them. ``element`` is the wrapping
    element (one record per occurrence) or None for a flat group inside HEADER, which gives at most one
    record, made when any of its fields or ``triggers`` (elements read elsewhere) has text. ``copied`` are
    columns copied from the Header record.
    """

    table: str
    fields: dict[str, str]
    element: str | None = None
    copied: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """The table's columns, as the data model (schemas/ssda903/tables.yaml) orders them."""
        return table_columns(self.table)


def table_columns(table: str) -> tuple[str, ...]:
    return tuple(load_schema("ssda903").tables[table].columns)


# The HEADER's own fields -> Header columns (UASC is the flag only the XML format carries).
HEADER_FIELDS: dict[str, str] = {
    "CHILDID": "CHILD",
    "UPN": "UPN",
    "SEX": "SEX",
    "DOB": "DOB",
    "ETHNIC": "ETHNIC",
    "UASC": "UASC",
    "MOTHER": "MOTHER",
    "MC_DOB": "MC_DOB",
}

EPISODES = Block(
    table="Episodes",
    element="EPISODE",
    fields={
        "DECOM": "DECOM",
        "RNE": "RNE",
        "LS": "LS",
        "CIN": "CIN",
        "PL": "PLACE",
        "PL_POST": "PL_POST",
        "HOME_POST": "HOME_POST",
        "URN": "URN",
        "PLACE_PROVIDER": "PLACE_PROVIDER",
        "DEC": "DEC",
        "REC": "REC",
        "REASON_PLACE_CHANGE": "REASON_PLACE_CHANGE",
    },
)


def same_named(table: str, element: str | None = None, copied: tuple[str, ...] = ("DOB",), **kw: Any) -> Block:
    """A block whose elements are named as its table's columns: every column but CHILD and the ``copied`` ones,
    in the data model's order (which is the order of the elements in the XSD)."""
    fields = {c: c for c in table_columns(table) if c not in ("CHILD", *copied)}
    return Block(table=table, fields=fields, element=element, copied=copied, **kw)


# Flat groups inside HEADER, in the order the writer emits them after UASC.
UASC = same_named("UASC", copied=("SEX", "DOB"), triggers=("UASC",))
AD1 = same_named("AD1")
OC3 = same_named("OC3")
FLAT_BLOCKS = (UASC, AD1, OC3)

# Blocks nested in HEADER, one record per element.
MISSING = same_named("Missing", "AMISSING")
REVIEWS = same_named("Reviews", "AREVIEW")
PREV_PERM = same_named("PrevPerm", "PERMANENCE")
OC2 = same_named("OC2", "OC2")
PLACED_ADOPTION = same_named("PlacedAdoption", "AD_PLACED")
DOLO = same_named("DoLo", "DOLO")
NESTED_BLOCKS = (MISSING, REVIEWS, PREV_PERM, OC2, PLACED_ADOPTION, DOLO)

# The social worker file: HEADER holds the child's id and date of birth, SW_EPISODE one social worker episode.
SW_HEADER_FIELDS: dict[str, str] = {"CHILDID": "CHILD", "DOB": "DOB"}
SW_EPISODES = same_named("SWEpisodes", "SW_EPISODE")

# Spellings of the CSV column names accepted for the two renamed elements.
ALIASES: dict[str, dict[str, str]] = {HEADER: {"CHILD": "CHILDID"}, "EPISODE": {"PLACE": "PL"}}


@dataclass(frozen=True)
class Layout:
    """One kind of SSDA903 XML file: its root, what its HEADER and CHILD hold, and the XSD that checks it.

    ``name`` is the value tables in schemas/ssda903/tables.yaml give as ``in_xml`` when this file carries them.
    ``header_table`` is the table a record of the HEADER's own fields goes to (None: they are only copied).
    ``child_blocks`` are the repeated blocks directly inside CHILD.
    """

    name: str
    root: str
    description: str
    header_fields: dict[str, str]
    header_table: str | None
    flat_blocks: tuple[Block, ...]
    nested_blocks: tuple[Block, ...]
    child_blocks: tuple[Block, ...]
    always: tuple[str, ...]
    schema: SchemaSpec

    @property
    def tables(self) -> dict[str, tuple[str, ...]]:
        """Every table this file can carry, with its columns."""
        blocks = (*self.child_blocks, *self.flat_blocks, *self.nested_blocks)
        header = {self.header_table: table_columns(self.header_table)} if self.header_table else {}
        return {**header, **{b.table: b.columns for b in blocks}}


MAIN = Layout(
    name="main",
    root=ROOT,
    description="an SSDA903 XML return",
    header_fields=HEADER_FIELDS,
    header_table="Header",
    flat_blocks=FLAT_BLOCKS,
    nested_blocks=NESTED_BLOCKS,
    child_blocks=(EPISODES,),
    always=("Header", "Episodes"),
    schema=SSDA903_SCHEMA,
)
SOCIAL_WORKER = Layout(
    name="social_worker",
    root=SW_ROOT,
    description="an SSDA903 social worker XML file",
    header_fields=SW_HEADER_FIELDS,
    header_table=None,
    flat_blocks=(),
    nested_blocks=(),
    child_blocks=(SW_EPISODES,),
    always=("SWEpisodes",),
    schema=SSDA903_SW_SCHEMA,
)
LAYOUTS: dict[str, Layout] = {layout.root: layout for layout in (MAIN, SOCIAL_WORKER)}

ALL_BLOCKS = (EPISODES, *FLAT_BLOCKS, *NESTED_BLOCKS, SW_EPISODES)
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    name: table_columns(name) for name in ("Header", *(b.table for b in ALL_BLOCKS))
}
ALWAYS_RETURNED = MAIN.always

_NOTICE_NAMES = 20


def _local(tag: object) -> str:
    """The element's name without any namespace; '' for comments and processing instructions."""
    if not isinstance(tag, str):
        return ""
    return tag if tag[0] != "{" else tag.rsplit("}", 1)[-1]


def _text(el: etree._Element) -> str | None:
    value = (el.text or "").strip()
    return value or None


def _child_id(child: etree._Element) -> str | None:
    """The CHILDID (or CSV spelling CHILD) text of a CHILD's first HEADER."""
    for el in child:
        if _local(el.tag) == HEADER:
            for leaf in el:
                if _local(leaf.tag) in ("CHILDID", "CHILD"):
                    return _text(leaf)
            return None
    return None


class _Reader:
    """Collects the records of every table of one layout, and the elements that were ignored.

    With ``records`` False only the schema is checked (the pass made once the year is known, see
    :func:`check_ssda903_xml`).
    """

    def __init__(self, file: str, layout: Layout, xsd: SchemaCheck | None = None, records: bool = True) -> None:
        self.file = file
        self.layout = layout
        self.xsd = xsd if xsd is not None and xsd.available else None
        self.records = records
        self.tables = {
            name: RawTable(name=name, file=file, columns={c: [] for c in cols}) for name, cols in layout.tables.items()
        }
        self.children = 0
        self.ignored: dict[str, tuple[int, int]] = {}  # path -> (first line, count)
        self.findings: list[Finding] = []
        self._header_leaves = {
            **layout.header_fields,
            **{e: c for b in layout.flat_blocks for e, c in b.fields.items()},
        }
        self._nested = {b.element: b for b in layout.nested_blocks}
        self._in_child = {b.element: b for b in layout.child_blocks}

    def ignore(self, path: str, line: int | None) -> None:
        first, count = self.ignored.get(path, (line or 0, 0))
        self.ignored[path] = (first, count + 1)

    def ignore_root_child(self, el: etree._Element) -> None:
        """Note an element directly under the root that is not a <CHILD> (those are read as they end)."""
        tag = _local(el.tag)
        if tag and tag != RECORD:
            self.ignore(f"{self.layout.root}/{tag}", el.sourceline)
            if self.xsd is not None:
                self.xsd.misplaced(tag, self.layout.root, f"<{RECORD}> elements", el.sourceline)

    def _leaves(
        self, parent: etree._Element, path: str, known: dict[str, str], aliases: dict[str, str]
    ) -> tuple[dict[str, str | None], dict[str, etree._Element], list[etree._Element]]:
        """Text of the known leaf elements (first occurrence wins), those elements, and the other child elements."""
        values: dict[str, str | None] = {}
        found: dict[str, etree._Element] = {}
        others: list[etree._Element] = []
        for el in parent:
            name = _local(el.tag)
            if not name:
                continue
            name = aliases.get(name, name)
            if name not in known:
                others.append(el)
                continue
            if name in values:
                self.ignore(f"{path}/{name} (repeated)", el.sourceline)
                continue
            values[name] = _text(el)
            found[name] = el
            if len(el):
                for inner in el:
                    if _local(inner.tag):
                        self.ignore(f"{path}/{name}/{_local(inner.tag)}", inner.sourceline)
        return values, found, others

    def _add(self, block: Block, values: dict[str, str | None], base: dict[str, str | None], line: int) -> None:
        record = {col: base.get(col) for col in ("CHILD", *block.copied)}
        for element, column in block.fields.items():
            record[column] = values.get(element)
        self.tables[block.table].append(record, line)

    def child(self, child: etree._Element) -> None:
        """Read (and check) one complete <CHILD> element."""
        self.children += 1
        if self.xsd is not None:
            self.xsd.check(child, _child_id(child))
        if self.records:
            self._read_child(child)

    def _read_child(self, child: etree._Element) -> None:
        path = f"{self.layout.root}/{RECORD}"
        headers: list[etree._Element] = []
        blocks: list[tuple[Block, etree._Element]] = []
        for el in child:
            name = _local(el.tag)
            if name == HEADER:
                headers.append(el)
            elif name in self._in_child:
                blocks.append((self._in_child[name], el))
            elif name:
                self.ignore(f"{path}/{name}", el.sourceline)
        for extra in headers[1:]:
            self.ignore(f"{path}/{HEADER} (repeated)", extra.sourceline)
        base: dict[str, str | None] = {}
        if headers:
            base = self._read_header(headers[0], f"{path}/{HEADER}")
        elif self.xsd is None:  # with a schema, the schema check reports it
            self.findings.append(
                ingest_finding(
                    "XML-SCHEMA",
                    f"{self.file} line {child.sourceline}: this <{RECORD}> has no <{HEADER}>, so it has "
                    "no child id; every <CHILD> is expected to start with a <HEADER> holding <CHILDID>",
                    file=self.file,
                    line=child.sourceline,
                )
            )
        for block, el in blocks:
            values, _, others = self._leaves(
                el, f"{path}/{block.element}", block.fields, ALIASES.get(block.element or "", {})
            )
            for other in others:
                self.ignore(f"{path}/{block.element}/{_local(other.tag)}", other.sourceline)
            self._add(block, values, base, el.sourceline or 0)

    def _read_header(self, header: etree._Element, path: str) -> dict[str, str | None]:
        layout = self.layout
        values, found, others = self._leaves(header, path, self._header_leaves, ALIASES[HEADER])
        base = {column: values.get(element) for element, column in layout.header_fields.items()}
        if layout.header_table:
            self.tables[layout.header_table].append(base, header.sourceline or 0)
        for block in layout.flat_blocks:
            # A UASC flag of 0 says the child is not UASC: it makes no UASC record (a DUC still does).
            present = [
                e
                for e in (*block.triggers, *block.fields)
                if values.get(e) is not None and not (e in block.triggers and values.get(e) == "0")
            ]
            if present:
                self._add(block, values, base, min(found[e].sourceline or 0 for e in present))
        for el in others:
            name = _local(el.tag)
            block = self._nested.get(name)
            if block is None:
                self.ignore(f"{path}/{name}", el.sourceline)
                continue
            inner, _, unknown = self._leaves(el, f"{path}/{name}", block.fields, {})
            for item in unknown:
                self.ignore(f"{path}/{name}/{_local(item.tag)}", item.sourceline)
            self._add(block, inner, base, el.sourceline or 0)
        return base

    def notice(self) -> Finding | None:
        """One notice naming every element that was ignored, or None."""
        if not self.ignored:
            return None
        items = sorted(self.ignored.items(), key=lambda kv: kv[1][0])
        shown = [f"{p} (line {first}{f', {n} times' if n > 1 else ''})" for p, (first, n) in items[:_NOTICE_NAMES]]
        more = f" and {len(items) - _NOTICE_NAMES} more" if len(items) > _NOTICE_NAMES else ""
        blocks = " and ".join(f"<{b.element}>" for b in self.layout.child_blocks)
        return ingest_finding(
            "COLUMN-EXTRA",
            f"{self.file}: element(s) that are not part of the SSDA903 XML layout were ignored: "
            f"{', '.join(shown)}{more}; only <{RECORD}> elements holding <{HEADER}> and {blocks} with DfE's "
            "element names are read",
            file=self.file,
            line=items[0][1][0] or None,
            values=tuple(p for p, _ in items),
        )

    def result(self) -> dict[str, RawTable]:
        return {name: raw for name, raw in self.tables.items() if len(raw) or name in self.layout.always}


def has_schema(xml_file: str, year: str) -> bool:
    """Whether the project has an XSD for this kind of 903 XML file ("main" or "social_worker") in ``year``."""
    layout = next((layout for layout in LAYOUTS.values() if layout.name == xml_file), None)
    return layout is not None and layout.schema.path(year).exists()


def read_ssda903_xml(path: Path, schema_year: str | None = None) -> tuple[dict[str, RawTable], list[Finding]]:
    """Read an SSDA903 XML file (the main return or the social worker file) into raw tables.

    Problems become findings, never exceptions. The layout is chosen by the root element. With ``schema_year``,
    each <CHILD> is also checked against that year's XSD as it is read (XML-SCHEMA findings). The main file
    always returns Header and Episodes, the social worker file SWEpisodes (possibly empty); other tables only
    when they have records. A malformed file keeps the records of every <CHILD> completed before the error.
    """
    reader, findings = _stream(path, schema_year, records=True)
    return reader.result(), findings


def check_ssda903_xml(path: Path, schema_year: str) -> list[Finding]:
    """Only the schema findings of an SSDA903 XML file (for a year that was not known when it was read).

    Every XML-SCHEMA finding the file has is here, including those :func:`read_ssda903_xml` makes without a
    year (a CHILD without HEADER); file-level problems (unsafe, malformed, wrong root) are left to the reader.
    """
    _, findings = _stream(path, schema_year, records=False)
    return [f for f in findings if f.code == "XML-SCHEMA"]


def _stream(path: Path, schema_year: str | None, records: bool) -> tuple[_Reader, list[Finding]]:
    name = str(path)
    reader = _Reader(name, MAIN, records=records)
    findings: list[Finding] = []
    refused = _refuse_file(path, name)
    if refused is not None:
        return reader, [refused]
    xsd: SchemaCheck | None = None
    root: etree._Element | None = None

    def start(found: etree._Element) -> Finding | None:
        nonlocal reader, xsd, root
        root = found
        refusal = _check_root(root, name)
        if refusal:
            return refusal
        layout = LAYOUTS[_local(root.tag)]
        if schema_year:
            xsd = SchemaCheck(layout.schema, schema_year, name)
            namespace = etree.QName(root).namespace
            if namespace and xsd.available:
                findings.append(_namespaced(name, namespace, root.sourceline))
                xsd = None
        reader = _Reader(name, layout, xsd, records)
        return None

    # "start" events too, so the document is checked (DOCTYPE, root) before the first record's content is parsed
    events = open_safe_iterparse(path, events=("start", "end"), tag=(RECORD, "{*}" + RECORD))
    try:
        for event, el in events:
            if root is None:
                refusal = start(el.getroottree().getroot())
                if refusal:
                    return reader, [refusal]
            if event == "start":
                continue
            parent = el.getparent()
            if parent is not root:
                continue  # a <CHILD> nested deeper (the CSV spelling of CHILDID) is read with its HEADER
            while el.getprevious() is not None:  # earlier records, already read and cleared
                reader.ignore_root_child(parent[0])
                del parent[0]
            foreign = etree.QName(el).namespace
            if foreign and foreign != etree.QName(root).namespace and reader.xsd is not None:
                reader.xsd.missing(
                    f"this <{RECORD}> is in the namespace '{foreign}', which DfE's schema does not have; it was "
                    "read as a record, but DfE would reject the file",
                    el.sourceline,
                )
            reader.child(el)
            el.clear()
        if root is None and events.root is not None:
            refusal = start(events.root)
            if refusal:
                return reader, [refusal]
        for el in root if root is not None else ():
            reader.ignore_root_child(el)
        if root is not None and reader.children == 0 and reader.xsd is not None:
            reader.xsd.missing(
                f"<{reader.layout.root}> holds no <{RECORD}>; the schema expects at least one", root.sourceline
            )
    except etree.XMLSyntaxError as exc:
        findings.append(_malformed(name, exc, reader))
    except OSError as exc:
        findings.append(ingest_finding("FILE-UNREADABLE", f"{name}: {exc.strerror or exc}", file=name))
    if reader.xsd is not None:
        findings.extend(reader.xsd.finish())
    findings.extend(reader.findings)
    notice = reader.notice()
    if notice and records:
        findings.append(notice)
    return reader, findings


def _refuse_file(path: Path, name: str) -> Finding | None:
    """A finding refusing the file before parsing: empty, unreadable, or declaring a DOCTYPE or entities."""
    try:
        if path.stat().st_size == 0:
            return ingest_finding("FILE-EMPTY", f"{name}: the file is empty", file=name)
        reason = unsafe_xml_reason(path)
    except OSError as exc:
        return ingest_finding("FILE-UNREADABLE", f"{name}: {exc.strerror or exc}", file=name)
    if reason:
        return ingest_finding(
            "XML-UNSAFE",
            f"{name}: {reason}; an SSDA903 XML return must not contain a DOCTYPE or ENTITY "
            "declaration, so the file was not read",
            file=name,
        )
    return None


def _namespaced(name: str, namespace: str, line: int | None) -> Finding:
    return ingest_finding(
        "XML-SCHEMA",
        f"{name} line {line}: the elements are in the namespace '{namespace}', but "
        "SSDA903 XML elements have none; the file was read but not checked against the schema",
        file=name,
        line=line,
    )


def _malformed(name: str, exc: etree.XMLSyntaxError, reader: _Reader) -> Finding:
    """XML-MALFORMED, saying how many records completed before the error were kept."""
    line, msg = syntax_error(exc)
    kept = (
        (
            f"the {reader.children} <{RECORD}> record(s) completed before this point were kept and the rest "
            "of the file was not read"
        )
        if reader.children
        else f"no <{RECORD}> record was complete before it"
    )
    return ingest_finding(
        "XML-MALFORMED",
        f"{name} line {line}: the XML is not well formed ({msg}); a complete, well-formed "
        f"<{reader.layout.root}> document was expected, and {kept}",
        file=name,
        line=line,
    )


def _check_root(root: etree._Element, file: str) -> Finding | None:
    """A finding refusing the document for its DOCTYPE or its root element, or None when it may be read."""
    if declared_doctype(root):
        return ingest_finding(
            "XML-UNSAFE",
            f"{file}: the document declares a DOCTYPE, which is refused for safety; an SSDA903 XML "
            "return must not contain one, so the file was not read",
            file=file,
            line=root.sourceline,
        )
    tag = _local(root.tag)
    if tag not in LAYOUTS:
        return ingest_finding(
            "XML-ROOT",
            f"{file} line {root.sourceline}: the root element is <{tag}>, but an SSDA903 XML return "
            f"has <{ROOT}> as its root (<{SW_ROOT}> for the social worker file); nothing was read from this file",
            file=file,
            line=root.sourceline,
        )
    return None
