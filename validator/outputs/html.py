"""The HTML report: one self-contained file (CSS and JavaScript inline, no network) that opens offline.

The static parts (summary, return-level findings, rules with findings, rules not run or crashed) are written
as HTML here, every value escaped. The findings explorer and the child view are drawn in the browser by
``html_report.js`` from the data embedded once as JSON, so the page stays quick with tens of thousands of
findings: only one page of findings (and one child's records) is ever in the DOM.

A Content-Security-Policy allows only this file's own script and style (by hash): the page cannot load
anything from the network, and an inline script smuggled in through a value would not run.
"""

from __future__ import annotations

import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from ..dataset import FILE, LINE, PREVIOUS, ROW, Dataset
from ..findings import INGEST_CODES, SEVERITY_ORDER, FindingTable
from ..reference.authorities import la_label
from ..result import Result, RuleStatus, _code_key, completeness, number_key, text_rank
from ..schema import RETURN_NAMES
from . import text_writer
from .formats import RenderOptions
from .page import escape, page_head

_ASSETS = Path(__file__).resolve().parent
SEVERITIES = ("error", "query", "notice")
SEVERITY_LABEL = {"error": "Errors", "query": "Queries", "notice": "Notices"}
TOP_CHILDREN = 20
RETURN_LEVEL_SHOWN = 1000


# Up to this many records in all, every child of the return has its records in the report (the child view works
# for any child); a larger return embeds the records of the children with findings only.
EVERY_CHILD_RECORDS = 200_000


def render_html(result: Result) -> str:
    """The whole report as one HTML document (reports are written in pieces with :func:`write`)."""
    buffer = io.BytesIO()
    write(result, buffer, RenderOptions())
    return buffer.getvalue().decode("utf-8")


def write(result: Result, out: BinaryIO, options: RenderOptions) -> None:
    """The report, written in pieces: the page, with the findings embedded as JSON in chunks."""
    css = (_ASSETS / "html_report.css").read_text(encoding="utf-8")
    js = (_ASSETS / "html_report.js").read_text(encoding="utf-8")
    data = _Payload(result)
    ctx = result.context
    title = f"{RETURN_NAMES.get(result.return_type, result.return_type)} {ctx.year}" + (
        f", LA {ctx.la}" if ctx.la else ""
    )
    parts = [
        *page_head(f"Validation report — {title}", css, script=js, images=True),
        "<body>",
        '<a class="skip" href="#findings">Skip to the findings</a>',
        "<header>",
        f'<h1>Validation report <span class="sub">{_e(title)}</span></h1>',
        f'<p class="tool">{_e(result.tool.get("name", ""))} {_e(result.tool.get("version", ""))}</p>',
        _nav(),
        "</header>",
        "<main>",
        _summary(result),
        _return_level(result),
        _rules_with_findings(data.groups),
        _unconfirmed(result),
        _explorer(),
        _child_view(),
        _rules_not_run(result),
        _figures(result),
        "</main>",
    ]
    with text_writer(out) as text:
        text.write("\n".join(parts) + '\n<script type="application/json" id="report-data">')
        for piece in data.json_pieces():
            text.write(_script_safe(piece))
        text.write("\n".join(["</script>", f"<script>{js}</script>", "</body>", "</html>"]) + "\n")


# ---------------------------------------------------------------------------------------------- static parts


def _nav() -> str:
    links = [
        ("summary", "Summary"),
        ("return-level", "Return-level"),
        ("rules", "Rules with findings"),
        ("unconfirmed", "Unconfirmed"),
        ("findings", "Findings"),
        ("not-run", "Not run / crashed"),
        ("figures", "Figures"),
    ]
    items = "".join(f'<li><a href="#{a}">{_e(t)}</a></li>' for a, t in links)
    return f'<nav aria-label="Sections"><ul>{items}</ul></nav>'


