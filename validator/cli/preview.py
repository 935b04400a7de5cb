"""``preview``: the tables DfE will hold and the headline figures (the work is validator.preview's)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..outputs.terminal import term
from ..outputs.words import plural
from ..request import RunRequest
from .options import add_return_arguments, run_request

# What a preview imports (imported before run, the collector paused: validator.cli._load_library).
LIBRARY = ("validator.ingest.loader", "validator.preview", "validator.reports")

if TYPE_CHECKING:  # the library is imported when a preview runs, not when the command line starts
    from ..findings import Finding
    from ..preview import Preview
    from ..preview.model import Convention
    from .screen import Screen

TITLE = "cannot preview"  # the title of any problem with the input or the options
FORMATS = ("console", "csv", "xlsx")


def _formats(text: str) -> list[str]:
    names = [p.strip().lower() for p in text.split(",") if p.strip()]
    wrong = [n for n in names if n not in FORMATS]
    if wrong or not names:
        raise argparse.ArgumentTypeError(f"'{text}': use {', '.join(FORMATS)} (several, comma-separated)")
    return list(dict.fromkeys(names))


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "preview",
        help="preview DfE's output: the tables DfE will hold and the headline figures (docs/preview.md)",
    )
    add_return_arguments(
        p,
        la_help=" (for placements in or out of area)",
        previous_help="last year's return, to compare each measure with",
    )
    p.add_argument(
        "--format",
        type=_formats,
        default=None,
        metavar="FORMAT[,FORMAT...]",
        help="console (default; csv with --output-dir, csv or xlsx by the --output file's extension), "
        "csv (measures, and one file per table with --output-dir), xlsx",
    )
    p.add_argument("--output", "-o", type=Path, help="write the one file format (csv: the measures; xlsx) here")
    p.add_argument("--output-dir", type=Path, metavar="DIR", help="write the files (csv, xlsx) into DIR")
    p.add_argument("--raw", action="store_true", help="exact figures: no suppression of small numbers (internal use)")
    p.add_argument(
        "--round-counts",
        action="store_true",
        help="round counts to the nearest 10, as DfE does for national figures",
    )
    p.add_argument("--postcodes", type=Path, metavar="FILE", help="ONS Postcode Directory or NSPL (CSV or zip)")
    p.add_argument(
        "--population",
        type=Path,
        metavar="FILE",
        help="ONS mid-year population estimates (CSV) for rates per 10,000 children (docs/preview.md)",
    )


def _default_format(args: argparse.Namespace) -> list[str]:
    """Without --format: to the screen, or the files asked for (CSV into --output-dir; --output by extension)."""
    if args.output is not None:
        return ["xlsx"] if args.output.suffix.lower() == ".xlsx" else ["csv"]
    return ["csv"] if args.output_dir is not None else ["console"]


def _problem(args: argparse.Namespace, request: RunRequest) -> str | None:
    if args.format is None:
        args.format = _default_format(args)
    files = [f for f in args.format if f != "console"]
    if args.output is not None and args.output_dir is not None:
        return "give either --output FILE (one format) or --output-dir DIR, not both"
    if args.output is not None and len(files) != 1:
        return "--output FILE takes one file format: --format csv or --format xlsx"
    if "xlsx" in files and args.output is None and args.output_dir is None:
        return "the xlsx workbook is a file: give --output FILE or --output-dir DIR"
    if args.raw and args.round_counts:
        return "--raw shows exact figures: it cannot be used with --round-counts"
    if args.output is None and args.output_dir is None:
        return None
    # the population file is checked with the files planned, after the run (its message names the inputs)
    from ..reports import place_problem

    return place_problem(args.output, args.output_dir, replace(request, population=None))


def run(args: argparse.Namespace, out: Screen, err: Screen) -> int:
    from ..ingest.loader import load_return
    from ..preview import build_preview, load_population, previous_dataset
    from ..preview.model import Convention
    from ..preview.render import measures_csv, print_preview
    from ..reference.postcodes import open_postcode_lookup
    from ..reports import check_targets, protected_files, write_files

    request = run_request(args)
    problem = _problem(args, request)
    if problem:
        raise UsageError(problem, title=TITLE)
    dataset = load_return(
        list(request.inputs),
        return_type=request.return_type,
        year=request.year,
        la=request.la,
        previous=[list(year) for year in request.previous],
        no_data=list(request.no_data) if request.no_data is not None else None,
    )
    dataset.postcodes = open_postcode_lookup(request.postcodes)
    population = None
    if request.population is not None:
        population = load_population(Path(request.population), dataset.context.la, dataset.context.year)
    preview = build_preview(dataset, previous_dataset(dataset), population)
    protected = protected_files(request)
    problems = _reading_problems(dataset.findings)
    if problems:
        preview.notes.append(problems)
    if request.previous and preview.previous_year is None:
        preview.notes.append("the previous year's files held no table of this return: no comparison was made")
    conv = Convention(raw=args.raw, round_to=10 if args.round_counts else 1)
    targets = _targets(args, preview, conv)
    check_targets((path for path, _ in targets), protected, kinds="inputs", writer="the preview")
    if "console" in args.format:
        print_preview(preview, conv, out.rich)
    elif "csv" in args.format and args.output is None and args.output_dir is None:
        sys.stdout.write(measures_csv(preview, conv).decode("utf-8"))
    write_files(targets)
    if targets:
        err.print(f"wrote {plural(len(targets), 'file')} to {term(targets[0][0].parent)}")
    elif args.output_dir is not None:
        err.print(f"nothing was written to {term(args.output_dir)}: --format console prints to the screen")
    return 0


def _targets(args: argparse.Namespace, preview: Preview, conv: Convention) -> list[tuple[Path, bytes]]:
    """The files asked for and their bytes: --output, or named after the first input in --output-dir."""
    from ..preview.render import measures_csv, render_workbook, table_csv
    from ..reports import input_stem, preview_file

    targets: list[tuple[Path, bytes]] = []
    stem = input_stem(args.inputs)
    if "csv" in args.format:
        if args.output is not None:
            targets.append((args.output, measures_csv(preview, conv)))
        elif args.output_dir is not None:
            targets.append((args.output_dir / preview_file(stem, "measures"), measures_csv(preview, conv)))
            for name, frame in preview.tables.items():
                targets.append((args.output_dir / preview_file(stem, name), table_csv(frame, preview.return_type)))
    if "xlsx" in args.format:
        path = args.output if args.output is not None else args.output_dir / preview_file(stem, extension="xlsx")
        targets.append((path, render_workbook(preview, conv)))
    return targets


def _reading_problems(findings: list[Finding]) -> str | None:
    errors = sum(1 for f in findings if f.severity == "error")
    if not errors:
        return None
    return (
        f"{errors} problem(s) were found reading the return (run validate to see them): figures built on the "
        "values concerned may be wrong"
    )
