"""Test helpers: run a rule on tables given as rows of text, the way its YAML examples are run."""

from __future__ import annotations

from typing import Any

from validator.engine.examples import example_dataset
from validator.engine.model import Example, Rule
from validator.engine.runner import RuleOutcome, TableStore, run_rule


def run_on(rule: Rule, tables: dict[str, list[dict[str, Any]]], **kw: Any) -> RuleOutcome:
    example = Example(
        name="t",
        expect="fail",
        tables=tables,
        year=kw.get("year"),
        context=kw.get("context", {}),
        absent=tuple(kw.get("absent", ())),
        postcodes=tuple(kw["postcodes"]) if "postcodes" in kw else None,
    )
    return run_rule(rule, TableStore(example_dataset(rule, example)))


def flagged_rows(outcome: RuleOutcome) -> list[int]:
    assert outcome.status == "run", outcome.reason
    return sorted(f.row for f in outcome.findings if f.row is not None)
