"""Ofsted provider lists: the ProviderInfo table (URN, placement codes, provider codes, end date, postcode).

SSDA903 rules 219, 221, 224, 227, 228, 229 and 1008 check an episode's URN against the lists Ofsted publishes
of the providers it registers: the children's homes list and the social care providers list, or the one
combined list that replaced them. The LA gives them with ``--providers FILE`` (repeatable), as Excel (.xlsx)
or CSV; without them those rules are not run.

Every sheet of an Excel file (every CSV file) whose header row has a URN column and a placement code or a
placement provider code column is a list of providers; a sheet with a URN and a postcode but no codes (the
older children's homes list's "Address Details") gives postcodes to the providers that lack one. Other sheets
(e.g. "Registration Conditions") are ignored. The header row is the first of the sheet's first rows that has a
URN cell (Ofsted's files may have title rows above it). Columns are recognised by name, ignoring case, spaces
and apostrophes, with the names Ofsted has used (``COLUMN_NAMES``); only those columns are kept. Workbooks are
read by calamine (python-calamine), values only, and one calamine cannot read by openpyxl (for its words about
what is wrong); the zip is checked first (``archives.check_archive``).

Values: placement and provider codes are split on '/' or ',' and joined with ',' (``"PR1/PR2"`` ->
``"PR1,PR2"``), upper case; a closed/deregistration date of '-' or 'n/a' is blank; postcodes are upper case
with spaces removed. What a file lacks is reported as a finding (FILE-UNREADABLE, PROVIDERS-LAYOUT,
COLUMN-MISSING); the rules then see blank values for it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ..dataset import InputFile, Table
from ..findings import Finding, ingest_finding
from ..ingest.coerce import DMY, ISO
from ..ingest.csv_reader import MAX_FIELD, decode_bytes
from ..ingest.raw import RawTable
from ..ingest.typed import build_table
from ..schema import load_schema

TABLE: Final = "ProviderInfo"

#: Our column -> the header names Ofsted's lists have used for it (compared by ``_normalise``), best first.
#: URN: every list. Placement codes: "Placement code" (social care providers list, combined list), "Provider
#: Code" (children's homes list). Provider codes: "Placement provider code" (social care providers list,
#: combined list), "Provider Placement Code" (children's homes list). End date: "Deregistration date" (closed
#: providers, combined list), "Closed Date" (children's homes list, supported accommodation sheet). Postcode:
#: "Setting postcode", "Setting Address Postcode", "Provider postcode" (2025 combined list), "Postcode".
COLUMN_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "URN": ("urn", "unique reference number", "ofsted urn"),
    "PLACE_CODES": ("placement code", "placement codes", "provider code"),
    "PROVIDER_CODES": ("placement provider code", "placement provider codes", "provider placement code"),
    "REG_END": ("deregistration date", "closed date", "date closed", "registration end date", "date deregistered"),
    "POSTCODE": (
        "setting postcode",
        "setting address postcode",
        "provider postcode",
        "provider address postcode",
        "postcode",
    ),
}
#: Columns whose absence from a list of providers is reported (a current providers sheet has no end date).
REPORTED_MISSING: Final = ("PLACE_CODES", "PROVIDER_CODES", "POSTCODE")
#: How the columns are called in findings, in Ofsted's words.
OFSTED_NAME: Final = {
    "URN": "URN",
    "PLACE_CODES": "Placement code",
    "PROVIDER_CODES": "Placement provider code",
    "REG_END": "Deregistration date / Closed date",
    "POSTCODE": "Setting postcode",
}
HEADER_SEARCH_ROWS: Final = 30
BLANKS: Final = {"", "-", "--", "n/a", "na", "none", "null", "not applicable"}
_PROVIDER_CODE = re.compile(r"PR\d")
_SPLIT = re.compile(r"\s*[/,;]\s*")


def _normalise(name: object) -> str:
    text = "" if name is None else str(name)
    return re.sub(r"\s+", " ", text.replace("'", "").replace("\u2019", "").replace("_", " ")).strip().lower()


_LOOKUP: Final = {variant: column for column, names in COLUMN_NAMES.items() for variant in names}


@dataclass
class Sheet:
    """One list read from a file: the needed columns' values (text) and the sheet's row numbers."""

    label: str  # "file.xlsx [sheet]" or "file.csv"
    columns: dict[str, list[str | None]] = field(default_factory=dict)
    lines: list[int] = field(default_factory=list)


def match_header(cells: Sequence[object]) -> dict[str, int]:
    """Our column -> its position in a header row (the best-ranked of Ofsted's names when several are there)."""
    found: dict[str, tuple[int, int]] = {}
    for position, cell in enumerate(cells):
        column = _LOOKUP.get(_normalise(cell))
        if column is None:
            continue
        rank = COLUMN_NAMES[column].index(_normalise(cell))
        if column not in found or rank < found[column][0]:
            found[column] = (rank, position)
    return {column: position for column, (_, position) in found.items()}


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    text = str(value).strip()
    return None if text.lower() in BLANKS else text


def _codes(value: str | None) -> str | None:
    if value is None:
        return None
    parts = [p.upper() for p in _SPLIT.split(value) if p and p.lower() not in BLANKS]
    return ",".join(parts) or None


def _read_rows(rows: Iterable[Sequence[object]], label: str) -> tuple[Sheet | None, dict[str, int]]:
    """The sheet's needed columns, from its header row on; None when no header row with a URN is found."""
    iterator: Iterator[Sequence[object]] = iter(rows)
    header: dict[str, int] | None = None
    line = 0
    for cells in iterator:
        line += 1
        positions = match_header(cells)
        if "URN" in positions:
            header = positions
            break
        if line >= HEADER_SEARCH_ROWS:
            break
    if header is None:
        return None, {}
    sheet = Sheet(label, {column: [] for column in header})
    items = list(header.items())
    for cells in iterator:
        line += 1
        n = len(cells)
        urn = _text(cells[header["URN"]]) if header["URN"] < n else None
        if urn is None:
            continue
        for column, position in items:
            sheet.columns[column].append(_text(cells[position]) if position < n else None)
        sheet.lines.append(line)
    return sheet, header


MAX_WORKBOOK_PART = 512 * 2**20  # an Ofsted list's sheet XML is a few MB


def _xlsx_sheets(path: Path) -> Iterator[tuple[Sheet | None, str]]:
    """Each worksheet of the workbook, read by calamine (cells' values; a formula's last calculated value), which
    starts in a fraction of openpyxl's time. A workbook calamine cannot read is read by openpyxl, as it always
    was, so that a damaged file gets the same finding, in the same words."""
    from ..archives import check_archive

    check_archive(path, max_size=MAX_WORKBOOK_PART, max_total=4 * MAX_WORKBOOK_PART)  # before a byte is read
    try:
        sheets = _calamine_sheets(path)
    except Exception:  # damaged: openpyxl says what is wrong with it (or reads what it can)
        yield from _openpyxl_sheets(path)
        return
    yield from sheets


def _calamine_sheets(path: Path) -> list[tuple[Sheet | None, str]]:
    import python_calamine as calamine

    sheets: list[tuple[Sheet | None, str]] = []
    book = calamine.CalamineWorkbook.from_path(str(path))
    try:
        for meta in book.sheets_metadata:
            if meta.typ != calamine.SheetTypeEnum.WorkSheet:
                continue  # a chart sheet or macro sheet holds no list (openpyxl's worksheets leave them out)
            label = f"{path.name} [{meta.name}]"
            # from cell A1, so rows are numbered as in Excel; an empty cell is "", read as blank like None
            rows = book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            sheets.append((_read_rows(rows, label)[0], label))
    finally:
        book.close()
    return sheets


def _openpyxl_sheets(path: Path) -> Iterator[tuple[Sheet | None, str]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for worksheet in book.worksheets:
            label = f"{path.name} [{worksheet.title}]"
            sheet, _ = _read_rows(worksheet.iter_rows(values_only=True), label)
            yield sheet, label
    finally:
        book.close()


def _csv_sheets(path: Path) -> Iterator[tuple[Sheet | None, str]]:
    decoded = decode_bytes(path.read_bytes())
    text = decoded.text.replace("\x00", "")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    csv.field_size_limit(MAX_FIELD)
    sheet, _ = _read_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), path.name)
    yield sheet, path.name


