"""CSV files -> raw tables. The table is recognised by the header row, never by the file name."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import operator
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, MutableSequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..findings import Finding, ingest_finding
from ..schema import RETURN_TYPES, ReturnSchema, TableDef, load_schema
from .csv_cells import ColumnBuilder, uniform_cells
from .raw import CodedColumns, RawTable

MAX_FIELD = 16 * 1024 * 1024
T = TypeVar("T")


@dataclass
class Decoded:
    text: str
    encoding: str


def decode_bytes(data: bytes) -> Decoded:
    """UTF-8 (with or without BOM), UTF-16 (Excel 'Unicode text', with or without BOM), else cp1252."""
    if data.startswith(codecs.BOM_UTF8):
        return Decoded(data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "UTF-8 with BOM")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Decoded(data.decode("utf-16", errors="replace"), "UTF-16")
    sample = data[:4096]
    if len(sample) >= 4:
        even_nul = sample[0::2].count(0)
        odd_nul = sample[1::2].count(0)
        if odd_nul > len(sample) // 4 and even_nul == 0:
            return Decoded(data.decode("utf-16-le", errors="replace"), "UTF-16 (little-endian, no BOM)")
        if even_nul > len(sample) // 4 and odd_nul == 0:
            return Decoded(data.decode("utf-16-be", errors="replace"), "UTF-16 (big-endian, no BOM)")
    try:
        return Decoded(data.decode("utf-8"), "UTF-8")
    except UnicodeDecodeError:
        return Decoded(data.decode("cp1252", errors="replace"), "cp1252 (Windows)")


# Signatures of files people give by mistake, and what to do instead.
_BINARY_KINDS = (
    (b"PK\x03\x04", "it is a zip file but not a readable Excel workbook (.xlsx), nor CSV or XML: a damaged "
     "workbook, or a zip file to unzip first?"),
    (b"\xd0\xcf\x11\xe0", "it is an old-style Excel workbook (.xls), which is not read: save it from Excel as an "
     "Excel Workbook (.xlsx), or each table as CSV (comma delimited)"),
    (b"%PDF", "it is a PDF document, not CSV or XML"),
    (b"\x1f\x8b", "it is a compressed (gzip) file, not CSV or XML: decompress it first"),
)  # fmt: skip
# Control codes (tab and line breaks aside) and the replacement character (bytes no text encoding explains)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")


def _not_text(data: bytes, text: str) -> str | None:
    """Why a file is not a text table (a workbook, a PDF, binary junk), or None when it reads as text."""
    for magic, why in _BINARY_KINDS:
        if data.startswith(magic):
            return why
    sample = text[:4096]
    odd = len(_CONTROL.findall(sample))
    if sample and odd > max(2, len(sample) // 50):
        return (
            f"it does not look like text (CSV or XML): {odd} of its first {len(sample)} characters are control "
            "codes or bytes that no text encoding explains; is it a binary or damaged file?"
        )
    return None


def _shown(cell: str, limit: int = 30) -> str:
    """A header cell as it can be shown in a message: printable, short."""
    text = "".join(ch if ch.isprintable() else "?" for ch in cell.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def normalise_header(name: str) -> str:
    return name.strip().strip('"').strip().upper().replace(" ", "_")


def match_columns(header: list[str], table: TableDef) -> dict[int, str]:
    """Position in the header -> canonical column name, for the header cells this table knows."""
    return _matched([normalise_header(h) for h in header], _names_of(table)[0])


def _matched(names: list[str], canon: dict[str, str]) -> dict[int, str]:
    """:func:`match_columns` of header cells already normalised."""
    return {i: canon[name] for i, name in enumerate(names) if name in canon}


# Worked out once per object of the return's definitions (a table, a schema) and kept while the object lives: every
# file's header row is matched against every table of the return. Keyed by the object's id, checked against the
# object itself (the definitions are frozen dataclasses holding dicts, so they cannot be hashed).
_KEPT: dict[tuple[str, int], tuple[object, Any]] = {}


def _once_per(what: str, owner: object, compute: Callable[[], T]) -> T:
    known = _KEPT.get((what, id(owner)))
    if known is None or known[0] is not owner:
        known = _KEPT[(what, id(owner))] = (owner, compute())
    return known[1]  # type: ignore[no-any-return]


def _names_of(table: TableDef) -> tuple[dict[str, str], tuple[str, ...]]:
    """A table's header names normalised: each name and alias -> its column, and its signature."""

    def compute() -> tuple[dict[str, str], tuple[str, ...]]:
        canon = {normalise_header(c): c for c in table.columns}
        canon.update({normalise_header(a): c for a, c in table.aliases.items()})
        return canon, tuple(normalise_header(s) for s in table.signature)

    return _once_per("names", table, compute)


