"""A rule rendered for people: its code, message, severity, description, logic, examples, divergence and years.

One module renders a rule, for every place a rule is shown: `rules show` (Markdown text), the web app's Rules
pages (an HTML fragment) and the reference pages `rules pages` writes (one HTML and one Markdown page per return
and year). The logic is written out from the loaded YAML, so shared (anchored) parts appear in full, and each
example is drawn as small tables with the rows it expects flagged. Every value from the rule files is escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.diff import codelists_used, logic_of
from ..engine.model import rules_for
from ..engine.rule import Example, Rule, divergence_blocks
from ..engine.rule_text import derived_terms, dump_yaml, parts_as_written
from ..schema import RETURN_NAMES
from ..years import SUPPORTED_YEARS
from . import write_atomic
from .details import code_key
from .page import page_head

_ASSETS = Path(__file__).resolve().parent
RULE_DOC_CSS = _ASSETS / "rule_doc.css"  # also served by the web app as /static/rule_doc.css
PAGE_FORMATS = ("html", "markdown")
DIVERGENCE_PARTS = (("reference", "The community tool"), ("ours", "This rule"), ("why", "Why"))


# --------------------------------------------------------------------------------------------------- the facts


def years_text(years: Sequence[str], available: Sequence[str]) -> str:
    """Years as ranges of consecutive supported years: "2022_23..2024_25, 2026_27"."""
    runs: list[list[str]] = []
    position = {y: i for i, y in enumerate(available)}
    for year in years:
        if runs and position.get(year, -9) == position.get(runs[-1][-1], -99) + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]}..{run[-1]}" for run in runs)


def rule_years(rule: Rule) -> str:
    return years_text(rule.years, SUPPORTED_YEARS[rule.return_type])


def logic_yaml(rule: Rule) -> str:
    """The rule's logic (condition, joins, lets, sequence) as written, comments kept, YAML anchors written out."""
    logic = logic_of(rule)
    return parts_as_written(rule.text, list(logic), logic) or dump_yaml(logic)


def derived_of(rule: Rule) -> list[tuple[str, str]]:
    """(column, meaning) of each column the rule's logic names that the validator works out itself."""
    return derived_terms(logic_yaml(rule))


LOGIC_HINT = "As written in the rule file, with the parts it shares with other rules written out in full:"
WORKED_OUT = "Worked out by the validator (not fields of the file):"
WRITTEN_OUT = "shared parts written out where they are used"


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class ExampleTable:
    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    flagged: frozenset[int] | None  # rows the example expects flagged (the rule's own table only)


def example_tables(rule: Rule, example: Example) -> list[ExampleTable]:
    """The example's tables, each with the union of its rows' columns in the order they first appear."""
    out = []
    for name, rows in example.tables.items():
        columns = tuple(dict.fromkeys(key for row in rows for key in row))
        cells = tuple(tuple(_cell(row.get(c)) for c in columns) for row in rows)
        flagged = frozenset(example.flagged) if example.flagged is not None and name == rule.table else None
        out.append(ExampleTable(name, columns, cells, flagged))
    if example.postcodes is not None:
        columns = tuple(dict.fromkeys(key for row in example.postcodes for key in row))
        cells = tuple(tuple(_cell(row.get(c)) for c in columns) for row in example.postcodes)
        out.append(ExampleTable("ONS postcode data", columns, cells, None))
    return out


def example_facts(rule: Rule, example: Example) -> list[str]:
    """What the example runs with besides its tables: the year, LA, reference date, tables left out."""
    facts = [f"year {example.year or rule.years[0]}"]
    if "la" in example.context:
        facts.append(f"LA {example.context['la']}")
    if "reference_date" in example.context:
        facts.append(f"reference date {example.context['reference_date']}")
    if example.absent:
        facts.append("not supplied: " + ", ".join(example.absent))
    return facts


def divergences_of(rule: Rule) -> list[list[tuple[str, str]]]:
    """The rule's own divergence blocks, then the file-level divergences that change its findings, as
    (label, text) pairs."""
    from ..engine.divergences import file_divergences_for

    found = []
    for block in divergence_blocks(rule.spec):
        found.append([(label, block[key]) for key, label in DIVERGENCE_PARTS] + [("Example", block["example"])])
    for entry in file_divergences_for(rule.return_type, rule.code):
        example = entry["example"]
        shown = f"rule {example['rule']}: {example['name']}" if "rule" in example else f"test {example['test']}"
        found.append(
            [("File-level divergence", entry["id"]), ("Rules it changes", ", ".join(entry["codes"]))]
            + [(label, entry[key]) for key, label in DIVERGENCE_PARTS]
            + [("Example", shown)]
        )
    return found


