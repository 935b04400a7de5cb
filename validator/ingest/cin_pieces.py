"""A large CIN census XML file read and typed in pieces of children (validator/chunked.py runs the rules on each).

Each piece is a typed Dataset of the same shape :func:`validator.ingest.loader.load_return` gives for the whole
file, but holding only some children's records: its records are numbered (``_row``) as in the whole file, and the
header's one record is in every piece. The findings of reading and typing come out as the whole file's reading
gives them, in the same order (:attr:`CinPieces.findings`, once every piece has been read).

Anything this cannot do exactly as the whole file's reading does (a stopping check, a year that is not supported,
a file that could not be read) raises :class:`PiecesUnfit`: the caller reads the file whole instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from ..dataset import ROW, Context, Dataset, InputFile, Table
from ..findings import STOPPING_CODES, Finding, ingest_finding
from ..schema import load_schema
from ..years import SUPPORTED_YEARS, check_year
from .coerce import DMY, EXTRA_DATE_FORMS, FORM_NAMES, ISO
from .loader import (
    REFUSED_XML,
    VALUE_CODES,
    cin_schema_year,
    complete_xml_tables,
    infer_year,
    paused_gc,
    reference_date,
)
from .raw import RawTable
from .sanity import la_unknown, mixed_years, year_mismatch
from .typed import build_table, positions_array
from .xml_cin import read_cin_chunks

# The findings typing makes, in the order it makes them for one column.
_TYPING_ORDER = {"DATE-INVALID": 0, "DATE-RANGE": 1, "DATE-FORMAT": 2, "NUMBER-INVALID": 0, "FLAG-INVALID": 0,
                 "CODE-CASE": 0}  # fmt: skip
_FORMAT_COUNT = re.compile(r"^(?P<file>.*): (?P<count>\d+) value\(s\) in (?P<rest>.*)$", re.DOTALL)


class PiecesUnfit(Exception):
    """The file cannot be read in pieces exactly as it is read whole: read it whole."""


class CinPieces:
    """Iterating gives the pieces (typed Datasets) of one CIN XML file, ``children`` children each."""

    def __init__(
        self,
        path: Path,
        *,
        return_type: str | None,
        year: str | None,
        la: str | None,
        today: dt.date | None,
        children: int,
    ) -> None:
        self.path = path
        self.given_type = return_type
        self.given_year = year
        self.la = la
        self.today = today or dt.date.today()
        self.children = children
        self.schema = load_schema("cin")
        self.context: Context | None = None
        self.header: Table | None = None
        self.tables_seen: set[str] = set()
        self._reading: list[Finding] = []  # the reader's findings
        self._checks: list[Finding] = []  # the return's and year's findings (from the header)
        self._typing: list[tuple[tuple[int, int, int, int], Finding]] = []
        self._offsets: dict[str, int] = {}

    def __iter__(self) -> Iterator[Dataset]:
        year = self.given_year and check_year(self.given_year)
        file = str(self.path)
        schema_year = cin_schema_year(self.path, year)
        for n, raws in enumerate(read_cin_chunks(self.path, self._reading, schema_year, self.children)):
            if n == 0:
                self._unfit_reading(raws)
                year = self._year(raws, year)
            complete_xml_tables(raws, self.schema, file)
            self.tables_seen.update(t for t, r in raws.items() if len(r) or t == "Header")
            with paused_gc():
                tables = self._typed(raws, year, schema_year is not None)
            if self.context is None:
                reference = reference_date("cin", tables, year)
                self.context = Context.of_year("cin", year, self._la_code(), reference)
            yield Dataset(self.schema, self.context, tables)
        self._unfit_reading({})

    def _unfit_reading(self, raws: dict[str, RawTable]) -> None:
        codes = {f.code for f in self._reading}
        if codes & REFUSED_XML or "XML-MALFORMED" in codes:
            raise PiecesUnfit("the file could not be read to its end")

    def _la_code(self) -> str | None:
        la = self.la
        return la.strip().upper() or None if la else None

    def _year(self, raws: dict[str, RawTable], year: str | None) -> str:
        """The collection year, and the checks of the return and year load_return makes (from the header)."""
        found: dict[str, list[RawTable]] = {"Header": [raws["Header"]]} if "Header" in raws else {}
        checks = self._checks
        if self.given_type is None:
            checks.append(ingest_finding("RETURN-INFERRED", "the files were recognised as a cin return"))
        if year is None:
            year, how = infer_year("cin", found, self.today)
            checks.append(
                ingest_finding("YEAR-INFERRED", f"collection year {year} was used, {how}; give --year to choose")
            )
        else:
            mismatch = year_mismatch("cin", found, year, self.today)
            if mismatch is not None:
                checks.append(mismatch)
        checks.extend(mixed_years("cin", found, self.today))
        year = check_year(year)
        if year not in SUPPORTED_YEARS["cin"] or any(f.code in STOPPING_CODES for f in checks):
            raise PiecesUnfit("the year is not one the rules can be run for")
        return year

    def _typed(self, raws: dict[str, RawTable], year: str, checked: bool) -> dict[str, Table]:
        tables: dict[str, Table] = {}
        positions = {name: i for i, name in enumerate(raws)}
        for name, raw in raws.items():
            table_def = self.schema.tables.get(name)
            if table_def is None:
                continue
            if name == "Header" and self.header is not None:
                tables[name] = self.header
                continue
            table, found = build_table(name, [raw], table_def, "cin", year, self.schema.child_key, {raw.file: (ISO,)})
            offset = self._offsets.get(name, 0)
            if offset:
                table.df[ROW] = positions_array(range(offset, offset + len(table.df)))
            self._offsets[name] = offset + len(table.df)
            columns = list(table_def.columns)
            for f in found:
                if checked and f.code in VALUE_CODES:
                    continue
                if f.code not in _TYPING_ORDER or len(f.fields) != 1 or f.fields[0] not in columns:
                    raise PiecesUnfit(f"typing found {f.code}, which is not put in order here")
                if f.row is not None and offset:
                    f = replace(f, row=f.row + offset)
                key = (positions[name], columns.index(f.fields[0]), _TYPING_ORDER[f.code], f.row or 0)
                self._typing.append((key, f))
            tables[name] = table
            if name == "Header":
                self.header = table
        return tables

    @property
    def findings(self) -> list[Finding]:
        """The findings of reading and typing the whole file, as load_return gives them (once all is read)."""
        typing = [f for _, f in sorted(self._typing, key=lambda kf: kf[0])]
        found = self._reading + self._checks + _date_forms_summed(typing)
        unknown_la = la_unknown(self.la.strip() if self.la else None)
        return found + ([unknown_la] if unknown_la is not None else [])

    @property
    def inputs(self) -> list[InputFile]:
        return [InputFile(str(self.path), "xml", sorted(self.tables_seen))]


def _date_forms_summed(findings: list[Finding]) -> list[Finding]:
    """DATE-FORMAT findings say how many values of a column are in another form: one per column and form for the
    whole file, the pieces' counts added up, in the order of the forms the reading tries."""
    order = [FORM_NAMES[ISO], FORM_NAMES[DMY], *(label for _, label in EXTRA_DATE_FORMS)]
    out: list[Finding] = []
    summed: dict[tuple[str | None, tuple[str, ...], str], tuple[int, Finding]] = {}
    for f in findings:
        if f.code != "DATE-FORMAT":
            out.append(f)
            continue
        match = _FORMAT_COUNT.match(f.message)
        if match is None:
            raise PiecesUnfit("a DATE-FORMAT finding of an unknown form")
        key = (f.table, f.fields, _form(f, order))
        if key in summed:
            count, first = summed[key]
            summed[key] = (count + int(match["count"]), first)
        else:
            summed[key] = (int(match["count"]), f)
            out.append(f)
    result = []
    for f in out:
        if f.code == "DATE-FORMAT":
            count, first = summed[(f.table, f.fields, _form(f, order))]
            match = _FORMAT_COUNT.match(first.message)
            assert match is not None
            f = replace(first, message=f"{match['file']}: {count} value(s) in {match['rest']}")
        result.append(f)
    return _forms_in_order(result, order)


def _forms_in_order(findings: list[Finding], order: list[str]) -> list[Finding]:
    """A column's DATE-FORMAT findings in the order of the forms tried (each piece gives the forms it met)."""
    out = list(findings)
    i = 0
    while i < len(out):
        if out[i].code != "DATE-FORMAT":
            i += 1
            continue
        j = i
        while j < len(out) and out[j].code == "DATE-FORMAT" and out[j].fields == out[i].fields:
            j += 1
        out[i:j] = sorted(out[i:j], key=lambda f: order.index(_form(f, order)) if _form(f, order) in order else 99)
        i = j
    return out


def _form(finding: Finding, order: list[str]) -> str:
    """The form a DATE-FORMAT finding counts (its label), "" if none of ``order``."""
    return next((label for label in order if f" are written {label}, not " in finding.message), "")
