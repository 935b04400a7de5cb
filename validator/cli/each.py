"""``validate --each``: many returns at once (one per LA folder, entry or manifest line), --jobs at a time; the
command line's launcher of validator.batch, the only module of the command line that imports it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..outputs.terminal import term
from ..outputs.words import plural
from .options import jobs_arg, report_plan, run_request

if TYPE_CHECKING:
    from ..batch import BatchOutcome
    from .screen import Screen


def scheduler(text: str) -> tuple[str, str | None]:
    from ..batch import parse_scheduler

    try:
        return parse_scheduler(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(v: argparse.ArgumentParser) -> None:
    v.add_argument(
        "--each",
        action="store_true",
        help="many returns at once: every entry (sub-folder or file) of the INPUT folders is one return; one "
        "report per return and a summary go into --output-dir (docs/performance.md)",
    )
    v.add_argument(
        "--jobs",
        type=jobs_arg,
        default=None,
        metavar="N",
        help="processes to use (0 = one per CPU). With --each: N returns at a time (default 1). For one return: its "
        "rules on N processes (default: 2 for a large return on Linux with 2 or more CPUs, else 1; "
        "docs/performance.md)",
    )
    v.add_argument(
        "--manifest",
        type=Path,
        metavar="FILE",
        help="with --each: a CSV of the returns (columns la, current, previous) for a layout other than one folder "
        "per LA named by its ONS code (default: manifest.csv in the INPUT folder, when there is one)",
    )
    v.add_argument(
        "--scheduler",
        type=scheduler,
        metavar="processes|dask[:ADDRESS]",
        help="with --each: run on local processes (default) or on Dask, a local cluster of --jobs workers or the "
        "scheduler at ADDRESS (needs the 'dask' extra)",
    )


def asked(args: argparse.Namespace) -> bool:
    """Whether the options ask for many returns (--each, or an option that only --each takes)."""
    return bool(args.each or args.manifest or args.scheduler)


def _problem(args: argparse.Namespace) -> str | None:
    options = {
        "--output": args.output,
        "--previous": args.previous,
        "--la": args.la,
        "--split-by": args.split_by,
        "--redact": args.redact or args.redact_key,
    }
    unsupported = [flag for flag, given in options.items() if given]
    if not args.each:
        return "--manifest and --scheduler are for many returns: add --each"
    if unsupported:
        return (
            f"{', '.join(unsupported)} cannot be used with --each (each LA's code and last year's return come from "
            "its folder or the manifest)"
        )
    if args.output_dir is None:
        return "--each writes one report per return: give --output-dir DIR"
    from ..reports import plan_problem

    return plan_problem(report_plan(args), run_request(args))


def run(args: argparse.Namespace, out: Screen, err: Screen) -> int:
    """One return per LA folder (or entry, or manifest line) of the INPUT folders, --jobs at a time."""
    from ..batch import batch_status, jobs_for, validate_many, write_summary  # only for --each, not to start up
    from ..regional import region_returns

    problem = _problem(args)
    if problem:
        raise UsageError(problem)
    kind, address = args.scheduler or ("processes", None)
    workers = args.jobs or 1
    found = jobs_for(
        region_returns(args.inputs, args.manifest, args.output_dir),
        args.output_dir,
        request=run_request(args),
        plan=report_plan(args),
    )
    where = f"on the Dask scheduler at {term(address)}" if address else f"{min(workers, len(found))} at a time"
    err.print(f"{len(found)} returns, {where}" + (" on a local Dask cluster" if kind == "dask" and not address else ""))

    def done(o: BatchOutcome) -> None:
        counts = o.problem or f"{plural(o.errors, 'error')}, {plural(o.queries, 'query')}"
        err.print(f"  {term(o.la or o.name)}: {term(counts)}", highlight=False)

    outcomes = validate_many(found, workers, done, kind, address)
    for path in write_summary(outcomes, args.output_dir):
        err.print(f"summary written to {term(path)}")
    return batch_status(outcomes)