def _summary(result: Result) -> str:
    ctx = result.context
    counts = {s: result.count(s) for s in SEVERITIES}
    facts = [
        ("Return", RETURN_NAMES.get(result.return_type, result.return_type)),
        ("Collection year", ctx.year),
        ("Local authority", la_label(ctx.la) or "not given"),
        ("Collection period", f"{ctx.collection_start:%d/%m/%Y} to {ctx.collection_end:%d/%m/%Y}"),
        ("Reference date", f"{ctx.reference_date:%d/%m/%Y}"),
        ("Tool", f"{result.tool.get('name', '')} {result.tool.get('version', '')}"),
        ("Completeness", completeness(result)),
    ]
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
    cards = "".join(
        f'<li class="card sev-{s}"><span class="num" data-count="{s}">{counts[s]:,}</span> '
        f'<span class="lbl">{_e(SEVERITY_LABEL[s].lower())}</span></li>'
        for s in SEVERITIES
    )
    rule_cards = (
        f'<li class="card"><span class="num" data-count="rules_run">{len(result.rules_run):,}</span> '
        '<span class="lbl">rules run</span></li>'
        f'<li class="card"><span class="num" data-count="rules_not_run">{len(result.rules_not_run):,}</span> '
        '<span class="lbl">not run</span></li>'
        f'<li class="card{" sev-error" if result.rules_crashed else ""}">'
        f'<span class="num" data-count="rules_crashed">{len(result.rules_crashed):,}</span> '
        '<span class="lbl">crashed</span></li>'
    )
    verdict = (
        "Errors must be fixed before submission."
        if counts["error"]
        else "No errors." + (" Queries need fixing or an explanation to DfE." if counts["query"] else "")
    )
    if result.unconfirmed:
        n = len(result.unconfirmed)
        verdict += (
            f" {n:,} unconfirmed finding{'s' if n != 1 else ''} (resting on older returns not given) not counted."
        )
    inputs = "".join(
        "<tr>"
        f"<td>{_e(i.path)}</td><td>{_e(i.kind)}</td>"
        f"<td>{_e(', '.join(i.tables) if i.tables else 'not recognised')}</td><td>{_e(i.year)}</td>"
        "</tr>"
        for i in result.inputs
    )
    top = _top_children(result.findings)
    top_html = ""
    if top:
        rows = "".join(
            f'<tr><td><a class="child-link" href="#child={_e(_hash_id(child))}">{_e(child)}</a></td>'
            f'<td class="n">{n:,}</td><td>{_e(", ".join(codes))}</td></tr>'
            for child, n, codes in top
        )
        top_html = (
            f"<h3>Children with most errors and queries (top {len(top)})</h3>"
            '<div class="scroll" role="region" aria-label="Children with most errors and queries" tabindex="0">'
            '<table><thead><tr><th scope="col">Child</th><th scope="col" class="n">Findings</th>'
            f'<th scope="col">Codes</th></tr></thead><tbody>{rows}</tbody></table></div>'
        )
    return (
        '<section id="summary" aria-labelledby="summary-h">'
        '<h2 id="summary-h">Summary</h2>'
        f'<ul class="cards" aria-label="Counts">{cards}{rule_cards}</ul>'
        f'<p class="verdict">{_e(verdict)}</p>'
        f'<dl class="facts">{dl}</dl>'
        f'<details class="inputs"{" open" if len(result.inputs) <= 6 else ""}>'
        f'<summary><h3>Inputs <span class="count">({_e(_inputs_summary(result))})</span></h3></summary>'
        '<div class="scroll" role="region" aria-label="Inputs" tabindex="0">'
        '<table><thead><tr><th scope="col">File</th><th scope="col">Kind</th><th scope="col">Tables</th>'
        f'<th scope="col">Year</th></tr></thead><tbody>{inputs}</tbody></table></div></details>'
        f"{top_html}"
        "</section>"
    )


def _inputs_summary(result: Result) -> str:
    by_year = Counter(i.year for i in result.inputs)
    n = len(result.inputs)
    parts = [f"{count} {'current year' if year == 'current' else year + ' year'}" for year, count in by_year.items()]
    return f"{n} file{'s' if n != 1 else ''}" + (f": {', '.join(parts)}" if len(by_year) > 1 else "")


