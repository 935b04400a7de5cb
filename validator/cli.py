"""Command line: a thin layer over the library (validate, rules list/show, convert, samples)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from . import __version__
from .api import validate
from .engine.model import RuleLoadError, load_rules
from .ingest.loader import InputError
from .outputs import write_atomic
from .outputs.console import print_summary
from .outputs.csv_out import render_csv, safe_cell
from .outputs.json_out import render_json
from .schema import RETURN_TYPES
from .years import YearError, check_year

EXIT_USAGE = 2


def _return_type(text: str) -> str:
    aliases = {"903": "ssda903", "ssda903": "ssda903", "cla": "ssda903", "cin": "cin"}
    key = text.strip().lower()
    if key not in aliases:
        raise argparse.ArgumentTypeError(f"'{text}' is not a return: use ssda903 or cin")
    return aliases[key]


def _year(text: str) -> str:
    try:
        return check_year(text)
    except YearError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cscvalidate",
        description="Check SSDA903 and CIN census returns against DfE's validation rules, on your own machine.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="validate a return (a folder or files of CSV, or XML)")
    v.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders of this year's return")
    v.add_argument("--return", dest="return_type", type=_return_type, help="ssda903 or cin (default: detected)")
    v.add_argument("--year", type=_year, help="collection year, e.g. 2024_25 (default: worked out from the data)")
    v.add_argument("--la", help="the submitting LA's code, e.g. E09000027")
    v.add_argument(
        "--previous",
        action="append",
        default=[],
        metavar="PATH",
        help="last year's return (file or folder); repeat for older years, most recent first",
    )
    v.add_argument("--format", choices=["console", "json", "csv"], default="console")
    v.add_argument("--output", "-o", type=Path, help="write the report to this file (default: the screen)")
    v.add_argument(
        "--fail-on",
        choices=["error", "query"],
        default="error",
        help="exit 1 on errors only (default) or on queries too",
    )
    v.add_argument("--rules", help="only these rule codes, comma-separated")

    r = sub.add_parser("rules", help="list or show the rules")
    rsub = r.add_subparsers(dest="rules_command", required=True)
    rl = rsub.add_parser("list", help="list the implemented rules")
    rl.add_argument("--return", dest="return_type", type=_return_type)
    rl.add_argument("--year", type=_year)
    rl.add_argument("--format", choices=["table", "json", "csv"], default="table")
    rs = rsub.add_parser("show", help="show one rule: message, years, condition, examples")
    rs.add_argument("code")
    rs.add_argument("--return", dest="return_type", type=_return_type)

    rd = rsub.add_parser("divergences", help="where rules deliberately differ from the community tool (YAML)")
    rd.add_argument("--return", dest="return_type", type=_return_type, required=True)
    rd.add_argument("--write", action="store_true", help="write rules/<return>/divergences.yaml")

    c = sub.add_parser("convert", help="turn XML returns into one CSV file per table")
    c.add_argument("inputs", nargs="+", metavar="INPUT")
    c.add_argument("--output", "-o", type=Path, required=True, help="folder for the CSV files")

    s = sub.add_parser("samples", help="generate synthetic returns for demos and tests")
    s.add_argument("--return", dest="return_type", type=_return_type, default="ssda903")
    s.add_argument("--year", type=_year, default="2024_25")
    s.add_argument("--children", type=int, default=50)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--errors", type=float, default=0.0, help="share of children given an injected error (0-1)")
    s.add_argument("--output", "-o", type=Path, required=True)
    s.add_argument("--no-previous", action="store_true", help="SSDA903: do not write last year's return")
    return parser


def cmd_validate(args: argparse.Namespace, out: Console, err: Console) -> int:
    rules = [c.strip() for c in args.rules.split(",")] if args.rules else None
    result = validate(
        args.inputs, return_type=args.return_type, year=args.year, la=args.la, previous=args.previous, rules=rules
    )
    if args.format == "console":
        if args.output:
            buffer = io.StringIO()
            print_summary(result, Console(file=buffer, width=140, no_color=True))
            write_atomic(args.output, buffer.getvalue().encode("utf-8"))
        else:
            print_summary(result, out)
    else:
        text = render_json(result) if args.format == "json" else render_csv(result)
        if args.output:
            write_atomic(args.output, text.encode("utf-8"))
            err.print(f"report written to {args.output}")
        else:
            sys.stdout.write(text)
    status = result.exit_status(args.fail_on)
    if status == 2:
        err.print("[bold red]none of the inputs could be read as a table of the return[/]")
    return status


def rule_listing(return_type: str | None, year: str | None) -> list[dict[str, object]]:
    listing = []
    for ret in [return_type] if return_type else list(RETURN_TYPES):
        for rule in load_rules(ret):
            if year and year not in rule.years:
                continue
            listing.append(
                {
                    "code": rule.code,
                    "return": ret,
                    "years": list(rule.years),
                    "severity": rule.severity,
                    "level": rule.level,
                    "table": rule.table,
                    "fields": list(rule.fields),
                    "message": rule.message,
                    "examples_pass": sum(1 for e in rule.examples if e.expect == "pass"),
                    "examples_fail": sum(1 for e in rule.examples if e.expect == "fail"),
                    "source": Path(rule.source).name,
                }
            )
    return listing


def cmd_rules(args: argparse.Namespace, out: Console) -> int:
    if args.rules_command == "list":
        listing = rule_listing(args.return_type, args.year)
        if args.format == "json":
            sys.stdout.write(json.dumps(listing, indent=1, ensure_ascii=False) + "\n")
        elif args.format == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(["return", "code", "years", "severity", "level", "table", "message"])
            for r in listing:
                writer.writerow(
                    [
                        r["return"],
                        r["code"],
                        " ".join(r["years"]),
                        r["severity"],
                        r["level"],  # type: ignore[arg-type]
                        r["table"],
                        safe_cell(r["message"]),
                    ]
                )
            sys.stdout.write(buffer.getvalue())
        else:
            from rich.table import Table

            table = Table(title=f"{len(listing)} rules")
            for col in ("return", "code", "years", "severity", "level", "message"):
                table.add_column(col)
            for r in listing:
                years = r["years"]
                span = f"{years[0]}..{years[-1]}" if len(years) > 1 else years[0]  # type: ignore[index]
                table.add_row(
                    str(r["return"]), str(r["code"]), str(span), str(r["severity"]), str(r["level"]), str(r["message"])
                )
            out.print(table)
        return 0

    if args.rules_command == "divergences":
        from .engine.divergences import divergences_path, render_divergences

        text = render_divergences(args.return_type)
        if args.write:
            write_atomic(divergences_path(args.return_type), text.encode("utf-8"))
        else:
            sys.stdout.write(text)
        return 0
    code = args.code.strip().upper()
    shown = 0
    for ret in [args.return_type] if args.return_type else list(RETURN_TYPES):
        for rule in load_rules(ret):
            if rule.code.upper() == code:
                shown += 1
                years = f"{rule.years[0]}..{rule.years[-1]}" if len(rule.years) > 1 else rule.years[0]
                out.print(f"[bold]{ret} {rule.code}[/bold] {years} ({rule.severity}, {rule.level}) "
                          f"— {Path(rule.source).name} line {rule.line}")  # fmt: skip
                sys.stdout.flush()
                out.file.write(rule.text + "\n\n")
    if not shown:
        out.print(f"no rule {args.code}")
        return EXIT_USAGE
    return 0


def cmd_convert(args: argparse.Namespace, err: Console) -> int:
    from .convert import convert_xml

    written = convert_xml([Path(p) for p in args.inputs], args.output)
    for path in written:
        err.print(f"wrote {path}")
    return 0 if written else EXIT_USAGE


def cmd_samples(args: argparse.Namespace, err: Console) -> int:
    from .samples import generate_samples

    try:
        written = generate_samples(
            args.return_type, args.year, args.children, args.seed, args.errors, args.output, not args.no_previous
        )
    except ValueError as exc:
        err.print(f"[bold red]cannot make samples:[/] {exc}")
        return EXIT_USAGE
    for path in written:
        err.print(f"wrote {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    out = Console()
    err = Console(stderr=True)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "validate":
            return cmd_validate(args, out, err)
        if args.command == "rules":
            return cmd_rules(args, out)
        if args.command == "convert":
            return cmd_convert(args, err)
        if args.command == "samples":
            return cmd_samples(args, err)
    except (InputError, YearError) as exc:
        err.print(f"[bold red]cannot validate:[/] {exc}")
        return EXIT_USAGE
    except RuleLoadError as exc:
        err.print(f"[bold red]a rule file is wrong:[/] {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: a plain message, never a traceback
        err.print(
            f"[bold red]unexpected problem:[/] {type(exc).__name__}: {exc}. Please report it with the command you ran."
        )
        return EXIT_USAGE
    return EXIT_USAGE
