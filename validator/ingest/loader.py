"""Files on disk -> a typed Dataset: finds the files, recognises the return and tables, types them."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from ..dataset import PREVIOUS, Context, Dataset, InputFile, Table
from ..findings import Finding, ingest_finding
from ..outputs import is_report_name
from ..processes import available_processes, run_tasks
from ..schema import RETURN_TYPES, ReturnSchema, load_schema
from ..years import (
    SUPPORTED_YEARS,
    check_year,
    collection_end,
    previous_year,
    year_containing,
)
from .changes import reading_changes
from .coerce import DMY, ISO
from .csv_reader import identify_table, read_csv_file
from .raw import RawTable
from .sanity import data_year, la_unknown, mixed_years, skipped_files, year_mismatch, years_swapped
from .typed import build_table
from .workbooks import NO_DATA_TOKENS, WORKBOOK_SUFFIXES, WorkbookRead, is_workbook

# In files the XSD already checked, value problems are not reported a second time by typing.
VALUE_CODES = {"DATE-INVALID", "NUMBER-INVALID", "FLAG-INVALID"}
# Root element -> (return, which of its XML files). Tables name the file that carries them in tables.yaml (in_xml).
XML_LAYOUTS = {
    "EXPSSDA903": ("ssda903", "main"),
    "EXPSSDA903SW": ("ssda903", "social_worker"),
    "Message": ("cin", "main"),
}
XML_ROOTS = {name.encode(): kind for name, (kind, _) in XML_LAYOUTS.items()}
DATA_SUFFIXES = {".csv", ".xml", ".txt", ".tsv", *WORKBOOK_SUFFIXES}
# Earlier years' files of at least this many bytes are read on a second process (load_return; a 5,000-child
# SSDA903 return's CSV files are about 1.4 MB).
EARLIER_BYTES = 1_000_000
MAX_GUESS_LINE = 1 << 16  # the most of a CSV file's first line read to guess its return
# Findings after which nothing of an XML file is read: the input counts as unusable (exit status 2).
REFUSED_XML = {"XML-UNSAFE", "XML-ROOT", "FILE-EMPTY", "FILE-UNREADABLE"}
# The first element's name in a file's opening bytes, past the declaration, comments, PIs and any DOCTYPE.
_FIRST_ELEMENT = re.compile(rb"<(?![?!])(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


class InputError(Exception):
    """The inputs cannot be used at all (exit status 2)."""


def expand_paths(paths: list[str | Path]) -> list[Path]:
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            # the tool's own reports, written into an input folder by an earlier run, are not part of the return
            files.extend(
                sorted(
                    p
                    for p in path.iterdir()
                    if p.is_file() and p.suffix.lower() in DATA_SUFFIXES and not is_report_name(p.name)
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    return files


def sniff_xml_root(path: Path) -> str | None:
    """The return type an XML file declares by its root element, or None if it is not XML."""
    layout = sniff_xml_layout(path)
    return layout[0] if layout else None


def sniff_xml_layout(path: Path) -> tuple[str, str] | None:
    """(return type, XML file kind) an XML file declares by its root element; ("unknown-xml", "main") for other
    XML, None if it is not XML. The kind is "main", or "social_worker" for the SSDA903 social worker file."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped.startswith(b"<"):
        return None
    body = re.sub(rb"<!--.*?-->", b"", stripped, flags=re.DOTALL)
    match = _FIRST_ELEMENT.search(body)
    if match and match.group(1).decode("ascii", "ignore") in XML_LAYOUTS:
        return XML_LAYOUTS[match.group(1).decode("ascii")]
    for root, (kind, xml_file) in sorted(XML_LAYOUTS.items(), key=lambda kv: -len(kv[0])):  # e.g. a long prologue
        name = root.encode()
        if re.search(rb"[<:]" + name + rb"[\s/>]", head):
            return kind, xml_file
    return "unknown-xml", "main"


