"""Schema messages worded without xmlschema (validator/ingest/xsd_values.py) are the ones xmlschema's errors give.

Each case takes a record of a bundled sample (synthetic data), puts a bad value in one or two of its leaves, and
checks it both ways: as the reader does (libxml2, then the message worked out from the leaf's type where that is
certain) and with every invalid record checked again by xmlschema (as before). The findings must be the same.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from helpers import ROOT
from lxml import etree

from validator.ingest import xsd_check
from validator.ingest.xsd_check import CIN_SCHEMA, SSDA903_SCHEMA, SchemaCheck, SchemaSpec
from validator.ingest.xsd_values import LeafType, LeafTypes, leaf_types

SAMPLES = {
    CIN_SCHEMA: ROOT / "samples" / "cin" / "cin_2024_25.xml",
    SSDA903_SCHEMA: ROOT / "samples" / "ssda903" / "2024_25.xml",
}
# Values that are wrong, or right, for one type or another; a few that xmlschema and libxml2 may judge apart.
VALUES = [
    "",
    "abc",
    "child",
    "TAG",
    "2024-02-30",
    "2024-02-29",
    "2023-02-29",
    "0000-01-01",
    "2024-13-01",
    "2024-1-1",
    "19/12/2024",
    "30/02/2024",
    "29/02/2024",
    "2024-01-01Z",
    "2024-01-01+01:00",
    "12024-01-01",
    "-2024-01-01",
    "2024-01-01T10:00:00",
    "2024-01-01T24:00:00",
    "2024-01-01T25:00:00",
    "2024-01-01T10:00:00.5Z",
    "\u0662\u0660\u0662\u0664-\u0660\u0661-\u0660\u0661",
    "2024",
    "0000",
    " 2024 ",
    "1a",
    "1A",
    " 1A ",
    "1  A",
    "wbri",
    "true",
    "TRUE",
    "un1",
    "UN9",
    "a12345678901b",
    "A1234567890",
    "ZZ/ZZ/ZZZZ",
    "1",
    "-1",
    "1.5",
    "123",
    "1234",
]


def _records(spec: SchemaSpec) -> list[etree._Element]:
    root = etree.parse(str(SAMPLES[spec])).getroot()
    names = {name for name, _, _ in spec.elements}
    return [el for el in root.iter() if el.tag in names][:3]


def _leaves(record: etree._Element) -> list[etree._Element]:
    return [el for el in record.iter() if isinstance(el.tag, str) and len(el) == 0 and el is not record]


def _findings(
    spec: SchemaSpec, record: etree._Element, worded: bool, monkeypatch: pytest.MonkeyPatch, year: str = "2024_25"
) -> list[str]:
    check = SchemaCheck(spec, year, "f.xml")
    with monkeypatch.context() as patched:
        if not worded:
            patched.setattr(SchemaCheck, "_worded", lambda *_: None)
        check.check(record, "C1")
    return [f"{f.line} {f.child} {f.message}" for f in check.finish()]


# The everyday run's share of them.
FEW_VALUES = ["", "abc", "child", "2024-02-30", "0000-01-01", "19/12/2024", "2024-01-01Z", "1a", "un1", "-1"]


def _variants(record: etree._Element, values: list[str]) -> list[etree._Element]:
    """Copies of the record, each with one leaf (or the first and last leaf) given another value."""
    out = []
    count = len(_leaves(record))
    for i in range(count):
        original = _leaves(record)[i].text or ""
        for value in [*values, original.lower(), f" {original} "]:
            changed = copy.deepcopy(record)
            _leaves(changed)[i].text = value
            out.append(changed)
    for value in ("abc", "", "2024-02-30"):
        changed = copy.deepcopy(record)
        _leaves(changed)[0].text = value
        _leaves(changed)[-1].text = value
        out.append(changed)
    return out


def _compare(
    spec: SchemaSpec, records: list[etree._Element], year: str, values: list[str], monkeypatch: pytest.MonkeyPatch
) -> int:
    """Findings both ways for every variant of the records; how many were worded without xmlschema."""
    worded_used = 0
    check = SchemaCheck(spec, year, "f.xml")
    for record in records:
        for changed in _variants(record, values):
            fast = _findings(spec, changed, True, monkeypatch, year)
            assert fast == _findings(spec, changed, False, monkeypatch, year), etree.tostring(changed)
            if check.fast is not None and not check.fast.validate(changed):
                worded_used += check._worded(changed, changed.tag) is not None
    return worded_used


@pytest.mark.parametrize("spec", [CIN_SCHEMA, SSDA903_SCHEMA], ids=["cin", "ssda903"])
def test_worded_messages_are_xmlschemas(spec: SchemaSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    worded = _compare(spec, _records(spec)[-1:], "2024_25", FEW_VALUES, monkeypatch)
    assert worded > 50  # most are worded without xmlschema


@pytest.mark.slow
@pytest.mark.parametrize(
    ("spec", "year"),
    [(CIN_SCHEMA, y) for y in ("2022_23", "2023_24", "2024_25", "2025_26")]
    + [(SSDA903_SCHEMA, y) for y in ("2022_23", "2023_24", "2024_25", "2025_26", "2026_27")],
)
def test_worded_messages_are_xmlschemas_every_year(
    spec: SchemaSpec, year: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _compare(spec, _records(spec), year, [*VALUES, "TRUE", "Un1"], monkeypatch)


def test_a_record_out_of_order_is_left_to_xmlschema(monkeypatch: pytest.MonkeyPatch) -> None:
    record = _records(CIN_SCHEMA)[-1]
    changed = copy.deepcopy(record)
    first = changed[0]
    changed.remove(first)
    changed.append(first)  # ChildIdentifiers last: the order is wrong, not a value
    _leaves(changed)[0].text = "abc"
    check = SchemaCheck(CIN_SCHEMA, "2024_25", "f.xml")
    assert check.fast is not None and not check.fast.validate(changed)
    assert check._worded(changed, changed.tag) is None
    found = _findings(CIN_SCHEMA, changed, True, monkeypatch)
    assert found == _findings(CIN_SCHEMA, changed, False, monkeypatch)
    assert any("not expected here" in f or "is not allowed" in f for f in found)


def test_leaf_types_of_the_cin_schema() -> None:
    types = leaf_types(CIN_SCHEMA.path("2024_25"))
    assert types.leaf("ChildBlock", ("CINdetails", "CINreferralDate")) == LeafType("date", builtin=True)
    source = types.leaf("ChildBlock", ("CINdetails", "ReferralSource"))
    assert source is not None and "1A" in source.codes and source.white_space == "preserve"
    upn = types.leaf("ChildBlock", ("ChildIdentifiers", "UPN"))
    assert upn is not None and upn.name == "UPNValue" and upn.patterns
    # a count restricting a number, an unknown element, a block rather than a leaf: not answered
    assert types.leaf("ChildBlock", ("CINdetails", "ChildProtectionPlans", "NumberOfPreviousCPP")) is None
    assert types.leaf("ChildBlock", ("CINdetails", "Nonsense")) is None
    assert types.leaf("ChildBlock", ("CINdetails",)) is None


@pytest.mark.parametrize(
    ("kind", "value", "rejected"),
    [
        ("date", "2024-02-30", True),
        ("date", "19/12/2024", True),
        ("date", "0000-01-01", True),
        ("date", "2024-02-29", False),
        ("date", "2024-01-01Z", False),  # not sure without xmlschema: left to it
        ("date", "12024-01-01", False),
        ("dateTime", "2024-01-01T24:00:00", False),
        ("dateTime", "2024-01-01T25:00:00", True),
        ("gYear", "2024", False),
        ("gYear", "24", True),
    ],
)
def test_temporal_values_rejected_only_when_certain(kind: str, value: str, rejected: bool) -> None:
    assert LeafType(kind, builtin=True).rejects(value) is rejected


def test_a_schema_with_a_target_namespace_is_not_read(tmp_path: Path) -> None:
    xsd = tmp_path / "ns.xsd"
    xsd.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x">'
        '<xs:complexType name="R"><xs:sequence><xs:element name="A" type="xs:date"/></xs:sequence></xs:complexType>'
        "</xs:schema>"
    )
    assert LeafTypes(xsd).leaf("R", ("A",)) is None


def test_value_message_words_as_explain() -> None:
    leaf = etree.fromstring("<Ethnicity>wbri</Ethnicity>")
    kind = LeafType("EthnicityCode", codes=("WBRI", "WIRI"), white_space="preserve")
    assert xsd_check.value_message(leaf, kind) == (
        "Ethnicity 'wbri' is not one of the allowed codes (EthnicityCode: WBRI, WIRI); codes are compared exactly, "
        "so write 'WBRI'"
    )
    assert xsd_check.value_message(etree.fromstring("<Ethnicity>WBRI</Ethnicity>"), kind) is None
