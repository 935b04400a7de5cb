"""Runs compiled rules over a typed Dataset. Tables are never modified: every rule works on its own frames,
so no rule's result depends on which rules ran before it. A rule ends as run, not_run (with the reason) or
crashed (with the error); a crash never stops the other rules.

The work is split by job: the table store (:mod:`.store`), sequences and per-group reductions
(:mod:`.sequences`), evaluating a rule (:mod:`.evaluate`) and building its findings (:mod:`.finding_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..dataset import PREVIOUS, Dataset
from ..findings import FindingTable
from .derived import DerivedDataUnavailable
from .evaluate import RuleRun
from .finding_rows import confirm_history, history_note, make_findings
from .rule import Rule
from .sequences import Sequence, group_reduce
from .store import CHILD_CODE, TableStore
from .vectors import RUN_MEMO

__all__ = [
    "CHILD_CODE",
    "RuleOutcome",
    "Sequence",
    "TableStore",
    "group_reduce",
    "history_note",
    "make_findings",
    "missing_requirement",
    "run_rule",
]

# Why a rule is not run when a table given by an option (tables.yaml `supplied_by`) was not given.
SUPPLIED_BY = {"providers": "needs the Ofsted provider list: give --providers FILE"}


@dataclass
class RuleOutcome:
    rule: Rule
    status: str  # "run" | "not_run" | "crashed"
    findings: FindingTable = field(default_factory=FindingTable)
    reason: str = ""


def missing_requirement(rule: Rule, dataset: Dataset) -> str | None:
    """Why the rule cannot run on this dataset, or None."""
    for table in rule.tables_needed:
        if table not in dataset.tables:
            base, _, prev = table.partition("@")
            if prev:
                which = "previous year's" if table.endswith(PREVIOUS) else "earlier year's"
                return f"needs the {which} {base} table, which was not supplied (give --previous)"
            table_def = dataset.schema.tables.get(base)
            if table_def is not None and table_def.supplied_by in SUPPLIED_BY:
                return SUPPLIED_BY[table_def.supplied_by]
            return f"needs the {base} table, which was not supplied"
    for table, cols in rule.columns_used().items():
        if table not in dataset.tables:
            continue
        t = dataset.tables[table]
        for col in sorted(cols):
            lacking = t.missing_columns.get(col)
            if lacking and len(lacking) == len(t.files):
                return f"needs column {col} of {table.split('@')[0]}, which {', '.join(lacking)} lacks"
    return None


def run_rule(rule: Rule, store: TableStore) -> RuleOutcome:
    reason = missing_requirement(rule, store.dataset)
    if reason:
        return RuleOutcome(rule, "not_run", reason=reason)
    memo = RUN_MEMO.set(store.memo)
    try:
        return _run(rule, store)
    finally:
        RUN_MEMO.reset(memo)


def _run(rule: Rule, store: TableStore) -> RuleOutcome:
    try:
        run = RuleRun(rule, store)
        frame, flagged = run.flagged()
        if rule.level == "return":
            findings = FindingTable.build(
                1 if flagged else 0,
                code=rule.code,
                severity=rule.severity,
                level="return",
                message=rule.message,
                table=rule.table,
                fields=tuple(rule.fields),
            )
            return RuleOutcome(rule, "run", findings)
        assert isinstance(flagged, np.ndarray)
        findings = make_findings(rule, frame, flagged, store.dataset, run)
        if rule.history is not None and findings:
            findings = confirm_history(rule, frame, flagged, findings, store)
        return RuleOutcome(rule, "run", findings)
    except DerivedDataUnavailable as exc:
        return RuleOutcome(rule, "not_run", reason=exc.reason)
    except Exception as exc:  # a rule that raises is reported as crashed; the run carries on
        return RuleOutcome(rule, "crashed", reason=f"{type(exc).__name__}: {exc}")
