"""What the result page offers to download. One list: a new download (a format, or the preview tables and
measures) is one more entry here, and the page, its route and its tests pick it up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..outputs.formats import FORMATS, render
from ..reports import result_file
from ..result import Result

if TYPE_CHECKING:
    from ..preview import Preview


@dataclass(frozen=True)
class Download:
    key: str  # in the address: /download/<key>
    label: str  # the button's text
    extension: str  # of the file name, without the dot
    media_type: str
    make: Callable[[Result], bytes]
    hint: str = ""
    stem: str = "validation"  # the file name's last part

    def filename(self, result: Result) -> str:
        """e.g. ssda903_2024_25_E09000027-validation.xlsx"""
        return result_file(result, self.stem, self.extension)


def _preview(result: Result) -> Preview:
    from ..preview import build_preview, previous_dataset

    if result.dataset is None:
        raise ValueError("this result holds no return to preview")
    return build_preview(result.dataset, previous_dataset(result.dataset))


def _preview_workbook(result: Result) -> bytes:
    from ..preview import Convention
    from ..preview.render import render_workbook

    return render_workbook(_preview(result), Convention())


def _preview_measures(result: Result) -> bytes:
    from ..preview import Convention
    from ..preview.render import measures_csv

    return measures_csv(_preview(result), Convention())


def _report(name: str, label: str, hint: str) -> Download:
    """A report format of the registry (outputs/formats.py: its extension, media type and renderer)."""
    found = FORMATS[name]
    return Download(name, label, found.extension, found.media_type, lambda r: render(r, name), hint)


def _dfe_files(result: Result) -> bytes:
    from ..convert import dfe_zip

    if result.dataset is None:
        raise ValueError("this result holds no return to write")
    return dfe_zip(result.dataset)


DOWNLOADS: tuple[Download, ...] = (
    _report("xlsx", "Excel workbook", "summary, rules, children and return-level findings"),
    _report("csv", "Findings (CSV)", "one row per finding"),
    _report("html", "HTML report", "this report as one file that opens offline"),
    _report("json", "JSON", "for other programs"),
    Download(
        "preview",
        "DfE's tables and figures (Excel)",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _preview_workbook,
        "the return as DfE will hold it, with the headline measures as DfE publishes them",
        stem="preview",
    ),
    Download(
        "measures",
        "Headline measures (CSV)",
        "csv",
        "text/csv; charset=utf-8",
        _preview_measures,
        "one row per measure, beside last year's when given",
        stem="measures",
    ),
    Download(
        "dfe",
        "DfE-ready files (zip)",
        "zip",
        "application/zip",
        _dfe_files,
        "the return as DfE takes it (CSV tables and XML), with changes.csv listing every change made",
        stem="dfe",
    ),
)


def find_download(key: str) -> Download | None:
    return next((d for d in DOWNLOADS if d.key == key), None)
