"""The console summary: counts by severity and rule, the children with most problems, rules not run."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from ..findings import INGEST_CODES
from ..result import Result
from .terminal import term

SEVERITY_STYLE = {"error": "bold red", "query": "yellow", "notice": "cyan"}


def print_summary(result: Result, console: Console, top: int = 10) -> None:
    ctx = result.context
    names = {"ssda903": "SSDA903 (children looked after)", "cin": "CIN census"}
    console.print(
        f"[bold]{names.get(result.return_type, result.return_type)}[/bold] {ctx.year}"
        + (f", LA {term(ctx.la)}" if ctx.la else "")
        + f" — collection {ctx.collection_start:%d/%m/%Y} to {ctx.collection_end:%d/%m/%Y}"
    )
    for item in result.inputs:
        tables = term(", ".join(item.tables)) if item.tables else "not recognised"
        label = "" if item.year == "current" else f" ({item.year} year)"
        console.print(f"  input{label}: {term(item.path)} → {tables}")
    console.print(
        f"[bold red]{result.count('error')} errors[/]  [yellow]{result.count('query')} queries[/]  "
        f"[cyan]{result.count('notice')} notices[/]  "
        + (f"{len(result.unconfirmed)} unconfirmed  " if result.unconfirmed else "")
        + f"— rules run {len(result.rules_run)}, "
        f"not run {len(result.rules_not_run)}, crashed {len(result.rules_crashed)}"
    )
    return_level = [f for f in result.findings if f.level in ("return", "file")]
    if return_level:
        table = Table(title="Return-level and file findings", show_lines=False)
        for col in ("severity", "code", "message"):
            table.add_column(col)
        for f in return_level:
            table.add_row(f"[{SEVERITY_STYLE.get(f.severity, '')}]{term(f.severity)}[/]", term(f.code), term(f.message))
        console.print(table)
    per_rule = Counter(
        (f.severity, f.code, INGEST_CODES[f.code][1] if f.code in INGEST_CODES else f.message)
        for f in result.findings
        if f.level not in ("return", "file")
    )
    if per_rule:
        table = Table(title="Findings by rule")
        for col, kw in (("severity", {}), ("code", {}), ("count", {"justify": "right"}), ("message", {})):
            table.add_column(col, **kw)
        for (severity, code, message), n in sorted(per_rule.items(), key=lambda kv: (-kv[1], kv[0][1])):
            table.add_row(f"[{SEVERITY_STYLE.get(severity, '')}]{term(severity)}[/]", term(code), str(n), term(message))
        console.print(table)
    per_child = Counter(f.child for f in result.findings if f.child and f.severity != "notice")
    if per_child:
        table = Table(title=f"Children with most findings (top {top})")
        table.add_column("child")
        table.add_column("findings", justify="right")
        table.add_column("codes")
        codes: dict[str, set[str]] = {}
        for f in result.findings:
            if f.child and f.severity != "notice":
                codes.setdefault(f.child, set()).add(f.code)
        for child, n in per_child.most_common(top):
            table.add_row(term(child), str(n), term(", ".join(sorted(codes[child]))))
        console.print(table)
    if result.unconfirmed:
        table = Table(title="Unconfirmed: these rest on older returns that were not given, and are not counted above")
        for col in ("code", "child", "what would confirm it"):
            table.add_column(col)
        for f in result.unconfirmed[:top]:
            table.add_row(term(f.code), term(f.child), term(f.note))
        if len(result.unconfirmed) > top:
            table.caption = f"the first {top} of {len(result.unconfirmed)}; every one is in the other report formats"
        console.print(table)
    if result.rules_not_run:
        table = Table(title="Rules not run")
        table.add_column("code")
        table.add_column("reason")
        for r in result.rules_not_run:
            table.add_row(term(r.code), term(r.reason))
        console.print(table)
    for r in result.rules_crashed:
        console.print(f"[bold red]rule {term(r.code)} crashed:[/] {term(r.reason)}")
