"""The result of a run: one object that every output format renders, and all they need to render it.

A Result carries the findings as columns (:class:`validator.findings.FindingTable`, sorted), the rules of the run
with what the reports show of each (:class:`RuleStatus`: code, severity, message, fields, status), and the
headline figures the HTML and Excel reports show (:attr:`Result.figures`, worked out once from the return, when
a report first asks, by the function the run gave it). Renderers read these; they never load rules or work out
figures themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ._version import __version__
from .dataset import FILE, PREVIOUS, Context, Dataset, InputFile
from .findings import CONFIRMED, SEVERITY_ORDER, STOPPING_CODES, Finding, FindingTable, jsonable

FINDING_COLUMNS = ["code", "severity", "level", "message", "table", "row", "child", "fields", "values", "file", "line"]


@dataclass(frozen=True)
class RuleStatus:
    code: str
    status: str  # run | not_run | crashed
    reason: str = ""
    count: int = 0
    severity: str = "error"
    message: str = ""
    fields: tuple[str, ...] = ()  # the fields the rule declares (the reports' rule catalogue)


def sort_key(f: Finding) -> tuple[Any, ...]:
    """Deterministic order: return-level first, then by severity, code, table, row (:func:`sorted_table`)."""
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


def text_rank(values: list[Any]) -> np.ndarray:
    """Each text's rank in Python's order of the distinct texts (None as ""), for sorting by several columns."""
    texts = ["" if v is None else v for v in values]
    distinct = sorted(set(texts))
    rank = {t: i for i, t in enumerate(distinct)}
    return np.fromiter((rank[t] for t in texts), dtype=np.int64, count=len(texts))


def number_key(values: list[Any], blank: int) -> np.ndarray:
    return np.fromiter((blank if v is None else v for v in values), dtype=np.int64, count=len(values))


def sorted_table(table: FindingTable) -> FindingTable:
    """The findings in :func:`sort_key`'s order (stable: equal keys keep their order), sorted as columns."""
    if len(table) < 2:
        return table
    levels = table.column("level")
    keys = [  # np.lexsort: the last key is the first sorted on
        text_rank(table.column("message")),
        number_key([v or 0 for v in table.column("line")], 0),
        text_rank(table.column("file")),
        number_key(table.column("row"), -1),
        text_rank(table.column("table")),
        text_rank(table.column("code")),
        np.fromiter((SEVERITY_ORDER.get(v, 9) for v in table.column("severity")), dtype=np.int64, count=len(table)),
        np.fromiter((0 if v in ("return", "file") else 1 for v in levels), dtype=np.int64, count=len(table)),
    ]
    order = np.lexsort(keys)
    if np.array_equal(order, np.arange(len(order))):
        return table
    return table.take(order)


# Why rules were not run, in a summary's words: (words the reason has, command-line words, web-app words).
NOT_RUN_KINDS: tuple[tuple[str, str, str], ...] = (
    ("stopped before the rules", "stopped by a check before the rules", "stopped by a check before the rules"),
    ("previous year's", "need last year's return", "need last year's return: add last year's files"),
    ("earlier year's", "need an earlier year's return", "need an earlier year's return: add its files"),
    ("Ofsted provider", "the Ofsted provider lists", "need the Ofsted provider lists: choose them"),
    ("LA's", "need the LA's ONS code (--la)", "need your LA: choose it from the list"),
    ("postcode", "need postcode data", "need postcode data"),
    ("table", "need a table that was not supplied", "need a table that was not among the files"),
    ("column", "need a column the files lack", "need a column the files lack"),
)


