"""The command line's Screen writes what rich's Console would, byte for byte, without importing rich where it can.

Each check prints the same thing through a Screen and through ``rich.console.Console(emoji=False)`` (what the
command line used before) to the same captured stream and compares the text; hypothesis makes up the strings.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.errors import MarkupError
from rich.markup import escape as rich_escape
from rich.markup import render

from validator.cli.screen import Screen, plain_markup
from validator.outputs.terminal import escape, term

ROOT = Path(__file__).resolve().parent.parent

# Text close to what the commands print: words, paths, markup tags, escapes, brackets, backslashes, long runs.
PIECES = st.sampled_from(
    [" ", "  ", "a", "word", "report", "written", "to", "/tmp/x.json", "[bold red]", "[/]", "[/bold red]", "[b]",
     "[/b]", "[", "]", "\\", "\\[", "\\\\[b]", "[@click]", "[link=x]", "[/link]", ":smile:", "é", "\t", "\x1b", "-",
     "averyveryveryverylongwordwithoutanyspacesatall", "\n", "[#ff0000]", "[/#ff0000]", "[not a tag", "x" * 30]
)  # fmt: skip
TEXTS = st.lists(PIECES, max_size=14).map("".join) | st.text(max_size=60)


def _printed(console: Screen | Console, text: str, options: dict[str, object]) -> str:
    shown = io.StringIO()
    try:
        with contextlib.redirect_stdout(shown):
            console.print(text, **options)
    except MarkupError as exc:
        return f"MarkupError {exc}"
    return shown.getvalue()


def _both(text: str, columns: str | None, **options: object) -> tuple[str, str]:
    """What a Screen and what rich print for ``text`` on stdout (not a terminal), each from a fresh console, with
    $COLUMNS set to ``columns`` (or unset)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE")}
    with mock.patch.dict(os.environ, environ | ({"COLUMNS": columns} if columns else {}), clear=True):
        return _printed(Screen(), text, options), _printed(Console(emoji=False), text, options)


@settings(deadline=None)
@given(text=TEXTS, width=st.sampled_from(["80", "20", "7", "1", None]), markup=st.sampled_from([None, False]))
def test_a_screen_prints_what_rich_prints(text: str, width: str | None, markup: object) -> None:
    options = {} if markup is None else {"markup": markup, "highlight": False}
    ours, theirs = _both(text, width, **options)
    assert ours == theirs


ASCII = st.lists(st.sampled_from([" ", "  ", "a", "bb", "word", "x" * 9, "y" * 23, "-", "/", ".", "\n"]), max_size=25)


@settings(deadline=None)
@given(words=ASCII, width=st.integers(1, 30))
def test_wrapped_plain_lines_are_riches(words: list[str], width: int) -> None:
    text = "".join(words)
    with mock.patch.dict(os.environ, {"COLUMNS": str(width)}):
        assert Screen()._plain_line((text,), {}) is not None
    ours, theirs = _both(text, str(width))
    assert ours == theirs


@pytest.mark.parametrize("width", ["80", "30"])
@pytest.mark.parametrize(
    "text",
    [
        "report written to /tmp/o.json",
        f"report written to {term('/home/someone/Documents/returns/2024-25/[draft]/reports/ssda903-validation.json')}",
        "[bold red]cannot read the return:[/] " + term("a message long enough to be wrapped by rich at eighty " * 3),
        "word " * 40,
        "  leading spaces, then " + "x" * 100 + " and more words after a long one",
        "a line\n\nwith blank lines\n",
        "",
    ],
)
def test_plain_lines_are_printed_without_rich_and_as_rich_prints_them(
    monkeypatch: pytest.MonkeyPatch, text: str, width: str
) -> None:
    with monkeypatch.context() as patch:
        patch.setenv("COLUMNS", width)
        assert Screen()._plain_line((text,), {}) is not None  # written by the Screen itself
    ours, theirs = _both(text, width)
    assert ours == theirs


@pytest.mark.parametrize(
    ("objects", "options"),
    [
        (("tab\there",), {}),  # tabs are expanded by rich
        (("caf\u00e9",), {}),  # a character whose width rich measures
        (("two", "strings"), {}),
        (("soft",), {"soft_wrap": True}),
        (("[/]nothing to close",), {}),  # rich's MarkupError
        (("[@click]handler[/]",), {}),
    ],
)
def test_what_rich_must_decide_goes_to_rich(objects: tuple[object, ...], options: dict[str, object]) -> None:
    assert Screen()._plain_line(objects, options) is None


def test_settings_rich_reads_send_everything_to_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("FORCE_COLOR", "1"), ("TTY_COMPATIBLE", "1"), ("COLUMNS", "0"), ("COLUMNS", "wide")):
        with monkeypatch.context() as patch:
            patch.setenv(name, value)
            assert Screen()._plain_line(("plain text",), {}) is None
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert Screen().is_terminal  # rich's answer: FORCE_COLOR makes any stream a terminal


def test_markup_is_reduced_to_its_text() -> None:
    assert plain_markup("[bold red]title:[/] message") == "title: message"
    for text in ("[b]not bold[/b] \\", "\\[b]", "a [ b ] [/]"):
        assert plain_markup(escape(text)) == render(escape(text)).plain
    assert plain_markup("[bold]open[/red]") is None  # closes nothing: rich raises


@settings(deadline=None)
@given(text=TEXTS)
def test_escape_is_riches_escape(text: str) -> None:
    assert escape(text) == rich_escape(text)


def test_a_run_to_a_file_does_not_import_rich(tmp_path: Path) -> None:
    """A run that writes its report to a file, with stderr not a terminal, prints its line without rich, even for
    a report path longer than a line."""
    report = tmp_path / ("a-folder-name-long-enough-to-wrap-the-line-" * 2) / "report.json"
    report.parent.mkdir()
    args = ["validate", "samples/cin/cin_2024_25.xml", "--format", "json", "--output", str(report)]
    code = (
        f"import sys\nfrom validator.cli import main\nstatus = main({args!r})\n"
        "import json\nprint(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'rich')))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")} | {"COLUMNS": "80"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
    assert report.is_file()
    shown = io.StringIO()
    Console(emoji=False, width=80, file=shown).print(f"report written to {term(report)}")
    assert proc.stderr == shown.getvalue()


def test_without_a_stream_rich_writes_nowhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under pythonw there is no stdout: the Screen hands the line to rich, which drops it, as before."""
    monkeypatch.setattr(sys, "stdout", None)
    screen = Screen()
    assert screen._plain_line(("plain",), {}) is None
    screen.print("plain")  # no AttributeError