@dataclass
class FilesRead:
    return_type: str | None
    raws: dict[str, list[RawTable]]
    findings: list[Finding]
    inputs: list[InputFile]
    date_forms: dict[str, tuple[str, ...]]  # file -> date forms it is expected to use, standard first
    schema_checked: set[str]  # files whose values were checked against an XSD
    unchecked_xml: list[Path] = field(default_factory=list)  # SSDA903 XML read before its year was known
    book: WorkbookRead = field(default_factory=lambda: WorkbookRead([], []))  # workbooks' changes and places


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cycle collector paused: reading CSV text and typing it make millions of small objects and no cycles
    worth finding, and each of its passes would go through all of them again. (Not around the XML readers: their
    parser's garbage does need it.)"""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_files(
    files: list[Path], return_type: str | None, year: str | None, no_data: Sequence[str], log_changes: bool = False
) -> FilesRead:
    schema_checked: set[str] = set()
    schemas = [load_schema(r) for r in ([return_type] if return_type else RETURN_TYPES)]
    raws: dict[str, list[RawTable]] = defaultdict(list)
    findings: list[Finding] = []
    inputs: list[InputFile] = []
    date_forms: dict[str, tuple[str, ...]] = {}
    kinds_seen: set[str] = set()
    unchecked: list[Path] = []
    books = WorkbookRead([], [])
    for path in files:
        if is_workbook(path):  # by content: a workbook whatever its name, a CSV file named .xlsx is read as CSV
            book = _read_workbook(path, schemas, no_data=no_data, dates_logged=log_changes)
            findings.extend(book.findings)
            books.changes.extend(book.changes)
            books.places.update(book.places)
            for schema, raw in book.tables:
                kinds_seen.add(schema.return_type)
                date_forms[raw.file] = (DMY,) if schema.return_type == "ssda903" else (ISO, DMY)
                raws[raw.name].append(raw)
            inputs.append(InputFile(str(path), "xlsx", [raw.name for _, raw in book.tables]))
            continue
        layout = sniff_xml_layout(path) if path.suffix.lower() != ".csv" else None
        if layout is not None:
            root, xml_file = layout
            kind = root if root != "unknown-xml" else (return_type or "cin")
            if return_type and kind != return_type:
                findings.append(_wrong_root(path, kind, return_type))
                continue
            if kind == "ssda903":
                from .xml903 import has_schema, read_ssda903_xml

                # 903 XML has no year inside: with none given, the schema is checked once it is inferred.
                tables, found = read_ssda903_xml(path, schema_year=year)
                forms = (DMY, ISO)
                if not year:
                    unchecked.append(path)
                elif has_schema(xml_file, year):
                    schema_checked.add(str(path))
            else:
                schema_year = cin_schema_year(path, year)
                tables, found = _read_cin_xml(path, schema_year=schema_year)
                forms = (ISO,)
                if schema_year:
                    schema_checked.add(str(path))
            findings.extend(found)
            kinds_seen.add(kind)
            if xml_unread(tables, found):
                # refused (unsafe, wrong root), empty, or broken before its first record: nothing of it is checked
                inputs.append(InputFile(str(path), "xml", []))
                continue
            date_forms[str(path)] = forms
            complete_xml_tables(tables, load_schema(kind), str(path), xml_file)
            for name, raw in tables.items():
                raws[name].append(raw)
            inputs.append(InputFile(str(path), "xml", sorted(t for t, r in tables.items() if len(r) or t == "Header")))
            continue
        with paused_gc():  # millions of small objects, no cycles: the collector's passes would only cost time
            schema, raw, found = read_csv_file(path, schemas)
        findings.extend(found)
        if schema is None or raw is None:
            inputs.append(InputFile(str(path), "csv", []))
            continue
        kinds_seen.add(schema.return_type)
        date_forms[str(path)] = (DMY,) if schema.return_type == "ssda903" else (ISO, DMY)
        raws[raw.name].append(raw)
        inputs.append(InputFile(str(path), "csv", [raw.name]))
    if len(kinds_seen) > 1:
        raise InputError("the inputs mix SSDA903 and CIN census files; validate one return at a time")
    found_type = return_type or (next(iter(kinds_seen)) if kinds_seen else None)
    if log_changes and found_type:  # what typing will change (trimmed values, renamed headers): convert's log
        books.changes += reading_changes(raws, load_schema(found_type), books.places)
    return FilesRead(found_type, raws, findings, inputs, date_forms, schema_checked, unchecked, books)


def _wrong_root(path: Path, kind: str, return_type: str) -> Finding:
    message = f"{path}: this is a {kind} file but the return was given as {return_type}"
    return ingest_finding("XML-ROOT", message, file=str(path))


def xml_unread(tables: dict[str, RawTable], found: list[Finding]) -> bool:
    """Whether an XML file gave nothing to check: it was refused (XML-UNSAFE, XML-ROOT), is empty or unreadable,
    or broke (XML-MALFORMED) before a single record was read."""
    codes = {f.code for f in found}
    if codes & REFUSED_XML:
        return True
    return "XML-MALFORMED" in codes and not any(len(raw) for raw in tables.values())


