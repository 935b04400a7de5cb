"""Typing raw text columns once, at ingest: dates, whole numbers, yes/no flags and codes.

Nothing unreadable is turned silently into a blank: every value that cannot be typed yields a finding
naming the file, line, column and value, and its raw text stays available to rules (``invalid(FIELD)``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from ..findings import Finding, ingest_finding
from .raw import Coded

# Date forms accepted, in the order tried. The first of each source's list is its standard form.
DMY = "%d/%m/%Y"
ISO = "%Y-%m-%d"
EXTRA_DATE_FORMS = (
    ("%d/%m/%Y %H:%M:%S", "dd/mm/yyyy hh:mm:ss"),
    ("%d/%m/%Y %H:%M", "dd/mm/yyyy hh:mm"),
    ("%Y-%m-%dT%H:%M:%S", "yyyy-mm-ddThh:mm:ss"),
    ("%Y-%m-%d %H:%M:%S", "yyyy-mm-dd hh:mm:ss"),
)
FORM_NAMES = {DMY: "dd/mm/yyyy", ISO: "yyyy-mm-dd"}
TRUE_WORDS = frozenset({"true", "1"})
FALSE_WORDS = frozenset({"false", "0"})
RAW_SUFFIX = "@raw"
# dtypes as objects: pandas looks a dtype's name up among every dtype it knows, each time it is given one
OBJECT = np.dtype(object)
DATETIME = np.dtype("datetime64[ns]")


def blank_to_none(values: Sequence[str | None]) -> pd.Series:
    """Trim every value; blank and whitespace-only cells become missing."""
    return Factored.of(values).text()


class Factored:
    """A text column as its distinct values and, per record, the position of its value among them (-1: blank).

    Typing works on the distinct values only (a date written a million times is parsed once) and spreads the
    result back; the text column it gives holds each distinct value once, shared by every record that has it.
    """

    def __init__(self, codes: np.ndarray, uniques: np.ndarray) -> None:
        self.codes = codes
        self.uniques = uniques  # object array of str, no blanks

    @classmethod
    def of(cls, values: Sequence[str | None], clean: bool = False) -> Factored:
        """``clean``: the values are already trimmed and blank ones None (as the XML readers give them)."""
        array = np.empty(len(values), dtype=object)
        array[:] = values
        codes, uniques = pd.factorize(array, use_na_sentinel=True)
        if clean:
            return cls(codes, np.asarray(uniques, dtype=object))
        return cls._trimmed(codes, uniques)

    @classmethod
    def of_coded(cls, column: Coded) -> Factored:
        """:meth:`of` a column a reader has numbered already (its distinct values, then None)."""
        uniques = column.uniques[:-1]
        blank = _blank_at(uniques.tolist())
        if blank == -1:  # nothing to trim
            return cls(column.codes.astype(np.intp), uniques)
        if blank is not None:  # the values need no trimming, and one of them is blank: it becomes missing
            codes = column.codes.astype(np.intp)
            return cls(np.where(codes == blank, -1, codes - (codes > blank)), np.delete(uniques, blank))
        return cls._trimmed(column.codes, uniques)

    @classmethod
    def _trimmed(cls, codes: np.ndarray, uniques: np.ndarray) -> Factored:
        """``uniques`` (in the order they first appear, -1 a missing value) trimmed, and renumbered to match.
        As Series.str.strip() does, a value that is not text counts as blank, like a blank one. The trimmed values
        are numbered among the distinct values, in the order they first appear, as in the records."""
        stripped = np.empty(len(uniques) + 1, dtype=object)
        stripped[:] = [(u.strip() or None) if isinstance(u, str) else None for u in uniques] + [None]
        renumber, trimmed = pd.factorize(stripped, use_na_sentinel=True)
        return cls(renumber[codes], np.asarray(trimmed, dtype=object))

    @classmethod
    def blank(cls, n: int) -> Factored:
        return cls(np.full(n, -1, dtype=np.intp), np.empty(0, dtype=object))

    # ``index``: the records' index, when a caller shares one between the columns of a table (a frame made of
    # Series with one index object need not compare them); the arrays made here are new, so never copied again.

    def take(self, per_unique: pd.Series, index: pd.Index | None = None) -> pd.Series:
        """Values computed for each distinct value (a Series of any dtype), one per record; missing where blank."""
        return pd.Series(per_unique.array.take(self.codes, allow_fill=True), index=index, copy=False)

    def take_dates(self, per_unique: np.ndarray, index: pd.Index | None = None) -> pd.Series:
        """:meth:`take` of dates given as a datetime64[ns] array: NaT where blank."""
        dates = np.append(per_unique, np.datetime64("NaT", "ns"))[self.codes]
        return pd.Series(dates, index=index, dtype=DATETIME, copy=False)

    def mask(self, per_unique: pd.Series | np.ndarray) -> np.ndarray:
        """A per-unique mask, one per record (blank records False)."""
        values = np.append(np.asarray(per_unique, dtype=bool), False)
        return values[self.codes]  # type: ignore[no-any-return]

    def text(self, index: pd.Index | None = None) -> pd.Series:
        values = np.append(self.uniques, None)
        return pd.Series(values[self.codes], index=index, dtype=OBJECT, copy=False)

    def counts(self) -> np.ndarray:
        """How many records have each distinct value."""
        return np.bincount(self.codes[self.codes >= 0], minlength=len(self.uniques))


def trimmed_already(values: np.ndarray) -> bool:
    """Whether every value is text that str.strip() leaves as it is and not blank (False when unsure)."""
    return _blank_at(values.tolist()) == -1


def _blank_at(values: list[str]) -> int | None:
    """-1 when every value is text that str.strip() leaves as it is, none of them empty; the position of the empty
    value when it is the only one str.strip() would change; None otherwise (or when a value is not text)."""
    try:
        joined = "\x00".join(values)
    except TypeError:  # a value that is not text
        return None
    if not values:
        return None
    blank = values.index("") if "" in values else -1
    # no white space at all (the usual case; str.split() stops at the first, and splits where str.strip() strips):
    # only an empty value to blank out; else each value is compared with itself trimmed
    if joined.split(None, 1) == [joined] or all(map(str.__eq__, map(str.strip, values), values)):
        return blank
    return None


# Dates the validator can hold (pandas' nanosecond range, 1677-09-21 to 2262-04-11, in whole years). A date
# outside them (a year 9999 placeholder, a mistyped 0202) is a DATE-RANGE finding, never an error of the run;
# unlike DATE-INVALID it is reported for XML files too, whose schema accepts such dates.
DATE_MIN = pd.Timestamp("1678-01-01")
DATE_MAX = pd.Timestamp("2261-12-31")


def parse_dates(text: pd.Series, standard: Sequence[str] = (DMY,)) -> tuple[pd.Series, dict[str, int], pd.Series]:
    """Parse a text column to dates (day precision).

    Returns the dates, how many values used each non-standard form, and a mask of unparseable values (which
    includes dates outside DATE_MIN..DATE_MAX: see :func:`parse_dates_in_range`).
    """
    dates, other_forms, bad, _far = parse_dates_in_range(text, standard)
    return dates, other_forms, bad


def parse_dates_in_range(
    text: pd.Series, standard: Sequence[str] = (DMY,), weights: np.ndarray | None = None
) -> tuple[pd.Series, dict[str, int], pd.Series, pd.Series]:
    """:func:`parse_dates`, and also a mask of the values that are real dates outside DATE_MIN..DATE_MAX
    (they are in the unparseable mask too). ``weights``: how many records each value stands for, when ``text``
    holds distinct values (the counts of non-standard forms are of records). Each distinct text is parsed once."""
    if weights is None and len(text) > _FEW and text.dtype == object:
        try:
            codes, uniques = pd.factorize(text.to_numpy(), use_na_sentinel=True)
        except TypeError:  # values that cannot be compared as keys: parsed one by one
            codes, uniques = None, []
        if codes is not None and len(uniques) < len(text):
            counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
            dates, other_forms, bad, far = _parse_dates(pd.Series(uniques, dtype=OBJECT), standard, counts)
            return (
                pd.Series(dates.array.take(codes, allow_fill=True), index=text.index),
                other_forms,
                pd.Series(np.append(bad.to_numpy(dtype=bool), False)[codes], index=text.index),
                pd.Series(np.append(far.to_numpy(dtype=bool), False)[codes], index=text.index),
            )
    return _parse_dates(text, standard, weights)


_FEW = 32  # columns this short are parsed value by value


def _parse_dates(
    text: pd.Series, standard: Sequence[str], weights: np.ndarray | None
) -> tuple[pd.Series, dict[str, int], pd.Series, pd.Series]:
    dates, other_forms, bad, far = read_dates(text.to_numpy(dtype=object), standard, weights)
    index = text.index
    return (
        pd.Series(dates, index=index, dtype=DATETIME),
        other_forms,
        pd.Series(bad, index=index),
        pd.Series(far, index=index),
    )


def read_dates(
    values: np.ndarray, standard: Sequence[str], weights: np.ndarray | None = None
) -> tuple[np.ndarray, dict[str, int], np.ndarray, np.ndarray]:
    """:func:`parse_dates_in_range` of an object array, value by value, as arrays: the dates (datetime64[ns], NaT
    where unread), how many values (``weights``: records) used each non-standard form, the unread values that are
    not blank, and those of them that are real dates outside DATE_MIN..DATE_MAX."""
    result = np.full(len(values), np.datetime64("NaT", "ns"))
    todo = pd.notna(values)
    empty = np.zeros(len(values), dtype=bool)  # unread, but no form need be tried on it (a blank cell's raw text)
    empty[todo] = values[todo] == ""
    todo &= ~empty
    far = np.zeros(len(values), dtype=bool)
    other_forms: dict[str, int] = {}
    forms = [(f, FORM_NAMES[f]) for f in standard]
    forms += [(f, FORM_NAMES[f]) for f in (DMY, ISO) if f not in standard]
    forms += list(EXTRA_DATE_FORMS)
    for fmt, label in forms:
        if not todo.any():
            break
        hits = _read_form(values, fmt, todo, result, far)
        if len(hits) and fmt not in standard:
            other_forms[label] = int(len(hits) if weights is None else weights[hits].sum())
    return result, other_forms, todo | empty, far & todo


def _read_form(values: np.ndarray, fmt: str, todo: np.ndarray, result: np.ndarray, far: np.ndarray) -> np.ndarray:
    """Read the values still ``todo`` that are written in ``fmt``: their dates into ``result`` (and done), real
    dates outside DATE_MIN..DATE_MAX marked ``far`` (still todo). Returns the positions read."""
    where = np.flatnonzero(todo)  # positions of the values still to read
    fast = _fixed_width_dates(values[where], fmt) if fmt in _FIXED else None
    hits = [] if fast is None else [where[fast[0]]]
    if fast is not None:
        result[hits[0]] = fast[1]
        todo[hits[0]] = False
        where = where[~fast[0]]
    if len(where):  # every other value, and every other form: pandas' strptime
        parsed = pd.to_datetime(pd.Series(values[where], dtype=OBJECT), format=fmt, errors="coerce")
        found = parsed.notna().to_numpy()
        inside = found & (parsed >= DATE_MIN).to_numpy() & (parsed <= DATE_MAX).to_numpy()
        far[where[found & ~inside]] = True
        if inside.any():
            hit = where[inside]
            result[hit] = parsed[inside].dt.normalize().astype("datetime64[ns]").to_numpy()
            todo[hit] = False
            hits.append(hit)
    return np.sort(np.concatenate(hits)) if hits else np.empty(0, dtype=np.intp)


# The forms read without pandas when a value is written in full (dd/mm/yyyy, yyyy-mm-dd: ten characters, two-digit
# day and month): for each, where its day, month, year and separators are among the ten characters.
_FIXED = {DMY: ((0, 1), (3, 4), (6, 7, 8, 9), (2, 5), ord("/")), ISO: ((8, 9), (5, 6), (0, 1, 2, 3), (4, 7), ord("-"))}
_DIGITS = np.array([10**i for i in range(3, -1, -1)], dtype=np.int64)


def _fixed_width_dates(values: np.ndarray, fmt: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Which of ``values`` are dates written in full in ``fmt`` (ASCII digits, a real day of the month, a year in
    DATE_MIN..DATE_MAX), and those dates: the same as pandas reads from them, worked out on whole arrays. Every
    other value (another form, another length, a date outside the range) is left for pandas. None: none read."""
    # a value that is not text (bytes, a date object) is left to pandas too
    listed = values.tolist()
    if infer_dtype(values, skipna=False) == "string":  # text only (as a reader gives): each length at C speed
        full = np.fromiter(map(len, listed), np.intp, len(listed)) == 10
    else:
        full = np.fromiter((len(v) == 10 if isinstance(v, str) else False for v in listed), bool, len(listed))
    if not full.any():
        return None
    chosen = np.flatnonzero(full)
    joined = "".join(values[chosen].tolist())  # ten characters each: one row of codes per value
    if joined.isascii():
        chars = np.frombuffer(joined.encode("ascii"), np.uint8).reshape(-1, 10)
    else:
        chars = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32).reshape(-1, 10)
    day_at, month_at, year_at, seps, sep = _FIXED[fmt]
    codes = chars[:, [*day_at, *month_at, *year_at]] - chars.dtype.type(ord("0"))  # below "0" wraps round: > 9
    ok = (codes <= 9).all(axis=1) & (chars[:, list(seps)] == sep).all(axis=1)
    digits = codes.astype(np.int64)
    day = digits[:, 0] * 10 + digits[:, 1]
    month = digits[:, 2] * 10 + digits[:, 3]
    year = digits[:, 4:] @ _DIGITS
    ok &= (month >= 1) & (month <= 12) & (year >= DATE_MIN.year) & (year <= DATE_MAX.year) & (day >= 1)
    months = ((np.where(ok, year, 2000) - 1970) * 12 + np.where(ok, month, 1) - 1).astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    ok &= day <= ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    dates = (first + np.where(ok, day - 1, 0).astype("timedelta64[D]")).astype("datetime64[ns]")
    full[chosen[~ok]] = False
    return full, dates[ok]


