"""What a workbook is, before one is read: the file suffixes, the test of a file's content, the cell texts read as
"no data", and what reading one gives (:class:`WorkbookRead`). Apart from :mod:`.xlsx_reader` so that a run of CSV
or XML files does not import the workbook readers; their public names are importable from there too.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line's help names NO_DATA_TOKENS without importing pandas
    from ..findings import Finding
    from ..schema import ReturnSchema
    from .changes import Change
    from .raw import RawTable

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the signature of an .xls (Compound File) workbook
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# Cell texts that mean "no data" and are read as blank (compared case-insensitively, after trimming spaces and
# non-breaking spaces; a cell of only spaces is always blank). "NA" is left out: it can be a real code. The
# command line's --no-data option replaces the list.
NO_DATA_TOKENS: tuple[str, ...] = ("-", "–", "—", "N/A", "NULL", "#N/A", "not known")


def workbook_format(path: Path) -> str | None:
    """ "xlsx" (also .xlsm), "xls" (Excel 97-2003) or "ods" (OpenDocument) by the file's content, whatever its name
    ends with; None for anything else (a CSV file named .xlsx is not a workbook)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
        if head == _OLE2:
            return "xls"
        if head[:4] != b"PK\x03\x04":
            return None
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "xl/workbook.xml" in names:
                return "xlsx"
            if "mimetype" in names and archive.read("mimetype").strip() == _ODS_MIMETYPE:
                return "ods"
    except (OSError, zipfile.BadZipFile, KeyError):
        return None
    return None


def is_workbook(path: Path) -> bool:
    """Whether the file is a workbook this reader reads (.xlsx, .xlsm, .xls or .ods), by its content."""
    return workbook_format(path) is not None


@dataclass(frozen=True)
class SheetPlace:
    """Where a table read from a workbook came from: the file, the sheet, and each column's letter."""

    file: str
    sheet: str
    letters: dict[str, str]


@dataclass
class WorkbookRead:
    tables: list[tuple[ReturnSchema, RawTable]]
    findings: list[Finding]
    changes: list[Change] = field(default_factory=list)  # what reading changed, cell by cell and row by row
    places: dict[str, SheetPlace] = field(default_factory=dict)  # a table's RawTable.file -> where it was read