def _return_level(result: Result) -> str:
    found = result.findings.take(result.findings.where("level", ("return", "file").__contains__)).findings()
    if not found:
        body = "<p>None: no finding about the return as a whole or its files.</p>"
    else:
        found.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), _code_key(f.code)))
        rows = []
        for f in found[:RETURN_LEVEL_SHOWN]:
            child = f'<a class="child-link" href="#child={_e(_hash_id(f.child))}">{_e(f.child)}</a>' if f.child else ""
            where = " ".join(x for x in (f.file or "", f"line {f.line}" if f.line else "") if x)
            rows.append(
                f'<tr class="sev-{_e(f.severity)}"><td><span class="badge sev-{_e(f.severity)}">'
                f"{_e(f.severity)}</span></td><td>{_e(f.code)}</td><td>{_e(f.table or '')}</td>"
                f"<td>{_e(where)}</td><td>{child}</td><td>{_e(f.message)}</td></tr>"
            )
        more = (
            f"<p>Showing the first {RETURN_LEVEL_SHOWN:,} of {len(found):,}; the findings explorer below holds all.</p>"
            if len(found) > RETURN_LEVEL_SHOWN
            else ""
        )
        body = (
            f"<p>{len(found):,} finding{'s' if len(found) != 1 else ''} about the return as a whole or its files. "
            "Read these first: a file problem can hide or cause record findings.</p>"
            '<div class="scroll" role="region" aria-label="Return-level findings" tabindex="0">'
            '<table class="findings"><thead><tr><th scope="col">Severity</th><th scope="col">Code</th>'
            '<th scope="col">Table</th><th scope="col">Where</th><th scope="col">Child</th>'
            f'<th scope="col">Message</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>{more}'
        )
    return (
        '<section id="return-level" aria-labelledby="return-level-h">'
        f'<h2 id="return-level-h">Return-level and file findings</h2>{body}</section>'
    )


def _rules_with_findings(groups: list[dict[str, Any]]) -> str:
    if not groups:
        return (
            '<section id="rules" aria-labelledby="rules-h"><h2 id="rules-h">Rules with findings</h2>'
            "<p>No rule found anything.</p></section>"
        )
    blocks = []
    for sev in SEVERITIES:
        mine = [g for g in groups if g["severity"] == sev]
        if not mine:
            continue
        total = sum(g["count"] for g in mine)
        rows = "".join(
            f'<tr class="sev-{sev}"><td>{_e(g["code"])}</td><td class="n">{g["count"]:,}</td>'
            f"<td>{_e(', '.join(g['tables']))}</td><td>{_e(g['message'])}</td>"
            f'<td class="noprint"><button type="button" class="show-rule" data-code="{_e(g["code"])}" '
            f'data-severity="{sev}" aria-label="Show the findings of rule {_e(g["code"])}">Show</button></td></tr>'
            for g in mine
        )
        blocks.append(
            f'<h3 class="sev-{sev}">{_e(SEVERITY_LABEL[sev])} <span class="count">— {len(mine):,} '
            f"rule{'s' if len(mine) != 1 else ''}, {total:,} finding{'s' if total != 1 else ''}</span></h3>"
            f'<div class="scroll" role="region" aria-label="{_e(SEVERITY_LABEL[sev])} by rule" tabindex="0">'
            '<table class="rules"><thead><tr><th scope="col">Code</th><th scope="col" class="n">Count</th>'
            '<th scope="col">Tables</th><th scope="col">Message</th>'
            f'<th scope="col" class="noprint"><span class="vh">Action</span></th></tr></thead><tbody>{rows}'
            "</tbody></table></div>"
        )
    return (
        '<section id="rules" aria-labelledby="rules-h"><h2 id="rules-h">Rules with findings</h2>'
        "<p>Errors first (must be fixed before submission), then queries (fix, or explain to DfE), "
        f"then notices (information).</p>{''.join(blocks)}</section>"
    )


