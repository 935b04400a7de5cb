"""The console summary: counts by severity and rule, the children with most problems, rules not run."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from typing import BinaryIO

from rich.console import Console
from rich.table import Table

from ..findings import INGEST_CODES
from ..reference.authorities import la_label
from ..result import Result, completeness
from .details import finding_place
from .formats import RenderOptions
from .terminal import term
from .words import plural

SEVERITY_STYLE = {"error": "bold red", "query": "yellow", "notice": "cyan"}


FIRST = 3  # findings shown per rule


def write(result: Result, out: BinaryIO, options: RenderOptions) -> None:
    """The summary as a text file (no colours, 140 characters wide), then the notes."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=140, no_color=True, emoji=False)  # ":smile:" in a value stays as written
    print_summary(result, console)
    for label, text in options.notes:
        console.print(f"{term(label)}: {term(text)}")
    out.write(buffer.getvalue().encode("utf-8"))


def print_summary(result: Result, console: Console, top: int = 10, reports: Sequence[str] = ()) -> None:
    """The summary; ``reports``: the report files written in the same run, named at the end."""
    ctx = result.context
    names = {"ssda903": "SSDA903 (children looked after)", "cin": "CIN census"}
    console.print(
        f"[bold]{names.get(result.return_type, result.return_type)}[/bold] {ctx.year}"
        + (f", LA {term(la_label(ctx.la))}" if ctx.la else "")
        + f" — collection {ctx.collection_start:%d/%m/%Y} to {ctx.collection_end:%d/%m/%Y}"
    )
    for item in result.inputs:
        tables = term(", ".join(item.tables)) if item.tables else "not recognised"
        label = "" if item.year == "current" else f" ({item.year} year)"
        console.print(f"  input{label}: {term(item.path)} → {tables}")
    console.print(
        f"[bold red]{plural(result.count('error'), 'error')}[/]  [yellow]{plural(result.count('query'), 'query')}[/]  "
        f"[cyan]{plural(result.count('notice'), 'notice')}[/]  "
        + (f"{len(result.unconfirmed)} unconfirmed  " if result.unconfirmed else "")
        + f"— {term(completeness(result))}"
    )
    found = result.findings
    return_level = found.take(found.where("level", ("return", "file").__contains__)).findings()
    if return_level:
        table = Table(title="Return-level and file findings", show_lines=False)
        for col in ("severity", "code", "message"):
            table.add_column(col)
        for f in return_level:
            table.add_row(f"[{SEVERITY_STYLE.get(f.severity, '')}]{term(f.severity)}[/]", term(f.code), term(f.message))
        console.print(table)
    per_rule = Counter(
        (severity, code, INGEST_CODES[code][1] if code in INGEST_CODES else message)
        for severity, code, message, level in found.rows("severity", "code", "message", "level")
        if level not in ("return", "file")
    )
    if per_rule:
        table = Table(title="Findings by rule")
        for col, kw in (("severity", {}), ("code", {}), ("count", {"justify": "right"}), ("message", {})):
            table.add_column(col, **kw)
        for (severity, code, message), n in sorted(per_rule.items(), key=lambda kv: (-kv[1], kv[0][1])):
            table.add_row(f"[{SEVERITY_STYLE.get(severity, '')}]{term(severity)}[/]", term(code), str(n), term(message))
        console.print(table)
        _first_findings(
            result, console, [code for (_, code, _), _n in sorted(per_rule.items(), key=lambda kv: (-kv[1], kv[0][1]))]
        )
    per_child = Counter(child for child, severity in found.rows("child", "severity") if child and severity != "notice")
    if per_child:
        table = Table(title=f"Children with most findings (top {top})")
        table.add_column("child")
        table.add_column("findings", justify="right")
        table.add_column("codes")
        codes: dict[str, set[str]] = {}
        for child, severity, code in found.rows("child", "severity", "code"):
            if child and severity != "notice":
                codes.setdefault(child, set()).add(code)
        for child, n in per_child.most_common(top):
            table.add_row(term(child), str(n), term(", ".join(sorted(codes[child]))))
        console.print(table)
    if result.unconfirmed:
        table = Table(title="Unconfirmed: these rest on older returns that were not given, and are not counted above")
        for col in ("code", "child", "what would confirm it"):
            table.add_column(col)
        for f in result.unconfirmed.take(range(min(top, len(result.unconfirmed)))):
            table.add_row(term(f.code), term(f.child), term(f.note))
        if len(result.unconfirmed) > top:
            table.caption = f"the first {top} of {len(result.unconfirmed)}; every one is in the other report formats"
        console.print(table)
    if result.rules_not_run:  # one row per reason: a run stopped before the rules would list every rule alike
        by_reason: dict[str, list[str]] = {}
        for r in result.rules_not_run:
            by_reason.setdefault(r.reason, []).append(r.code)
        table = Table(title="Rules not run")
        table.add_column("reason")
        table.add_column("rules")
        for reason, codes in by_reason.items():
            table.add_row(term(reason), term(", ".join(codes)))
        console.print(table)
    for r in result.rules_crashed:
        console.print(f"[bold red]rule {term(r.code)} crashed:[/] {term(r.reason)}")
    if per_rule:
        where = ", ".join(reports) if reports else "the HTML or Excel report (--format html,xlsx --output-dir DIR)"
        console.print(f"Every finding, with the child's records: {term(where)}")


def _first_findings(result: Result, console: Console, codes: list[str], first: int = FIRST) -> None:
    """Under the per-rule table: each rule's first findings, with child, file:line and field = value."""
    by_code: dict[str, list[int]] = {}  # the positions of each rule's first findings, and its count
    counts: Counter[str] = Counter()
    for i, (code, level) in enumerate(result.findings.rows("code", "level")):
        if level not in ("return", "file"):
            counts[code] += 1
            if counts[code] <= first:
                by_code.setdefault(code, []).append(i)
    console.print(f"First findings of each rule (up to {first}):")
    for code in codes:
        for f in result.findings.take(by_code.get(code, [])):
            console.print(f"  {term(code)}  {term(finding_place(f))}", highlight=False)
        if counts[code] > first:
            console.print(f"  {term(code)}  … and {plural(counts[code] - first, 'more finding')}", highlight=False)