def _too_long(name: str, exc: _TooLong, table: str | None) -> Finding:
    return ingest_finding(
        "FILE-UNREADABLE",
        f"{name} line {exc.line}: {exc} (the most read); "
        + ("rows before it were kept" if table else "no header row could be read"),
        table=table,
        file=name,
        line=exc.line,
    )


def reserved_names(schema: ReturnSchema) -> set[str]:
    """Column names (upper case) an extra column may not take: every column of the return's tables, their
    aliases, and the columns the engine derives."""
    from ..engine.derived import child_columns, derived_columns

    names = {c for t in schema.tables.values() for c in (*t.columns, *t.aliases)}
    names |= {c for t in schema.tables for c in derived_columns(schema.return_type, t)}
    names |= set(child_columns(schema.return_type))
    return {normalise_header(n) for n in names}


def _reserved_of(schema: ReturnSchema) -> frozenset[str]:
    """:func:`reserved_names`, worked out once per schema (every file of a return asks)."""
    return _once_per("reserved", schema, lambda: frozenset(reserved_names(schema)))


def extra_column_names(extras: list[tuple[int, str]], reserved: AbstractSet[str]) -> list[tuple[int, str, str]]:
    """(position, header text, name kept under) for each extra column. The name is the header text unless that
    could be taken for one of the program's own columns (bookkeeping ``_row``, ``_file``, ``_line``, typed
    copies ``COL@raw``, ``@previous`` tables: a leading ``_`` or any ``@``), a column of the return or a derived
    one, or an earlier extra column (letter case aside, as Excel's tables compare): then it is kept as
    "``text`` (column N)", with ``@`` written ``-at-`` and leading underscores dropped, so an input's name can never
    stand for an internal one."""
    taken = set(reserved)
    named: list[tuple[int, str, str]] = []
    for pos, text in extras:
        key = text
        if key.startswith("_") or "@" in key or normalise_header(key) in taken:
            key = f"{text.replace('@', '-at-').lstrip('_') or 'column'} (column {pos + 1})"
        taken.add(normalise_header(key))
        named.append((pos, text, key))
    return named


def identify_table(header: list[str], schemas: list[ReturnSchema]) -> tuple[ReturnSchema, TableDef] | None:
    """The table whose signature columns the header contains, preferring the most columns in common."""
    best: tuple[tuple[int, int], ReturnSchema, TableDef] | None = None
    normalised = [normalise_header(h) for h in header]
    names = set(normalised)
    for schema in schemas:
        for table in schema.tables.values():
            canon, signature = _names_of(table)
            signature_hits = sum(1 for s in signature if s in names)
            if signature_hits == 0:
                continue
            matched = set(_matched(normalised, canon).values())
            score = (signature_hits, len(matched))
            if best is None or score > best[0]:
                best = (score, schema, table)
    return None if best is None else (best[1], best[2])