def outcome_text(example: Example) -> str:
    return "fails the rule" if example.expect == "fail" else "passes"


# --------------------------------------------------------------------------------------------------- Markdown

# Characters Markdown (or HTML inside it) could act on: always, or only where they would act. An underscore
# between letters or digits never makes emphasis (2024_25, DATE_PLACED), nor does an ampersand that starts no
# entity; a #, >, +, - or "1." starts a heading, quote or list only at the start of a line.
_MD_SPECIAL = re.compile(r"[\\`*\[\]<>|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|&(?=#?[A-Za-z0-9]+;)")
_MD_LINE_START = re.compile(r"^(\d*)([.)](?=\s|$)|[#+-](?=\s|$))")


def md_text(text: str) -> str:
    """Plain text for Markdown on one line, escaped so that Markdown shows it as it is."""
    escaped = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), " ".join(str(text).split()))
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def md_code(text: str) -> str:
    """An inline code span that holds any text, backticks and table pipes included."""
    text = " ".join(str(text).split()).replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_block(text: str, language: str = "") -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(r) for r in rows)]


def rule_markdown(rule: Rule, level: int = 2, source: bool = True) -> str:
    """A rule as Markdown: heading, facts, description, logic, divergence, examples (and the YAML as written)."""
    h = "#" * level
    out = [f"{h} {md_text(rule.code)}: {md_text(rule.message)}", ""]
    facts = [
        ("Return", md_text(RETURN_NAMES.get(rule.return_type, rule.return_type))),
        ("Severity", md_text(rule.severity)),
        ("Level", md_text(rule.level)),
        ("Years", md_text(rule_years(rule))),
        ("Table", md_code(rule.table)),
        ("Fields", ", ".join(md_code(f) for f in rule.fields) or "(none)"),
        ("Tables read", ", ".join(md_code(t) for t in rule.tables_used)),
    ]
    lists = codelists_used(rule)
    if lists:
        facts.append(("Code lists", ", ".join(md_code(n) for n in lists)))
    if source:
        facts.append(("Rule file", md_text(f"{Path(rule.source).name} line {rule.line}")))
    out += [*(f"- **{k}:** {v}" for k, v in facts), ""]
    if rule.description:
        out += [md_text(rule.description), ""]
    if rule.notes:
        out += [f"**Notes.** {md_text(rule.notes)}", ""]
    out += [f"{h}# Condition", ""]
    out += [
        f"True for a record that fails the rule. {LOGIC_HINT}",
        "",
        md_block(logic_yaml(rule), "yaml"),
        "",
    ]
    derived = derived_of(rule)
    if derived:
        out += [WORKED_OUT, "", *(f"- {md_code(name)}: {md_text(meaning)}" for name, meaning in derived), ""]
    blocks = divergences_of(rule)
    if blocks:
        out += [f"{h}# Where it differs from the community tool", ""]
    for block in blocks:
        out += [f"- **{label}:** {md_text(value)}" for label, value in block] + [""]
    out += [f"{h}# Examples", ""]
    for example in rule.examples:
        mark = "✗" if example.expect == "fail" else "✓"
        out += [
            f"**{mark} {md_text(example.name)}**: {outcome_text(example)} "
            f"({md_text('; '.join(example_facts(rule, example)))})",
            "",
        ]
        for table in example_tables(rule, example):
            header = ["row", *(md_code(c) for c in table.columns)]
            if table.flagged is not None:
                header.append("flagged")
            rows = []
            for i, row in enumerate(table.rows):
                cells = [str(i), *(md_text(c) if c else "" for c in row)]
                if table.flagged is not None:
                    cells.append("**flagged**" if i in table.flagged else "")
                rows.append(cells)
            out += [f"{md_code(table.name)}:", "", *(md_table(header, rows) if rows else ["(no records)"]), ""]
    if source and rule.text:
        name = md_text(Path(rule.source).name)
        out += [f"{h}# As written in {name} ({WRITTEN_OUT})", "", md_block(rule.text, "yaml"), ""]
    return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------------------------------- HTML


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def rule_anchor(rule: Rule) -> str:
    return "rule-" + re.sub(r"[^A-Za-z0-9]", "-", rule.code)


