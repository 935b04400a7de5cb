"""Command line: a thin layer over the library (validate, rules list/show, convert, samples, preview, serve)."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.progress import TaskID

from ._version import __version__
from .api import Progress, validate
from .engine.model import RuleLoadError, find_rules, load_rules, rule_heading
from .ingest.loader import InputError
from .ingest.xlsx_reader import NO_DATA_TOKENS
from .outputs import output_problem, remove_stale_temp_files, write_atomic
from .outputs.console import print_summary
from .outputs.csv_out import csv_text
from .outputs.formats import FORMATS, FormatUnavailable, check_available, render
from .outputs.terminal import term
from .outputs.words import plural
from .redact import KEY_ENV, Redactor, redact_result, resolve_key
from .reports import check_targets, protected_files, report_stem, safe_name
from .result import Result
from .schema import RETURN_TYPES, load_schema
from .split import SplitError, split_result
from .years import SUPPORTED_YEARS, YearError, check_year

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


def _formats(text: str) -> list[str]:
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


def _page_formats(text: str) -> list[str]:
    chosen = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in ("html", "markdown")]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"'{text}': choose html, markdown or html,markdown")
    return list(dict.fromkeys(chosen))


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("give 1 or more processes, or 0 for one per CPU")
    return value or (os.cpu_count() or 1)


def _scheduler(text: str) -> tuple[str, str | None]:
    from .batch import parse_scheduler

    try:
        return parse_scheduler(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _no_data(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def add_return_arguments(
    p: argparse.ArgumentParser, *, la_help: str = "", previous_help: str = "last year's return"
) -> None:
    """The arguments that say which return to read: INPUT..., --return, --year, --la, --previous."""
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders of this year's return")
    p.add_argument("--return", dest="return_type", type=_return_type, help="ssda903 or cin (default: detected)")
    p.add_argument("--year", type=_year, help="collection year, e.g. 2024_25 (default: worked out from the data)")
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
        type=_no_data,
        default=None,
        metavar="TOKENS",
        help="comma-separated cell texts that mean 'no data' in Excel workbooks, read as blank "
        f"(default: {', '.join(NO_DATA_TOKENS)}; give '' for none)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cscvalidate",
        description="Check SSDA903 and CIN census returns against DfE's validation rules, on your own machine.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="validate a return (a folder or files of CSV, or XML)")
    add_return_arguments(v, previous_help="last year's return (file or folder)")
    v.add_argument(
        "--format",
        type=_formats,
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
        choices=["error", "query"],
        default="error",
        help="exit 1 on errors only (default) or on queries too",
    )
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

    v.add_argument(
        "--each",
        action="store_true",
        help="many returns at once: every entry (sub-folder or file) of the INPUT folders is one return; one "
        "report per return and a summary go into --output-dir (docs/performance.md)",
    )
    v.add_argument(
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="with --each: validate N returns at a time in separate processes (default 1; 0 = one per CPU)",
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
        type=_scheduler,
        metavar="processes|dask[:ADDRESS]",
        help="with --each: run on local processes (default) or on Dask, a local cluster of --jobs workers or the "
        "scheduler at ADDRESS (needs the 'dask' extra)",
    )

    r = sub.add_parser("rules", help="list or show the rules")
    rsub = r.add_subparsers(dest="rules_command", required=True)
    rl = rsub.add_parser("list", help="list the implemented rules")
    rl.add_argument("--return", dest="return_type", type=_return_type)
    rl.add_argument("--year", type=_year)
    rl.add_argument("--format", choices=["table", "json", "csv"], default="table")
    rs = rsub.add_parser("show", help="show one rule: message, years, condition, examples")
    rs.add_argument("code")
    rs.add_argument("--return", dest="return_type", type=_return_type)
    rs.add_argument("--yaml", action="store_true", help="only the rule's YAML as written")
    rp = rsub.add_parser("pages", help="write the rule reference pages: one per return and year (HTML, Markdown)")
    rp.add_argument("--output-dir", type=Path, required=True, help="the folder for the pages (and an index)")
    rp.add_argument("--format", type=_page_formats, default="html,markdown", help="html, markdown or html,markdown")
    rp.add_argument("--return", dest="return_type", type=_return_type, help="one return (default: every return)")
    rp.add_argument("--year", type=_year, action="append", help="only this year; repeat for several")

    rdiff = rsub.add_parser(
        "diff", help="the rules added, removed and changed between two collection years (docs/rules.md)"
    )
    rdiff.add_argument("year_from", type=_year, metavar="FROM", help="the earlier year, e.g. 2024_25")
    rdiff.add_argument("year_to", type=_year, metavar="TO", help="the later year, e.g. 2025_26")
    rdiff.add_argument("--return", dest="return_type", type=_return_type, help="one return (default: every return)")
    rdiff.add_argument("--format", choices=["console", "json", "markdown"], default="console")
    rdiff.add_argument("--output", type=Path, help="write the report to this file instead of the screen")

    rd = rsub.add_parser("divergences", help="where rules deliberately differ from the community tool (YAML)")
    rd.add_argument("--return", dest="return_type", type=_return_type, required=True)
    rd.add_argument("--write", action="store_true", help="write rules/<return>/divergences.yaml")

    c = sub.add_parser("convert", help="write DfE-ready files (CSV, XML) and a change log from any accepted input")
    c.add_argument("inputs", nargs="+", metavar="INPUT")
    c.add_argument("--output", "-o", type=Path, required=True, help="folder for csv/, xml/ and changes.csv")
    c.add_argument("--return", dest="return_type", type=_return_type, help="ssda903 or cin (default: detected)")
    c.add_argument("--year", type=_year, help="collection year (default: worked out from the data)")
    c.add_argument("--no-data", type=_no_data, default=None, metavar="TOKENS", help="as for validate")

    from .preview.command import add_parser as add_preview_parser

    add_preview_parser(sub, add_return_arguments)

    s = sub.add_parser("samples", help="generate synthetic returns for demos and tests")
    s.add_argument("--return", dest="return_type", type=_return_type, default="ssda903")
    s.add_argument("--year", type=_year, default="2024_25")
    s.add_argument("--children", type=int, default=50)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--errors", type=float, default=0.0, help="share of children given an injected error (0-1)")
    s.add_argument("--output", "-o", type=Path, required=True)
    s.add_argument("--no-previous", action="store_true", help="SSDA903: do not write last year's return")
    w = sub.add_parser("serve", help="a web app on this computer: choose the files in a browser, read the report")
    w.add_argument("--port", type=int, default=0, help="the port to listen on (default: a free one)")
    w.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1, this computer)")
    w.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than this computer's loopback address (other computers could then reach it)",
    )
    w.add_argument("--no-browser", action="store_true", help="do not open the browser")
    w.add_argument("--max-upload-mb", type=int, default=500, help="the largest upload, in MB (default 500)")
    return parser


def cmd_serve(args: argparse.Namespace, err: Console) -> int:
    from .web.server import RemoteBindError, run

    try:
        return run(
            args.host,
            args.port,
            allow_remote=args.allow_remote,
            open_browser=not args.no_browser,
            max_upload=args.max_upload_mb * 1024 * 1024,
        )
    except RemoteBindError as exc:
        err.print(f"[bold red]cannot serve:[/] {term(exc)}")
    except OSError as exc:
        err.print(f"[bold red]cannot serve on {term(args.host)} port {args.port}:[/] {term(exc.strerror or exc)}")
    return EXIT_USAGE


def cmd_validate(args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.each or args.jobs != 1 or args.manifest or args.scheduler:
        return cmd_validate_each(args, out, err)
    formats: list[str] = args.format
    problem = _output_problem(args, formats)
    if problem:
        err.print(f"[bold red]cannot validate:[/] {term(problem)}")
        return EXIT_USAGE
    rules = [c.strip() for c in args.rules.split(",")] if args.rules else None
    written: list[Path] = []
    with _progress(err) as progress:
        result = validate(
            args.inputs,
            return_type=args.return_type,
            year=args.year,
            la=args.la,
            previous=args.previous,
            rules=rules,
            progress=progress,
            postcodes=args.postcodes,
            providers=args.providers,
            no_data=args.no_data,
        )
        reports = _reports(result, args, err)
        if args.output is not None or args.output_dir is not None:
            targets = _targets(result, args, formats, reports)
            for n, (path, name, report) in enumerate(targets):
                if progress is not None:
                    progress("write", n, len(targets))
                write_atomic(path, render(report.result, name, fail_on=args.fail_on, notes=report.notes))
                written.append(path)
    status = result.exit_status(args.fail_on)
    if status == 2 and result.stopped:
        err.print("[bold red]the run was stopped before the rules:[/]")
        for finding in result.stopped:
            err.print(f"  {finding.code}: {finding.message}", markup=False, highlight=False)
    elif status == 2:
        err.print("[bold red]none of the inputs could be read as a table of the return[/]")
    for path in written:
        err.print(f"report written to {term(path)}")
    if not written:  # one format, to the screen or a pipe
        (name,) = formats
        (report,) = reports
        if name == "console":
            print_summary(report.result, out)
            for label, text in report.notes:
                out.print(f"{term(label)}: {term(text)}")
        elif FORMATS[name].binary:
            sys.stdout.flush()
            sys.stdout.buffer.write(render(report.result, name, fail_on=args.fail_on, notes=report.notes))
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(render(report.result, name, fail_on=args.fail_on, notes=report.notes).decode("utf-8"))
    return status


def cmd_validate_each(args: argparse.Namespace, out: Console, err: Console) -> int:
    """validate --each: one return per LA folder (or entry, or manifest line) of the INPUT folders, --jobs at a time."""
    from .batch import BatchOutcome, batch_status, jobs_for, validate_many, write_summary
    from .regional import region_returns

    options = {
        "--output": args.output,
        "--previous": args.previous,
        "--la": args.la,
        "--split-by": args.split_by,
        "--redact": args.redact or args.redact_key,
    }
    unsupported = [flag for flag, given in options.items() if given]
    problem = None
    if not args.each:
        problem = "--jobs, --manifest and --scheduler are for many returns at once: add --each"
    elif unsupported:
        problem = (
            f"{', '.join(unsupported)} cannot be used with --each (each LA's code and last year's return come from "
            "its folder or the manifest)"
        )
    elif args.output_dir is None:
        problem = "--each writes one report per return: give --output-dir DIR"
    else:
        problem = _output_problem(args, args.format)
    if problem:
        err.print(f"[bold red]cannot validate:[/] {term(problem)}")
        return EXIT_USAGE
    scheduler, address = args.scheduler or ("processes", None)
    jobs = jobs_for(
        region_returns(args.inputs, args.manifest, args.output_dir),
        args.output_dir,
        formats=tuple(args.format),
        return_type=args.return_type,
        year=args.year,
        rules=tuple(c.strip() for c in args.rules.split(",")) if args.rules else None,
        fail_on=args.fail_on,
        postcodes=str(args.postcodes) if args.postcodes else None,
        providers=tuple(str(p) for p in args.providers),
        no_data=tuple(args.no_data) if args.no_data is not None else None,
    )
    where = f"on the Dask scheduler at {term(address)}" if address else f"{min(args.jobs, len(jobs))} at a time"
    err.print(
        f"{len(jobs)} returns, {where}" + (" on a local Dask cluster" if scheduler == "dask" and not address else "")
    )

    def done(o: BatchOutcome) -> None:
        counts = o.problem or f"{plural(o.errors, 'error')}, {plural(o.queries, 'query')}"
        err.print(f"  {term(o.la or o.name)}: {term(counts)}", highlight=False)

    outcomes = validate_many(jobs, args.jobs, done, scheduler, address)
    for path in write_summary(outcomes, args.output_dir):
        err.print(f"summary written to {term(path)}")
    return batch_status(outcomes)


@dataclass
class _Report:
    result: Result
    notes: list[tuple[str, str]]
    label: str = ""  # with --split-by: the value, as it goes into the file name


def _output_problem(args: argparse.Namespace, formats: list[str]) -> str | None:
    """Why the output options cannot work together (checked before the return is read), or None."""
    if args.output is not None and args.output_dir is not None:
        return "give either --output FILE (one format) or --output-dir DIR, not both"
    if len(formats) > 1 and args.output_dir is None:
        return f"several formats ({', '.join(formats)}) need --output-dir DIR: one file is written per format"
    if args.split_by and args.output_dir is None:
        return "--split-by writes one report per value: give --output-dir DIR"
    for name in formats:
        try:
            check_available(name)
        except FormatUnavailable as exc:
            return str(exc)
    if args.output is None and args.output_dir is None:
        binary = [n for n in formats if FORMATS[n].binary]
        if binary and sys.stdout.isatty():
            return f"the {binary[0]} report is a binary file: give --output FILE or --output-dir DIR"
        return None
    problem = output_problem(file=args.output, folder=args.output_dir, protected=protected_files(args))
    if problem is None:
        remove_stale_temp_files(args.output.parent if args.output is not None else args.output_dir)
    return problem


def _reports(result: Result, args: argparse.Namespace, err: Console) -> list[_Report]:
    """The reports to render: one, or one per --split-by value; redacted when asked; with notes for them."""
    redactor: Redactor | None = None
    notes: list[tuple[str, str]] = []
    if args.redact or args.redact_key:
        key, source = resolve_key(args.redact_key)
        redactor = Redactor(key, load_schema(result.return_type))
        note = f"pseudonymised (--redact): child ids are keyed hashes (HMAC-SHA256) under {source}"
        if not (args.redact_key or os.environ.get(KEY_ENV)):
            note += ", so they differ between runs"
            err.print(
                f"[yellow]no --redact-key and no {KEY_ENV}: a random key was used, so the pseudonymised child ids "
                "differ from run to run[/]"
            )
        notes.append(("Redacted", note))
    if not args.split_by:
        reports = [_Report(result, [])]
    else:
        try:
            parts = split_result(result, args.split_by)
        except SplitError as exc:
            raise InputError(str(exc)) from None
        column = parts[0].column if parts else args.split_by
        err.print(
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
            reports.append(_Report(part.result, split_notes, label))
    if redactor is not None:
        for report in reports:
            report.result = redact_result(report.result, redactor.key)
    for report in reports:
        report.notes += notes
    return reports


def _targets(
    result: Result, args: argparse.Namespace, formats: list[str], reports: list[_Report]
) -> list[tuple[Path, str, _Report]]:
    """Where each report goes: --output, or --output-dir with names made from the first input."""
    if args.output is not None:
        (name,) = formats
        (report,) = reports
        targets = [(args.output, name, report)]
    else:
        stem = report_stem(args.inputs)
        targets = []
        seen: set[str] = set()
        for report in reports:
            name_stem = stem
            if args.split_by:
                unique, n = report.label, 2
                while unique.lower() in seen:  # case-blind, as file systems on Windows and macOS are
                    unique, n = f"{report.label}-{n}", n + 1
                seen.add(unique.lower())
                name_stem = f"{stem}-{safe_name(args.split_by)}-{unique}"
            for name in formats:
                targets.append((args.output_dir / f"{name_stem}.{FORMATS[name].extension}", name, report))
    check_targets((path for path, *_ in targets), [*(Path(i.path) for i in result.inputs), *protected_files(args)])
    return targets


@contextmanager
def _progress(err: Console) -> Iterator[Progress | None]:
    """A progress bar on stderr when it is a terminal; nothing at all otherwise (e.g. on a pipe)."""
    if not err.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = RichProgress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
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


def cmd_rules(args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.rules_command == "list":
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

    if args.rules_command == "diff":
        return cmd_rules_diff(args, out, err)
    if args.rules_command == "divergences":
        from .engine.divergences import divergences_path, render_divergences

        text = render_divergences(args.return_type)
        if args.write:
            write_atomic(divergences_path(args.return_type), text.encode("utf-8"))
        else:
            sys.stdout.write(text)
        return 0
    if args.rules_command == "pages":
        return cmd_rules_pages(args, err)
    shown = find_rules(args.code, args.return_type)
    for rule in shown:
        out.print(f"[bold]{term(rule.return_type)} {term(rule.code)}[/bold] {term(rule_heading(rule))}")
        sys.stdout.flush()
        if args.yaml:
            out.file.write(rule.text + "\n\n")
        else:
            from .outputs.rule_doc import rule_markdown

            out.file.write(rule_markdown(rule) + "\n")
    if not shown:
        out.print(f"no rule {term(args.code)}")
        return EXIT_USAGE
    return 0


def cmd_rules_pages(args: argparse.Namespace, err: Console) -> int:
    from .outputs.rule_doc import write_pages

    returns = [args.return_type] if args.return_type else list(RETURN_TYPES)
    for year in args.year or []:
        if not any(year in SUPPORTED_YEARS[r] for r in returns):
            supported = "; ".join(f"{r} {', '.join(SUPPORTED_YEARS[r])}" for r in returns)
            err.print(f"[bold red]cannot write the pages:[/] no rules for {year} (years with rules: {supported})")
            return EXIT_USAGE
    try:
        written = write_pages(args.output_dir, args.format, returns, args.year)
    except OSError as exc:
        err.print(f"[bold red]cannot write the pages:[/] {term(exc)}")
        return EXIT_USAGE
    err.print(f"wrote {len(written)} files to {term(args.output_dir)}")
    return 0


def cmd_rules_diff(args: argparse.Namespace, out: Console, err: Console) -> int:
    from .engine.diff import diff_years, render_console, render_json, render_markdown

    candidates = [args.return_type] if args.return_type else list(RETURN_TYPES)
    both = (args.year_from, args.year_to)
    returns = [r for r in candidates if all(y in SUPPORTED_YEARS[r] for y in both)]
    if not returns:
        supported = "; ".join(f"{r} {', '.join(SUPPORTED_YEARS[r])}" for r in candidates)
        err.print(
            f"[bold red]cannot compare:[/] no rules for both {args.year_from} and {args.year_to} "
            f"(years with rules: {supported})"
        )
        return EXIT_USAGE
    diffs = [diff_years(r, args.year_from, args.year_to) for r in returns]
    if args.format == "console" and not args.output:
        render_console(diffs, out)
        return 0
    if args.format == "console":
        buffer = io.StringIO()
        render_console(diffs, Console(file=buffer, width=120, no_color=True, highlight=False))
        text = buffer.getvalue()
    else:
        text = render_json(diffs) if args.format == "json" else render_markdown(diffs)
    if args.output:
        write_atomic(args.output, text.encode("utf-8"))
    else:
        sys.stdout.write(text)
    return 0


def cmd_convert(args: argparse.Namespace, err: Console) -> int:
    from .convert import convert_return

    problem = output_problem(folder=args.output, protected=protected_files(args))
    if problem:
        err.print(f"[bold red]cannot convert:[/] {term(problem.replace('--output-dir', '--output'))}")
        return EXIT_USAGE
    remove_stale_temp_files(args.output)
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


def cmd_samples(args: argparse.Namespace, err: Console) -> int:
    from .samples import generate_samples

    try:
        written = generate_samples(
            args.return_type, args.year, args.children, args.seed, args.errors, args.output, not args.no_previous
        )
    except ValueError as exc:
        err.print(f"[bold red]cannot make samples:[/] {term(exc)}")
        return EXIT_USAGE
    for path in written:
        err.print(f"wrote {term(path)}")
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
            return cmd_rules(args, out, err)
        if args.command == "convert":
            return cmd_convert(args, err)
        if args.command == "samples":
            return cmd_samples(args, err)
        if args.command == "preview":
            from .preview.command import run as cmd_preview

            return cmd_preview(args, out, err)
        if args.command == "serve":
            return cmd_serve(args, err)
    except (InputError, YearError) as exc:
        err.print(f"[bold red]cannot validate:[/] {term(exc)}")
        return EXIT_USAGE
    except RuleLoadError as exc:
        err.print(f"[bold red]a rule file is wrong:[/] {term(exc)}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # the machine's doing, not a bug: a full disk, a folder made read-only meanwhile, ...
        where = f"{exc.filename}: " if exc.filename else ""
        err.print(f"[bold red]cannot read or write a file:[/] {term(where)}{term(exc.strerror or exc)}")
        return EXIT_USAGE
    except Exception as exc:  # the last line of defence: a plain message, never a traceback
        err.print(
            f"[bold red]unexpected problem:[/] {term(type(exc).__name__)}: {term(exc)}. "
            "Please report it with the command you ran."
        )
        return EXIT_USAGE
    return EXIT_USAGE
