"""The app's pages as HTML strings. Every value is escaped; styles and scripts come from /static only."""

from __future__ import annotations

import html
from collections.abc import Sequence
from urllib.parse import urlencode

from .._version import __version__
from ..engine.model import Rule, rule_heading
from ..outputs.rule_doc import rule_html
from ..outputs.words import plural
from ..reference.authorities import english_las, la_label
from ..result import completeness
from ..schema import RETURN_NAMES
from ..years import SUPPORTED_YEARS
from .downloads import DOWNLOADS
from .session import Job


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def layout(title: str, body: str, active: str = "") -> str:
    nav = "".join(
        f'<li><a href="{href}"{" aria-current=page" if key == active else ""}>{label}</a></li>'
        for key, href, label in (("validate", "/", "Validate"), ("rules", "/rules", "Rules"))
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en-GB">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="referrer" content="same-origin">',
            '<link rel="icon" href="data:,">',
            f"<title>{_e(title)} — csc-validator</title>",
            '<link rel="stylesheet" href="/static/app.css">',
            *(['<link rel="stylesheet" href="/static/rule_doc.css">'] if active == "rules" else []),
            '<script src="/static/app.js" defer></script>',
            "</head>",
            "<body>",
            '<header class="bar"><span class="brand">csc-validator</span>'
            f'<nav aria-label="App"><ul>{nav}</ul></nav>'
            f'<span class="local">running on this computer only · {_e(__version__)}</span></header>',
            f"<main>{body}</main>",
            "</body>",
            "</html>",
        ]
    )


def message_page(title: str, message: str) -> str:
    """A bare page (no stylesheet: it may be shown to a browser that has no access)."""
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f"<title>{_e(title)}</title></head><body><h1>{_e(title)}</h1><p>{_e(message)}</p></body></html>"
    )


def _years() -> list[str]:
    return sorted({y for years in SUPPORTED_YEARS.values() for y in years})


def _select(name: str, label: str, options: Sequence[tuple[str, str]], chosen: str = "", hint: str = "") -> str:
    opts = "".join(f'<option value="{_e(v)}"{" selected" if v == chosen else ""}>{_e(t)}</option>' for v, t in options)
    hint_html = f'<span class="hint" id="{name}-hint">{_e(hint)}</span>' if hint else ""
    described = f' aria-describedby="{name}-hint"' if hint else ""
    return (
        f'<div class="field"><label for="{name}">{_e(label)}</label>{hint_html}'
        f'<select id="{name}" name="{name}"{described}>{opts}</select></div>'
    )


def _file_input(name: str, label: str, hint: str, accept: str, required: bool = False) -> str:
    return (
        f'<div class="field drop" data-for="{name}"><label for="{name}">{_e(label)}</label>'
        f'<span class="hint" id="{name}-hint">{_e(hint)}</span>'
        f'<input type="file" id="{name}" name="{name}" multiple accept="{_e(accept)}" '
        f'aria-describedby="{name}-hint"{" required" if required else ""}>'
        f'<ul class="chosen" aria-live="polite"></ul></div>'
    )


def _options_fields(chosen: dict[str, str] | None = None) -> str:
    """The return, year, LA (picked from the list of English LAs by name; a code is accepted too) and rule subset
    fields of a validation form."""
    chosen = chosen or {}
    returns = [("", "Recognise it from the files"), *((k, RETURN_NAMES[k]) for k in SUPPORTED_YEARS)]
    years = [("", "Work it out from the files"), *((y, y.replace("_", "-")) for y in reversed(_years()))]
    las = "".join(f'<option value="{_e(f"{name} ({code})")}"></option>' for code, name in english_las().items())
    return f"""<div class="row">
{_select("return_type", "Return", returns, chosen.get("return_type", ""))}
{_select("year", "Collection year", years, chosen.get("year", ""), hint="From the files: the CIN header's year, or the latest SSDA903 episode; failing that, the last complete year by today's date.")}
<div class="field"><label for="la">Your LA</label><span class="hint" id="la-hint">Optional: start typing its name and choose it, or write its ONS code (e.g. E09000027)</span>
<input type="text" id="la" name="la" list="la-list" maxlength="80" autocomplete="off" spellcheck="false" aria-describedby="la-hint" value="{_e(chosen.get("la", ""))}">
<datalist id="la-list">{las}</datalist></div>
<div class="field"><label for="rules">Only these rules</label><span class="hint" id="rules-hint">Optional: codes separated by commas, e.g. 101, 8675Q; empty for every rule</span>
<input type="text" id="rules" name="rules" maxlength="2000" autocomplete="off" spellcheck="false" aria-describedby="rules-hint" value="{_e(chosen.get("rules", ""))}"></div>
</div>"""


