"""Filtering each side of a relation before its records are paired.

A related table's ``where`` is a condition on (record, related record) pairs, and most are a chain of ``and``
whose parts each read one side only: ``LS == 'V3' and f.LS == 'V3' and f.DECOM < add_months(DECOM, 12)``. A part
that reads only the record's columns (``LS == 'V3'``) has the same value on every pair of that record, so it can
be tested once per record, and the records it rejects never paired; likewise a part that reads only the related
record's columns (``f.LS == 'V3'``). Only the rest is tested on the pairs. The pairs that pass are exactly those
that pass the whole ``where``, in the same order: a pair passes an ``and`` when it passes every part, and a part
missing a value does not pass, whichever side it is tested on.

A part moves to one side only when every function it calls gives each record's value from that record's values
alone (the ``row`` functions, not ``duplicated``, which looks at the other records).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .expr import Compiled
from .functions import FUNCTIONS

_NOT_PER_RECORD = frozenset({"duplicated"})


@dataclass(frozen=True)
class SplitWhere:
    record: tuple[ast.expr, ...]  # parts reading only the record's columns (and run constants)
    related: tuple[ast.expr, ...]  # parts reading only the related record's columns (and run constants)
    pairs: tuple[ast.expr, ...]  # the rest, tested on the pairs


def _reads(node: ast.expr, alias: str, constants: frozenset[str]) -> tuple[bool, bool, bool]:
    """(reads the record's columns, reads the related record's columns, can be tested on one side)."""
    callees: set[int] = set()
    owners: set[int] = set()
    record = related = False
    movable = True
    for below in ast.walk(node):
        if isinstance(below, ast.Call) and isinstance(below.func, ast.Name):
            callees.add(id(below.func))
            fn = FUNCTIONS.get(below.func.id)
            if fn is None or fn.kind != "row" or fn.name in _NOT_PER_RECORD:
                movable = False
        elif isinstance(below, ast.Attribute) and isinstance(below.value, ast.Name):
            owners.add(id(below.value))
            if below.value.id == alias:
                related = True
            else:
                record = True
    for below in ast.walk(node):
        named = isinstance(below, ast.Name) and id(below) not in callees and id(below) not in owners
        if named and below.id not in constants:  # type: ignore[attr-defined]
            record = True
    return record, related, movable


def _split(compiled: Compiled, alias: str, constants: frozenset[str]) -> SplitWhere:
    body = compiled.tree.body
    parts = body.values if isinstance(body, ast.BoolOp) and isinstance(body.op, ast.And) else [body]
    record: list[ast.expr] = []
    related: list[ast.expr] = []
    pairs: list[ast.expr] = []
    for part in parts:
        reads_record, reads_related, movable = _reads(part, alias, constants)
        if movable and not reads_related:
            record.append(part)
        elif movable and not reads_record:
            related.append(part)
        else:
            pairs.append(part)
    return SplitWhere(tuple(record), tuple(related), tuple(pairs))


def split_where(compiled: Compiled, alias: str, constants: frozenset[str]) -> SplitWhere:
    """The parts of a relation's ``where`` (alias ``alias``) to test on each side and on the pairs; worked out
    once per expression (kept on its tree, which lives as long as the rules)."""
    known: dict[tuple[str, frozenset[str]], SplitWhere] = compiled.tree.__dict__.setdefault("_pushdown", {})
    key = (alias, constants)
    if key not in known:
        known[key] = _split(compiled, alias, constants)
    return known[key]