def complete_xml_tables(tables: dict[str, RawTable], schema: ReturnSchema, file: str, xml_file: str = "main") -> None:
    """In XML an absent element is a blank value and an absent block an empty table: fill both in, for the tables
    this kind of XML file carries (tables.yaml ``in_xml``)."""
    for name, table_def in schema.tables.items():
        if table_def.xml_file != xml_file and name not in tables:
            continue
        raw = tables.setdefault(name, RawTable(name=name, file=file))
        for col in table_def.columns:
            raw.columns.setdefault(col, [None] * len(raw))


def _check_xml_schema_late(read: FilesRead, year: str, findings: list[Finding]) -> None:
    """Check SSDA903 XML files read before the year was known against that year's XSD (a second, schema-only
    pass). Its XML-SCHEMA findings replace those the first reading made without the schema."""
    if not read.unchecked_xml:
        return
    from .xml903 import check_ssda903_xml, has_schema

    for path in read.unchecked_xml:
        layout = sniff_xml_layout(path)
        if layout is None or not has_schema(layout[1], year):
            continue
        found = check_ssda903_xml(path, year)
        findings[:] = [f for f in findings if not (f.code == "XML-SCHEMA" and f.file == str(path))]
        findings.extend(found)
        read.schema_checked.add(str(path))
    read.unchecked_xml.clear()


def _read_workbook(
    path: Path, schemas: list[ReturnSchema], no_data: Sequence[str], dates_logged: bool = False
) -> WorkbookRead:
    from .xlsx_reader import read_workbook  # the workbook readers are imported for a workbook only

    return read_workbook(path, schemas, no_data=no_data, dates_logged=dates_logged)


def _read_cin_xml(path: Path, schema_year: str | None) -> tuple[dict[str, RawTable], list[Finding]]:
    from .xml_cin import read_cin_xml  # lxml and the CIN XML reader for a CIN XML file only

    return read_cin_xml(path, schema_year=schema_year)


def cin_schema_year(path: Path, year: str | None) -> str | None:
    """The year whose XSD checks this CIN file: the one given, else the header's (Year, else ReferenceDate),
    else the last complete year; the schema check is never left out for want of a year."""
    if year:
        return year
    from .xml_cin import peek_header_year

    found = peek_header_year(path) or _last_complete(dt.date.today())
    supported = SUPPORTED_YEARS["cin"]
    if found in supported:
        return found
    return supported[-1] if found > supported[-1] else supported[0]


def infer_year(return_type: str, raws: dict[str, list[RawTable]], today: dt.date) -> tuple[str, str]:
    """A collection year from the data (CIN: the header's Year, else its ReferenceDate; SSDA903: the latest
    episode date), else the last complete year; and how it was found."""
    found = data_year(return_type, raws, today)
    if found is not None:
        return found
    return _last_complete(today), "from today's date (the last complete collection year)"


def _last_complete(today: dt.date) -> str:
    return year_containing(today - dt.timedelta(days=366))


def reference_date(return_type: str, tables: dict[str, Table], year: str) -> dt.date:
    """The return's reference date: a CIN header's ReferenceDate when it has one, else the collection year's end."""
    if return_type == "cin" and "Header" in tables and len(tables["Header"].df):
        value = tables["Header"].df["ReferenceDate"].iloc[0]
        if pd.notna(value):
            return value.date()
    return collection_end(year)


def _input_files(paths: list[str | Path]) -> tuple[list[Path], list[Finding]]:
    """The data files the inputs name, and a notice for each file skipped; InputError when there are none."""
    files = expand_paths(paths)
    skipped = skipped_files(list(paths), DATA_SUFFIXES)
    if not files:
        why = "; ".join(f.message for f in skipped[:5])
        raise InputError(
            "no data files found in the inputs (expected .csv, .xml or .xlsx files)" + (f": {why}" if why else "")
        )
    return files, skipped


