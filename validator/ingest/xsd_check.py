"""CIN census schema checks against the project's XSD for the year (schemas/cin/cin_<year>.xsd).

The file is never held whole: the reader hands each <Header> and <Child> element to :class:`CinSchemaCheck`
as it streams past, and the element is checked against its declaration in the XSD. libxml2 (through lxml)
says quickly whether an element is valid; only an invalid one is checked again with xmlschema, whose errors
say precisely what is wrong. Each violation becomes a finding with the line number and a plain explanation.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import xmlschema
from lxml import etree

from ..findings import Finding, ingest_finding
from ..resources import schemas_dir

MAX_SCHEMA_FINDINGS = 2000

_TYPE_WORDS = {
    "date": "a valid date (xs:date, written yyyy-mm-dd)",
    "dateTime": "a valid date and time (xs:dateTime)",
    "integer": "a whole number",
    "positiveInteger": "a whole number of 1 or more",
    "nonNegativeInteger": "a whole number of 0 or more",
    "gYear": "a year (yyyy)",
}


@cache
def load_xsd(year: str) -> xmlschema.XMLSchema | None:
    path = schemas_dir("cin") / f"cin_{year}.xsd"
    return xmlschema.XMLSchema(str(path)) if path.exists() else None


# The year's schema with <Header> and <Child> also declared at the top level, so that libxml2 can check one
# element at a time. The types are the year's own (HeaderBlock, ChildBlock); nothing is restated here.
_WRAPPER = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
  <xs:include schemaLocation="{location}"/>
  <xs:element name="Header" type="HeaderBlock"/>
  <xs:element name="Child" type="ChildBlock"/>
</xs:schema>"""


@cache
def load_fast_xsd(year: str) -> etree.XMLSchema | None:
    path = schemas_dir("cin") / f"cin_{year}.xsd"
    if not path.exists():
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    wrapper = etree.fromstring(_WRAPPER.format(location=path.resolve().as_uri()).encode(), parser, base_url=str(path))
    try:
        return etree.XMLSchema(wrapper)
    except etree.XMLSchemaParseError:
        return None  # a schema without the named types: fall back to checking every element with xmlschema


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else str(tag)


def explain(error: xmlschema.XMLSchemaValidationError) -> str:
    """A plain sentence for one schema violation."""
    elem = error.elem
    tag = _local(elem.tag) if elem is not None else "element"
    validator = error.validator
    reason = (error.reason or "").strip().rstrip(".")
    if isinstance(validator, xmlschema.validators.XsdGroup) or "child" in reason.lower() or "tag" in reason.lower():
        reason = re.sub(r"\{[^}]*\}", "", reason)
        return f"<{tag}>: {reason}"
    value = (elem.text or "").strip() if elem is not None else ""
    type_name = getattr(validator, "name", None) or getattr(getattr(validator, "parent", None), "name", None)
    local_type = _local(type_name) if type_name else ""
    if local_type in _TYPE_WORDS:
        return f"{tag} '{value}' is not {_TYPE_WORDS[local_type]}"
    if "enumeration" in reason or "not in" in reason or "value must be one of" in reason:
        return f"{tag} '{value}' is not one of the allowed codes ({local_type or 'code list'})"
    if "pattern" in reason:
        return f"{tag} '{value}' does not have the required form ({local_type or 'pattern'})"
    return f"{tag} '{value}': {reason}" if value else f"<{tag}>: {reason}"


class CinSchemaCheck:
    """Checks <Header> and <Child> elements one at a time against the year's XSD."""

    def __init__(self, year: str, file: str) -> None:
        self.schema = load_xsd(year)
        self.fast = load_fast_xsd(year)
        self.year = year
        self.file = file
        self.findings: list[Finding] = []
        self.count = 0
        if self.schema is not None:
            self.decls = {
                "Header": self.schema.find("Message/Header"),
                "Child": self.schema.find("Message/Children/Child"),
            }

    def check(self, elem: etree._Element, child_id: str | None = None) -> None:
        if self.schema is None:
            return
        decl = self.decls.get(_local(elem.tag))
        if decl is None:
            return
        if self.fast is not None and self.fast.validate(elem):
            return
        for error in decl.iter_errors(elem):
            self.count += 1
            if self.count > MAX_SCHEMA_FINDINGS:
                continue
            line = error.sourceline or elem.sourceline
            self.findings.append(
                ingest_finding(
                    "XML-SCHEMA",
                    f"{self.file} line {line}: {explain(error)}",
                    child=child_id,
                    file=self.file,
                    line=line,
                    table=None,
                )
            )

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
