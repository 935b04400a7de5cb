"""Schema checks of XML returns while they stream, against the project's XSD for the collection year.

One mechanism serves every XML layout (see :data:`CIN_SCHEMA`, :data:`SSDA903_SCHEMA`, :data:`SSDA903_SW_SCHEMA`):
the file is never held whole; the reader hands each record element (CIN <Header> and <Child>, SSDA903 <CHILD>)
to a :class:`SchemaCheck` as it streams past, and the element is checked against its declaration in the XSD.
libxml2 (through lxml) says quickly whether an element is valid; only an invalid one is checked again with
xmlschema, whose errors say precisely what is wrong. Each violation becomes an XML-SCHEMA finding with the line
number, the child's id and a plain explanation. What lies outside the record elements (the document's own
top-level structure) is reported by the reader through :meth:`SchemaCheck.misplaced` and :meth:`SchemaCheck.missing`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from ..findings import Finding, ingest_finding
from ..resources import schemas_dir
from .xsd_values import LeafType, leaf_types

if TYPE_CHECKING:  # xmlschema is imported only when an element fails libxml2's check (it is slow to import and load)
    import xmlschema

MAX_SCHEMA_FINDINGS = 2000
_LISTED_CODES = 15  # enumerations this short are spelt out in messages


@dataclass(frozen=True)
class SchemaSpec:
    """Where a layout's XSDs are and which elements are checked on their own.

    The XSD for a year is ``schemas/<return_type>/<stem>_<year>.xsd``. ``elements`` lists, for every element the
    reader hands over, its name, the named complex type it has in the XSD and its path from the root.
    """

    return_type: str
    stem: str
    root: str
    elements: tuple[tuple[str, str, str], ...]

    def path(self, year: str) -> Path:
        return schemas_dir(self.return_type) / f"{self.stem}_{year}.xsd"


CIN_SCHEMA = SchemaSpec(
    "cin",
    "cin",
    "Message",
    (("Header", "HeaderBlock", "Message/Header"), ("Child", "ChildBlock", "Message/Children/Child")),
)
SSDA903_SCHEMA = SchemaSpec("ssda903", "ssda903", "EXPSSDA903", (("CHILD", "ChildBlock", "EXPSSDA903/CHILD"),))
SSDA903_SW_SCHEMA = SchemaSpec("ssda903", "sw", "EXPSSDA903SW", (("CHILD", "ChildBlock", "EXPSSDA903SW/CHILD"),))

_TYPE_WORDS = {
    "date": "a valid date (xs:date, written yyyy-mm-dd)",
    "dateTime": "a valid date and time (xs:dateTime)",
    "integer": "a whole number",
    "positiveInteger": "a whole number of 1 or more",
    "nonNegativeInteger": "a whole number of 0 or more",
    "gYear": "a year (yyyy)",
    # The project's SSDA903 value types (schemas/ssda903/*.xsd).
    "Date": "a valid date written dd/mm/yyyy",
    "PartialDate": "a date written dd/mm/yyyy (ZZ for an unknown day or month, ZZZZ for an unknown year)",
    "ChildId": "the child's id, which cannot be empty",
    "UPNValue": "a UPN (a letter, 11 digits and a digit or letter) or UN1 to UN5",
    "Count": "a whole number",
}


@cache
def load_xsd(spec: SchemaSpec, year: str) -> xmlschema.XMLSchema | None:
    import xmlschema

    path = spec.path(year)
    return xmlschema.XMLSchema(str(path)) if path.exists() else None


# The year's schema with the checked elements also declared at the top level, so that libxml2 can check one
# element at a time. The types are the year's own; nothing is restated here.
_WRAPPER = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
  <xs:include schemaLocation="{location}"/>
{elements}
</xs:schema>"""


@cache
def load_fast_xsd(spec: SchemaSpec, year: str) -> etree.XMLSchema | None:
    path = spec.path(year)
    if not path.exists():
        return None
    elements = "\n".join(f'  <xs:element name="{name}" type="{type_}"/>' for name, type_, _ in spec.elements)
    text = _WRAPPER.format(location=path.resolve().as_uri(), elements=elements)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    wrapper = etree.fromstring(text.encode(), parser, base_url=str(path))
    try:
        return etree.XMLSchema(wrapper)
    except etree.XMLSchemaParseError:
        return None  # a schema without the named types: fall back to checking every element with xmlschema


# libxml2's errors about a value of a simple type (not about an element's place or its children).
_VALUE_ERRORS = frozenset(
    getattr(etree.ErrorTypes, f"SCHEMAV_CVC_{name}")
    for name in (
        "DATATYPE_VALID_1_2_1",
        "DATATYPE_VALID_1_2_2",
        "DATATYPE_VALID_1_2_3",
        "ENUMERATION_VALID",
        "PATTERN_VALID",
        "LENGTH_VALID",
        "MINLENGTH_VALID",
        "MAXLENGTH_VALID",
        "MININCLUSIVE_VALID",
        "MAXINCLUSIVE_VALID",
        "MINEXCLUSIVE_VALID",
        "MAXEXCLUSIVE_VALID",
        "TOTALDIGITS_VALID",
        "FRACTIONDIGITS_VALID",
    )
)
_STEP = re.compile(r"([A-Za-z_][\w.-]*)(?:\[([1-9][0-9]*)\])?")