def _returns_named(schemas: list[ReturnSchema]) -> str:
    names = {"ssda903": "SSDA903", "cin": "CIN census"}
    given = [names.get(s.return_type, s.return_type) for s in schemas]
    return f"the {given[0]} return" if len(given) == 1 else f"the {' or '.join(given)} returns"


def _other_return(header: list[str], schemas: list[ReturnSchema]) -> str | None:
    """The other return whose table the header row matches, when the run was given one return type."""

    given = {s.return_type for s in schemas}
    others = [load_schema(r) for r in RETURN_TYPES if r not in given]
    found = identify_table(header, others) if others else None
    names = {"ssda903": "SSDA903", "cin": "CIN census"}
    return names.get(found[0].return_type, found[0].return_type) if found else None


MAX_LINE = 32 * 1024 * 1024  # characters in one line of a file
MAX_RECORD = 64 * 1024 * 1024  # characters in one record (a quoted cell may run over several lines)
_CHUNK = 1 << 20
_HEAD = 64 * 1024
_BLANK = b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"


class _TooLong(Exception):
    """A line or record over its limit: reading stops there (memory stays bounded whatever the file)."""

    def __init__(self, line: int, what: str) -> None:
        super().__init__(what)
        self.line = line


@dataclass
class _Sniffed:
    codec: str  # for open()
    label: str  # for the FILE-ENCODING notice
    head: bytes  # the first bytes, for the binary-file check
    empty: bool


def _sniff(path: Path) -> _Sniffed:
    """Encoding (as decode_bytes decides it) and emptiness, in one pass of bounded memory over the file."""
    with path.open("rb") as fh:
        head = fh.read(_HEAD)
        empty = not head.strip(_BLANK)
        if head.startswith(codecs.BOM_UTF8):
            codec, label = "utf-8-sig", "UTF-8 with BOM"
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            codec, label = "utf-16", "UTF-16"
        else:
            codec, label = "", ""
            sample = head[:4096]
            if len(sample) >= 4:
                even_nul, odd_nul = sample[0::2].count(0), sample[1::2].count(0)
                if odd_nul > len(sample) // 4 and even_nul == 0:
                    codec, label = "utf-16-le", "UTF-16 (little-endian, no BOM)"
                elif even_nul > len(sample) // 4 and odd_nul == 0:
                    codec, label = "utf-16-be", "UTF-16 (big-endian, no BOM)"
        utf8 = codecs.getincrementaldecoder("utf-8")() if not codec else None
        chunk = head
        while chunk:
            if utf8 is not None:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8, codec, label = None, "cp1252", "cp1252 (Windows)"
            empty = empty and not chunk.strip(_BLANK)
            if not empty and utf8 is None:
                break  # the encoding is settled and the file has content: no need to read on
            chunk = fh.read(_CHUNK)
        if utf8 is not None:  # valid UTF-8 to the end (unless it ends inside a character)
            try:
                utf8.decode(b"", final=True)
                codec, label = "utf-8", "UTF-8"
            except UnicodeDecodeError:
                codec, label = "cp1252", "cp1252 (Windows)"
    return _Sniffed(codec, label, head, empty)


_BLOCK = 1 << 18  # characters read at a time


def split_lines(text: str) -> list[str]:
    """``text`` cut into lines as a file opened with ``newline=""`` reads them: each ends at \n, \r\n or \r (kept),
    the last one may end without a line break."""
    lines = text.splitlines(keepends=True)
    breaks = text.count("\n") + (text.count("\r") - text.count("\r\n") if "\r" in text else 0)
    if len(lines) == breaks + (not text.endswith(("\n", "\r"))):  # it broke lines at \n, \r\n and \r only
        return lines
    return io.StringIO(text, newline="").readlines()


