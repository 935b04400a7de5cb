"""The finding: one problem found in a return, whether by a DfE rule or while reading the files.

A run's findings are kept as columns (:class:`FindingTable`, one table per run) from the rules to the
renderers; :class:`Finding` is the view of one of them, for the few places (and API users) that want one.
DfE rule findings carry DfE's code; problems found while reading files carry one of the project's own codes
from ``INGEST_CODES`` (frictionless-style catalogue).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

Severity = Literal["error", "query", "notice"]
Level = Literal["return", "child", "record", "file"]

# What a finding shows for a field of another table when no single record of it applies (a blank value means
# the record's field is blank in the file).
NO_RECORD = "[no record]"
SEVERAL_RECORDS = "[several records]"

# Checks before the rules that stop the run (no rule is run, exit status 2): the data is not the return the
# options describe, and the rules would report errors that are not in it (docs/output.md).
STOPPING_CODES = frozenset({"YEAR-MISMATCH", "YEARS-SWAPPED", "YEARS-MIXED"})

SEVERITY_ORDER: dict[str, int] = {"error": 0, "query": 1, "notice": 2}

# A finding that rests on care history older than the returns given (docs/output.md): shown apart, and it does
# not make the run fail. Every other finding is confirmed.
CONFIRMED = "confirmed"
UNCONFIRMED = "unconfirmed"

# The project's own finding codes for problems in the files themselves (not DfE rules).
INGEST_CODES: dict[str, tuple[Severity, str]] = {
    "FILE-UNREADABLE": ("error", "The file could not be read."),
    "FILE-EMPTY": ("error", "The file is empty."),
    "FILE-UNKNOWN-TABLE": ("error", "The file's header row does not match any table of this return."),
    "FILE-DUPLICATE-TABLE": ("notice", "More than one file holds this table; their rows were combined."),
    "FILE-ENCODING": ("notice", "The file is not UTF-8; it was read with another encoding."),
    "XML-MALFORMED": ("error", "The XML file is not well formed."),
    "XML-ROOT": ("error", "The XML file's root element is not the one this return expects."),
    "XML-SCHEMA": ("error", "The XML file does not follow the return's schema."),
    "XML-UNSAFE": ("error", "The XML file uses a feature that is refused for safety (DTD or entities)."),
    "PROVIDERS-LAYOUT": ("error", "The file given as an Ofsted provider list has no sheet with its columns."),
    "COLUMN-MISSING": ("error", "A column the table needs is missing from the file."),
    "COLUMN-EXTRA": ("notice", "The file has a column the table does not define; it was kept but not checked."),
    "COLUMN-DUPLICATE": ("error", "The header row names the same column twice; the later copy was ignored."),
    "ROW-RAGGED": ("error", "The row has a different number of cells from the header row."),
    "DATE-INVALID": ("error", "The value is not a valid date."),
    "DATE-RANGE": ("error", "The date is outside the years the validator can hold (1678 to 2261); check its year."),
    "DATE-FORMAT": ("notice", "Dates in this column are not in DfE's dd/mm/yyyy form; they were read anyway."),
    "NUMBER-INVALID": ("error", "The value is not a whole number."),
    "FLAG-INVALID": ("error", "The value is not a yes/no flag (true, false, 1 or 0)."),
    "CODE-CASE": ("notice", "The code is in the wrong letter case; DfE compares codes exactly."),
    "YEAR-MISMATCH": ("error", "The data belongs to another collection year than the one given."),
    "YEARS-SWAPPED": ("error", "The return given as last year's is of a later year than this year's."),
    "YEARS-MIXED": ("error", "One input holds records of more than one collection year."),
    "FILE-SKIPPED": ("notice", "A file in an input folder was not read."),
    "SHEET-LAYOUT": ("notice", "Rows or cells of a sheet around the table (titles, notes, totals) were not read."),
    "SHEET-HIDDEN": ("notice", "A sheet, rows or columns of a workbook are hidden or filtered out; they were read."),
    "SHEET-MERGED": ("notice", "The table has merged cells: only the first cell of each holds a value."),
    "SHEET-NOT-TABLE": ("notice", "A sheet of a workbook has no header row of a table of the return; not read."),
    "SHEET-UNSEEN": ("notice", "The workbook's format does not show hidden rows, columns or formulas; all were read."),
    "CELL-FORMULA": ("notice", "Cells hold formulas; their last calculated values were read."),
    "CELL-ERROR": ("error", "A cell holds an Excel error value (#REF!, #N/A...); it was read as blank."),
    "CELL-NO-DATA": ("notice", "Cells hold a token meaning 'no data' (a dash, N/A...); they were read as blank."),
    "CELL-TYPE": ("notice", "Cells are stored as another type than the column's (dates as numbers, codes as numbers)."),
    "LA-UNKNOWN": ("error", "The LA code is not the ONS code of an English local authority."),
    "YEAR-INFERRED": ("notice", "The collection year was not given; it was worked out from the data."),
    "RETURN-INFERRED": ("notice", "The return type was not given; it was worked out from the files."),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem. ``row`` is the 0-based position of the record within its table in source order."""

    code: str
    severity: Severity
    level: Level
    message: str
    table: str | None = None
    row: int | None = None
    child: str | None = None
    fields: tuple[str, ...] = ()
    values: tuple[Any, ...] = ()
    file: str | None = None
    line: int | None = None
    rule_version: str | None = field(default=None, compare=False)
    confidence: str = CONFIRMED  # or UNCONFIRMED
    note: str | None = None  # for an unconfirmed finding: the history it would need
    # Text the message quotes verbatim from a file where its meaning is not known (e.g. the first row of a file
    # whose header row was not recognised, which may be a child's record): --redact removes it from the message.
    # Not part of any report.
    quoted: tuple[str, ...] = field(default=(), compare=False)

    @property
    def unconfirmed(self) -> bool:
        return self.confidence == UNCONFIRMED

    def to_dict(self) -> dict[str, Any]:
        data = {
            "code": self.code,
            "severity": self.severity,
            "level": self.level,
            "message": self.message,
            "table": self.table,
            "row": self.row,
            "child": self.child,
            "fields": list(self.fields),
            "values": [jsonable(v) for v in self.values],
            "file": self.file,
            "line": self.line,
        }
        if self.unconfirmed:  # "confidence" and "note" are given only for unconfirmed findings
            data["confidence"] = self.confidence
            data["note"] = self.note
        return data