def parse_ints(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    numbers = pd.to_numeric(text, errors="coerce")
    whole = numbers.notna() & np.isfinite(numbers) & (numbers == np.floor(numbers)) & (numbers.abs() < 2**53)
    bad = text.notna() & ~whole
    out = numbers.where(whole).astype("Int64")
    return out, bad


def parse_flags(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    lower = text.str.lower()
    out = pd.Series(pd.NA, index=text.index, dtype="boolean")
    out[lower.isin(TRUE_WORDS)] = True
    out[lower.isin(FALSE_WORDS)] = False
    bad = text.notna() & out.isna()
    return out, bad


class ColumnTyper:
    """Types the columns of one table read from one file and collects the findings it raises."""

    def __init__(self, table: str, file: str, lines: Sequence[int], child: pd.Series | None) -> None:
        self.table = table
        self.file = file
        self.lines = lines
        self.child = child
        self.index = pd.RangeIndex(len(lines))  # shared by the table's columns
        self.findings: list[Finding] = []

    def _per_value(self, code: str, column: str, text: pd.Series, bad: np.ndarray, what: str) -> None:
        """A finding ``code`` for each record ``bad`` marks (one per record, in their order)."""
        for pos in np.flatnonzero(bad):
            value = text.iloc[pos]
            line = int(self.lines[pos])
            self.findings.append(
                ingest_finding(
                    code,
                    f"{self.file} line {line}: {column} '{value}' {what}",
                    table=self.table,
                    row=int(pos),
                    child=None if self.child is None else _text_or_none(self.child.iloc[pos]),
                    fields=(column,),
                    values=(value,),
                    file=self.file,
                    line=line,
                )
            )

    def date(self, column: str, values: Factored, text: pd.Series, standard: Sequence[str]) -> pd.Series:
        """The column's dates; ``text`` is ``values.text()`` (the record's text, for findings)."""
        dates, other_forms, bad, far = read_dates(values.uniques, standard, values.counts())
        expected = " or ".join(FORM_NAMES[f] for f in standard)
        if bad.any():
            self._per_value(
                "DATE-INVALID", column, text, values.mask(bad & ~far), f"is not a valid date (expected {expected})"
            )
            self._per_value(
                "DATE-RANGE",
                column,
                text,
                values.mask(far),
                f"is outside the dates the validator accepts (years {DATE_MIN.year} to {DATE_MAX.year}); "
                "check the year",
            )
        for label, count in other_forms.items():
            self.findings.append(
                ingest_finding(
                    "DATE-FORMAT",
                    f"{self.file}: {count} value(s) in {column} are written {label}, not {expected}; "
                    "they were read, but DfE expects " + expected,
                    table=self.table,
                    fields=(column,),
                    file=self.file,
                )
            )
        return values.take_dates(dates, self.index)

    def integer(self, column: str, values: Factored, text: pd.Series) -> pd.Series:
        numbers, bad = parse_ints(pd.Series(values.uniques, dtype=OBJECT))
        self._per_value("NUMBER-INVALID", column, text, values.mask(bad), "is not a whole number")
        return values.take(numbers, self.index)

    def flag(self, column: str, values: Factored, text: pd.Series) -> pd.Series:
        flags, bad = parse_flags(pd.Series(values.uniques, dtype=OBJECT))
        self._per_value("FLAG-INVALID", column, text, values.mask(bad), "is not a yes/no value (true, false, 1 or 0)")
        return values.take(flags, self.index)

    def code_case(self, column: str, values: Factored, text: pd.Series, allowed: frozenset[str]) -> None:
        """Report codes that are valid only once upper-cased: DfE compares codes exactly."""
        if allowed.issuperset(values.uniques.tolist()):  # every code as DfE writes it (the usual case)
            return
        upper_allowed = {c.upper() for c in allowed}
        distinct = pd.Series(values.uniques, dtype=OBJECT)
        present = ~distinct.isin(allowed)
        if not present.any():
            return
        wrong_case = present & distinct.str.upper().isin(upper_allowed)
        self._per_value(
            "CODE-CASE",
            column,
            text,
            values.mask(wrong_case),
            "is in lower case; DfE only accepts the upper-case code",
        )


def _text_or_none(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)
