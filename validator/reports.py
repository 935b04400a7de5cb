"""Report files: the one module that plans, names, checks and writes them.

Used by every front door (the command line's validate and preview, batch runs, the web downloads), so none of them
imports another for it. The order of a run: :func:`plan_problem` before the return is read (options that cannot work
together, a place that cannot be written to); then :func:`make_reports` (one report, or one per ``--split-by``
value, redacted when asked), :func:`plan_targets` (their paths, checked against the files of the run) and
:func:`write_reports`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .ingest.loader import InputError, expand_paths
from .outputs import output_problem, remove_stale_temp_files, write_atomic
from .outputs.formats import FORMATS, FormatUnavailable, check_available, render, write_report
from .outputs.terminal import term
from .request import KEY_ENV, ReportPlan, RunRequest
from .result import Result
from .schema import load_schema

if TYPE_CHECKING:  # pseudonymising and splitting: imported when a run asks for them
    from .redact import Redactor

_DATA_SUFFIXES = (".csv", ".xml", ".tsv", ".txt")
REPORT_SUFFIX = "validation"  # a report's file name: <first input>-validation.<extension>
SUMMARY_STEM = "summary"  # validate --each: summary.json, summary.csv, summary-rules.csv, summary.html
# (validator.outputs.is_report_name recognises every name made here, so a report is never read back as an input)

# Called with a line for the person running (rich markup, outside text through term()).
Tell = Callable[[str], None]
Progress = Callable[[str, int, int], None]


# ------------------------------------------------------------------------------------------------------ names


def safe_name(text: str) -> str:
    """Text made safe for a file name on every system: letters, digits, dot, dash and underscore."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[:60]
    return cleaned or "blank"


def input_stem(inputs: Sequence[str]) -> str:
    """The first input's name made safe for a file name: a file without its extension, or the folder's name."""
    first = Path(inputs[0])
    return safe_name(first.stem if first.suffix.lower() in _DATA_SUFFIXES else first.resolve().name)


def report_stem(inputs: Sequence[str]) -> str:
    """The report's file name without extension: the first input's name, then "-validation"."""
    return f"{input_stem(inputs)}-{REPORT_SUFFIX}"


def la_report_stem(la: str | None, inputs: Sequence[str]) -> str:
    """A batch return's report name without extension: its LA's code, else its first input's name."""
    return f"{la}-{REPORT_SUFFIX}" if la else report_stem(inputs)


def report_file(stem: str, format_name: str) -> str:
    """e.g. E09000027-validation.json"""
    return f"{stem}.{FORMATS[format_name].extension}"


def result_file(result: Result, stem: str, extension: str) -> str:
    """A file made of a result, named after its return, year and LA: ssda903_2024_25_E09000027-validation.xlsx"""
    parts = [result.return_type, result.year, *([result.context.la] if result.context.la else [])]
    return f"{safe_name('_'.join(parts))}-{stem}.{extension}"


def preview_file(stem: str, part: str = "", extension: str = "csv") -> str:
    """The preview command's files: <input>-preview.xlsx, <input>-preview-measures.csv, <input>-preview-<table>.csv"""
    return f"{stem}-preview{f'-{part}' if part else ''}.{extension}"


def summary_file(extension: str, part: str = "") -> str:
    """A batch summary's files: summary.json, summary-rules.csv, ..."""
    return f"{SUMMARY_STEM}{f'-{part}' if part else ''}.{extension}"


# ------------------------------------------------------------------------------------- files never written to


def protected_files(request: RunRequest) -> list[Path]:
    """The files a report must never overwrite: the request's inputs, previous years' and reference files."""
    files = expand_paths([*request.inputs, *(p for year in request.previous for p in year)])
    return [*files, *(Path(r) for r in request.reference_files)]


def check_targets(
    targets: Iterable[Path],
    protected: Iterable[Path],
    *,
    kinds: str = "inputs or reference files",
    writer: str = "a report",
) -> None:
    """Raise InputError when a planned report path is one of the protected files or a folder."""
    inputs = {p.resolve() for p in protected}
    for path in targets:
        if path.resolve() in inputs:
            raise InputError(f"{path} is one of the {kinds}; {writer} never overwrites one")
        if path.is_dir():
            raise InputError(f"{path} is a folder; the report cannot be written there")


def place_problem(output: Path | None, output_dir: Path | None, request: RunRequest) -> str | None:
    """Why --output or --output-dir cannot be written to (found before the run), or None; clears the temporary
    files a killed run left there."""
    problem = output_problem(file=output, folder=output_dir, protected=protected_files(request))
    if problem is None:
        remove_stale_temp_files(output.parent if output is not None else output_dir)  # type: ignore[union-attr]
    return problem


def plan_problem(plan: ReportPlan, request: RunRequest) -> str | None:
    """Why the plan's options cannot work together (checked before the return is read), or None."""
    formats = plan.formats
    if plan.output is not None and plan.output_dir is not None:
        return "give either --output FILE (one format) or --output-dir DIR, not both"
    if len(formats) > 1 and plan.output_dir is None:
        return f"several formats ({', '.join(formats)}) need --output-dir DIR: one file is written per format"
    if plan.split_by and plan.output_dir is None:
        return "--split-by writes one report per value: give --output-dir DIR"
    for name in formats:
        try:
            check_available(name)
        except FormatUnavailable as exc:
            return str(exc)
    if not plan.to_files:
        binary = [n for n in formats if FORMATS[n].binary]
        if binary and sys.stdout.isatty():
            return f"the {binary[0]} report is a binary file: give --output FILE or --output-dir DIR"
        return None
    return place_problem(plan.output, plan.output_dir, request)