def _leaf_at(elem: etree._Element, tag: str, path: str | None) -> tuple[etree._Element, tuple[str, ...]] | None:
    """The leaf element (no children, no attributes) that libxml2's error path (``/Child/CINdetails[2]/...``,
    from the checked element) names, and the element names leading to it; None when it is anything else."""
    parts = (path or "").split("/")
    if len(parts) < 3 or parts[0] or parts[1] != tag:
        return None
    node, steps = elem, []
    for part in parts[2:]:
        step = _STEP.fullmatch(part)
        if step is None:
            return None
        name, index = step.group(1), step.group(2)
        same = [c for c in node if c.tag == name]
        if (index is None and len(same) != 1) or (index is not None and int(index) > len(same)):
            return None
        node = same[int(index) - 1 if index else 0]
        steps.append(name)
    if len(node) or node.attrib:
        return None
    return node, tuple(steps)


def _local(tag: Any) -> str:
    if isinstance(tag, str):
        return tag.rpartition("}")[2] if tag.startswith("{") else tag
    return str(tag)


def _name(item: Any) -> str:
    """An expected particle's element name (xmlschema gives elements, wildcards or strings)."""
    name = getattr(item, "local_name", None) or getattr(item, "name", None) or str(item)
    return _local(name) if isinstance(name, str) and name.startswith("{") else str(name)


def _children_message(error: xmlschema.XMLSchemaValidationError, tag: str) -> str:
    invalid = getattr(error, "invalid_child", None)
    expected = [_name(e) for e in (getattr(error, "expected", None) or [])]
    wanted = " or ".join(f"<{e}>" for e in expected)
    if invalid is not None:
        bad = _local(invalid.tag)
        if wanted:
            return f"<{bad}> is not expected here inside <{tag}>: {wanted} must come first (missing or out of order)"
        return (
            f"<{bad}> is not allowed at this point inside <{tag}>: it is out of order, repeated where it may occur "
            "only once, or not part of this year's layout"
        )
    if wanted:
        return f"<{tag}> is incomplete: {wanted} is required"
    reason = re.sub(r"\{[^}]*\}", "", (error.reason or "").strip().rstrip("."))
    return f"<{tag}>: {reason}"


def error_line(error: xmlschema.XMLSchemaValidationError, checked: etree._Element) -> int | None:
    """The line of the element at fault: the misplaced child itself where there is one."""
    invalid = getattr(error, "invalid_child", None)
    line = getattr(invalid, "sourceline", None) if invalid is not None else None
    return line or error.sourceline or checked.sourceline


def explain(error: xmlschema.XMLSchemaValidationError) -> str:
    """A plain sentence for one schema violation."""
    elem = error.elem
    tag = _local(elem.tag) if elem is not None else "element"
    validator = error.validator
    reason = (error.reason or "").strip().rstrip(".")
    import xmlschema

    if isinstance(error, xmlschema.XMLSchemaChildrenValidationError):
        return _children_message(error, tag)
    if isinstance(validator, xmlschema.validators.XsdGroup) or "child" in reason.lower() or "tag" in reason.lower():
        reason = re.sub(r"\{[^}]*\}", "", reason)
        return f"<{tag}>: {reason}"
    value = (elem.text or "").strip() if elem is not None else ""
    type_name = getattr(validator, "name", None) or getattr(getattr(validator, "parent", None), "name", None)
    local_type = _local(type_name) if type_name else ""
    if local_type in _TYPE_WORDS:
        return _words_message(tag, value, local_type)
    if "enumeration" in reason or "not in" in reason or "value must be one of" in reason:
        codes = [str(c) for c in (getattr(validator, "enumeration", None) or []) if str(c) != ""]
        return _codes_message(tag, value, local_type, codes)
    if "pattern" in reason:
        return _form_message(tag, value, local_type)
    return f"{tag} '{value}': {reason}" if value else f"<{tag}>: {reason}"


def _words_message(tag: str, value: str, local_type: str) -> str:
    if not value:
        return f"{tag} is empty, but it must be {_TYPE_WORDS[local_type]}"
    return f"{tag} '{value}' is not {_TYPE_WORDS[local_type]}"


def _codes_message(tag: str, value: str, local_type: str, codes: list[str]) -> str:
    label = local_type or "code list"
    if codes and len(codes) <= _LISTED_CODES:
        label = f"{label}: {', '.join(codes)}"
    elif codes:
        label = f"{label}, {len(codes)} codes"
    hint = f"; codes are compared exactly, so write '{value.upper()}'" if value.upper() in codes else ""
    return f"{tag} '{value}' is not one of the allowed codes ({label}){hint}"


def _form_message(tag: str, value: str, local_type: str) -> str:
    return f"{tag} '{value}' does not have the required form ({local_type or 'pattern'})"