def _tidy(sheet: Sheet) -> None:
    """Codes as comma-separated upper-case lists, postcodes normalised; codes put right if swapped."""
    for column in ("PLACE_CODES", "PROVIDER_CODES"):
        if column in sheet.columns:
            sheet.columns[column] = [_codes(v) for v in sheet.columns[column]]
    # Ofsted's children's homes list calls them "Provider Code" and "Provider Placement Code"; placement provider
    # codes are PR1-PR5, so a column of PR codes is the provider codes whatever its name.
    both = "PLACE_CODES" in sheet.columns and "PROVIDER_CODES" in sheet.columns
    if both and _pr_share(sheet.columns["PLACE_CODES"]) > _pr_share(sheet.columns["PROVIDER_CODES"]):
        sheet.columns["PLACE_CODES"], sheet.columns["PROVIDER_CODES"] = (
            sheet.columns["PROVIDER_CODES"],
            sheet.columns["PLACE_CODES"],
        )
    if "POSTCODE" in sheet.columns:
        sheet.columns["POSTCODE"] = [
            None if v is None else re.sub(r"\s+", "", v).upper() for v in sheet.columns["POSTCODE"]
        ]
    if "URN" in sheet.columns:
        sheet.columns["URN"] = [None if v is None else v.upper() for v in sheet.columns["URN"]]


