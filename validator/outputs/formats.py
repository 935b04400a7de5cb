"""The report formats by name: file extension and renderer. Every format is a view of one Result."""

from __future__ import annotations

import importlib.util
import inspect
import io
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console

from ..result import Result


@dataclass(frozen=True)
class Format:
    name: str
    extension: str  # without the leading dot
    binary: bool = False


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("console", "txt"),
        Format("json", "json"),
        Format("csv", "csv"),
        Format("xlsx", "xlsx", binary=True),
        Format("html", "html"),
        Format("junit", "junit.xml"),
        Format("sarif", "sarif"),
    )
}


class FormatUnavailable(RuntimeError):
    """A format whose renderer is not part of this installation."""


def html_available() -> bool:
    return importlib.util.find_spec(f"{__package__}.html") is not None


def check_available(name: str) -> None:
    if name == "html" and not html_available():
        raise FormatUnavailable(
            "the html format is not available in this installation (validator/outputs/html.py is missing); "
            "use json, csv, xlsx, junit or sarif"
        )


def render(result: Result, name: str, *, fail_on: str = "error", notes: Sequence[tuple[str, str]] = ()) -> bytes:
    """The report in format ``name``, as the bytes of its file (text formats are UTF-8)."""
    if name == "console":
        from .console import print_summary
        from .terminal import term

        buffer = io.StringIO()
        console = Console(file=buffer, width=140, no_color=True)
        print_summary(result, console)
        for label, text in notes:
            console.print(f"{term(label)}: {term(text)}")
        return buffer.getvalue().encode("utf-8")
    if name == "json":
        from .json_out import render_json

        return render_json(result).encode("utf-8")
    if name == "csv":
        from .csv_out import render_csv

        return render_csv(result).encode("utf-8")
    if name == "xlsx":
        from .xlsx import render_xlsx

        return render_xlsx(result, notes=notes)
    if name == "junit":
        from .junit import render_junit

        return render_junit(result, fail_on=fail_on, notes=notes).encode("utf-8")
    if name == "sarif":
        from .sarif import render_sarif

        return render_sarif(result, notes=notes).encode("utf-8")
    if name == "html":
        check_available(name)
        try:
            from .html import render_html  # type: ignore[import-not-found,unused-ignore]
        except ModuleNotFoundError as exc:
            if exc.name == f"{__package__}.html":
                raise FormatUnavailable(str(exc)) from None
            raise
        if notes and "notes" in inspect.signature(render_html).parameters:
            return render_html(result, notes=notes).encode("utf-8")
        return render_html(result).encode("utf-8")
    raise ValueError(f"unknown format {name!r}; the formats are {', '.join(FORMATS)}")