def value_message(leaf: etree._Element, kind: LeafType) -> str | None:
    """The message :func:`explain` gives for xmlschema's error on a leaf whose value libxml2 rejected, worked out
    from the leaf's type without xmlschema; None when that is not certain (then xmlschema is asked)."""
    text = leaf.text or ""
    if not kind.rejects(text):
        return None  # may be valid for xmlschema, which would then report nothing here
    value = text.strip()
    if any(word in f"{value} {kind.quoted}".lower() for word in ("child", "tag")):
        return None  # explain words errors whose reason mentions a child or tag differently
    tag = leaf.tag if isinstance(leaf.tag, str) else ""
    if kind.name in _TYPE_WORDS:
        return _words_message(tag, value, kind.name)
    if kind.codes:
        return _codes_message(tag, value, kind.name, [c for c in kind.codes if c != ""])
    if kind.patterns:
        return _form_message(tag, value, kind.name)
    return None


class SchemaCheck:
    """Checks record elements one at a time against the year's XSD of one layout; collects XML-SCHEMA findings.

    When the project has no XSD for the year, nothing is checked (``available`` is False).
    """

    def __init__(self, spec: SchemaSpec, year: str, file: str) -> None:
        self.spec = spec
        self.year = year
        self.file = file
        self._available = spec.path(year).exists()
        self.fast = load_fast_xsd(spec, year)
        self.findings: list[Finding] = []
        self.count = 0
        self._names = {name for name, _, _ in spec.elements}
        self._types = {name: type_ for name, type_, _ in spec.elements}
        self.leaf_types = leaf_types(spec.path(year)) if self._available else None
        self._decls: dict[str, Any] | None = None  # the xmlschema declarations, loaded at the first invalid element

    @property
    def available(self) -> bool:
        return self._available

    @property
    def decls(self) -> dict[str, Any]:
        if self._decls is None:
            schema = load_xsd(self.spec, self.year)
            self._decls = {name: schema.find(path) for name, _, path in self.spec.elements} if schema else {}
        return self._decls

    def _add(self, message: str, line: int | None, child_id: str | None = None) -> None:
        self.count += 1
        if self.count > MAX_SCHEMA_FINDINGS:
            return
        where = f" line {line}" if line else ""
        self.findings.append(
            ingest_finding(
                "XML-SCHEMA", f"{self.file}{where}: {message}", child=child_id, file=self.file, line=line, table=None
            )
        )

    def check(self, elem: etree._Element, child_id: str | Callable[[etree._Element], str | None] | None = None) -> None:
        """Check one record element (one named in the spec); others are passed over. ``child_id`` names the child
        in the findings: the id, or a function that finds it in the element (called only when it is invalid)."""
        if not self._available:
            return
        tag = _local(elem.tag)
        if tag not in self._names:
            return
        if self.fast is not None and self.fast.validate(elem):
            return
        worded = self._worded(elem, tag) if self.fast is not None else None
        decl = self.decls.get(tag) if worded is None else None
        if worded is None and decl is None:
            return
        if callable(child_id):
            child_id = child_id(elem)
        if worded is not None:
            for message, line in worded:
                self._add(message, line, child_id)
            return
        for error in decl.iter_errors(elem):
            self._add(explain(error), error_line(error, elem), child_id)

    def _worded(self, elem: etree._Element, tag: str) -> list[tuple[str, int | None]] | None:
        """The messages for an element libxml2 rejected only for values of leaf elements, worded as xmlschema's
        errors would be (:func:`value_message`), in document order; None when any is not certain."""
        assert self.fast is not None
        worded: list[tuple[str, int | None]] = []
        seen: set[str] = set()
        for entry in self.fast.error_log:
            if entry.type not in _VALUE_ERRORS:
                return None
            if entry.path in seen:  # libxml2 may report a facet and then the type for the same value
                continue
            seen.add(entry.path)
            found = _leaf_at(elem, tag, entry.path)
            kind = self.leaf_types.leaf(self._types[tag], found[1]) if found is not None else None
            message = value_message(found[0], kind) if found is not None and kind is not None else None
            if message is None:
                return None
            worded.append((message, found[0].sourceline or elem.sourceline))
        return worded or None

    def misplaced(self, tag: str, parent: str, allowed: str, line: int | None) -> None:
        """An element where the schema allows none of its kind, e.g. directly under the document root."""
        if self._available:
            self._add(f"<{tag}> is not allowed inside <{parent}>; only {allowed} may appear there", line)

    def missing(self, message: str, line: int | None = None) -> None:
        """Something the schema requires is absent from the whole file (say, every record element)."""
        if self._available:
            self._add(message, line)

    def finish(self) -> list[Finding]:
        if self.count > MAX_SCHEMA_FINDINGS:
            self.findings.append(
                ingest_finding(
                    "XML-SCHEMA",
                    f"{self.file}: {self.count} schema problems in all; only the first "
                    f"{MAX_SCHEMA_FINDINGS} are listed",
                    file=self.file,
                )
            )
        return self.findings


class CinSchemaCheck(SchemaCheck):
    """Checks CIN <Header> and <Child> elements against schemas/cin/cin_<year>.xsd."""

    def __init__(self, year: str, file: str) -> None:
        super().__init__(CIN_SCHEMA, year, file)