def _html_example(rule: Rule, example: Example) -> str:
    parts = [
        f'<div class="rd-example rd-{_e(example.expect)}">',
        f'<p class="rd-outcome"><strong>{"✗" if example.expect == "fail" else "✓"} {_e(example.name)}</strong>: '
        f'{_e(outcome_text(example))} <span class="rd-hint">({_e("; ".join(example_facts(rule, example)))})</span></p>',
    ]
    for table in example_tables(rule, example):
        head = "".join(f'<th scope="col">{_e(c)}</th>' for c in ("row", *table.columns))
        if table.flagged is not None:
            head += '<th scope="col">flagged</th>'
        body = []
        for i, row in enumerate(table.rows):
            flagged = table.flagged is not None and i in table.flagged
            cells = "".join(f"<td>{_e(c)}</td>" for c in row)
            mark = "" if table.flagged is None else f"<td>{'flagged' if flagged else ''}</td>"
            row_class = ' class="rd-flagged"' if flagged else ""
            body.append(f"<tr{row_class}><td>{i}</td>{cells}{mark}</tr>")
        if not table.rows:
            body.append(f'<tr><td colspan="{len(table.columns) + 1}">(no records)</td></tr>')
        parts.append(
            f'<table class="rd-table"><caption>{_e(table.name)}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>"
        )
    parts.append("</div>")
    return "".join(parts)


def rule_html(rule: Rule, level: int = 2, source: bool = True) -> str:
    """A rule as an HTML fragment (classes only, no inline style or script), every value escaped."""
    h, h2 = f"h{level}", f"h{level + 1}"
    facts = [
        ("Return", _e(RETURN_NAMES.get(rule.return_type, rule.return_type))),
        ("Severity", f'<span class="rd-sev rd-sev-{_e(rule.severity)}">{_e(rule.severity)}</span>'),
        ("Level", _e(rule.level)),
        ("Years", _e(rule_years(rule))),
        ("Table", f"<code>{_e(rule.table)}</code>"),
        ("Fields", ", ".join(f"<code>{_e(f)}</code>" for f in rule.fields) or "(none)"),
        ("Tables read", ", ".join(f"<code>{_e(t)}</code>" for t in rule.tables_used)),
    ]
    lists = codelists_used(rule)
    if lists:
        facts.append(("Code lists", ", ".join(f"<code>{_e(n)}</code>" for n in lists)))
    if source:
        facts.append(("Rule file", _e(f"{Path(rule.source).name} line {rule.line}")))
    parts = [
        f'<section class="rd-rule" id="{_e(rule_anchor(rule))}">',
        f'<{h}><span class="rd-code">{_e(rule.code)}</span> {_e(rule.message)}</{h}>',
        '<dl class="rd-facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>",
    ]
    if rule.description:
        parts.append(f'<p class="rd-description">{_e(rule.description)}</p>')
    if rule.notes:
        parts.append(f'<p class="rd-notes"><strong>Notes.</strong> {_e(rule.notes)}</p>')
    parts.append(f"<{h2}>Condition</{h2}>")
    parts.append(
        '<p class="rd-hint">True for a record that fails the rule. '
        f'{_e(LOGIC_HINT)}</p><pre class="rd-logic">{_e(logic_yaml(rule))}</pre>'
    )
    derived = derived_of(rule)
    if derived:
        items = "".join(f"<li><code>{_e(name)}</code>: {_e(meaning)}</li>" for name, meaning in derived)
        parts.append(f'<p class="rd-hint">{_e(WORKED_OUT)}</p><ul class="rd-derived">{items}</ul>')
    blocks = divergences_of(rule)
    if blocks:
        parts.append(f"<{h2}>Where it differs from the community tool</{h2}>")
    for block in blocks:
        parts.append(
            '<dl class="rd-facts rd-divergence">'
            + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in block)
            + "</dl>"
        )
    parts.append(f"<{h2}>Examples</{h2}>")
    parts += [_html_example(rule, example) for example in rule.examples]
    if source and rule.text:
        parts.append(
            f"<details><summary>As written in {_e(Path(rule.source).name)} ({_e(WRITTEN_OUT)})</summary>"
            f"<pre>{_e(rule.text)}</pre></details>"
        )
    parts.append("</section>")
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------------- pages