def _unconfirmed(result: Result) -> str:
    """Findings that rest on care history older than the returns given: apart, and not counted above."""
    found = result.unconfirmed
    if not found:
        body = "<p>None: every finding rests on the returns given.</p>"
    else:
        rows = "".join(
            f"<tr><td>{_e(f.code)}</td><td>{_e(f.severity)}</td><td>{_e(f.child or '')}</td>"
            f"<td>{_e(f.table or '')}</td><td>{_e(f.message)}</td><td>{_e(f.note or '')}</td></tr>"
            for f in found[:RETURN_LEVEL_SHOWN]
        )
        more = (
            f"<p>Showing the first {RETURN_LEVEL_SHOWN:,} of {len(found):,}.</p>"
            if len(found) > RETURN_LEVEL_SHOWN
            else ""
        )
        body = (
            f"<p>{len(found):,} finding{'s' if len(found) != 1 else ''} may be wrong for want of older returns: "
            "each rests on care history before the first year given. They are not counted as errors or queries; "
            "give the returns named to confirm them.</p>"
            '<div class="scroll" role="region" aria-label="Unconfirmed findings" tabindex="0">'
            '<table class="findings"><thead><tr><th scope="col">Code</th><th scope="col">Severity</th>'
            '<th scope="col">Child</th><th scope="col">Table</th><th scope="col">Message</th>'
            f'<th scope="col">What would confirm it</th></tr></thead><tbody>{rows}</tbody></table></div>{more}'
        )
    return (
        '<section id="unconfirmed" aria-labelledby="unconfirmed-h">'
        f'<h2 id="unconfirmed-h">Unconfirmed findings</h2>{body}</section>'
    )


def _explorer() -> str:
    checks = "".join(
        f'<label class="check"><input type="checkbox" name="severity" value="{s}" checked> '
        f'{_e(SEVERITY_LABEL[s])} <span class="count" data-sev-count="{s}"></span></label>'
        for s in SEVERITIES
    )
    return (
        '<section id="findings" aria-labelledby="findings-h">'
        '<h2 id="findings-h">Findings</h2>'
        '<noscript><p class="warn">The findings explorer and the child view need JavaScript; the summary, '
        "the rules with findings and the rules not run are shown without it.</p></noscript>"
        '<form id="filters" class="filters noprint" role="search" aria-label="Filter the findings">'
        f'<fieldset class="sev"><legend>Severity</legend>{checks}</fieldset>'
        '<div class="field"><label for="f-rule">Rule</label>'
        '<select id="f-rule"><option value="">All rules</option></select></div>'
        '<div class="field"><label for="f-table">Table</label>'
        '<select id="f-table"><option value="">All tables</option></select></div>'
        '<div class="field"><label for="f-child">Child</label>'
        '<input id="f-child" type="search" autocomplete="off" spellcheck="false" '
        'placeholder="child id (or part of it)" aria-describedby="f-child-hint">'
        '<span id="f-child-hint" class="hint">Press Enter to open the child when exactly one matches.</span></div>'
        '<div class="field"><label for="f-size">Per page</label>'
        '<select id="f-size"><option>50</option><option selected>100</option><option>250</option>'
        "<option>1000</option></select></div>"
        '<div class="field buttons"><button type="reset" id="f-clear">Clear filters</button></div>'
        "</form>"
        '<p id="f-status" class="status" role="status" aria-live="polite"></p>'
        '<div id="f-pager-top" class="pager noprint"></div>'
        '<div class="scroll" role="region" aria-label="Findings" tabindex="0">'
        '<table id="f-table-out" class="findings"><thead><tr>'
        '<th scope="col">Severity</th><th scope="col">Code</th><th scope="col">Child</th>'
        '<th scope="col">Table</th><th scope="col">Where</th><th scope="col">Fields and values</th>'
        '<th scope="col">Detail</th></tr></thead><tbody id="f-body"></tbody></table></div>'
        '<div id="f-pager-bottom" class="pager noprint"></div>'
        "</section>"
    )


def _child_view() -> str:
    return (
        '<section id="child" aria-labelledby="child-h" hidden>'
        '<h2 id="child-h" tabindex="-1">Child</h2>'
        '<p class="noprint"><a href="#findings" id="child-back">Back to the findings</a></p>'
        '<div id="child-body"></div>'
        "</section>"
    )


