"""Rules rendered for people (validator/outputs/rule_doc.py): `rules show`, `rules pages` and the web app's pages."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from validator.cli import main
from validator.engine.model import Rule, find_rules, load_rule_file, rules_for
from validator.outputs.rule_doc import (
    logic_yaml,
    md_code,
    md_text,
    page_html,
    page_markdown,
    rule_html,
    rule_markdown,
    years_text,
)
from validator.web import pages

HOSTILE = """\
rules:
  - code: "999"
    message: "Ends <script>alert(1)</script> | `tick` *star* [link](x) & more"
    severity: error
    level: record
    table: Episodes
    fields: [DEC]
    years: 2022_23..2023_24
    description: "# not a heading; <b>not bold</b>"
    divergence:
      reference: "Reads <i>only</i> the first row"
      ours: Reads every row.
      why: DfE says so.
      example: "ended <early>"
    let:
      first: &first_start {min: {table: Episodes, as: e, value: "e.DECOM"}}
      again: *first_start
    condition: "DEC < DECOM and first == again"
    examples:
      - name: "ended <early>"
        expect: fail
        tables:
          Episodes:
            - {CHILD: "<img src=x onerror=alert(1)>", DECOM: 01/05/2022, DEC: 30/04/2022}
            - {CHILD: "a|b", DECOM: 01/05/2022}
        flagged: [0]
      - name: fine
        expect: pass
        year: 2023_24
        context: {la: E09000027}
        tables:
          Episodes: [{CHILD: "1", DECOM: 01/05/2023, DEC: 02/05/2023}]
          Header: []
