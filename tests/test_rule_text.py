"""A rule's YAML for people (validator/engine/rule_text.py): shared parts written out, derived columns explained."""

from __future__ import annotations

import html
import io
import itertools
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from validator.cli import main
from validator.engine import rule_text
from validator.engine.derived import child_columns, derived_columns
from validator.engine.model import find_rules, load_rule_file, load_rules
from validator.engine.rule import RETURN_COLUMNS
from validator.engine.rule_text import derived_terms, dump_yaml, parts_as_written, unresolved_marks, written_out
from validator.outputs.rule_doc import logic_yaml, rule_html, rule_markdown
from validator.schema import load_schema
from validator.web import pages
from validator.yamlio import load_yaml

SHARED = """\
rules:
  - code: "A"
    sequence: &first {by: CHILD, order: [DECOM]}
    let: &last_start
      last_start: {max: {table: Episodes@previous, as: last, value: "last.DECOM"}}   # last year's final episode
      count_all: {count: {table: Episodes, as: e}}
    description: &words >-
      Folded text
      over two lines.
    items:
      - &item
        a: 1
        b: [2, 3]
  - code: "B"
    sequence: *first
    inner:
        let: *last_start
    description: *words
    nested: &both {seq: *first, n: 1}
    items:
      - *item
  - code: "C"
    again: *both   # a comment after an alias
"""


def _yaml_shown(text: str) -> str:
    """The YAML a rendering shows: its ```yaml blocks (Markdown) or <pre> blocks (HTML), or all of a --yaml text."""
    blocks = re.findall(r"```yaml\n(.*?)\n```", text, re.S) + re.findall(r"<pre[^>]*>(.*?)</pre>", text, re.S)
    return "\n".join(html.unescape(b) for b in blocks) if blocks else text


def _entries(text: str) -> tuple[list[tuple[int, str]], list[dict[str, object]]]:
    """(first line, text as written) and the loaded data of each entry of a file's `rules:` list (as the loader)."""
    lines = text.rstrip("\n").split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("  - ")] + [len(lines)]
    entries = [(a + 1, "\n".join(x[2:] for x in lines[a:b]).rstrip()) for a, b in itertools.pairwise(starts)]
    return entries, load_yaml(text)["rules"]


def test_aliases_are_written_out_where_they_are_used() -> None:
    entries, specs = _entries(SHARED)
    shown = written_out(SHARED, entries, specs)
    for text, spec in zip(shown, specs, strict=True):
        assert load_yaml(text) == [spec]  # reads back as the same rule
        assert unresolved_marks(text) == [] and "&" not in text and "*" not in text
    a, b, c = shown
    assert "sequence: {by: CHILD, order: [DECOM]}" in a and "let:\n    last_start:" in a
    assert "    sequence: {by: CHILD, order: [DECOM]}" in b.replace("  sequence", "    sequence")
    assert "  inner:\n      let:\n        last_start: {max:" in b  # indented for where the alias is
    assert "# last year's final episode" in b  # comments inside the shared part come along
    assert "description: >-\n    Folded text\n    over two lines." in b
    assert "nested: {seq: {by: CHILD, order: [DECOM]}, n: 1}" in b  # an alias inside a shared part
    assert "again: {seq: {by: CHILD, order: [DECOM]}, n: 1}   # a comment after an alias" in c


def test_a_file_without_anchors_is_shown_as_written() -> None:
    text = 'rules:\n  - code: "1"\n    condition: "a * b > 2"   # not an alias\n'
    entries, specs = _entries(text)
    assert written_out(text, entries, specs) == [entries[0][1]]


def test_an_entry_that_cannot_be_written_out_in_place_is_written_from_its_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries, specs = _entries(SHARED)
    monkeypatch.setattr(rule_text, "_shifted", lambda line, shift: line.lstrip())  # an indentation gone wrong
    shown = written_out(SHARED, entries, specs)
    assert shown[1] == dump_yaml([specs[1]]) and load_yaml(shown[1]) == [specs[1]]
    assert unresolved_marks(shown[1]) == []


def test_unresolved_marks_finds_aliases_and_anchors_only() -> None:
    assert unresolved_marks("let: *shared\nseq: &first {by: CHILD}") == ["*shared", "&first"]
    assert unresolved_marks('condition: "a *b > 2 and c & d"') == []  # inside a quoted expression
    assert unresolved_marks("# see *shared\nx: 2 * 3") == []