def ingest_finding(
    code: str,
    detail: str,
    *,
    table: str | None = None,
    row: int | None = None,
    child: str | None = None,
    fields: tuple[str, ...] = (),
    values: tuple[Any, ...] = (),
    file: str | None = None,
    line: int | None = None,
    severity: Severity | None = None,
    quoted: tuple[str, ...] = (),
) -> Finding:
    """A finding about the files themselves; ``detail`` says exactly what was wrong and where. ``quoted``: the
    parts of ``detail`` taken verbatim from the file whose meaning is unknown (redaction removes them)."""
    default_severity, _title = INGEST_CODES[code]
    level: Level = "record" if row is not None else "file"
    return Finding(
        code=code,
        severity=severity or default_severity,
        level=level,
        message=detail,
        table=table,
        row=row,
        child=child,
        fields=fields,
        values=values,
        file=file,
        line=line,
        quoted=quoted,
    )


def jsonable(value: Any) -> Any:
    """A finding's value as the JSON report gives it: dates dd/mm/yyyy, NaN as null, numpy scalars as Python's."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        try:
            return value.strftime("%d/%m/%Y")
        except (AttributeError, ValueError):
            return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


# The columns of a FindingTable: a Finding's fields, in its order.
COLUMNS: tuple[str, ...] = (
    "code",
    "severity",
    "level",
    "message",
    "table",
    "row",
    "child",
    "fields",
    "values",
    "file",
    "line",
    "confidence",
    "note",
    "quoted",
)
_DEFAULTS: dict[str, Any] = {
    "table": None,
    "row": None,
    "child": None,
    "fields": (),
    "values": (),
    "file": None,
    "line": None,
    "confidence": CONFIRMED,
    "note": None,
    "quoted": (),
}


class FindingTable:
    """Findings as columns: one pandas DataFrame of Python objects (dtype object), one row per finding, columns
    :data:`COLUMNS`. A rule's findings share their code, message and fields objects, so a row costs a few
    pointers, not a Python object per finding; reports read the columns. Iterating, or indexing with an int,
    gives :class:`Finding` views."""

    __slots__ = ("frame",)

    def __init__(self, frame: pd.DataFrame | None = None) -> None:
        self.frame = frame if frame is not None else _empty_frame()

    @classmethod
    def build(cls, n: int, **columns: Any) -> FindingTable:
        """``n`` findings; each column a sequence of ``n`` values, or one value (a str, tuple or None) for all.
        Columns not given take a Finding's defaults."""
        block = np.empty((len(COLUMNS), n), dtype=object)  # one block of objects: no per-column frame building
        for i, name in enumerate(COLUMNS):
            block[i] = _objects(columns.pop(name, _DEFAULTS.get(name)), n)
        if columns:
            raise TypeError(f"unknown finding columns: {', '.join(columns)}")
        return cls(pd.DataFrame(block.T, columns=_column_index(), dtype=object, copy=False))

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> FindingTable:
        """The table of Finding objects (the readers' findings, a list built by hand)."""
        found = list(findings)
        return cls.build(len(found), **{c: [getattr(f, c) for f in found] for c in COLUMNS})

    @classmethod
    def concat(cls, tables: Sequence[FindingTable]) -> FindingTable:
        frames = [t.frame for t in tables if len(t.frame)]
        if not frames:
            return cls()
        if len(frames) == 1:
            return cls(frames[0])
        return cls(pd.concat(frames, ignore_index=True))

    def __len__(self) -> int:
        return len(self.frame)

    def __bool__(self) -> bool:
        return len(self.frame) > 0

    def column(self, name: str) -> list[Any]:
        """One column as a list of Python values."""
        return self.frame[name].tolist()

    def rows(self, *names: str) -> Iterator[tuple[Any, ...]]:
        """The values of the columns ``names``, finding by finding."""
        return zip(*(self.frame[n].tolist() for n in names), strict=True) if len(self.frame) else iter(())

    def __iter__(self) -> Iterator[Finding]:
        for values in self.rows(*COLUMNS):
            yield Finding(**dict(zip(COLUMNS, values, strict=True)))

    @overload
    def __getitem__(self, i: int) -> Finding: ...
    @overload
    def __getitem__(self, i: slice) -> list[Finding]: ...
    def __getitem__(self, i: int | slice) -> Finding | list[Finding]:
        if isinstance(i, slice):
            return self.take(np.arange(len(self.frame))[i]).findings()
        row = self.frame.iloc[i]
        return Finding(**{c: row[c] for c in COLUMNS})

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FindingTable | list):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FindingTable({len(self.frame)} findings)"

    def findings(self) -> list[Finding]:
        return list(self)

    def take(self, which: np.ndarray | Sequence[int] | Sequence[bool]) -> FindingTable:
        """The findings at these positions (ints) or where this mask (bools) is true, in that order."""
        index = np.asarray(which)
        index = np.flatnonzero(index) if index.dtype == bool else index.astype(np.intp)
        return FindingTable(self.frame.take(index).reset_index(drop=True))

    def where(self, name: str, test: Any) -> np.ndarray:
        """A mask: ``test(value)`` for each value of column ``name``."""
        return np.fromiter((bool(test(v)) for v in self.frame[name].tolist()), dtype=bool, count=len(self.frame))

    def assign(self, **columns: Sequence[Any]) -> FindingTable:
        """A copy with these columns replaced (each a sequence of one value per finding)."""
        frame = self.frame.copy(deep=False)
        for name, values in columns.items():
            if name not in COLUMNS:
                raise TypeError(f"unknown finding column {name}")
            frame[name] = pd.Series(_objects(list(values), len(frame)), index=frame.index, dtype=object)
        return FindingTable(frame)

    @property
    def unconfirmed_mask(self) -> np.ndarray:
        if not len(self.frame):
            return np.zeros(0, dtype=bool)
        return self.frame["confidence"].to_numpy() == UNCONFIRMED


_EMPTY: list[pd.DataFrame] = []
_COLUMN_INDEX: list[pd.Index] = []


def _column_index() -> pd.Index:
    """The finding columns' names as the frames' column index, made once (an index is never changed)."""
    if not _COLUMN_INDEX:
        _COLUMN_INDEX.append(pd.Index(list(COLUMNS)))
    return _COLUMN_INDEX[0]


def _empty_frame() -> pd.DataFrame:
    """The frame of no findings, built once: most rules find nothing, and the frames are never changed in place
    (``assign`` and ``concat`` make new ones)."""
    if not _EMPTY:
        _EMPTY.append(pd.DataFrame({c: [] for c in COLUMNS}, dtype=object))
    return _EMPTY[0]


def _objects(value: Any, n: int) -> np.ndarray:
    """An object array of ``n`` values: a sequence as it is (its tuples kept whole), or one value repeated."""
    if isinstance(value, list | np.ndarray | pd.Series):
        if len(value) != n:
            raise ValueError(f"a finding column of {len(value)} values for {n} findings")
        return np.fromiter(value, dtype=object, count=n)
    array = np.empty(n, dtype=object)
    array.fill(value)
    return array