class _Lines:
    """The file's lines for csv.reader, read in blocks of text with a limit: a line over MAX_LINE characters or a
    record over MAX_RECORD stops the reading (_TooLong); NUL characters are dropped and counted. Besides one line
    at a time (``next``), a block's lines can be taken at once (``plain_block``) when none of them can make a
    record of more than one line or an error of csv.reader: the reader then splits them in one call. A block with
    no carriage return is kept as its text (``text``, from ``offset``), cut into lines only where one is asked for;
    any other as a list of lines (``pending``, from ``pos``)."""

    def __init__(self, handle: io.TextIOBase) -> None:
        self.handle = handle
        self.read = 0  # lines read
        self.record = 0  # characters of the record being read (the caller resets it after each record)
        self.nuls = 0
        self.pending: list[str] = []  # the block's complete lines; those before ``pos`` were handed out
        self.pos = 0
        self.text = ""  # or the block's complete lines as one text; that before ``offset`` was handed out
        self.offset = 0
        self.plain = False  # whether the block holds no quote and no NUL
        self.taken = 0  # the lines of the last plain block
        self.carry: list[str] = []  # the start of a line whose end is not read yet
        self.carried = 0  # its length
        self.over = False  # a line longer than MAX_LINE follows the pending lines: reading stops there
        self.done = False

    def __iter__(self) -> _Lines:
        return self

    def _fill(self) -> bool:
        """Read the next block's complete lines into ``pending`` (or ``text``); False when no line is left."""
        while not self.done:
            text = self.handle.read(_BLOCK)
            if not text:
                self.done = True
                rest = "".join(self.carry)
                self.carry, self.carried = [], 0
                return self._hold([rest] if rest else [], rest)
            after_cr = bool(self.carry) and self.carry[-1].endswith("\r")
            # no line ends here (a last \r may be the start of a \r\n)
            if "\n" not in text and text.find("\r", 0, len(text) - 1) < 0 and not after_cr:
                self.carry.append(text)
                self.carried += len(text)
                if self.carried > MAX_LINE:
                    self.carry, self.carried, self.over, self.done = [], 0, True, True
                    return self._hold([], "")
                continue
            if self.carry:
                self.carry.append(text)
                text = "".join(self.carry)
                self.carry = []
            block = ""
            if "\r" in text:
                lines = split_lines(text)
                tail = lines.pop() if not lines[-1].endswith("\n") else ""  # may go on in the next block
            else:  # lines end at \n only: the text up to the last one is the block's lines, kept as it is
                cut = text.rfind("\n") + 1
                lines, tail, block = [], text[cut:], text[:cut]
            self.carry, self.carried = ([tail], len(tail)) if tail else ([], 0)
            if self.carried > MAX_LINE:
                self.carry, self.carried, self.over, self.done = [], 0, True, True
            held = self._hold(lines, text)
            self.text = block
            return held or bool(block)
        return False

    def _hold(self, lines: list[str], text: str) -> bool:
        self.pending, self.pos, self.text, self.offset = lines, 0, "", 0
        self.plain = '"' not in text and "\x00" not in text
        return bool(lines) or self.over

    def _held(self) -> bool:
        return self.pos < len(self.pending) or self.offset < len(self.text)

    def _take(self) -> str:
        """The next complete line held."""
        if self.pos < len(self.pending):
            self.pos += 1
            return self.pending[self.pos - 1]
        start, self.offset = self.offset, self.text.index("\n", self.offset) + 1
        return self.text[start : self.offset]

    def __next__(self) -> str:
        if not self._held() and not (self.over or self._fill()):
            raise StopIteration
        if not self._held():  # the line over the limit, which is not held
            self.over = False
            self.read += 1
            raise _TooLong(self.read, f"a line of more than {MAX_LINE:,} characters")
        line = self._take()
        self.read += 1
        if len(line) > MAX_LINE:
            raise _TooLong(self.read, f"a line of more than {MAX_LINE:,} characters")
        self.record += len(line)
        if self.record > MAX_RECORD:
            raise _TooLong(self.read, f"a record of more than {MAX_RECORD:,} characters")
        if "\x00" in line:
            self.nuls += line.count("\x00")
            line = line.replace("\x00", "")
        return line

    def plain_block(self, delimiter: str) -> RowBlock | None:
        """The rest of the block's lines cut into cells when each is one record that csv.reader reads without error
        (no quote, no NUL, none longer than a cell may be); None (and nothing taken) otherwise, or at the end of the
        file. ``taken``: how many lines it holds."""
        if not self._held() and (self.over or not self._fill()):
            return None
        if not self.plain or not self._held():
            return None
        first, limit = self.read + 1, min(MAX_LINE, MAX_FIELD)
        if self.offset < len(self.text):
            rest = self.text[self.offset :] if self.offset else self.text
            # (a block grown by a long line is cut into lines as before: the arrays would be a few times its size)
            found = uniform_cells(rest, delimiter, limit) if len(rest) <= 4 * _BLOCK else None
            if found is not None:
                self.offset, self.taken = len(self.text), found[2]
                self.read += self.taken
                return RowBlock(first, cells=found[0], width=found[1])
            self.pending, self.pos, self.text, self.offset = split_lines(rest), 0, "", 0  # cut into lines after all
        lines = self.pending[self.pos :] if self.pos else self.pending
        if max(map(len, lines)) > limit:
            return None
        self.pos, self.taken = len(self.pending), len(lines)
        self.read += self.taken
        return split_block(first, lines, delimiter)


