"""The report formats: one registry of name, file extension, media type and renderer, used by the command line,
batch runs and the web app's downloads. Every format is a view of one Result, written in pieces to a binary file
object by a renderer of one signature: ``renderer(result, out, options)``."""

from __future__ import annotations

import importlib
import importlib.util
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from . import write_atomic_with

if TYPE_CHECKING:  # the formats are listed (--help, --format) without importing the Result and pandas
    from ..result import Result


@dataclass(frozen=True)
class RenderOptions:
    """What a report shows beyond the Result: which severities fail the run, and extra lines (label, text)
    such as the redaction and the split (the JUnit properties, the Excel Summary, the SARIF run's notes)."""

    fail_on: str = "error"
    notes: tuple[tuple[str, str], ...] = ()


Renderer = Callable[["Result", BinaryIO, RenderOptions], None]


@dataclass(frozen=True)
class Format:
    name: str
    extension: str  # without the leading dot
    media_type: str
    module: str  # the renderer: ``write`` of validator.outputs.<module> (imported when first used)
    binary: bool = False

    @property
    def renderer(self) -> Renderer:
        check_available(self.name)
        try:
            module = importlib.import_module(f"{__package__}.{self.module}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__package__}.{self.module}":
                raise FormatUnavailable(str(exc)) from None
            raise
        return module.write  # type: ignore[no-any-return]


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("console", "txt", "text/plain; charset=utf-8", "console"),
        Format("json", "json", "application/json", "json_out"),
        Format("csv", "csv", "text/csv; charset=utf-8", "csv_out"),
        Format("xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", True),
        Format("html", "html", "text/html; charset=utf-8", "html"),
        Format("junit", "junit.xml", "application/xml", "junit"),
        Format("sarif", "sarif", "application/sarif+json", "sarif"),
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


def _format(name: str) -> Format:
    found = FORMATS.get(name)
    if found is None:
        raise ValueError(f"unknown format {name!r}; the formats are {', '.join(FORMATS)}")
    return found


def write(
    result: Result,
    name: str,
    out: BinaryIO,
    *,
    fail_on: str = "error",
    notes: Sequence[tuple[str, str]] = (),
) -> None:
    """Write the report in format ``name`` to ``out`` (text formats as UTF-8), in pieces."""
    _format(name).renderer(result, out, RenderOptions(fail_on, tuple(notes)))


def render(result: Result, name: str, *, fail_on: str = "error", notes: Sequence[tuple[str, str]] = ()) -> bytes:
    """The report in format ``name``, as the bytes of its file (text formats are UTF-8)."""
    buffer = io.BytesIO()
    write(result, name, buffer, fail_on=fail_on, notes=notes)
    return buffer.getvalue()


def write_report(
    path: Path, result: Result, name: str, *, fail_on: str = "error", notes: Sequence[tuple[str, str]] = ()
) -> None:
    """Write the report in format ``name`` to the file ``path`` atomically, streamed through a temporary file."""
    renderer = _format(name).renderer  # an unknown or unavailable format fails before any file is made
    options = RenderOptions(fail_on, tuple(notes))
    write_atomic_with(path, lambda out: renderer(result, out, options))