def load_return(
    paths: list[str | Path],
    *,
    return_type: str | None = None,
    year: str | None = None,
    la: str | None = None,
    previous: list[list[str | Path]] | None = None,
    today: dt.date | None = None,
    no_data: Sequence[str] | None = None,
    log_changes: bool = False,
    processes: int | None = None,
    while_reading: Callable[[str], object] | None = None,
) -> Dataset:
    """Read every input (and previous years' inputs) into one typed Dataset. ``no_data``: the cell texts a
    workbook uses for "no data", read as blank (xlsx_reader.NO_DATA_TOKENS unless given). ``log_changes``: list
    every value and header this year's reading changes (convert's log), not only what workbooks' reading does.
    ``processes``: 1 to read everything in this process; None: earlier years' large files (EARLIER_BYTES) on a
    second process, from the start when ``year`` is given and the files' first bytes tell the return, else beside
    this year's typing. ``while_reading``: called with the return type once this year's part is done, while the
    second process may still be reading the earlier years (work the caller needs next, done in what would be a
    wait); its exceptions are the caller's."""
    no_data = NO_DATA_TOKENS if no_data is None else no_data
    files, skipped = _input_files(paths)
    today = today or dt.date.today()
    listed = _listed(previous) if previous and processes is None else None  # the earlier years' files, listed once
    if previous and processes is None:
        processes = _processes_for(listed)
    guess = _return_guessed(files, return_type) if previous and year and (processes or 1) > 1 else None
    if guess is not None and year and previous and processes:
        earlier_of = _Earlier(previous, listed, no_data, today)
        this, tables, typing_found, earlier = _read_ahead(
            files, skipped, return_type, check_year(year), guess, earlier_of, no_data, log_changes, today, while_reading
        )
    else:
        this = _this_year(files, skipped, return_type, year, no_data, log_changes, today)
        earlier_of = _Earlier(previous or [], listed, no_data, today)
        tables, typing_found, earlier = _type_years(this, earlier_of, processes or 1, while_reading)
    schema, year, read, findings, inputs = this.schema, this.year, this.read, this.findings, this.inputs
    found_type, current_year = schema.return_type, this.current_year
    findings.extend(typing_found)
    for year_read in earlier:
        findings.extend(year_read.findings)
        if year_read.n == 1:
            swapped = years_swapped(
                found_type,
                current_year[0] if current_year else None,
                year_read.data_year[0] if year_read.data_year else None,
            )
            if swapped is not None:
                findings.append(swapped)
        inputs.extend(year_read.inputs)
        findings.extend(year_read.typing_findings)
        tables.update(year_read.tables)
    reference = reference_date(found_type, tables, year)
    unknown_la = la_unknown(la.strip() if la else None)
    if unknown_la is not None:
        findings.append(unknown_la)
    la = la.strip().upper() or None if la else None  # codes are upper case (e09000027 is E09000027)
    context = Context.of_year(found_type, year, la, reference)
    return Dataset(schema, context, tables, findings, inputs, changes=read.book.changes, places=read.book.places)


@dataclass
class _ThisYear:
    """This year's files read, the return and year worked out, before typing."""

    read: FilesRead
    schema: ReturnSchema
    year: str
    findings: list[Finding]
    inputs: list[InputFile]
    current_year: tuple[str, str] | None  # the year the data belongs to (sanity.data_year)


def _this_year(
    files: list[Path],
    skipped: list[Finding],
    return_type: str | None,
    year: str | None,
    no_data: Sequence[str],
    log_changes: bool,
    today: dt.date,
) -> _ThisYear:
    """Read this year's files and work out the return and the collection year (InputError when they cannot be)."""
    read = _read_files(files, return_type, year and check_year(year), no_data, log_changes)
    found_type, raws, findings, inputs = read.return_type, read.raws, read.findings, read.inputs
    findings.extend(skipped)
    if found_type is None:
        reasons = [f.message for f in findings if f.severity == "error"]
        detail = ": " + "; ".join(reasons[:5]) if reasons else ""
        if len(reasons) > 5:
            detail += f"; and {len(reasons) - 5} more"
        raise InputError(f"none of the inputs could be recognised as an SSDA903 or CIN census file{detail}")
    if return_type is None:
        findings.append(ingest_finding("RETURN-INFERRED", f"the files were recognised as a {found_type} return"))
    if year is None:
        year, how = infer_year(found_type, raws, today)
        findings.append(
            ingest_finding("YEAR-INFERRED", f"collection year {year} was used, {how}; give --year to choose")
        )
    else:
        mismatch = year_mismatch(found_type, raws, check_year(year), today)
        if mismatch is not None:
            findings.append(mismatch)
    findings.extend(mixed_years(found_type, raws, today))
    current_year = data_year(found_type, raws, today)
    year = check_year(year)
    if year not in SUPPORTED_YEARS[found_type]:
        raise InputError(
            f"collection year {year} is not supported for {found_type} "
            f"(supported: {', '.join(SUPPORTED_YEARS[found_type])})"
        )
    _check_xml_schema_late(read, year, findings)
    return _ThisYear(read, load_schema(found_type), year, findings, inputs, current_year)