def upload_page(job: Job | None, error: str = "") -> str:
    latest = ""
    if job is not None:
        what = {"running": "is running", "done": "is ready", "failed": "failed"}[job.state]
        href = "/progress" if job.state == "running" else "/result"
        latest = f'<p class="latest">Your last validation {what}: <a href="{href}">see it</a>.</p>'
    problem = f'<div class="problem" role="alert"><p>{_e(error)}</p></div>' if error else ""
    data_types = ".csv,.xml,.tsv,.txt,.xlsx,.xlsm,.xls,.ods,text/csv,text/xml,application/xml"
    body = f"""
<h1>Validate a return</h1>
<p class="lead">Choose the files of your SSDA903 or CIN census return. They are checked on this computer
and never leave it; they are kept in a temporary folder until you clear the session or stop the app.</p>
{latest}{problem}
<form id="upload" method="post" action="/validate" enctype="multipart/form-data">
{_file_input("current", "This year's return", "The CSV tables (select them all) or the XML file. Drop them here or choose them.", data_types, required=True)}
{_options_fields()}
<details class="more"><summary>Previous years and reference files (optional)</summary>
{_file_input("previous1", "Last year's return", "Some SSDA903 rules compare with last year; without it they are not run.", data_types)}
{_file_input("previous2", "The year before last", "For the few rules that look back two years.", data_types)}
{_file_input("providers", "Ofsted provider lists", "Children's homes or social care providers (xlsx or CSV), for the SSDA903 URN rules.", ".xlsx,.csv")}
</details>
<p><button type="submit" class="primary">Validate</button></p>
</form>
<form method="post" action="/clear" class="clear"><button type="submit">Clear session (delete the uploaded files)</button></form>
"""
    return layout("Validate a return", body, "validate")


def progress_page(job: Job) -> str:
    status = job.status()
    body = f"""
<h1>Validating…</h1>
<div class="progress" id="progress" data-state="{_e(status["state"])}">
<p id="stage" aria-live="polite">{_e(status["label"])}</p>
<progress id="bar" max="1"></progress>
<p class="hint">This page moves on to the report by itself. <noscript>Reload it to see how far it has got.</noscript></p>
<p><a href="/result">See the result</a> (when it is ready)</p>
</div>
"""
    return layout("Validating", body, "validate")