def read_csv_file(
    path: Path, schemas: list[ReturnSchema], display_name: str | None = None
) -> tuple[ReturnSchema | None, RawTable | None, list[Finding]]:
    """One CSV file as a raw table. The file is read as a stream, a line at a time, with a limit on each line,
    record and cell (MAX_LINE, MAX_RECORD, MAX_FIELD): memory grows with the data kept, never with one line."""
    name = display_name or str(path)  # the path as given: this year's and last year's files are told apart
    findings: list[Finding] = []
    try:
        sniffed = _sniff(path)
        handle = path.open(encoding=sniffed.codec, errors="replace", newline="")
    except OSError as exc:
        return None, None, [ingest_finding("FILE-UNREADABLE", f"{name}: {exc.strerror or exc}", file=name)]
    with handle:
        return _read_csv(handle, sniffed, schemas, name, findings)


def _read_csv(
    handle: io.TextIOBase, sniffed: _Sniffed, schemas: list[ReturnSchema], name: str, findings: list[Finding]
) -> tuple[ReturnSchema | None, RawTable | None, list[Finding]]:
    if sniffed.empty:
        return None, None, [ingest_finding("FILE-EMPTY", f"{name}: the file is empty", file=name)]
    not_text = _not_text(sniffed.head, sniffed.head.decode(sniffed.codec, errors="replace"))
    if not_text:
        return None, None, [ingest_finding("FILE-UNREADABLE", f"{name}: {not_text}", file=name)]
    if not sniffed.label.startswith("UTF-8"):
        findings.append(ingest_finding("FILE-ENCODING", f"{name}: read as {sniffed.label}", file=name))
    nul_at = len(findings)
    lines = _Lines(handle)
    try:
        first_line = next(lines, "")
    except _TooLong as exc:
        return None, None, [*findings, _too_long(name, exc, None)]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(itertools.chain([first_line], lines), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error, _TooLong) as exc:
        if isinstance(exc, _TooLong):
            return None, None, [*findings, _too_long(name, exc, None)]
        return None, None, [*findings, ingest_finding("FILE-UNREADABLE", f"{name}: no header row ({exc})", file=name)]
    lines.record = 0
    found = identify_table(header, schemas)
    if found is None:
        shown = ", ".join(_shown(h) for h in header[:12]) + (", ..." if len(header) > 12 else "")
        findings.append(
            ingest_finding(
                "FILE-UNKNOWN-TABLE",
                f"{name}: the header row ({shown}) does not match any table of {_returns_named(schemas)}"
                + (f" (it is a table of the {other} return)" if (other := _other_return(header, schemas)) else "")
                + (
                    "; the file seems to separate its cells with ';', but CSV files need ','"
                    if ";" in first_line and len(header) == 1
                    else ""
                ),
                file=name,
                line=1,
                quoted=(shown,),  # with no header row, the first row is a record: personal data
            )
        )
        return None, None, findings
    schema, table = found
    late: list[Finding] = []  # a stop in the reading, reported after the header's findings

    rows = _records(reader, lines, delimiter, name, table.name, late)
    raw, more = rows_to_table(name, header, rows, schema, table)
    findings.extend(more)
    findings.extend(late)
    if lines.nuls:
        findings.insert(
            nul_at,
            ingest_finding(
                "FILE-ENCODING", f"{name}: {lines.nuls} NUL character(s) were removed from the text", file=name
            ),
        )
    return schema, raw, findings