def _return_guessed(files: list[Path], return_type: str | None) -> str | None:
    """The return the files look like from their first bytes (XML: the root element; CSV: the header row), or
    None when that does not say (a workbook, an unknown or mixed set). Only a guess: see load_return."""
    if return_type is not None:
        return return_type
    kinds: set[str | None] = set()
    schemas = [load_schema(r) for r in RETURN_TYPES]
    for path in files:
        try:
            if is_workbook(path):
                return None
            layout = sniff_xml_layout(path) if path.suffix.lower() != ".csv" else None
            if layout is not None:
                kinds.add(layout[0] if layout[0] != "unknown-xml" else None)
                continue
            with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
                header = next(csv.reader([fh.readline(MAX_GUESS_LINE)]), [])
        except (OSError, csv.Error):  # the reading proper says what is wrong with the file
            return None
        found = identify_table(header, schemas)
        kinds.add(found[0].return_type if found else None)
    return next(iter(kinds)) if len(kinds) == 1 else None


def _read_ahead(
    files: list[Path],
    skipped: list[Finding],
    return_type: str | None,
    year: str,
    guess: str,
    earlier_of: _Earlier,
    no_data: Sequence[str],
    log_changes: bool,
    today: dt.date,
    while_reading: Callable[[str], object] | None,
) -> tuple[_ThisYear, dict[str, Table], list[Finding], list[_EarlierYear]]:
    """This year's return read and typed, and the earlier years' read from the start beside it on a second process
    as the return the files look like (``guess``). That reading is kept only if this year's agrees (the same return
    and year: the very reading load_return would make after it); otherwise the earlier years are read again."""

    def task(n: int) -> tuple[_ThisYear | None, dict[str, Table], list[Finding], list[_EarlierYear]]:
        if n == 0:
            this = _this_year(files, skipped, return_type, year, no_data, log_changes, today)
            found: list[Finding] = []
            typed = _type_tables(this.schema, this.read, this.year, found, suffix="")
            if while_reading is not None:
                while_reading(this.schema.return_type)
            return this, typed, found, []
        return None, {}, [], earlier_of.read(load_schema(guess), year)

    (this, tables, typing_found, _), (_, _, _, earlier) = run_tasks(2, task, 2)
    assert this is not None
    if (this.schema.return_type, this.year) != (guess, year):
        earlier = earlier_of.read(this.schema, this.year)
    return this, tables, typing_found, earlier


def _listed(previous: list[list[str | Path]]) -> list[list[Path]] | None:
    """Each earlier year's files; None when a path is not there (said when it is read, in this process)."""
    try:
        return [expand_paths(given) for given in previous]
    except (InputError, OSError):
        return None


def _processes_for(listed: list[list[Path]] | None) -> int:
    """Two processes (where the machine allows) when earlier years' files come to EARLIER_BYTES or more."""
    if listed is None:
        return 1
    try:
        earlier_bytes = sum(f.stat().st_size for files in listed for f in files)
    except OSError:
        return 1
    return available_processes() if earlier_bytes >= EARLIER_BYTES else 1


@dataclass
class _Earlier:
    """The earlier years' returns to read (``previous``: each year's paths; ``listed``: their files, when they were
    listed already)."""

    previous: list[list[str | Path]]
    listed: list[list[Path]] | None
    no_data: Sequence[str]
    today: dt.date

    def read(self, schema: ReturnSchema, year: str) -> list[_EarlierYear]:
        return [
            _read_earlier(schema, year, n, given, self._files(n, given), self.no_data, self.today)
            for n, given in enumerate(self.previous, start=1)
        ]

    def _files(self, n: int, given: list[str | Path]) -> list[Path]:
        return self.listed[n - 1] if self.listed is not None else expand_paths(given)


