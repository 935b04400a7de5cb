"""summary.html of ``validate --each``: every return of a regional batch on one page, side by side.

One self-contained document (no script, no request to anywhere: its Content-Security-Policy allows only its own
style), every value escaped. Three tables: the returns (status, counts, their reports), the findings by rule and
severity with one column per LA, and the preview's headline figures with one column per LA.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .page import escape as _e
from .page import page_head

if TYPE_CHECKING:
    from ..batch import BatchOutcome

STATUS_TEXT = {0: "passed", 1: "failed", 2: "not validated"}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;margin:1.5rem;color:#0b0c0c;line-height:1.4}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #b1b4b6;padding:.25rem .5rem;text-align:left;vertical-align:top}
thead th{background:#f3f2f1;position:sticky;top:0}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th[scope=rowgroup]{background:#f8f8f8}
.scroll{overflow:auto;max-width:100%}
.s0{color:#00703c}.s1{color:#d4351c;font-weight:600}.s2{color:#6f3c00;font-weight:600}
"""


def render_summary_html(outcomes: Sequence[BatchOutcome]) -> str:
    """The summary page of a batch."""
    heads = [_heading(o, n) for n, o in enumerate(outcomes, start=1)]
    parts = [
        *page_head(f"Validation summary — {len(outcomes)} returns", _CSS),
        "<body>",
        f"<h1>Validation summary: {len(outcomes)} returns</h1>",
        "<main>",
        _returns(outcomes),
        _by_rule(outcomes, heads),
        _figures(outcomes, heads),
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _heading(o: BatchOutcome, n: int) -> str:
    """A return's column heading: its LA code, else its name (the folder or file)."""
    return o.la or Path(o.name.split(" ")[0]).name or f"return {n}"


def _table(label: str, header: Sequence[str], rows: Sequence[str]) -> str:
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in header)
    return (
        f'<div class="scroll" role="region" aria-label="{_e(label)}" tabindex="0"><table>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _returns(outcomes: Sequence[BatchOutcome]) -> str:
    rows = []
    for o in outcomes:
        # The reports are beside this page (the same --output-dir): linked by file name only.
        links = " ".join(f'<a href="{_e(Path(r).name)}">{_e(Path(r).name)}</a>' for r in o.reports)
        status = f'<td class="s{o.status}">{_e(STATUS_TEXT.get(o.status, o.status))}</td>'
        counts = "".join(f'<td class="n">{n}</td>' for n in (o.errors, o.queries, o.notices, o.rules_crashed))
        rows.append(
            f"<tr><td>{_e(o.la or '')}</td><td>{_e(o.name)}</td><td>{_e(o.return_type)} {_e(o.year)}</td>"
            f"{status}{counts}<td>{_e(o.problem)}</td><td>{links}</td></tr>"
        )
    header = ["LA", "Return", "Return type and year", "Result", "Errors", "Queries", "Notices", "Rules crashed"]
    return (
        '<section aria-labelledby="returns-h"><h2 id="returns-h">Returns</h2>'
        + _table("Returns", [*header, "Why not validated", "Reports"], rows)
        + "</section>"
    )


def _by_rule(outcomes: Sequence[BatchOutcome], heads: Sequence[str]) -> str:
    counts: dict[tuple[str, str], dict[int, int]] = {}
    for n, o in enumerate(outcomes):
        for r in o.rules:
            counts.setdefault((str(r["rule"]), str(r["severity"])), {})[n] = int(r["count"])  # type: ignore[call-overload]
    head = '<section aria-labelledby="rules-h"><h2 id="rules-h">Findings by rule and severity</h2>'
    if not counts:
        return head + "<p>No findings in any return.</p></section>"
    rows = []
    for (rule, severity), by in sorted(counts.items()):
        cells = "".join(f'<td class="n">{by.get(n, "")}</td>' for n in range(len(outcomes)))
        rows.append(f'<tr><th scope="row">{_e(rule)}</th><td>{_e(severity)}</td>{cells}</tr>')
    return head + _table("Findings by rule", ["Rule", "Severity", *heads], rows) + "</section>"


def _figures(outcomes: Sequence[BatchOutcome], heads: Sequence[str]) -> str:
    head = (
        '<section aria-labelledby="figures-h"><h2 id="figures-h">Figures DfE will derive</h2>'
        "<p>The headline measures of each return, exact (not rounded or suppressed as DfE publishes them; "
        "<code>preview</code> shows them that way).</p>"
    )
    measures: dict[str, tuple[str, str]] = {}
    shown: dict[str, dict[int, str]] = {}
    for n, o in enumerate(outcomes):
        for f in o.figures:
            key = str(f["id"])
            measures.setdefault(key, (str(f["group"]), str(f["label"])))
            shown.setdefault(key, {})[n] = str(f["shown"])
    if not measures:
        return head + "<p>No return could be read.</p></section>"
    rows, group = [], None
    for key, (in_group, label) in measures.items():
        if in_group != group:
            group = in_group
            rows.append(f'<tr><th scope="rowgroup" colspan="{len(outcomes) + 1}">{_e(group)}</th></tr>')
        cells = "".join(f'<td class="n">{_e(shown[key].get(n, ""))}</td>' for n in range(len(outcomes)))
        rows.append(f'<tr><th scope="row">{_e(label)}</th>{cells}</tr>')
    return head + _table("Figures", ["Measure", *heads], rows) + "</section>"
