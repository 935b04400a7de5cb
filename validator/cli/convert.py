"""``convert``: XML returns into one CSV file per table (the work is validator.convert's)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from ..errors import EXIT_USAGE, UsageError
from ..outputs.terminal import term
from ..reports import place_problem
from .options import run_request


def add_parser(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("convert", help="turn XML returns into one CSV file per table")
    c.add_argument("inputs", nargs="+", metavar="INPUT")
    c.add_argument("--output", "-o", type=Path, required=True, help="folder for the CSV files")


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    from ..convert import convert_xml

    problem = place_problem(None, args.output, run_request(args))
    if problem:
        raise UsageError(problem.replace("--output-dir", "--output"), title="cannot convert")
    done = convert_xml([Path(p) for p in args.inputs], args.output)
    for path in done.written:
        err.print(f"wrote {term(path)}")
    for finding in done.problems:  # a refused or broken file: never partial CSVs that look complete
        err.print(f"[bold red]{term(finding.code)}:[/] {term(finding.message)}")
    for path in done.failed:
        err.print(f"[bold red]nothing converted from {term(path)}[/]")
    if done.failed or not done.written:
        return EXIT_USAGE
    if done.problems:
        err.print("[bold red]the CSV files hold only what was read before the problems above[/]")
        return 1
    return 0
