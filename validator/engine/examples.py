"""Runs a rule's own examples (the YAML `examples:`) through the same ingest typing and engine as real data."""

from __future__ import annotations

from dataclasses import dataclass

from ..dataset import Context, Dataset, Table
from ..ingest.coerce import DMY, ISO
from ..ingest.raw import RawTable
from ..ingest.typed import build_table, empty_frame
from ..reference.postcodes import PostcodeLookup, StaticPostcodes
from ..schema import load_schema
from ..years import collection_end
from .rule import ALL_YEARS, Example, Rule
from .runner import TableStore, run_rule


@dataclass
class ExampleOutcome:
    passed: bool
    detail: str


def example_dataset(rule: Rule, example: Example) -> Dataset:
    schema = load_schema(rule.return_type)
    year = example.year or rule.years[0]
    tables: dict[str, Table] = {}
    for name, rows in example.tables.items():
        base = name.split("@")[0]
        raw = RawTable(name=base, file=f"example:{name}")
        for i, row in enumerate(rows):
            raw.append({k: None if v is None else str(v) for k, v in row.items()}, line=i + 2)
        table, _ = build_table(
            base, [raw], schema.tables[base], rule.return_type, year, schema.child_key, {raw.file: (DMY, ISO)}
        )
        table.name = name
        table.missing_columns = {}
        tables[name] = table
    for name in rule.tables_used:
        if name.endswith(ALL_YEARS):  # every year's records, built by the engine from the years' own tables
            continue
        if name not in tables and name not in example.absent:
            tables[name] = Table(name=name, df=empty_frame(schema.tables[name.split("@")[0]]))
    for name in example.absent:
        tables.pop(name, None)
    reference = collection_end(year)
    if "reference_date" in example.context:
        import pandas as pd

        from ..ingest.coerce import parse_dates

        parsed = parse_dates(pd.Series([example.context["reference_date"]], dtype="object"), (DMY, ISO))[0]
        reference = parsed.iloc[0].date()
    elif rule.return_type == "cin" and "Header" in tables and len(tables["Header"].df):
        value = tables["Header"].df["ReferenceDate"].iloc[0]
        if value == value and value is not None:
            reference = value.date()
    context = Context.of_year(rule.return_type, year, example.context.get("la"), reference)
    postcodes = PostcodeLookup(StaticPostcodes(list(example.postcodes))) if example.postcodes is not None else None
    return Dataset(schema=schema, context=context, tables=tables, postcodes=postcodes)


def run_example(rule: Rule, example: Example) -> ExampleOutcome:
    outcome = run_rule(rule, TableStore(example_dataset(rule, example)))
    if outcome.status != "run":
        return ExampleOutcome(False, f"rule {outcome.status}: {outcome.reason}")
    rows = sorted({f.row for f in outcome.findings if f.row is not None})
    n = len(outcome.findings)
    if example.expect == "pass" and n:
        return ExampleOutcome(False, f"expected no finding, got {n} (rows {rows})")
    if example.expect == "fail" and not n:
        return ExampleOutcome(False, "expected a finding, got none")
    if example.flagged is not None and rows != sorted(example.flagged):
        return ExampleOutcome(False, f"expected rows {sorted(example.flagged)} flagged, got {rows}")
    unconfirmed = sorted({f.row for f in outcome.findings if f.unconfirmed and f.row is not None})
    if unconfirmed != sorted(example.unconfirmed or ()):
        return ExampleOutcome(
            False, f"expected rows {sorted(example.unconfirmed or ())} unconfirmed, got {unconfirmed}"
        )
    return ExampleOutcome(True, "ok")