def _type_years(
    this: _ThisYear, earlier_of: _Earlier, processes: int, while_reading: Callable[[str], object] | None
) -> tuple[dict[str, Table], list[Finding], list[_EarlierYear]]:
    """This year's tables typed (with the findings typing gives), and each earlier year's return read and typed.

    The earlier years are worked out beside this year's typing, on a second process when their files are large
    enough to pay for it (validator/processes.py); the result is the same either way."""

    def typed(task: int) -> tuple[dict[str, Table], list[Finding], list[_EarlierYear]]:
        if task == 0:
            found: list[Finding] = []
            tables = _type_tables(this.schema, this.read, this.year, found, suffix="")
            if while_reading is not None:
                while_reading(this.schema.return_type)
            return tables, found, []
        return {}, [], earlier_of.read(this.schema, this.year)

    previous = earlier_of.previous
    done = run_tasks(2 if previous else 1, typed, processes)
    return done[0][0], done[0][1], done[1][2] if previous else []


@dataclass
class _EarlierYear:
    """An earlier year's return, read and typed (``n``: 1 for last year, 2 for the year before, ...)."""

    n: int
    findings: list[Finding]  # reading the files
    data_year: tuple[str, str] | None  # the year its data belongs to (sanity.data_year)
    inputs: list[InputFile]
    typing_findings: list[Finding]
    tables: dict[str, Table]


def _read_earlier(
    schema: ReturnSchema,
    year: str,
    n: int,
    paths: list[str | Path],
    files: list[Path],
    no_data: Sequence[str],
    today: dt.date,
) -> _EarlierYear:
    """Read and type the return of ``n`` years before ``year`` (its ``paths``, expanded to ``files``)."""
    found_type = schema.return_type
    label = PREVIOUS if n == 1 else f"{PREVIOUS}{n}"
    prev_year = previous_year(year, n)
    known = prev_year if prev_year in SUPPORTED_YEARS[found_type] else None
    prev = _read_files(files, found_type, known, no_data)
    findings = _of_year(prev.findings, label)
    findings.extend(_of_year(skipped_files(list(paths), DATA_SUFFIXES), label))
    findings.extend(mixed_years(found_type, prev.raws, today, f"the {label.lstrip('@')} year's"))
    found_year = data_year(found_type, prev.raws, today) if n == 1 else None
    for item in prev.inputs:
        item.year = label.lstrip("@")
    typing_findings: list[Finding] = []
    tables = {}
    if prev.return_type is not None:
        tables = _type_tables(schema, prev, known or year, typing_findings, suffix=label)
    return _EarlierYear(n, findings, found_year, prev.inputs, typing_findings, tables)


def _type_tables(
    schema: ReturnSchema, read: FilesRead, year: str, findings: list[Finding], suffix: str
) -> dict[str, Table]:
    with paused_gc():
        return _typed(schema, read, year, findings, suffix)


def _typed(schema: ReturnSchema, read: FilesRead, year: str, findings: list[Finding], suffix: str) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for name in list(read.raws):
        raw_list = read.raws.pop(name)  # the text read is not needed once typed: its memory is freed table by table
        table_def = schema.tables.get(name)
        if table_def is None:
            continue
        present = raw_list  # a file (or XML block) that holds the table makes it present, even with no records
        table, found = build_table(
            name, present, table_def, schema.return_type, year, schema.child_key, read.date_forms
        )
        found = [f for f in found if not (f.code in VALUE_CODES and f.file in read.schema_checked)]
        findings.extend(_of_year(found, suffix))
        table.name = name + suffix
        tables[name + suffix] = table
    if schema.return_type == "ssda903":
        derive_uasc_flag(tables, suffix)
    return tables


def _of_year(findings: list[Finding], suffix: str) -> list[Finding]:
    """Findings about an earlier year's files name that year's table (``Episodes@previous``)."""
    if not suffix:
        return findings
    return [replace(f, table=f.table + suffix) if f.table and "@" not in f.table else f for f in findings]


def derive_uasc_flag(tables: dict[str, Table], suffix: str) -> None:
    """SSDA903 CSV returns carry no Header.UASC flag (only the XML does): when the Header file lacks it and a
    UASC table was supplied, a child is flagged 1 when it has a UASC record and 0 otherwise (DfE's convention)."""
    header, uasc = tables.get("Header" + suffix), tables.get("UASC" + suffix)
    if header is None or uasc is None:
        return
    lacking = header.missing_columns.get("UASC", [])
    if not lacking or len(lacking) != len(header.files):
        return
    df = header.df.copy(deep=False)  # a new column on a shallow copy: the table read stays as it was
    df["UASC"] = df["CHILD"].isin(uasc.df["CHILD"].dropna()).map({True: "1", False: "0"}).where(df["CHILD"].notna())
    header.df = df
    del header.missing_columns["UASC"]
