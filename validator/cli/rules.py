"""``rules``: list, show, diff and document the rules (list, show, pages, diff, divergences)."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_USAGE, UsageError
from ..outputs import write_atomic
from ..outputs.terminal import term
from ..schema import RETURN_TYPES
from ..years import SUPPORTED_YEARS
from .options import return_type_arg, year_arg

if TYPE_CHECKING:
    from .screen import Screen


def _page_formats(text: str) -> list[str]:
    chosen = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in ("html", "markdown")]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"'{text}': choose html, markdown or html,markdown")
    return list(dict.fromkeys(chosen))


def add_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("rules", help="list or show the rules")
    rsub = r.add_subparsers(dest="rules_command", required=True)
    rl = rsub.add_parser("list", help="list the implemented rules")
    rl.add_argument("--return", dest="return_type", type=return_type_arg)
    rl.add_argument("--year", type=year_arg)
    rl.add_argument("--format", choices=["table", "json", "csv"], default="table")
    rs = rsub.add_parser("show", help="show one rule: message, years, condition, examples")
    rs.add_argument("code")
    rs.add_argument("--return", dest="return_type", type=return_type_arg)
    rs.add_argument("--yaml", action="store_true", help="only the rule's YAML as written")
    rp = rsub.add_parser("pages", help="write the rule reference pages: one per return and year (HTML, Markdown)")
    rp.add_argument("--output-dir", type=Path, required=True, help="the folder for the pages (and an index)")
    rp.add_argument("--format", type=_page_formats, default="html,markdown", help="html, markdown or html,markdown")
    rp.add_argument("--return", dest="return_type", type=return_type_arg, help="one return (default: every return)")
    rp.add_argument("--year", type=year_arg, action="append", help="only this year; repeat for several")

    rdiff = rsub.add_parser(
        "diff", help="the rules added, removed and changed between two collection years (docs/rules.md)"
    )
    rdiff.add_argument("year_from", type=year_arg, metavar="FROM", help="the earlier year, e.g. 2024_25")
    rdiff.add_argument("year_to", type=year_arg, metavar="TO", help="the later year, e.g. 2025_26")
    rdiff.add_argument("--return", dest="return_type", type=return_type_arg, help="one return (default: every return)")
    rdiff.add_argument("--format", choices=["console", "json", "markdown"], default="console")
    rdiff.add_argument("--output", type=Path, help="write the report to this file instead of the screen")

    rd = rsub.add_parser("divergences", help="where rules deliberately differ from the community tool (YAML)")
    rd.add_argument("--return", dest="return_type", type=return_type_arg, required=True)
    rd.add_argument("--write", action="store_true", help="write rules/<return>/divergences.yaml")


def rule_listing(return_type: str | None, year: str | None) -> list[dict[str, object]]:
    from ..engine.model import load_rules  # the rules when a command needs them, not to start the command line

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


def run(args: argparse.Namespace, out: Screen, err: Screen) -> int:
    commands = {
        "list": lambda: run_list(args, out),
        "show": lambda: run_show(args, out),
        "pages": lambda: run_pages(args, err),
        "diff": lambda: run_diff(args, out),
        "divergences": lambda: run_divergences(args),
    }
    return commands[args.rules_command]()


def run_list(args: argparse.Namespace, out: Screen) -> int:
    from ..outputs.csv_out import csv_text

    listing = rule_listing(args.return_type, args.year)
    if args.format == "json":
        sys.stdout.write(json.dumps(listing, indent=1, ensure_ascii=False) + "\n")
    elif args.format == "csv":
        header = ["return", "code", "years", "severity", "level", "table", "message"]
        rows = [[r[k] if k != "years" else " ".join(r["years"]) for k in header] for r in listing]  # type: ignore[arg-type]
        sys.stdout.write(csv_text([header, *rows]))
    else:
        from rich.table import Table

        table = Table(title=f"{len(listing)} rules")
        for col in ("return", "code", "years", "severity", "level", "message"):
            table.add_column(col)
        for r in listing:
            years = r["years"]
            span = f"{years[0]}..{years[-1]}" if len(years) > 1 else years[0]  # type: ignore[index]
            table.add_row(
                *(term(r[k]) for k in ("return", "code")),
                term(span),
                *(term(r[k]) for k in ("severity", "level", "message")),
            )
        out.print(table)
    return 0


def run_show(args: argparse.Namespace, out: Screen) -> int:
    from ..engine.model import find_rules, rule_heading

    shown = find_rules(args.code, args.return_type)
    for rule in shown:
        out.print(f"[bold]{term(rule.return_type)} {term(rule.code)}[/bold] {term(rule_heading(rule))}")
        sys.stdout.flush()
        if args.yaml:
            out.file.write(rule.text + "\n\n")
        else:
            from ..outputs.rule_doc import rule_markdown

            out.file.write(rule_markdown(rule) + "\n")
    if not shown:
        out.print(f"no rule {term(args.code)}")
        return EXIT_USAGE
    return 0


def run_divergences(args: argparse.Namespace) -> int:
    from ..engine.divergences import divergences_path, render_divergences

    text = render_divergences(args.return_type)
    if args.write:
        write_atomic(divergences_path(args.return_type), text.encode("utf-8"))
    else:
        sys.stdout.write(text)
    return 0


def run_pages(args: argparse.Namespace, err: Screen) -> int:
    from ..outputs.rule_doc import write_pages

    title = "cannot write the pages"
    returns = [args.return_type] if args.return_type else list(RETURN_TYPES)
    for year in args.year or []:
        if not any(year in SUPPORTED_YEARS[r] for r in returns):
            supported = "; ".join(f"{r} {', '.join(SUPPORTED_YEARS[r])}" for r in returns)
            raise UsageError(f"no rules for {year} (years with rules: {supported})", title=title)
    try:
        written = write_pages(args.output_dir, args.format, returns, args.year)
    except OSError as exc:
        raise UsageError(str(exc), title=title) from None
    err.print(f"wrote {len(written)} files to {term(args.output_dir)}")
    return 0


def run_diff(args: argparse.Namespace, out: Screen) -> int:
    from ..engine.diff import diff_years, render_console, render_json, render_markdown

    candidates = [args.return_type] if args.return_type else list(RETURN_TYPES)
    both = (args.year_from, args.year_to)
    returns = [r for r in candidates if all(y in SUPPORTED_YEARS[r] for y in both)]
    if not returns:
        supported = "; ".join(f"{r} {', '.join(SUPPORTED_YEARS[r])}" for r in candidates)
        raise UsageError(
            f"no rules for both {args.year_from} and {args.year_to} (years with rules: {supported})",
            title="cannot compare",
        )
    diffs = [diff_years(r, args.year_from, args.year_to) for r in returns]
    if args.format == "console" and not args.output:
        render_console(diffs, out.rich)
        return 0
    if args.format == "console":
        from rich.console import Console

        buffer = io.StringIO()
        render_console(diffs, Console(file=buffer, width=120, no_color=True, highlight=False, emoji=False))
        text = buffer.getvalue()
    else:
        text = render_json(diffs) if args.format == "json" else render_markdown(diffs)
    if args.output:
        write_atomic(args.output, text.encode("utf-8"))
    else:
        sys.stdout.write(text)
    return 0
