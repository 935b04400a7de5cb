"""``validate``: one return (or, with ``--each``, many) against the rules; the reports to the screen or to files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_USAGE, UsageError
from ..outputs.formats import FORMATS
from ..outputs.terminal import term
from ..request import FAIL_ON, KEY_ENV, ReportPlan
from . import each
from .options import add_return_arguments, formats_arg, progress_bar, report_plan, run_request

# What a run imports (imported before run, the collector paused: validator.cli._load_library).
LIBRARY = ("validator.api", "validator.reports")

if TYPE_CHECKING:
    from ..reports import Report
    from ..result import Result
    from .screen import Screen


def add_parser(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("validate", help="validate a return (a folder or files of CSV, or XML)")
    add_return_arguments(v, previous_help="last year's return (file or folder)")
    v.add_argument(
        "--format",
        type=formats_arg,
        default=["console"],
        metavar="FORMAT[,FORMAT...]",
        help=f"{', '.join(FORMATS)} (default: console); several, comma-separated, with --output-dir",
    )
    v.add_argument("--output", "-o", type=Path, help="write the report to this file (one format)")
    v.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="write one file per format (and per --split-by value) into DIR, named after the first input",
    )
    v.add_argument(
        "--split-by",
        metavar="COLUMN",
        help="one report per value of this column of the return's tables (e.g. a worker column), into --output-dir",
    )
    v.add_argument(
        "--redact",
        action="store_true",
        help="pseudonymise the reports: child ids hashed, dates of birth to the month, postcodes to the sector, "
        "free text removed (docs/output.md)",
    )
    v.add_argument(
        "--redact-key",
        metavar="KEY",
        help=f"the key for hashing child ids (implies --redact; default: ${KEY_ENV}, else a random key per run)",
    )
    v.add_argument(
        "--fail-on",
        choices=list(FAIL_ON),
        default="error",
        help="exit 1 on errors only (default) or on queries too",
    )
    _add_reference_arguments(v)
    each.add_arguments(v)


def _add_reference_arguments(v: argparse.ArgumentParser) -> None:
    v.add_argument("--rules", help="only these rule codes, comma-separated")
    v.add_argument(
        "--postcodes",
        type=Path,
        metavar="FILE",
        help="ONS Postcode Directory or NSPL (CSV or zip) for placement postcode rules",
    )
    v.add_argument(
        "--providers",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="an Ofsted provider list (xlsx or CSV) for the URN rules; repeat for several lists",
    )


def run(args: argparse.Namespace, out: Screen, err: Screen) -> int:
    if each.asked(args):
        return each.run(args, out, err)
    # The library when a command runs, not when the command line starts (--help, a mistyped option).
    from ..api import validate_request
    from ..reports import make_reports, plan_problem, plan_targets, write_reports

    request, plan = run_request(args), report_plan(args)
    problem = plan_problem(plan, request)
    if problem:
        raise UsageError(problem)
    written: list[Path] = []
    with progress_bar(err) as progress:
        result = validate_request(request, progress=progress)
        reports = make_reports(result, plan, err.print)
        if plan.to_files:
            written = write_reports(plan_targets(request, plan, reports, result), plan, progress)
    status = result.exit_status(plan.fail_on)
    _say_why_stopped(result, status, err)
    for path in written:
        err.print(f"report written to {term(path)}")
    if not written:  # one format, to the screen or a pipe
        (report,) = reports
        _to_screen(report, plan, out)
    return status


def _say_why_stopped(result: Result, status: int, err: Screen) -> None:
    if status == EXIT_USAGE and result.stopped:
        err.print("[bold red]the run was stopped before the rules:[/]")
        for finding in result.stopped:
            err.print(f"  {finding.code}: {finding.message}", markup=False, highlight=False)
    elif status == EXIT_USAGE:
        err.print("[bold red]none of the inputs could be read as a table of the return[/]")


def _to_screen(report: Report, plan: ReportPlan, out: Screen) -> None:
    """The one report on standard output: the console summary, or the file's bytes."""
    from ..reports import render_report

    (name,) = plan.formats
    if name == "console":
        from ..outputs.console import print_summary  # rich's tables only for the console report

        print_summary(report.result, out.rich)
        for label, text in report.notes:
            out.print(f"{term(label)}: {term(text)}")
    elif FORMATS[name].binary:
        sys.stdout.flush()
        sys.stdout.buffer.write(render_report(report, name, plan))
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(render_report(report, name, plan).decode("utf-8"))