@dataclass
class RowBlock:
    """Records read a block at a time, one per line from line ``first`` on: ``rows``, the cells of each line
    (blank lines included); or, when every line has the same number of cells, ``cells``: all of them in one list,
    line after line, ``width`` to a line."""

    first: int
    rows: list[list[str]] | None = None
    cells: list[str] | None = None
    width: int = 0

    def lines(self) -> list[list[str]]:
        if self.rows is not None:
            return self.rows
        cells, width = self.cells or [], self.width
        return [cells[at : at + width] for at in range(0, len(cells), width)]


def split_block(first: int, lines: list[str], delimiter: str) -> RowBlock:
    """Lines that are one record each (no quote, no NUL, as ``_Lines.plain_block`` gives them) cut into cells as
    csv.reader cuts them. When each line has the same number of delimiters the whole block is cut at once."""
    counts = list(map(str.count, lines, itertools.repeat(delimiter)))
    if counts and counts[0] and counts.count(counts[0]) == len(counts):
        text = "".join(lines)
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        if "\r" not in text:  # each line ends with \n (the last may end the file)
            cells = text.removesuffix("\n").replace("\n", delimiter).split(delimiter)
            return RowBlock(first, cells=cells, width=counts[0] + 1)
    return RowBlock(first, rows=list(csv.reader(lines, delimiter=delimiter)))


def _records(
    reader: Iterator[list[str]], lines: _Lines, delimiter: str, name: str, table: str, late: list[Finding]
) -> Iterator[tuple[int, list[str | None]] | RowBlock]:
    """The records after the header row, as (line, cells), or as a RowBlock for a block of lines that are one record
    each (no quotes): those are split by csv.reader in one call. A stop in the reading is added to ``late``."""
    try:
        while True:
            block = lines.plain_block(delimiter)
            if block is not None:
                yield block
                lines.record = 0
                continue
            cells = next(reader, None)  # one record, which may run over several lines
            if cells is None:
                return
            lines.record = 0
            if _blank_row(cells):
                continue
            yield lines.read, list(cells)
    except _TooLong as exc:
        late.append(_too_long(name, exc, table))
    except csv.Error as exc:
        late.append(
            ingest_finding(
                "FILE-UNREADABLE",
                f"{name} line {lines.read}: {exc}; rows before it were kept",
                table=table,
                file=name,
                line=lines.read,
            )
        )


