"""One report per value of a column (``--split-by``), for handing each caseworker or team their own children.

A finding goes to the report of every value its child has in the column, in any of this year's tables that
carry it (a child with two workers across its episodes is in both workers' reports). Findings without a child
(about the whole return or a file, or a record with no child id) go to every report. Children who have no
value in the column, or are in no table that carries it, get a report of their own (value ``None``).
Each report's records are only its own children's, so a report never shows another report's children.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .dataset import Dataset
from .result import Result


class SplitError(ValueError):
    """The column to split by is not in the return."""


@dataclass(frozen=True)
class Part:
    column: str  # the column as the return spells it
    value: str | None  # None: the children with no value in the column
    children: frozenset[str]
    result: Result


def _text(value: Any) -> str | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%d/%m/%Y")
    text = str(value).strip()
    return text or None


def split_result(result: Result, column: str) -> list[Part]:
    """The result split by ``column`` (matched without regard to case), one Part per value, sorted by value."""
    dataset: Dataset | None = getattr(result, "dataset", None)
    if dataset is None:
        raise SplitError("this result carries no records, so it cannot be split by a column")
    key = dataset.schema.child_key
    wanted = column.strip().lower()
    per_child: dict[str, set[str]] = {}
    everyone: set[str] = set()  # values of tables without a child id (e.g. the CIN Header): every child's
    all_children: set[str] = set()
    spelled: str | None = None
    for name, table in dataset.tables.items():
        if "@" in name:  # previous years' tables do not decide this year's reports
            continue
        df = table.df
        if key in df.columns:
            all_children.update(c for c in (_text(v) for v in df[key].unique()) if c)
        match = next((c for c in df.columns if c.lower() == wanted and not c.startswith("_") and "@" not in c), None)
        if match is None:
            continue
        spelled = spelled or match
        if key in df.columns:
            for child, value in zip(map(_text, df[key].tolist()), map(_text, df[match].tolist()), strict=True):
                if child is None:
                    continue
                per_child.setdefault(child, set())
                if value is not None:
                    per_child[child].add(value)
        else:
            everyone.update(v for v in (_text(x) for x in df[match].unique()) if v)
    if spelled is None:
        tables = ", ".join(sorted(n for n in dataset.tables if "@" not in n))
        raise SplitError(f"no table of this return has a column {column} (tables read: {tables})")
    for child in list(per_child):
        per_child[child] |= everyone
    for child in all_children - set(per_child):
        per_child[child] = set(everyone)
    for finding in [
        *result.findings,
        *result.unconfirmed,
    ]:  # children known only from findings (e.g. a child missing from Header)
        if finding.child is not None and finding.child not in per_child:
            per_child[finding.child] = set(everyone)
    values = sorted({v for vs in per_child.values() for v in vs} | everyone)
    groups: list[tuple[str | None, set[str]]] = [(v, {c for c, vs in per_child.items() if v in vs}) for v in values]
    without = {c for c, vs in per_child.items() if not vs}
    if without:
        groups.append((None, without))
    return [Part(spelled, value, frozenset(children), _part(result, dataset, children)) for value, children in groups]


def _part(result: Result, dataset: Dataset, children: set[str]) -> Result:
    findings = [f for f in result.findings if f.child is None or f.child in children]
    counts = Counter(f.code for f in findings)
    rules = [dataclasses.replace(r, count=counts.get(r.code, 0)) for r in result.rules]
    key = dataset.schema.child_key
    tables = {}
    for name, table in dataset.tables.items():
        df = table.df
        if key in df.columns:
            df = df[[_text(v) in children for v in df[key].tolist()]]
        tables[name] = dataclasses.replace(table, df=df)
    part_dataset = dataclasses.replace(
        dataset,
        tables=tables,
        findings=[f for f in dataset.findings if f.child is None or f.child in children],
    )
    unconfirmed = [f for f in result.unconfirmed if f.child is None or f.child in children]
    return dataclasses.replace(result, findings=findings, rules=rules, dataset=part_dataset, unconfirmed=unconfirmed)
