"""What the commands share: the argument types, the arguments that say which return to read, the run request and
report plan made of the options, and the progress bar."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..ingest.workbooks import NO_DATA_TOKENS
from ..outputs.formats import FORMATS
from ..request import RETURN_ALIASES, ReportPlan, RunRequest
from ..years import YearError, check_year

if TYPE_CHECKING:
    from rich.console import Console

    from ..api import Progress
    from .screen import Screen


def return_type_arg(text: str) -> str:
    key = text.strip().lower()
    if key not in RETURN_ALIASES:
        raise argparse.ArgumentTypeError(f"'{text}' is not a return: use ssda903 or cin")
    return RETURN_ALIASES[key]


def year_arg(text: str) -> str:
    try:
        return check_year(text)
    except YearError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def formats_arg(text: str) -> list[str]:
    names: list[str] = []
    for part in text.split(","):
        name = part.strip().lower()
        if not name:
            continue
        if name not in FORMATS:
            raise argparse.ArgumentTypeError(f"'{part.strip()}' is not a format: use {', '.join(FORMATS)}")
        if name not in names:
            names.append(name)
    if not names:
        raise argparse.ArgumentTypeError(f"give at least one format: {', '.join(FORMATS)}")
    return names


def jobs_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("give 1 or more processes, or 0 for one per CPU")
    return value or (os.cpu_count() or 1)


def no_data_arg(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def add_return_arguments(
    p: argparse.ArgumentParser, *, la_help: str = "", previous_help: str = "last year's return"
) -> None:
    """The arguments that say which return to read: INPUT..., --return, --year, --la, --previous."""
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders of this year's return")
    p.add_argument("--return", dest="return_type", type=return_type_arg, help="ssda903 or cin (default: detected)")
    p.add_argument("--year", type=year_arg, help="collection year, e.g. 2024_25 (default: worked out from the data)")
    p.add_argument("--la", help=f"the submitting LA's code, e.g. E09000027{la_help}")
    p.add_argument(
        "--previous",
        action="append",
        default=[],
        metavar="PATH",
        help=f"{previous_help}; repeat for older years, most recent first",
    )
    p.add_argument(
        "--no-data",
        type=no_data_arg,
        default=None,
        metavar="TOKENS",
        help="comma-separated cell texts that mean 'no data' in Excel workbooks, read as blank "
        f"(default: {', '.join(NO_DATA_TOKENS)}; give '' for none)",
    )


def _path(value: object) -> str | None:
    return str(value) if value is not None else None


def run_request(args: argparse.Namespace) -> RunRequest:
    """The run request of a command's options (the ones it has: validate, preview, convert)."""
    rules = getattr(args, "rules", None)
    found_no_data = getattr(args, "no_data", None)
    return RunRequest(
        inputs=tuple(str(p) for p in args.inputs),
        previous=tuple((str(p),) for p in getattr(args, "previous", [])),
        return_type=getattr(args, "return_type", None),
        year=getattr(args, "year", None),
        la=getattr(args, "la", None),
        rules=tuple(c.strip() for c in rules.split(",")) if rules else None,
        postcodes=_path(getattr(args, "postcodes", None)),
        providers=tuple(str(p) for p in getattr(args, "providers", [])),
        population=_path(getattr(args, "population", None)),
        no_data=tuple(found_no_data) if found_no_data is not None else None,
        # --jobs: for one return, the processes that run its rules (with --each, the returns at a time: batch.py)
        processes=None if getattr(args, "each", False) else getattr(args, "jobs", None),
    )


def report_plan(args: argparse.Namespace) -> ReportPlan:
    """The report plan of validate's options."""
    return ReportPlan(
        formats=tuple(args.format),
        output=args.output,
        output_dir=args.output_dir,
        split_by=args.split_by,
        redact=args.redact,
        redact_key=args.redact_key,
        fail_on=args.fail_on,
    )


@contextmanager
def progress_bar(err: Screen | Console) -> Iterator[Progress | None]:
    """A progress bar on stderr when it is a terminal; nothing at all otherwise (e.g. on a pipe, where rich is not
    even imported)."""
    if not err.is_terminal:
        yield None
        return
    from .screen import Screen

    console = err.rich if isinstance(err, Screen) else err
    from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    bar = RichProgress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        redirect_stdout=False,  # the report itself goes to stdout untouched
        redirect_stderr=False,
    )
    tasks: dict[str, TaskID] = {}
    labels = {"read": "reading the return", "rules": "running the rules", "write": "writing the reports"}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            for other in tasks.values():
                bar.update(other, visible=False)
            tasks[stage] = bar.add_task(labels.get(stage, stage), total=total or None)
        bar.update(tasks[stage], completed=done, total=total or None)

    with bar:
        yield update
