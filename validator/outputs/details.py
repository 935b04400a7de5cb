"""What the richer reports add to a finding: the flagged record, a hint to find it, the rule's catalogue entry.

Records are looked up by their ``_row`` number (the finding's ``row``), never by position: a split report's
tables hold only its own children's records, with their original row numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd

from ..dataset import ROW, Dataset
from ..findings import INGEST_CODES, Finding
from ..resources import rules_dir
from ..result import Result

# The columns that tell a person which of a child's records is meant (the first date is the record's date).
LOCATORS: dict[str, dict[str, tuple[str, ...]]] = {
    "ssda903": {
        "Episodes": ("DECOM", "DEC", "PLACE"),
        "Reviews": ("REVIEW",),
        "Missing": ("MIS_START", "MISSING"),
        "UASC": ("DUC",),
        "AD1": ("DATE_INT",),
        "PlacedAdoption": ("DATE_PLACED",),
        "PrevPerm": ("PREV_PERM",),
        "SWEpisodes": ("SW_DECOM", "SW_ID"),
        "DoLo": ("DOLO_START",),
    },
    "cin": {
        "CINdetails": ("CINreferralDate",),
        "Assessments": ("AssessmentActualStartDate",),
        "AssessmentFactors": ("AssessmentFactor",),
        "CINplanDates": ("CINPlanStartDate",),
        "Section47": ("S47ActualStartDate",),
        "ChildProtectionPlans": ("CPPstartDate",),
        "Reviews": ("CPPreviewDate",),
        "PreProceedings": ("PPStartDate",),
        "Disabilities": ("Disability",),
    },
}
# CIN tables below a referral also name the referral they belong to.
CIN_REFERRAL = ("CINdetails", "CINdetailsID", "CINreferralDate")


@dataclass(frozen=True)
class Locator:
    text: str  # e.g. "DECOM 26/10/2024, DEC 31/05/2025, PLACE K2"
    date: dt.date | None  # the record's own date (e.g. the episode's DECOM), for sorting and filtering


def display(value: Any) -> str:
    """A record or finding value as the reports show it: dates dd/mm/yyyy, blanks empty."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, pd.Timestamp | dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "1" if value else "0"
    if hasattr(value, "item"):
        return str(value.item())
    return str(value)


def finding_place(f: Finding, with_file: bool = True) -> str:
    """Where a finding is and what it says of the record: "child C1; Episodes row 3; e.csv line 5: DEC=..."."""
    where = []
    if f.child is not None:
        where.append(f"child {f.child}")
    if f.table:
        where.append(f.table + (f" row {f.row}" if f.row is not None else ""))
    if with_file and f.file:
        where.append(f.file + (f" line {f.line}" if f.line is not None else ""))
    values = ", ".join(f"{name}={display(v)}" for name, v in zip(f.fields, f.values, strict=False))
    text = "; ".join(where)
    if values:
        text += f": {values}" if text else values
    return text


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, pd.Timestamp):
        return None if value is pd.NaT else value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


class Records:
    """Record look-ups for one Result (built lazily, once per table)."""

    def __init__(self, result: Result) -> None:
        self.result = result
        self.dataset: Dataset | None = getattr(result, "dataset", None)
        self._records: dict[str, dict[int, dict[str, Any]]] = {}
        self._referrals: dict[tuple[str, Any], Any] | None = None

    def record(self, table: str | None, row: int | None) -> dict[str, Any] | None:
        """The record a finding points at (typed values, plus ``_file``/``_line``), or None."""
        if self.dataset is None or table is None or row is None or table not in self.dataset.tables:
            return None
        if table not in self._records:
            df = self.dataset.tables[table].df
            rows = df.to_dict("records") if ROW in df else []
            self._records[table] = {int(r[ROW]): r for r in rows}
        return self._records[table].get(int(row))

    def locator(self, finding: Finding) -> Locator:
        return self.locate(finding.table, finding.row)

    def locate(self, table: str | None, row: int | None) -> Locator:
        """The locator of the record at ``row`` of ``table`` (a finding's), or an empty one."""
        record = self.record(table, row)
        if record is None:
            return Locator("", None)
        columns = LOCATORS.get(self.result.return_type, {}).get((table or "").split("@")[0], ())
        parts: list[str] = []
        date: dt.date | None = None
        for col in columns:
            value = record.get(col)
            shown = display(value)
            if shown:
                parts.append(f"{col} {shown}")
                date = date or _as_date(value)
        if self.result.return_type == "cin" and table not in (None, CIN_REFERRAL[0]):
            referral = self._referral(record.get(self.dataset.schema.child_key), record.get(CIN_REFERRAL[1]))
            if referral is not None:
                parts.append(f"referral {display(referral)}")
                date = date or _as_date(referral)
        return Locator(", ".join(parts), date)

    def _referral(self, child: Any, details_id: Any) -> Any:
        if details_id is None or (isinstance(details_id, float) and details_id != details_id):
            return None
        if self._referrals is None:
            self._referrals = {}
            table = self.dataset.tables.get(CIN_REFERRAL[0]) if self.dataset else None
            if table is not None and CIN_REFERRAL[1] in table.df:
                df = table.df
                key = self.dataset.schema.child_key
                for c, i, d in zip(df[key], df[CIN_REFERRAL[1]], df[CIN_REFERRAL[2]], strict=True):
                    if i is not None and i is not pd.NA:
                        self._referrals[(c, int(i))] = d
        try:
            return self._referrals.get((child, int(details_id)))
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class RuleInfo:
    code: str
    severity: str
    message: str
    fields: tuple[str, ...]
    status: str  # run | not_run | crashed | file (the project's own checks of the files)
    reason: str
    count: int


def rule_catalogue(result: Result) -> list[RuleInfo]:
    """Every rule of the run (as the Result carries it) and every file-check code found, with its count in this
    result."""
    codes = result.findings.column("code")
    counts = Counter(codes)
    fields: dict[str, list[str]] = {code: [] for code in counts}
    for code, found in dict.fromkeys(zip(codes, result.findings.column("fields"), strict=True)):
        seen = fields[code]
        seen.extend(x for x in found if x not in seen)
    known = {r.code for r in result.rules}
    first: dict[str, tuple[str, str]] = {}  # the first finding's severity and message, by code
    for code, severity, message in zip(
        codes, result.findings.column("severity"), result.findings.column("message"), strict=True
    ):
        if code not in first and code not in known:
            first[code] = (severity, message)
    out = [
        RuleInfo(
            r.code,
            r.severity,
            r.message,
            r.fields or tuple(fields.get(r.code, ())),
            r.status,
            r.reason,
            counts.get(r.code, 0),
        )
        for r in result.rules
    ]
    for code in sorted(c for c in counts if c not in known):
        severity, title = INGEST_CODES.get(code, ("error", ""))
        out.append(
            RuleInfo(
                code, first[code][0] or severity, title or first[code][1], tuple(fields[code]), "file", "", counts[code]
            )
        )
    return out


@cache
def ruleset_digest(return_type: str) -> str:
    """The first 12 hex digits of SHA-256 over the return's rule files: which rules exactly were run."""
    digest = hashlib.sha256()
    folder = rules_dir(return_type)
    for path in sorted(folder.rglob("*.yaml")):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def ruleset_label(result: Result) -> str:
    try:
        digest = ruleset_digest(result.return_type)
    except OSError:
        digest = "unknown"
    return f"{result.return_type} rules for {result.year}, rule files {digest}"


def code_key(code: str) -> tuple[int, str]:
    digits = "".join(ch for ch in code if ch.isdigit())
    return (int(digits) if digits else 10**9, code)
