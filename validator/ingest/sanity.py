"""Checks made before the rules, on what was given rather than on the records: files that were not read, the
collection year of the data against --year, this year's and last year's returns swapped or mixed, the LA code.

Each is a finding with its own code (docs/output.md, "Checks before the rules"). YEAR-MISMATCH, YEARS-SWAPPED
and YEARS-MIXED stop the run (no rule is run, exit status 2): the rules would report hundreds of errors that are
not in the return. FILE-SKIPPED and LA-UNKNOWN are reported and the run goes on.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from ..findings import Finding, ingest_finding
from ..outputs import is_report_name
from ..reference.authorities import la_problem
from ..years import collection_end, collection_start, year_containing
from .coerce import DMY, ISO, parse_dates, read_dates
from .raw import RawTable

SPREADSHEETS = {".xls", ".ods"}  # workbooks that are not read (.xlsx and .xlsm are)
# More than this share of the episodes starting after the year's end means the data is of a later year (a
# few such episodes are mistakes in the return, which rules report).
LATER_SHARE = 0.1


def skipped_files(paths: list[str | Path], data_suffixes: set[str]) -> list[Finding]:
    """FILE-SKIPPED for each file in an input folder that is not read (hidden files, Office lock files and the
    tool's own reports aside); a spreadsheet is an error: it most likely holds a table of the return."""
    found: list[Finding] = []
    for given in paths:
        folder = Path(given)
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            suffix = path.suffix.lower()
            if suffix in data_suffixes or path.name.startswith((".", "~$")) or is_report_name(path.name):
                continue  # read, hidden, an Office lock file, or one of the tool's own reports
            if suffix in SPREADSHEETS:
                why = "it is an old-style (.xls) or OpenDocument (.ods) workbook, which is not read: save it as .xlsx"
                severity = "error"
            else:
                why = f"only {', '.join(sorted(data_suffixes))} files are read"
                severity = "notice"
            found.append(
                ingest_finding("FILE-SKIPPED", f"{path}: not read; {why}", file=str(path), severity=severity)  # type: ignore[arg-type]
            )
    return found


def _episode_dates(raws: list[RawTable], columns: tuple[str, ...] = ("DECOM", "DEC")) -> pd.Series:
    parts = [_column_dates(raw, col) for raw in raws for col in columns]
    return pd.concat(parts).dropna() if parts else pd.Series([], dtype="datetime64[ns]")


def _column_dates(raw: RawTable, column: str) -> pd.Series:
    """A raw column read as dates (dd/mm/yyyy or yyyy-mm-dd), parsed once and kept with the raw table."""
    found = raw.dates.get(column)
    if isinstance(found, pd.Series):
        return found
    coded = raw.coded.get(column)
    if coded is None:
        found = parse_dates(pd.Series(raw.columns.get(column) or [], dtype="object"), (DMY, ISO))[0]
    else:  # each distinct value parsed once (the last, None, is where a row lacks the cell)
        distinct = read_dates(coded.uniques, (DMY, ISO))[0]
        found = pd.Series(distinct[coded.codes], dtype="datetime64[ns]", copy=False)
    raw.dates[column] = found
    return found


def data_year(return_type: str, raws: dict[str, list[RawTable]], today: dt.date) -> tuple[str, str] | None:
    """The collection year the data belongs to, and how it was found; None when the data does not say.

    CIN: the header's Year, else its ReferenceDate. SSDA903: the year of the latest episode date (DECOM or DEC)
    that is not after today."""
    if return_type == "cin":
        from .xml_cin import year_of_header  # lxml and the XML reader only for a CIN return

        for raw in raws.get("Header", []):
            year_col, ref_col = raw.columns.get("Year") or [None], raw.columns.get("ReferenceDate") or [None]
            found = year_of_header(year_col[0] if year_col else None, ref_col[0] if ref_col else None)
            if found:
                how = "from the header's Year" if str(year_col[0] or "").strip() else "from the header's ReferenceDate"
                return found, f"{how}"
        return None
    dates = _episode_dates(raws.get("Episodes", []))
    dates = dates[dates <= pd.Timestamp(today)]
    if not len(dates):
        return None
    latest = dates.max().date()
    return year_containing(latest), f"from the latest episode date, {latest:%d/%m/%Y}"


def year_mismatch(
    return_type: str, raws: dict[str, list[RawTable]], year: str, today: dt.date, flag: str = "--year"
) -> Finding | None:
    """YEAR-MISMATCH when the data belongs to another collection year than ``year``."""
    found = data_year(return_type, raws, today)
    if found is None:
        return None
    other, how = found
    if return_type == "cin":
        if other == year:
            return None
    else:
        start, end = pd.Timestamp(collection_start(year)), pd.Timestamp(collection_end(year))
        dates = _episode_dates(raws.get("Episodes", []))
        starts = _episode_dates(raws.get("Episodes", []), ("DECOM",))
        older = not (dates >= start).any()
        newer = len(starts) > 0 and (starts > end).mean() > LATER_SHARE
        if not older and not newer:
            return None
        if other == year:  # e.g. most dates after the year end, none of them after today
            other = year_containing(dates.max().date())
    return ingest_finding(
        "YEAR-MISMATCH",
        f"the data is of collection year {other} ({how}), but {flag} {year} was given; "
        f"give --year {other}, or the return of {year}",
    )


def mixed_years(
    return_type: str, raws: dict[str, list[RawTable]], today: dt.date, which: str = "this year's"
) -> list[Finding]:
    """YEARS-MIXED when the files of one input hold records of different collection years (e.g. last year's CSV
    files copied into this year's folder)."""
    table = "Header" if return_type == "cin" else "Episodes"
    years: dict[str, list[str]] = {}
    for raw in raws.get(table, []):
        found = data_year(return_type, {table: [raw]}, today)
        if found is not None:
            years.setdefault(found[0], []).append(raw.file)
    if len(years) < 2:
        return []
    described = "; ".join(f"{year}: {', '.join(files)}" for year, files in sorted(years.items()))
    return [
        ingest_finding(
            "YEARS-MIXED",
            f"{which} input holds {table} records of {len(years)} collection years ({described}); "
            "give each year's files separately (last year's with --previous)",
            table=table,
        )
    ]


def years_swapped(return_type: str, current: str | None, previous: str | None) -> Finding | None:
    """YEARS-SWAPPED when the return given as last year's is of a later year than this year's."""
    if current is None or previous is None or previous <= current:
        return None
    return ingest_finding(
        "YEARS-SWAPPED",
        f"the return given with --previous is of collection year {previous}, later than this year's ({current}): "
        "the two look swapped",
    )


def la_unknown(la: str | None) -> Finding | None:
    """LA-UNKNOWN when --la is not the ONS code of an English LA."""
    problem = la_problem(la) if la else None
    return ingest_finding("LA-UNKNOWN", problem) if problem else None
