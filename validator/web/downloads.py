"""What the result page offers to download. One list: a new download (a format, or the preview tables and
measures) is one more entry here, and the page, its route and its tests pick it up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..cli import safe_name
from ..outputs.formats import render
from ..result import Result


@dataclass(frozen=True)
class Download:
    key: str  # in the address: /download/<key>
    label: str  # the button's text
    extension: str  # of the file name, without the dot
    media_type: str
    make: Callable[[Result], bytes]
    hint: str = ""

    def filename(self, result: Result) -> str:
        """e.g. ssda903_2024_25_E09000027-validation.xlsx"""
        parts = [result.return_type, result.year, *([result.context.la] if result.context.la else [])]
        return f"{safe_name('_'.join(parts))}-validation.{self.extension}"


DOWNLOADS: tuple[Download, ...] = (
    Download(
        "xlsx",
        "Excel workbook",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        lambda r: render(r, "xlsx"),
        "summary, rules, children and return-level findings",
    ),
    Download(
        "csv",
        "Findings (CSV)",
        "csv",
        "text/csv; charset=utf-8",
        lambda r: render(r, "csv"),
        "one row per finding",
    ),
    Download(
        "html",
        "HTML report",
        "html",
        "text/html; charset=utf-8",
        lambda r: render(r, "html"),
        "this report as one file that opens offline",
    ),
    Download(
        "json",
        "JSON",
        "json",
        "application/json",
        lambda r: render(r, "json"),
        "for other programs",
    ),
)


def find_download(key: str) -> Download | None:
    return next((d for d in DOWNLOADS if d.key == key), None)
