"""The result of a run: one object that every output format renders (console, JSON, CSV)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import __version__
from .dataset import Context, Dataset, InputFile
from .findings import SEVERITY_ORDER, Finding

FINDING_COLUMNS = ["code", "severity", "level", "message", "table", "row", "child", "fields", "values", "file", "line"]


@dataclass(frozen=True)
class RuleStatus:
    code: str
    status: str  # run | not_run | crashed
    reason: str = ""
    count: int = 0
    severity: str = "error"
    message: str = ""


def sort_key(f: Finding) -> tuple[Any, ...]:
    """Deterministic order: return-level first, then by severity, code, table, row."""
    return (
        0 if f.level in ("return", "file") else 1,
        SEVERITY_ORDER.get(f.severity, 9),
        f.code,
        f.table or "",
        -1 if f.row is None else f.row,
        f.file or "",
        f.line or 0,
        f.message,
    )


@dataclass
class Result:
    return_type: str
    context: Context
    inputs: list[InputFile]
    rules: list[RuleStatus]
    findings: list[Finding]
    tool: dict[str, str] = field(default_factory=lambda: {"name": "cscvalidate", "version": __version__})
    # The typed tables the rules ran on, for views that show a child's records (the HTML report's child view).
    # Not part of to_dict(): the JSON report holds findings, never the records themselves.
    dataset: Dataset | None = field(default=None, repr=False, compare=False)
    # Findings that rest on care history older than the returns given (docs/output.md): kept apart from
    # `findings`, so they are not counted as errors or queries and never make the exit status 1.
    unconfirmed: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        moved = [f for f in self.findings if f.unconfirmed]
        if moved:
            self.findings = [f for f in self.findings if not f.unconfirmed]
        self.unconfirmed = sorted([*self.unconfirmed, *moved], key=sort_key)
        self.findings = sorted(self.findings, key=sort_key)

    @property
    def year(self) -> str:
        return self.context.year

    @property
    def rules_run(self) -> list[str]:
        return [r.code for r in self.rules if r.status == "run"]

    @property
    def rules_not_run(self) -> list[RuleStatus]:
        return [r for r in self.rules if r.status == "not_run"]

    @property
    def rules_crashed(self) -> list[RuleStatus]:
        return [r for r in self.rules if r.status == "crashed"]

    def count(self, severity: str) -> int:
        """Confirmed findings of ``severity`` (unconfirmed ones are counted apart: ``len(result.unconfirmed)``)."""
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def input_unusable(self) -> bool:
        """True when nothing could be checked: no table of the return was read."""
        return not any(i.tables for i in self.inputs)

    def exit_status(self, fail_on: str = "error") -> int:
        """0 clean (queries allowed unless fail_on='query'), 1 errors found, 2 unusable input."""
        if self.input_unusable:
            return 2
        if self.count("error"):
            return 1
        if fail_on == "query" and self.count("query"):
            return 1
        return 0

    @property
    def findings_frame(self) -> pd.DataFrame:
        """The findings as a DataFrame (one row per finding), for notebooks and pipelines."""
        return pd.DataFrame([f.to_dict() for f in self.findings], columns=FINDING_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        ctx = self.context
        return {
            "schema_version": 1,
            "tool": dict(self.tool),
            "return": self.return_type,
            "year": ctx.year,
            "la": ctx.la,
            "collection": {
                "start": ctx.collection_start.strftime("%d/%m/%Y"),
                "end": ctx.collection_end.strftime("%d/%m/%Y"),
                "reference_date": ctx.reference_date.strftime("%d/%m/%Y"),
            },
            "inputs": [{"path": i.path, "kind": i.kind, "tables": i.tables, "year": i.year} for i in self.inputs],
            "summary": {
                "errors": self.count("error"),
                "queries": self.count("query"),
                "notices": self.count("notice"),
                "unconfirmed": len(self.unconfirmed),
                "rules_run": len(self.rules_run),
                "rules_not_run": len(self.rules_not_run),
                "rules_crashed": len(self.rules_crashed),
            },
            "rules": {
                "run": sorted(self.rules_run, key=_code_key),
                "not_run": [
                    {"code": r.code, "reason": r.reason}
                    for r in sorted(self.rules_not_run, key=lambda r: _code_key(r.code))
                ],
                "crashed": [
                    {"code": r.code, "error": r.reason}
                    for r in sorted(self.rules_crashed, key=lambda r: _code_key(r.code))
                ],
            },
            "findings": [f.to_dict() for f in self.findings],
            "unconfirmed": [f.to_dict() for f in self.unconfirmed],
        }


def _code_key(code: str) -> tuple[int, str]:
    digits = "".join(ch for ch in code if ch.isdigit())
    return (int(digits) if digits else 10**9, code)