def completeness(result: Result, words: str = "cli") -> str:
    """``checked 264 of 304 rules; 40 not run (33 need last year's return, 7 the Ofsted provider lists)``; with
    crashed rules too. ``words``: "cli" or "web" (the reasons in the web page's own words)."""
    total = len(result.rules)
    run = len(result.rules_run)
    line = f"checked {run:,} of {total:,} rules"
    not_run = result.rules_not_run
    if not_run:
        counts: dict[str, int] = {}
        for status in not_run:
            label = next(
                (cli if words == "cli" else web for key, cli, web in NOT_RUN_KINDS if key in status.reason),
                "other reasons",
            )
            counts[label] = counts.get(label, 0) + 1
        parts = ", ".join(f"{n:,} {label}" for label, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        line += f"; {len(not_run):,} not run ({parts})"
    if result.rules_crashed:
        line += f"; {len(result.rules_crashed):,} crashed"
    return line


# Works out the headline figures of a return for the reports (the run gives it: validator.api).
FiguresSource = Callable[[Dataset], Any]


@dataclass
class Result:
    return_type: str
    context: Context
    inputs: list[InputFile]
    rules: list[RuleStatus]
    # The confirmed findings, sorted (sort_key). A list of Finding objects is taken too, and made a table.
    findings: FindingTable
    tool: dict[str, str] = field(default_factory=lambda: {"name": "cscvalidate", "version": __version__})
    # The typed tables the rules ran on, for views that show a child's records (the HTML report's child view).
    # Not part of to_dict(): the JSON report holds findings, never the records themselves.
    dataset: Dataset | None = field(default=None, repr=False, compare=False)
    # Pseudonymised (--redact): views then show the records of children with findings only (data minimisation).
    redacted: bool = field(default=False, compare=False)
    # Findings that rest on care history older than the returns given (docs/output.md): kept apart from
    # `findings`, so they are not counted as errors or queries and never make the exit status 1.
    unconfirmed: FindingTable = field(default_factory=FindingTable)
    # What works out the figures of `dataset` for the reports (preview's headline measures); None: no figures.
    figures_source: FiguresSource | None = field(default=None, repr=False, compare=False)
    _figures: list[Any] = field(default_factory=list, init=False, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("findings", "unconfirmed") and not isinstance(value, FindingTable):
            value = FindingTable.of(value)
        super().__setattr__(name, value)

    def __post_init__(self) -> None:
        moved = self.findings.unconfirmed_mask
        if moved.any():
            self.unconfirmed = FindingTable.concat([self.unconfirmed, self.findings.take(moved)])
            self.findings = self.findings.take(~moved)
        self.unconfirmed = sorted_table(self.unconfirmed)
        self.findings = sorted_table(self.findings)

    @property
    def figures(self) -> Any:
        """The headline figures the HTML and Excel reports show (a ``validator.preview.Preview``), worked out
        from :attr:`dataset` once, when first asked; None without a dataset or a figures source."""
        if not self._figures:
            source = self.figures_source
            self._figures.append(source(self.dataset) if source is not None and self.dataset is not None else None)
        return self._figures[0]

    def sources(self, table: FindingTable | None = None) -> list[tuple[str | None, str]]:
        """Each finding's source: (the input it is in, or None for a finding about no file; its year, "current"
        or "previous", "previous2", ... from its table). ``table``: these findings (default: the confirmed)."""
        found = self.findings if table is None else table
        inputs = sorted(self.inputs, key=lambda i: len(i.path), reverse=True)
        by_file: dict[Any, str | None] = {}
        out = []
        for file, name in found.rows("file", "table"):
            if file not in by_file:
                by_file[file] = next((i.path for i in inputs if file and _within(file, i.path)), None)
            _, sep, tail = (name or "").partition(PREVIOUS)
            out.append((by_file[file], "current" if not sep else f"previous{tail}"))
        return out

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
        return int((self.findings.frame["severity"] == severity).sum())

    @property
    def stopped(self) -> list[Finding]:
        """The findings that stopped the run before the rules (YEAR-MISMATCH, YEARS-SWAPPED, YEARS-MIXED)."""
        return self.findings.take(self.findings.where("code", STOPPING_CODES.__contains__)).findings()

    @property
    def input_unusable(self) -> bool:
        """True when nothing could be checked: no table of the return was read."""
        return not any(i.tables for i in self.inputs)

    def exit_status(self, fail_on: str = "error") -> int:
        """0 clean (queries allowed unless fail_on='query'), 1 errors found, 2 unusable input (or a check before
        the rules stopped the run: the data is not the return the options describe)."""
        if self.input_unusable or self.stopped:
            return 2
        if self.count("error"):
            return 1
        if fail_on == "query" and self.count("query"):
            return 1
        return 0

    def rename_files(self, names: dict[str, str]) -> None:
        """Show each input file under another name (the web app's uploads under the names they were uploaded
        with, not the temporary paths they were saved to): in findings, their messages, the inputs, the reasons
        of rules not run and the records' file column."""
        if not names:
            return
        order = sorted(names, key=len, reverse=True)  # a path that is a prefix of another is replaced last

        def text(value: str) -> str:
            for old in order:
                value = value.replace(old, names[old])
            return value

        file = _file_renamer(names)

        def renamed(found: FindingTable) -> FindingTable:
            files = {v: file(v) if v else v for v in set(found.column("file"))}
            messages = {v: text(v) for v in set(found.column("message"))}
            return found.assign(
                file=[files[v] for v in found.column("file")], message=[messages[v] for v in found.column("message")]
            )

        self.findings = renamed(self.findings)
        self.unconfirmed = renamed(self.unconfirmed)
        for item in self.inputs:
            item.path = names.get(item.path, item.path)
        self.rules = [replace(r, reason=text(r.reason)) if r.reason else r for r in self.rules]
        if self.dataset is not None:
            rename_dataset_files(self.dataset, names)

    @property
    def findings_frame(self) -> pd.DataFrame:
        """The findings as a DataFrame (one row per finding), for notebooks and pipelines."""
        return pd.DataFrame(finding_dicts(self.findings), columns=FINDING_COLUMNS)

    def header_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` without the findings (the JSON report streams them after it)."""
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
                "completeness": completeness(self),
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
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON report's document (docs/output.md)."""
        return {
            **self.header_dict(),
            "findings": list(finding_dicts(self.findings)),
            "unconfirmed": list(finding_dicts(self.unconfirmed)),
        }


def finding_dicts(table: FindingTable) -> Iterable[dict[str, Any]]:
    """Each finding as the JSON report gives it (Finding.to_dict), read from the columns."""
    for code, severity, level, message, name, row, child, fields, values, file, line, confidence, note in table.rows(
        *FINDING_COLUMNS, "confidence", "note"
    ):
        data = {
            "code": code,
            "severity": severity,
            "level": level,
            "message": message,
            "table": name,
            "row": row,
            "child": child,
            "fields": list(fields),
            "values": [jsonable(v) for v in values],
            "file": file,
            "line": line,
        }
        if confidence != CONFIRMED:
            data["confidence"] = confidence
            data["note"] = note
        yield data


def _within(file: str, path: str) -> bool:
    """Whether a finding's file (a file, or a workbook's sheet "book.xlsx [Sheet]") is the input ``path`` or in it."""
    base = path.rstrip("/\\")
    return file == path or file.startswith((base + "/", base + "\\", path + " ["))


def _code_key(code: str) -> tuple[int, str]:
    digits = "".join(ch for ch in code if ch.isdigit())
    return (int(digits) if digits else 10**9, code)


def _file_renamer(names: dict[str, str]) -> Callable[[Any], Any]:
    """A file's shown name under ``names``: a file, or a workbook's sheet ("file.xlsx [Episodes]")."""
    order = sorted(names, key=len, reverse=True)  # a path that is a prefix of another is replaced last

    def file(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        for old in order:
            if value == old or value.startswith(old + " ["):
                return names[old] + value[len(old) :]
        return value

    return file


def rename_dataset_files(dataset: Dataset, names: dict[str, str]) -> None:
    """Show each input file of the dataset under another name (:meth:`Result.rename_files`): the records' file
    column, the tables' files, and convert's change log."""
    file = _file_renamer(names)
    for table in dataset.tables.values():
        if FILE in table.df.columns:
            table.df = table.df.assign(**{FILE: table.df[FILE].map(file)})
        table.files = [file(f) for f in table.files]
        table.missing_columns = {c: [file(f) for f in fs] for c, fs in table.missing_columns.items()}
    # convert's change log: what reading workbooks changed, and where each sheet's table came from
    dataset.changes = [replace(c, file=file(c.file)) for c in dataset.changes]
    dataset.places = {file(k): replace(p, file=file(p.file)) for k, p in dataset.places.items()}