def test_no_shipped_rule_shows_an_alias_or_anchor() -> None:
    """`rules show --yaml`, `rules show`, the rule pages and the web app's pages all show Rule.text written out."""
    checked = 0
    for return_type in ("ssda903", "cin"):
        for rule in load_rules(return_type):
            assert unresolved_marks(rule.text) == [], rule.code
            assert unresolved_marks(logic_yaml(rule)) == [], rule.code  # the renderings' other YAML
            source = Path(rule.source).read_text(encoding="utf-8")
            lines = source.split("\n")[rule.line - 1 :]
            lines = lines[: next((i for i, x in enumerate(lines[1:], 1) if x.startswith("  - code:")), len(lines))]
            if any(unresolved_marks(x) for x in lines):  # the entry as written shares parts with others
                assert load_yaml(rule.text) == [rule.spec], rule.code
                # written out in place: every line of the entry without a mark is there as written, comments too
                kept = set(rule.text.split("\n"))
                assert all(x[2:] in kept for x in lines if x.strip() and not unresolved_marks(x)), rule.code
                if checked % 10 == 0:  # the renderings show rule.text and logic_yaml(), checked above for all
                    assert unresolved_marks(_yaml_shown(rule_markdown(rule))) == [], rule.code
                    assert unresolved_marks(_yaml_shown(rule_html(rule))) == [], rule.code
                checked += 1
    assert checked > 20


def test_rules_show_and_the_web_page_write_shared_parts_out() -> None:
    for args in (["rules", "show", "503G"], ["rules", "show", "503G", "--yaml"]):
        out = io.StringIO()
        with redirect_stdout(out):
            assert main(args) == 0
        text = out.getvalue()
        assert unresolved_marks(_yaml_shown(text)) == [] and "*first_episode_this_year" not in text
        assert "last_year_final_start: {max: {table: Episodes@previous" in text
    page = pages.rule_page("503G", find_rules("503G"))
    assert unresolved_marks(_yaml_shown(page)) == [] and "*first_episode_this_year" not in page
    assert "sequence: {by: CHILD, order: [DECOM]}" in page


def test_derived_columns_are_explained_where_a_rule_names_them(tmp_path: Path) -> None:
    (rule,) = find_rules("503G")
    assert [name for name, _ in derived_terms(rule_markdown(rule))] == ["PL_DISTANCE"]
    assert "Worked out by the validator" in rule_markdown(rule) and "PL_DISTANCE</code>: miles" in rule_html(rule)
    plain = next(r for r in load_rules("ssda903") if r.code == "356")
    assert "Worked out by the validator" not in rule_markdown(plain)


def test_every_derived_column_has_a_meaning() -> None:
    columns = set(RETURN_COLUMNS)
    for return_type in ("ssda903", "cin"):
        columns |= set(child_columns(return_type))
        for table in load_schema(return_type).tables:
            columns |= set(derived_columns(return_type, table))
    assert columns == set(rule_text.DERIVED_MEANINGS)


def test_a_rule_file_with_shared_parts_loads_with_them_written_out(tmp_path: Path) -> None:
    path = tmp_path / "shared.yaml"
    path.write_text(
        """\
rules:
  - code: "998"
    message: m
    severity: error
    level: record
    table: Episodes
    fields: [DEC]
    years: 2023_24
    let: &first {first: {min: {table: Episodes, as: e, value: "e.DECOM"}}}
    condition: "DEC < first"
    examples: &examples
      - {expect: fail, tables: {Episodes: [{CHILD: "1", DECOM: 01/05/2023, DEC: 30/04/2023}]}}
      - {expect: pass, tables: {Episodes: [{CHILD: "1", DECOM: 01/05/2023, DEC: 02/05/2023}]}}
  - code: "999"
    message: m
    severity: error
    level: record
    table: Episodes
    fields: [DEC]
    years: 2023_24
    let: *first
    condition: "DEC < first"
    examples: *examples
""",
        encoding="utf-8",
    )
    first, second = load_rule_file(path, "ssda903")
    assert second.line == 14 and "let: {first: {min:" in second.text and "- {expect: fail" in second.text
    assert unresolved_marks(first.text + second.text) == []


def test_the_logic_is_shown_as_written_with_its_comments() -> None:
    text = """\
- code: "1"
  message: m
  # the child's first start
  let: {first: {min: {table: Episodes, as: e, value: "e.DECOM"}}}
  description: d
  condition:
    all:
      - "present(DOB)"  # a date of birth
      # and before the first start
      - "DOB < first"
  examples: []"""
    expected = {"let": {"first": {"min": {"table": "Episodes", "as": "e", "value": "e.DECOM"}}}}
    expected["condition"] = {"all": ["present(DOB)", "DOB < first"]}
    shown = parts_as_written(text, ["let", "condition"], expected)
    assert shown is not None and shown.startswith("# the child's first start\nlet: {first:")
    assert '  all:\n    - "present(DOB)"  # a date of birth\n    # and before the first start\n' in shown
    assert "description" not in shown and "examples" not in shown
    assert parts_as_written(text, ["condition"], {"condition": "something else"}) is None  # then dumped instead


def test_every_shipped_rule_shows_its_logic_as_written() -> None:
    from validator.engine.diff import logic_of

    for return_type in ("ssda903", "cin"):
        for rule in load_rules(return_type):
            logic = logic_of(rule)
            assert parts_as_written(rule.text, list(logic), logic) is not None, rule.code