def page_name(return_type: str, year: str, fmt: str) -> str:
    return f"{return_type}-{year}.{'html' if fmt == 'html' else 'md'}"


def html_document(title: str, body: str) -> str:
    """A self-contained page: its style inline (allowed by hash), no script, nothing fetched from anywhere."""
    css = RULE_DOC_CSS.read_text(encoding="utf-8")
    return "\n".join([*page_head(title, css), f'<body class="rd-doc"><main>{body}</main></body>', "</html>", ""])


def _intro(return_type: str, year: str, count: int) -> str:
    return (
        f"The {count} {RETURN_NAMES.get(return_type, return_type)} rules that run for {year}, generated from the "
        "rule files by `python -m validator rules pages`. Each rule's examples are the ones the test suite runs."
    )


def page_markdown(return_type: str, year: str, rules: Sequence[Rule]) -> str:
    ordered = sorted(rules, key=lambda r: code_key(r.code))
    out = [
        f"# {md_text(RETURN_NAMES.get(return_type, return_type))} rules, {year}",
        "",
        md_text(_intro(return_type, year, len(ordered))),
        "",
    ]
    out += md_table(
        ["code", "severity", "message"], [(md_text(r.code), r.severity, md_text(r.message)) for r in ordered]
    )
    out.append("")
    out += [rule_markdown(r, level=2) for r in ordered]
    return "\n".join(out).rstrip() + "\n"


def page_html(return_type: str, year: str, rules: Sequence[Rule]) -> str:
    ordered = sorted(rules, key=lambda r: code_key(r.code))
    title = f"{RETURN_NAMES.get(return_type, return_type)} rules, {year}"
    rows = "".join(
        f'<tr><td class="rd-code"><a href="#{_e(rule_anchor(r))}">{_e(r.code)}</a></td>'
        f'<td><span class="rd-sev rd-sev-{_e(r.severity)}">{_e(r.severity)}</span></td><td>{_e(r.message)}</td></tr>'
        for r in ordered
    )
    body = (
        f'<h1>{_e(title)}</h1><p><a href="index.html">All returns and years</a></p>'
        f"<p>{_e(_intro(return_type, year, len(ordered)))}</p>"
        '<table class="rd-table rd-contents"><thead><tr><th scope="col">Code</th><th scope="col">Severity</th>'
        f'<th scope="col">Message</th></tr></thead><tbody>{rows}</tbody></table>'
        + "\n".join(rule_html(r, level=2) for r in ordered)
    )
    return html_document(title, body)


def index_markdown(pages: Sequence[tuple[str, str]]) -> str:
    out = ["# Rule reference", "", "One page per return and collection year, generated from the rule files.", ""]
    out += [f"- [{md_text(RETURN_NAMES[r])} {y}]({page_name(r, y, 'markdown')})" for r, y in pages]
    return "\n".join(out) + "\n"


def index_html(pages: Sequence[tuple[str, str]]) -> str:
    items = "".join(
        f'<li><a href="{_e(page_name(r, y, "html"))}">{_e(RETURN_NAMES[r])} {_e(y)}</a></li>' for r, y in pages
    )
    body = (
        "<h1>Rule reference</h1><p>One page per return and collection year, generated from the rule files.</p>"
        f"<ul>{items}</ul>"
    )
    return html_document("Rule reference", body)


def write_pages(
    output_dir: Path,
    formats: Sequence[str] = PAGE_FORMATS,
    return_types: Sequence[str] | None = None,
    years: Sequence[str] | None = None,
) -> list[Path]:
    """One page per return and year in each format, and an index; the paths written."""
    pages = [
        (ret, year)
        for ret in (return_types or list(SUPPORTED_YEARS))
        for year in SUPPORTED_YEARS[ret]
        if not years or year in years
    ]
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        for ret, year in pages:
            rules = rules_for(ret, year)
            text = page_html(ret, year, rules) if fmt == "html" else page_markdown(ret, year, rules)
            path = output_dir / page_name(ret, year, fmt)
            write_atomic(path, text.encode("utf-8"))
            written.append(path)
        index = output_dir / ("index.html" if fmt == "html" else "index.md")
        write_atomic(index, (index_html(pages) if fmt == "html" else index_markdown(pages)).encode("utf-8"))
        written.append(index)
    return written