def _rules_not_run(result: Result) -> str:
    not_run = sorted(result.rules_not_run, key=lambda r: _code_key(r.code))
    crashed = sorted(result.rules_crashed, key=lambda r: _code_key(r.code))
    found_codes = set(result.findings.column("code"))
    passed = sorted((c for c in result.rules_run if c not in found_codes), key=_code_key)

    def table(rows: list[RuleStatus], label: str, what: str) -> str:
        body = "".join(f"<tr><td>{_e(r.code)}</td><td>{_e(r.severity)}</td><td>{_e(r.reason)}</td></tr>" for r in rows)
        return (
            f'<div class="scroll" role="region" aria-label="{_e(label)}" tabindex="0">'
            '<table><thead><tr><th scope="col">Code</th><th scope="col">Severity</th>'
            f'<th scope="col">{_e(what)}</th></tr></thead><tbody>{body}</tbody></table></div>'
        )

    crashed_html = (
        "<p>None.</p>"
        if not crashed
        else '<p class="warn">These rules failed inside and gave no answer: they are not counted as passed.</p>'
        + table(crashed, "Rules crashed", "Error")
    )
    not_run_html = "<p>None: every rule could run.</p>" if not not_run else table(not_run, "Rules not run", "Reason")
    passed_html = (
        f"<details><summary>Rules that ran and found nothing ({len(passed):,})</summary>"
        f'<p class="codes">{_e(", ".join(passed))}</p></details>'
        if passed
        else ""
    )
    return (
        '<section id="not-run" aria-labelledby="not-run-h">'
        '<h2 id="not-run-h">Rules not run or crashed</h2>'
        f"<p>{_e(completeness(result).capitalize())}.</p>"
        f'<h3>Crashed <span class="count">({len(crashed):,})</span></h3>{crashed_html}'
        f'<h3>Not run <span class="count">({len(not_run):,})</span></h3>{not_run_html}'
        f"{passed_html}</section>"
    )


def _figures(result: Result) -> str:
    """The headline measures DfE will derive from the return (as `preview` shows them), exact figures."""
    from ..preview import Convention
    from ..preview.render import figure_rows

    preview = result.figures
    head = '<section id="figures" aria-labelledby="figures-h"><h2 id="figures-h">Figures DfE will derive</h2>'
    if preview is None:
        return head + "<p>Not worked out for a part of a return (--split-by).</p></section>"
    last = preview.previous_year
    columns = ["Measure", "Value", "Numerator / denominator", *([last, "Change", "Flag"] if last else [])]
    header = "".join(f'<th scope="col">{_e(c)}</th>' for c in columns)
    body, group = [], None
    for row in figure_rows(preview, Convention(raw=True)):
        if row.group != group:
            group = row.group
            body.append(f'<tr><th scope="rowgroup" colspan="{len(columns)}">{_e(group)}</th></tr>')
        aside = row.note if row.note and row.value == "n/a" else row.history
        cells = [row.label + (f" ({aside})" if aside else ""), row.value, row.parts]
        if last:
            cells += [row.previous, row.change, row.flag]
        body.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    compared = f", beside {last}'s, with large changes flagged" if last else ""
    return (
        f"{head}<p>The headline measures of the return{compared}: exact figures, for your own checking; "
        "<code>preview</code> shows them as DfE publishes them (definitions in docs/preview.md).</p>"
        '<div class="scroll" role="region" aria-label="Figures" tabindex="0">'
        f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table></div></section>"
    )


def _top_children(findings: FindingTable) -> list[tuple[str, int, list[str]]]:
    counts: Counter[str] = Counter()
    codes: dict[str, set[str]] = defaultdict(set)
    for child, severity, code in findings.rows("child", "severity", "code"):
        if child and severity != "notice":
            counts[child] += 1
            codes[child].add(code)
    return [
        (child, n, sorted(codes[child], key=_code_key))
        for child, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CHILDREN]
    ]


# ---------------------------------------------------------------------------------------------- the data


class _Strings:
    """Interned strings: a finding refers to its code, message, table and file by index (smaller JSON)."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.index: dict[str, int] = {}

    def __call__(self, value: str | None) -> int:
        if value is None:
            return -1
        i = self.index.get(value)
        if i is None:
            i = self.index[value] = len(self.items)
            self.items.append(value)
        return i


def _html_order(found: FindingTable) -> np.ndarray:
    """The explorer's order: severity, code (by number), table, row, file, line, message (stable)."""
    codes = found.column("code")
    digits = [_code_key(c)[0] for c in codes]
    keys = [
        text_rank(found.column("message")),
        number_key([v or 0 for v in found.column("line")], 0),
        text_rank(found.column("file")),
        number_key(found.column("row"), -1),
        text_rank(found.column("table")),
        text_rank(codes),
        np.array(digits, dtype=np.int64),
        np.fromiter((SEVERITY_ORDER.get(v, 9) for v in found.column("severity")), dtype=np.int64, count=len(found)),
    ]
    return np.lexsort(keys) if len(found) else np.arange(0)