def _pr_share(values: list[str | None]) -> float:
    codes = [c for v in values if v for c in v.split(",")]
    return sum(1 for c in codes if _PROVIDER_CODE.fullmatch(c)) / len(codes) if codes else 0.0


@dataclass
class ProvidersRead:
    table: Table | None  # None when no list of providers could be read from any file
    findings: list[Finding]
    inputs: list[InputFile]


def read_providers(paths: Sequence[str | Path], year: str) -> ProvidersRead:
    """Read the Ofsted lists into one typed ProviderInfo table (rows in file, sheet and row order)."""
    findings: list[Finding] = []
    inputs: list[InputFile] = []
    raws: list[RawTable] = []
    missing_in: dict[str, set[str]] = {}  # sheet -> the reported columns it lacks
    for given in paths:
        path = Path(given)
        lists: list[Sheet] = []
        addresses: list[Sheet] = []
        try:
            if not path.is_file():
                raise OSError(f"{path}: no such file")
            reader = _csv_sheets if path.suffix.lower() in (".csv", ".txt", ".tsv") else _xlsx_sheets
            for sheet, _label in reader(path):
                if sheet is None:
                    continue
                _tidy(sheet)
                if "PLACE_CODES" in sheet.columns or "PROVIDER_CODES" in sheet.columns:
                    lists.append(sheet)
                elif "POSTCODE" in sheet.columns:
                    addresses.append(sheet)
        except Exception as exc:  # a corrupt workbook raises many kinds of error; each is one finding
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
            findings.append(
                ingest_finding(
                    "FILE-UNREADABLE",
                    f"{path.name}: the Ofsted provider list could not be read ({detail})",
                    table=TABLE,
                    file=path.name,
                )
            )
            inputs.append(InputFile(str(path), "providers", []))
            continue
        if not lists:
            findings.append(
                ingest_finding(
                    "PROVIDERS-LAYOUT",
                    f"{path.name}: no sheet has a URN column and a 'Placement code' or 'Placement provider code' "
                    "column, so this is not an Ofsted provider list",
                    table=TABLE,
                    file=path.name,
                )
            )
            inputs.append(InputFile(str(path), "providers", []))
            continue
        postcodes = _postcodes_by_urn(addresses)
        for sheet in lists:
            missing_in[sheet.label] = set()
            for column in REPORTED_MISSING:
                if column in sheet.columns or (column == "POSTCODE" and postcodes):
                    continue
                missing_in[sheet.label].add(column)
                findings.append(
                    ingest_finding(
                        "COLUMN-MISSING",
                        f"{sheet.label}: the Ofsted provider list has no '{OFSTED_NAME[column]}' column; "
                        f"its providers' {column} are taken as blank",
                        table=TABLE,
                        fields=(column,),
                        file=sheet.label,
                    )
                )
            raws.append(_raw(sheet, postcodes))
        inputs.append(InputFile(str(path), "providers", [TABLE]))
    if not raws:
        return ProvidersRead(None, findings, inputs)
    schema = load_schema("ssda903")
    table, typed = build_table(
        TABLE, raws, schema.tables[TABLE], "ssda903", year, schema.child_key, {r.file: (DMY, ISO) for r in raws}
    )
    # Several sheets and files are the normal case, and a lacking column was reported above in Ofsted's words.
    findings.extend(f for f in typed if f.code not in ("FILE-DUPLICATE-TABLE", "COLUMN-MISSING"))
    # A column no list has makes the rules that use it not run (see engine.runner.missing_requirement).
    table.missing_columns = {
        column: [r.file for r in raws] for column in REPORTED_MISSING if all(column in missing_in[r.file] for r in raws)
    }
    return ProvidersRead(table, findings, inputs)


def _postcodes_by_urn(addresses: list[Sheet]) -> dict[str, str]:
    found: dict[str, str] = {}
    for sheet in addresses:
        for urn, postcode in zip(sheet.columns["URN"], sheet.columns["POSTCODE"], strict=True):
            if urn is not None and postcode is not None:
                found.setdefault(urn, postcode)
    return found


def _raw(sheet: Sheet, postcodes: dict[str, str]) -> RawTable:
    n = len(sheet.lines)
    columns: dict[str, list[str | None]] = {c: sheet.columns.get(c, [None] * n) for c in COLUMN_NAMES}
    if postcodes:
        columns["POSTCODE"] = [
            pc if pc is not None else postcodes.get(urn or "")
            for urn, pc in zip(columns["URN"], columns["POSTCODE"], strict=True)
        ]
    return RawTable(name=TABLE, file=sheet.label, columns=columns, lines=list(sheet.lines))


def provider_rows(table: Table) -> list[dict[str, Any]]:
    """The table's records as dicts of our columns (for tests and the docs)."""
    return table.df[list(COLUMN_NAMES)].to_dict("records")