"""


@pytest.fixture
def hostile(tmp_path: Path) -> Rule:
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE, encoding="utf-8")
    (rule,) = load_rule_file(path, "ssda903")
    return rule


class _Collector(HTMLParser):
    """Elements and attributes of a page, and whether every element closed in order."""

    VOID = frozenset({"meta", "link", "br", "img", "input", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.stack: list[str] = []
        self.balanced = True
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.balanced = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> _Collector:
    collector = _Collector()
    collector.feed(text)
    collector.close()
    return collector


def test_html_escapes_every_value(hostile: Rule) -> None:
    fragment = rule_html(hostile)
    found = parse(fragment)
    assert found.balanced and not found.stack
    assert {"script", "img", "i", "b", "early"}.isdisjoint(found.tags)
    text = "".join(found.text)
    assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(1)>" in text
    assert "Reads <i>only</i> the first row" in text


def test_markdown_escapes_every_value(hostile: Rule) -> None:
    text = rule_markdown(hostile)
    assert "<script>" not in text.split("```")[0] and "\\<script\\>" in text
    assert "\\| \\`tick\\` \\*star\\* \\[link\\](x) & more" in text
    assert "\\<img src=x onerror=alert(1)\\>" in text  # an example value in a table cell
    assert "| 1 | a\\|b | 01/05/2022 |  |  |" in text  # the pipe does not split the cell; blanks stay blank
    assert "\\# not a heading" in text
    assert md_code("a`b|c") == "``a`b\\|c``" and md_code("`x") == "`` `x ``"
    assert md_text("2024_25 and _x_") == "2024_25 and \\_x\\_"
    assert md_text("1. first") == "1\\. first" and md_text("-1 day") == "-1 day"


def test_logic_is_written_out_with_anchors_resolved(hostile: Rule) -> None:
    logic = logic_yaml(hostile)
    assert logic.count('value: "e.DECOM"') == 2 and "*" not in logic and "&" not in logic
    assert 'condition: "DEC < DECOM and first == again"' in logic
    # The YAML as written is shown too, after the rendered rule, with the shared part written out where it is used.
    written = 'again: {min: {table: Episodes, as: e, value: "e.DECOM"}}'
    assert written in rule_markdown(hostile) and written.replace('"', "&quot;") in rule_html(hostile)
    assert "*first_start" not in rule_markdown(hostile) + rule_html(hostile)
    assert rule_markdown(hostile).count(written) == 2 and rule_markdown(hostile, source=False).count(written) == 1


def test_examples_are_tables_with_the_expected_outcome_and_flagged_rows(hostile: Rule) -> None:
    text = rule_markdown(hostile)
    assert "**✗ ended \\<early\\>**: fails the rule (year 2022_23)" in text
    assert "**✓ fine**: passes (year 2023_24; LA E09000027)" in text
    assert "| row | `CHILD` | `DECOM` | `DEC` | flagged |" in text
    assert "| 30/04/2022 | **flagged** |" in text
    assert "`Header`:\n\n(no records)" in text
    fragment = rule_html(hostile)
    assert fragment.count('class="rd-flagged"') == 1 and 'class="rd-example rd-fail"' in fragment
    assert '<td colspan="1">(no records)</td>' in fragment


def test_facts_divergence_and_years(hostile: Rule) -> None:
    text = rule_markdown(hostile)
    assert "- **Severity:** error" in text and "- **Years:** 2022_23..2023_24" in text
    assert "- **The community tool:** Reads \\<i\\>only\\</i\\> the first row" in text
    assert "- **Example:** ended \\<early\\>" in text
    available = ("2022_23", "2023_24", "2024_25", "2025_26")
    assert years_text(["2022_23", "2023_24", "2025_26"], available) == "2022_23..2023_24, 2025_26"
    assert years_text(["2024_25"], available) == "2024_25"


def test_page_html_is_self_contained(hostile: Rule) -> None:
    page = page_html("ssda903", "2022_23", [hostile])
    found = parse(page)
    assert found.balanced and "script" not in found.tags and "link" not in found.tags
    links = [v for k, v in found.attrs if k in ("href", "src")]
    assert links == ["index.html", "#rule-999"]  # nothing from the network, only the page's own links
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"default-src &#x27;none&#x27;; style-src &#x27;sha256-{digest}&#x27;" in page
    assert "http://" not in page and "https://" not in page and "url(" not in style.group(1)


def test_real_pages_cover_every_rule_of_the_year() -> None:
    rules = rules_for("cin", "2024_25")
    markdown = page_markdown("cin", "2024_25", rules)
    html = page_html("cin", "2024_25", rules)
    assert parse(html).balanced
    for rule in rules:
        assert f"\n## {md_text(rule.code)}: " in markdown
        assert f'id="rule-{rule.code}"' in html


def test_cli_writes_the_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pages"
    assert main(["rules", "pages", "--output-dir", str(out), "--return", "cin", "--year", "2024_25"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["cin-2024_25.html", "cin-2024_25.md", "index.html", "index.md"]
    assert "(cin-2024_25.md)" in (out / "index.md").read_text(encoding="utf-8")
    assert main(["rules", "pages", "--output-dir", str(out / "h"), "--format", "html", "--return", "cin"]) == 0
    assert len(list((out / "h").glob("cin-*.html"))) == 4 and not list((out / "h").glob("*.md"))
    assert main(["rules", "pages", "--output-dir", str(out), "--return", "cin", "--year", "2026_27"]) == 2
    assert "no rules for 2026_27" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["rules", "pages", "--output-dir", str(out), "--format", "pdf"])


def test_rules_show_and_the_web_app_use_the_same_rendering(capsys: pytest.CaptureFixture[str]) -> None:
    (rule,) = find_rules("8675Q")
    assert main(["rules", "show", "8675q"]) == 0
    assert rule_markdown(rule) in capsys.readouterr().out
    assert main(["rules", "show", "8675Q", "--yaml"]) == 0
    assert capsys.readouterr().out.split("\n", 1)[1].strip() == rule.text.strip()
    assert rule_html(rule, level=2) in pages.rule_page("8675Q", [rule])
    assert rule_html(rule, level=3) in pages.rules_page("cin", "2024_25", "", [rule])