class _Payload:
    """The data the page's script draws the explorer and the child view from: worked out from the findings'
    columns, then written as JSON in pieces (:meth:`json_pieces`)."""

    def __init__(self, result: Result) -> None:
        self.result = result
        self.found = result.findings.take(_html_order(result.findings))
        self.strings = _Strings()
        names = ("code", "level", "message", "table", "file")
        cells = np.empty((len(self.found), len(names)), dtype=object)
        for i, name in enumerate(names):
            cells[:, i] = self.found.frame[name].to_numpy(dtype=object)
        ids, uniques = pd.factorize(cells.ravel(), use_na_sentinel=True)  # in the order of first use
        for text in uniques.tolist():
            self.strings(text)
        self.ids = ids.reshape(cells.shape)
        self.fieldsets: list[list[str]] = []
        index: dict[tuple[str, ...], int] = {}
        self.fieldset_ids = []
        for fields in self.found.column("fields"):
            fs = index.get(fields)
            if fs is None:
                fs = index[fields] = len(self.fieldsets)
                self.fieldsets.append(list(fields))
            self.fieldset_ids.append(fs)
        self.groups = self._groups()
        children = {c for c in result.findings.column("child") if c}
        self.every = None if result.redacted else _every_child(result.dataset)
        if self.every is not None:
            children |= self.every
        self.tables, self.records = _records(result.dataset, children, self.strings)

    def _groups(self) -> list[dict[str, Any]]:
        messages = {r.code: r.message for r in self.result.rules if r.message}
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for severity, code, message, table in self.found.rows("severity", "code", "message", "table"):
            group = groups.get((severity, code))
            if group is None:
                title = messages.get(code) or (INGEST_CODES[code][1] if code in INGEST_CODES else message)
                group = groups[(severity, code)] = {
                    "code": code,
                    "severity": severity,
                    "message": title,
                    "count": 0,
                    "tables": [],
                }
            group["count"] += 1
            if table and table not in group["tables"]:
                group["tables"].append(table)
        return list(groups.values())

    def _rows(self) -> Iterator[list[Any]]:
        found = self.found
        columns = zip(
            self.ids.tolist(),
            found.column("severity"),
            found.column("row"),
            found.column("child"),
            self.fieldset_ids,
            found.column("values"),
            found.column("line"),
            strict=True,
        )
        for (code, level, message, table, file), severity, row, child, fs, values, line in columns:
            yield [
                code,
                SEVERITY_ORDER.get(severity, 2),
                level,
                message,
                table,
                row,
                child,
                fs,
                [_text(v) for v in values],
                file,
                line,
            ]

    def json_pieces(self, chunk: int = 2000) -> Iterator[str]:
        """The JSON text of the data (as ``json.dumps`` compact gives the whole), in pieces."""
        ctx = self.result.context
        meta = {
            "return": self.result.return_type,
            "year": ctx.year,
            "la": ctx.la,
            "tool": dict(self.result.tool),
            "records": self.result.dataset is not None,
            "every_child": self.every is not None,
        }
        yield f'{{"meta":{_dumps(meta)},"strings":{_dumps(self.strings.items)},'
        yield f'"fieldsets":{_dumps(self.fieldsets)},"severities":{_dumps(list(SEVERITIES))},"findings":['
        rows: list[list[Any]] = []
        first = True
        for row in self._rows():
            rows.append(row)
            if len(rows) >= chunk:
                yield ("" if first else ",") + _dumps(rows)[1:-1]
                first = False
                rows.clear()
        if rows:
            yield ("" if first else ",") + _dumps(rows)[1:-1]
        yield f'],"groups":{_dumps(self.groups)},"tables":{_dumps(self.tables)},"records":{_dumps(self.records)}}}'