def rows_to_table(
    name: str,
    header: list[str],
    rows: Iterable[tuple[int, list[str | None]] | RowBlock],
    schema: ReturnSchema,
    table: TableDef,
    header_line: int = 1,
    *,
    ragged: bool = True,
) -> tuple[RawTable, list[Finding]]:
    """A recognised header row and the (line, cells) rows under it -> the table's records, with the findings
    about its columns and rows. Shared by every reader of row-shaped files (CSV, workbook sheets);
    ``ragged``: whether a row with another number of cells than the header is a finding (CSV)."""
    findings: list[Finding] = []
    positions = match_columns(header, table)
    seen: dict[str, int] = {}
    for pos, col in sorted(positions.items()):
        if col in seen:
            findings.append(
                ingest_finding(
                    "COLUMN-DUPLICATE",
                    f"{name}: column {col} appears twice in the header row (cells "
                    f"{seen[col] + 1} and {pos + 1}); the first was used",
                    table=table.name,
                    fields=(col,),
                    file=name,
                    line=header_line,
                )
            )
        else:
            seen[col] = pos
    extras = extra_column_names(
        [(i, h.strip()) for i, h in enumerate(header) if i not in positions and h.strip()], _reserved_of(schema)
    )
    if extras:
        shown = ", ".join(h if key == h else f"{h} (kept as {key})" for _, h, key in extras)
        findings.append(
            ingest_finding(
                "COLUMN-EXTRA",
                f"{name}: column(s) {shown} are not part of the {table.name} table; they were kept but not checked",
                table=table.name,
                file=name,
                line=header_line,
            )
        )
    raw = RawTable(name=table.name, file=name, lines=array("q"))  # line numbers as machine integers
    names = [*seen, *(key for _, _, key in extras)]
    columns = ColumnBuilder(len(names))
    where = _Where(name, table.name, len(header), ragged)
    findings.extend(_collect(rows, [*seen.values(), *(pos for pos, _, _ in extras)], columns, raw.lines, where))
    built = dict(zip(names, columns.finish(), strict=True))
    raw.extra_columns = [key for _, _, key in extras]
    raw.coded = {**{key: built[key] for key in raw.extra_columns}, **{col: built[col] for col in seen}}
    raw.columns = CodedColumns(raw.coded)  # each column's values listed only if asked for
    raw.headers, raw.header_line = {col: header[pos] for col, pos in seen.items()}, header_line  # for convert's log
    return raw, findings


@dataclass
class _Where:
    file: str
    table: str
    width: int  # cells in the header row
    ragged: bool  # whether a row of another width is a finding


def _collect(
    rows: Iterable[tuple[int, list[str | None]] | RowBlock],
    positions: list[int],
    columns: ColumnBuilder,
    lines: MutableSequence[int],
    where: _Where,
) -> list[Finding]:
    """The cells at ``positions`` of every row into ``columns``, each row's line into ``lines``; ROW-RAGGED for
    rows of another width than the header when ``where.ragged``. A block whose rows all have the header's width
    is added column by column."""
    findings: list[Finding] = []
    pick = operator.itemgetter(*positions) if len(positions) > 1 else None
    need = max(positions, default=-1) + 1
    width = where.width
    for item in rows:
        if isinstance(item, RowBlock):
            if item.cells is not None and item.width == width:  # no blank row (width > 1), no ragged one
                cells = item.cells
                table = np.fromiter(cells, dtype=object, count=len(cells)).reshape(-1, width)  # a row per line
                columns.add_columns([table[:, pos] for pos in positions])
                lines.extend(range(item.first, item.first + len(cells) // width))
                continue
            records = [(item.first + i, cells) for i, cells in enumerate(item.lines()) if not _blank_row(cells)]
        else:
            records = [item]
        for line, cells in records:
            if where.ragged and len(cells) != width:
                findings.append(
                    ingest_finding(
                        "ROW-RAGGED",
                        f"{where.file} line {line}: {len(cells)} cells where the header has {width}",
                        table=where.table,
                        row=len(lines),
                        file=where.file,
                        line=line,
                    )
                )
            if pick is not None and len(cells) >= need:
                columns.add(pick(cells))
            else:
                columns.add(tuple(cells[pos] if pos < len(cells) else None for pos in positions))
            lines.append(line)
    return findings


def _blank_row(cells: list[str]) -> bool:
    """A row csv.reader gives for a blank line (or one of spaces only), which is skipped."""
    return not cells or (len(cells) == 1 and not cells[0].strip())
