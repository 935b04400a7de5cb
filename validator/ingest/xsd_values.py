"""The value types of an XSD's leaf elements, read with lxml: what a value that libxml2 rejected needs for its
message, without building the schema with xmlschema (which takes about half a second; xsd_check.py).

Only what is certain is answered: a leaf whose type is a builtin date, date and time or year, or a named simple type
restricting text by one kind of facet (a code list, patterns, or a least length); and a value only when it is
certainly invalid for xmlschema too (so that the message is the one xmlschema's error would give). Anything else
gives None, and the caller asks xmlschema.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
_ELEMENT, _SIMPLE, _COMPLEX = f"{{{XS}}}element", f"{{{XS}}}simpleType", f"{{{XS}}}complexType"
_RESTRICTION, _ANNOTATION = f"{{{XS}}}restriction", f"{{{XS}}}annotation"
# Text types, by how XSD normalises their white space before facets are checked.
_TEXT_BASES = {"string": "preserve", "normalizedString": "replace", "token": "collapse"}
_TEMPORAL = {"date", "dateTime", "gYear"}
_SAFE_PATTERN = re.compile(r"[A-Za-z0-9\[\]{}()|?*+,/:\- ]*")  # XSD patterns that mean the same to Python's re
# Sure forms: a value that matches is checked on the calendar; one outside the wider form is certainly invalid
# (the wider forms accept every lexical form of the type, time zones and long years included).
_PLAIN = {
    "date": re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII),
    "dateTime": re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})", re.ASCII),
    "gYear": re.compile(r"(\d{4})", re.ASCII),
}
_ZONE = r"(Z|[+-]\d{2}:\d{2})?"
_WIDE = {
    "date": re.compile(r"-?\d{4,}-\d{2}-\d{2}" + _ZONE),
    "dateTime": re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?" + _ZONE),
    "gYear": re.compile(r"-?\d{4,}" + _ZONE),
}


def _normalised(text: str, white_space: str) -> str:
    if white_space == "collapse":
        return re.sub(r"[\t\n\r ]+", " ", text).strip("\t\n\r ")
    if white_space == "replace":
        return re.sub(r"[\t\n\r]", " ", text)
    return text


def _temporal_invalid(kind: str, value: str) -> bool | None:
    """True when ``value`` is certainly not a valid ``kind`` (XSD 1.0: no year 0); None when it may be valid."""
    plain = _PLAIN[kind].fullmatch(value)
    if plain is None:
        return True if _WIDE[kind].fullmatch(value) is None else None
    parts = [int(p) for p in plain.groups()]
    if parts[0] == 0:
        return True
    if kind == "gYear":
        return None
    try:
        if kind == "dateTime" and parts[3] == 24:  # 24:00:00, the end of the day, is valid
            return None
        dt.datetime(*parts) if kind == "dateTime" else dt.date(*parts)
    except ValueError:
        return True
    return None


@dataclass(frozen=True)
class LeafType:
    """A leaf element's value type. ``name``: the type as messages name it (the named simple type, or the builtin's
    local name); ``quoted``: the facet values xmlschema's reason for an invalid value quotes."""

    name: str
    builtin: bool = False
    codes: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    min_length: int | None = None
    white_space: str = "collapse"

    @property
    def quoted(self) -> str:
        return " ".join((*self.codes, *self.patterns))

    def rejects(self, text: str) -> bool:
        """Whether the value is certainly invalid (as xmlschema sees it); False when it may be valid."""
        value = _normalised(text, self.white_space)
        if self.builtin:
            return bool(_temporal_invalid(self.name, value))
        if self.codes:
            return value not in self.codes
        if self.patterns:
            return not any(re.fullmatch(p, value) for p in self.patterns)
        return self.min_length is not None and len(value) < self.min_length


class LeafTypes:
    """The leaf types of one XSD file, found by the path of element names below a record element's complex type."""

    def __init__(self, path: Path) -> None:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
        self.usable = root.get("targetNamespace") is None and root.find(f"{{{XS}}}include") is None
        self.simple = {el.get("name"): el for el in root.iterchildren(_SIMPLE)}
        self.complex = {el.get("name"): el for el in root.iterchildren(_COMPLEX)}
        self._found: dict[tuple[str, tuple[str, ...]], LeafType | None] = {}

    def leaf(self, record_type: str, steps: tuple[str, ...]) -> LeafType | None:
        """The type of the element reached by ``steps`` (element names) from a record of ``record_type``."""
        key = (record_type, steps)
        if key not in self._found:
            self._found[key] = self._leaf(record_type, steps) if self.usable and steps else None
        return self._found[key]

    def _leaf(self, record_type: str, steps: tuple[str, ...]) -> LeafType | None:
        holder = self.complex.get(record_type)
        for i, name in enumerate(steps):
            if holder is None:
                return None
            decl = _child_decl(holder, name)
            if decl is None:
                return None
            type_name = decl.get("type")
            last = i == len(steps) - 1
            if type_name is None:
                holder = None if last else decl.find(_COMPLEX)
                continue
            prefix, _, local = type_name.rpartition(":")
            namespace = decl.nsmap.get(prefix or None)
            if last:
                return _builtin(local) if namespace == XS else self._named(local) if namespace is None else None
            holder = self.complex.get(local) if namespace is None else None
        return None

    def _named(self, name: str) -> LeafType | None:
        """A named simple type restricting text with one kind of facet."""
        el = self.simple.get(name)
        restriction = el.find(_RESTRICTION) if el is not None else None
        if restriction is None or len([c for c in el if isinstance(c.tag, str) and c.tag != _ANNOTATION]) != 1:
            return None
        prefix, _, base = (restriction.get("base") or "").rpartition(":")
        if restriction.nsmap.get(prefix or None) != XS or base not in _TEXT_BASES:
            return None
        facets = [c for c in restriction if isinstance(c.tag, str) and c.tag != _ANNOTATION]
        kinds = {etree.QName(c).localname for c in facets}
        values = tuple(c.get("value") or "" for c in facets)
        white_space = _TEXT_BASES[base]
        if kinds == {"enumeration"}:
            return LeafType(name, codes=values, white_space=white_space)
        if kinds == {"pattern"} and all(_SAFE_PATTERN.fullmatch(p) for p in values):
            return LeafType(name, patterns=values, white_space=white_space)
        if kinds == {"minLength"} and len(values) == 1 and values[0].isdigit():
            return LeafType(name, min_length=int(values[0]), white_space=white_space)
        return None


def _builtin(name: str) -> LeafType | None:
    return LeafType(name, builtin=True) if name in _TEMPORAL else None


def _child_decl(holder: etree._Element, name: str) -> etree._Element | None:
    """The declaration of the child element ``name`` in a complex type (not one of a nested element's), when it
    has exactly one (an extension of another type, whose children are elsewhere, gives None)."""
    found = []
    for decl in holder.iter(_ELEMENT):
        if decl.get("name") != name:
            continue
        parent = decl.getparent()
        while parent is not None and parent is not holder and parent.tag != _ELEMENT:
            parent = parent.getparent()
        if parent is holder:
            found.append(decl)
    return found[0] if len(found) == 1 else None


@cache
def leaf_types(path: Path) -> LeafTypes:
    return LeafTypes(path)