def _every_child(dataset: Dataset | None) -> set[str] | None:
    """Every child id of the return's tables, so the child view works for a child without findings too; None
    when the return is too large for every record to be embedded (then only children with findings are, as in a
    pseudonymised report, which shares no more records than its findings need)."""
    if dataset is None:
        return None
    key = dataset.schema.child_key
    frames = [t.df[key] for t in dataset.tables.values() if key in t.df.columns]
    if sum(len(f) for f in frames) > EVERY_CHILD_RECORDS:
        return None
    return {str(c) for f in frames for c in f.dropna().unique()}


def _records(
    dataset: Dataset | None, children: set[str], strings: _Strings
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The records of the children with findings, by child then table: ``[row, file, line, values...]``.

    ``file`` is an index into the interned strings; the child's id is left out of the values (it is the key).

    Values are the text the file had where it is kept (``COL@raw``), else the typed value (dates dd/mm/yyyy).
    Every child's records are embedded (``children``), up to EVERY_CHILD_RECORDS records in all; above that
    only those of the children with findings.
    """
    if dataset is None or not children:
        return [], {}
    key = dataset.schema.child_key
    order = list(dataset.schema.tables)
    tables: list[dict[str, Any]] = []
    records: dict[str, dict[str, Any]] = {}

    def sort_key(name: str) -> tuple[int, int, str]:
        base, _, year = name.partition(PREVIOUS)
        n = 0 if name == base else int(year or 1)
        return (n, order.index(base) if base in order else len(order), name)

    for name in sorted(dataset.tables, key=sort_key):
        df = dataset.tables[name].df
        if key not in df.columns or df.empty:
            continue
        mine = df[df[key].isin(children)]
        base, _, year = name.partition(PREVIOUS)
        columns = [c for c in df.columns if not c.startswith("_") and not c.endswith("@raw") and c != key]
        tables.append(
            {
                "name": name,
                "base": base,
                "year": "current" if name == base else ("previous" if not year else f"previous{year}"),
                "columns": columns,
                "count": len(df),
            }
        )
        if mine.empty:
            continue
        index = len(tables) - 1
        text = {c: _column_text(mine, c) for c in columns}
        ids = mine[key].tolist()
        rows = mine[ROW].tolist() if ROW in mine else list(range(len(mine)))
        files = [strings(None if f is None else str(f)) for f in mine[FILE]] if FILE in mine else [-1] * len(mine)
        lines = [None if x != x else int(x) for x in mine[LINE].tolist()] if LINE in mine else [None] * len(mine)
        values = list(zip(*(text[c] for c in columns), strict=True)) if columns else [()] * len(mine)
        for child, row, file, line, vals in zip(ids, rows, files, lines, values, strict=True):
            entry = records.setdefault(str(child), {})
            entry.setdefault(str(index), []).append([int(row), file, line, *vals])
    return tables, records


def _column_text(df: pd.DataFrame, column: str) -> list[str | None]:
    """A column as display text: the file's own text (``COL@raw``) where kept, else the typed value."""
    series = df[column]
    if pd.api.types.is_datetime64_any_dtype(series):
        text = series.dt.strftime("%d/%m/%Y").astype(object)
    else:
        text = series.astype(object)
    blank = series.isna().to_numpy()
    raw_col = f"{column}@raw"
    if raw_col in df.columns:
        raw = df[raw_col]
        has_raw = raw.notna().to_numpy()
        text = text.where(~has_raw, raw)
        blank = blank & ~has_raw
    values = text.to_numpy(dtype=object, copy=True)
    values[blank] = None
    return [v if v is None or isinstance(v, str) else _text(v) for v in values]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------------------------------------- escaping


_e = escape


def _hash_id(child: str) -> str:
    """A child id as it appears after ``#child=`` (percent-encoded like JavaScript's encodeURIComponent)."""
    from urllib.parse import quote

    return quote(child, safe="-_.!~*'()")


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _json_for_script(data: Any) -> str:
    """JSON that cannot end the <script> element or open a comment: <, > and & are written as \\u escapes."""
    return _script_safe(_dumps(data))


def _script_safe(text: str) -> str:
    """JSON text that cannot end the <script> element or open a comment (every character escaped on its own, so
    pieces of a text are escaped as the whole would be)."""
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
