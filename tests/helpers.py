"""Test helpers: the repository's folders, writing input files, and running a rule on tables given as rows of text,
the way its YAML examples are run."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from validator.engine.examples import example_dataset
from validator.engine.model import Example, Rule
from validator.engine.runner import RuleOutcome, TableStore, run_rule

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


def write(folder: Path, name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write one file (text in `encoding`, or bytes as given) into folder, making the folder; return its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def write_csv(path: Path, rows: Iterable[Sequence[object]], lineterminator: str = "\r\n") -> Path:
    """Write rows as a CSV file (the csv module's own line ending unless told), making the folder; return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator=lineterminator).writerows(rows)
    return path


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