# ------------------------------------------------------------------------------------------ reports of a run


@dataclass
class Report:
    """One report to render: the result (a split part, redacted when asked) and the notes it shows."""

    result: Result
    notes: list[tuple[str, str]] = field(default_factory=list)
    label: str = ""  # with --split-by: the value, as it goes into the file name


@dataclass(frozen=True)
class Target:
    """Where one report goes, in which format."""

    path: Path
    format: str
    report: Report


def make_reports(result: Result, plan: ReportPlan, tell: Tell) -> list[Report]:
    """The reports to render: one, or one per --split-by value; redacted when asked; with notes for them."""
    redactor, notes = _redactor(result, plan, tell)
    if not plan.split_by:
        reports = [Report(result, [])]
    else:
        reports = _split(result, plan.split_by, redactor, tell)
    if redactor is not None:
        from .redact import redact_result

        for report in reports:
            report.result = redact_result(report.result, redactor.key)
    for report in reports:
        report.notes += notes
    return reports


def _redactor(result: Result, plan: ReportPlan, tell: Tell) -> tuple[Redactor | None, list[tuple[str, str]]]:
    if not plan.redacted:
        return None, []
    from .redact import Redactor, resolve_key

    key, source = resolve_key(plan.redact_key)
    redactor = Redactor(key, load_schema(result.return_type))
    note = f"pseudonymised (--redact): child ids are keyed hashes (HMAC-SHA256) under {source}"
    if not (plan.redact_key or os.environ.get(KEY_ENV)):
        note += ", so they differ between runs"
        tell(
            f"[yellow]no --redact-key and no {KEY_ENV}: a random key was used, so the pseudonymised child ids "
            "differ from run to run[/]"
        )
    return redactor, [("Redacted", note)]


def _split(result: Result, column_asked: str, redactor: Redactor | None, tell: Tell) -> list[Report]:
    from .split import split_result

    parts = split_result(result, column_asked)
    column = parts[0].column if parts else column_asked
    tell(
        f"{len(parts)} reports by {term(column)}; findings about the whole return or a file, and records "
        "without a child id, are in every report"
    )
    reports = []
    for part in parts:
        if part.value is None:
            shown, label = "(no value)", "no-value"
        else:
            # A value that redaction changes (a child id, a date of birth, a postcode) is shown changed.
            if redactor is not None and redactor.kind(column) in ("id", "birth", "postcode", "upn"):
                shown = str(redactor.value(column, part.value))
            else:
                shown = part.value
            label = safe_name(shown)
        split_notes = [
            ("Split by", f"{column} = {shown} ({len(part.children)} children)"),
            ("Split note", "findings without a child (about the whole return or a file) are in every report"),
        ]
        reports.append(Report(part.result, split_notes, label))
    return reports


def plan_targets(request: RunRequest, plan: ReportPlan, reports: Sequence[Report], result: Result) -> list[Target]:
    """Where each report goes: --output, or --output-dir with names made from the first input; checked against the
    files of the run (the inputs read, the request's files)."""
    if plan.output is not None:
        (name,) = plan.formats
        (report,) = reports
        targets = [Target(plan.output, name, report)]
    else:
        assert plan.output_dir is not None
        stem = report_stem(request.inputs)
        targets = []
        seen: set[str] = set()
        for report in reports:
            name_stem = stem
            if plan.split_by:
                unique, n = report.label, 2
                while unique.lower() in seen:  # case-blind, as file systems on Windows and macOS are
                    unique, n = f"{report.label}-{n}", n + 1
                seen.add(unique.lower())
                name_stem = f"{stem}-{safe_name(plan.split_by)}-{unique}"
            for name in plan.formats:
                targets.append(Target(plan.output_dir / report_file(name_stem, name), name, report))
    protected = [*(Path(i.path) for i in result.inputs), *protected_files(request)]
    check_targets((t.path for t in targets), protected)
    return targets


def render_report(report: Report, format_name: str, plan: ReportPlan) -> bytes:
    """The bytes of one report file."""
    return render(report.result, format_name, fail_on=plan.fail_on, notes=report.notes)


def write_reports(targets: Sequence[Target], plan: ReportPlan, progress: Progress | None = None) -> list[Path]:
    """Write each planned report (atomically); the paths written."""
    written = []
    for n, target in enumerate(targets):
        if progress is not None:
            progress("write", n, len(targets))
        report = target.report
        write_report(target.path, report.result, target.format, fail_on=plan.fail_on, notes=report.notes)
        written.append(target.path)
    return written


def write_files(files: Iterable[tuple[Path, bytes]]) -> list[Path]:
    """Write report files made elsewhere (the preview's, a batch summary) atomically, in order; the paths written."""
    written = []
    for path, data in files:
        write_atomic(path, data)
        written.append(path)
    return written


def write_result(result: Result, output_dir: Path, stem: str, plan: ReportPlan) -> list[Path]:
    """One return's reports, one file per format of the plan, into ``output_dir`` as ``stem``.<extension> (a
    batch's unit of work: no split, no redaction)."""
    report = Report(result)
    targets = [Target(output_dir / report_file(stem, name), name, report) for name in plan.formats]
    return write_reports(targets, plan)


def batch_plan(plan: ReportPlan) -> ReportPlan:
    """The plan of each return of a batch: its formats and fail-on, written into the batch's folder."""
    return replace(plan, output=None, split_by=None, redact=False, redact_key=None)