def result_page(job: Job) -> str:
    if job.state == "failed" or job.result is None:
        kept = "".join(f"<li>{_e(name)}</li>" for name in job.names.values())
        again = (
            f"""<h2>Try again with the same files</h2><p>The files you chose are kept:</p><ul class="chosen">{kept}</ul>
<form method="post" action="/validate" enctype="multipart/form-data"><input type="hidden" name="reuse" value="1">
{_options_fields(job.form)}<p><button type="submit" class="primary">Validate again</button></p></form>"""
            if job.state == "failed" and kept
            else ""
        )
        body = f"""
<h1>The validation did not finish</h1>
<div class="problem" role="alert"><p>{_e(job.message or "It is still running.")}</p></div>
{again}
<p><a href="/">Choose other files</a></p>
"""
        return layout("Validation failed", body, "validate")
    result = job.result
    ctx = result.context
    title = f"{RETURN_NAMES.get(result.return_type, result.return_type)} {ctx.year}" + (
        f", LA {la_label(ctx.la)}" if ctx.la else ""
    )
    counts = ", ".join(
        f'<span class="sev-{s}">{plural(result.count(s), s)}</span>' for s in ("error", "query", "notice")
    )
    unusable = (
        '<div class="problem" role="alert"><p>None of the files could be read as a table of the return: '
        "check you chose the right files.</p></div>"
        if result.input_unusable
        else ""
    )
    downloads = "".join(
        f'<li><a class="button" href="/download/{_e(d.key)}" download="{_e(d.filename(result))}" '
        f'data-download="{_e(d.key)}" title="{_e(d.hint)}">{_e(d.label)}</a></li>'
        for d in DOWNLOADS
    )
    rules_link = "/rules?" + urlencode({"return": result.return_type, "year": ctx.year})
    body = f"""
<div class="result-head">
<div><h1>{_e(title)}</h1><p class="counts">{counts} · {_e(completeness(result, "web"))}, in {job.status()["seconds"]} s ·
<a href="{_e(rules_link)}">the rules of {_e(ctx.year)}</a></p>{unusable}</div>
<div class="downloads"><h2 id="downloads-h">Download</h2><ul id="downloads" aria-labelledby="downloads-h">{downloads}</ul>
<p><a href="/report" target="_blank" rel="noopener">Open the report in its own tab</a></p>
<form method="post" action="/clear"><button type="submit">Clear session</button></form></div>
</div>
<iframe id="report" src="/report" title="Validation report"></iframe>
"""
    return layout(f"Result: {title}", body, "validate")


def rules_page(return_type: str, year: str, query: str, rules: Sequence[Rule]) -> str:
    returns = [(k, RETURN_NAMES[k]) for k in SUPPORTED_YEARS]
    years = [(y, y.replace("_", "-")) for y in reversed(SUPPORTED_YEARS[return_type])]
    needle = query.strip().lower()
    rows = []
    shown = 0
    for rule in rules:
        hit = not needle or needle in f"{rule.code} {rule.message} {rule.text}".lower()
        shown += hit
        rows.append(
            f"<tr{'' if hit else ' hidden'}>"
            f'<td class="code"><a href="/rules/{_e(rule.code)}?return={_e(return_type)}">{_e(rule.code)}</a></td>'
            f'<td><span class="sev sev-{_e(rule.severity)}">{_e(rule.severity)}</span></td>'
            f"<td>{_e(rule.level)}</td>"
            f"<td>{_e(rule.message)}<details><summary>The rule</summary>{rule_html(rule, level=3)}</details></td></tr>"
        )
    body = f"""
<h1>Rules</h1>
<form class="row" method="get" action="/rules" id="rules-form">
{_select("return", "Return", returns, return_type)}
{_select("year", "Collection year", years, year)}
<div class="field"><label for="q">Search</label><span class="hint" id="q-hint">Code, message or YAML</span>
<input type="search" id="q" name="q" value="{_e(query)}" aria-describedby="q-hint" aria-controls="rules-table"></div>
<div class="field"><button type="submit">Show</button></div>
</form>
<p id="rules-count" aria-live="polite" data-total="{len(rules)}">{shown:,} of {len(rules):,} rules</p>
<table id="rules-table" class="rules"><thead><tr><th scope="col">Code</th><th scope="col">Severity</th>
<th scope="col">Level</th><th scope="col">Message and YAML</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
"""
    return layout(f"Rules {year}", body, "rules")


def rule_page(code: str, rules: Sequence[Rule]) -> str:
    """Every version of one rule, rendered as `rules show` and the reference pages render it."""
    if not rules:
        body = f'<h1>Rule {_e(code)}</h1><div class="problem"><p>There is no rule {_e(code)}.</p></div>'
    else:
        parts = [f"<h1>Rule {_e(rules[0].code)}</h1>"]
        for rule in rules:
            parts.append(f'<p class="hint">{_e(rule_heading(rule))}</p>{rule_html(rule, level=2)}')
        body = "".join(parts)
    return layout(f"Rule {code}", body + '<p><a href="/rules">All rules</a></p>', "rules")
