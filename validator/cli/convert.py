"""``convert``: XML returns into one CSV file per table (the work is validator.convert's)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_USAGE, UsageError
from ..outputs.terminal import term
from .options import no_data_arg, return_type_arg, run_request, year_arg

# What a conversion imports (imported before run, the collector paused: validator.cli._load_library).
LIBRARY = ("validator.convert", "validator.reports")

if TYPE_CHECKING:
    from .screen import Screen


def add_parser(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("convert", help="write DfE-ready files (CSV, XML) and a change log from any accepted input")
    c.add_argument("inputs", nargs="+", metavar="INPUT")
    c.add_argument("--output", "-o", type=Path, required=True, help="folder for csv/, xml/ and changes.csv")
    c.add_argument("--return", dest="return_type", type=return_type_arg, help="ssda903 or cin (default: detected)")
    c.add_argument("--year", type=year_arg, help="collection year (default: worked out from the data)")
    c.add_argument("--no-data", type=no_data_arg, default=None, metavar="TOKENS", help="as for validate")


def run(args: argparse.Namespace, out: Screen, err: Screen) -> int:
    from ..convert import convert_return
    from ..reports import place_problem

    problem = place_problem(None, args.output, run_request(args))
    if problem:
        raise UsageError(problem.replace("--output-dir", "--output"), title="cannot convert")
    done = convert_return(
        [Path(p) for p in args.inputs], args.output, return_type=args.return_type, year=args.year, no_data=args.no_data
    )
    for path in done.written:
        err.print(f"wrote {term(path)}")
    for line in done.not_written:  # what the XML cannot hold: the CSV files were still written
        err.print(f"[bold red]{term(line)}[/]")
    for finding in done.problems:  # a refused or broken file: never partial CSVs that look complete
        err.print(f"[bold red]{term(finding.code)}:[/] {term(finding.message)}")
    for path in done.failed:
        err.print(f"[bold red]nothing converted from {term(path)}[/]")
    if done.failed or not done.written:
        return EXIT_USAGE
    if done.problems:
        err.print("[bold red]the CSV files hold only what was read before the problems above[/]")
        return 1
    return 1 if done.not_written else 0
