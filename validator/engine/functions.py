"""Functions a rule expression may call. Each is vectorised: it takes and returns whole columns.

Kinds: ``row`` (one value per record), ``sequence`` (looks at a record's neighbours in the rule's ``sequence``
order, or the other records of its group), ``aggregate`` (one value for the whole table; return-level rules).
Named Python checks that the YAML language cannot express are registered here too, each with its own tests.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from ..ingest.coerce import DMY, ISO, RAW_SUFFIX, parse_dates
from . import calendar, vectors
from .columns import Columns
from .expr import ExpressionError, as_bool, column_name


@dataclass(frozen=True)
class Function:
    name: str
    impl: Callable[..., Any]
    kind: str
    signature: str
    doc: str
    raw_args: bool = False
    arrays: bool = False  # takes and gives numpy arrays where the evaluator has them (engine/vectors.py)
    pure: bool = False  # its value depends on its arguments only: computed once per run for the same columns
    per_distinct: bool = False  # one text value at a time: worked out on a text column's distinct values only


FUNCTIONS: dict[str, Function] = {}


def function(
    signature: str,
    kind: str = "row",
    raw_args: bool = False,
    arrays: bool = False,
    pure: bool = False,
    per_distinct: bool = False,
) -> Callable[[Callable[..., Any]], Any]:
    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        name = signature.split("(", 1)[0]
        doc = (impl.__doc__ or "").strip()
        FUNCTIONS[name] = Function(name, impl, kind, signature, doc, raw_args, arrays, pure, per_distinct)
        return impl

    return register


def _series(value: Any, index: pd.Index) -> pd.Series:
    """A value as a column on ``index``: a Series as it is; one value repeated, typed as pandas types a list of
    it (taken from a one-value Series, not built from a list as long as the table)."""
    if isinstance(value, pd.Series):
        return value
    dtype = "object" if isinstance(value, str) else None
    if not len(index):
        return pd.Series([], index=index, dtype=dtype)
    one = pd.Series([value], dtype=dtype)
    repeated = one.array.take(np.zeros(len(index), dtype=np.intp))
    return pd.Series(repeated, index=index, dtype=one.dtype, copy=False)


def _dates(value: Any, index: pd.Index) -> pd.Series:
    if isinstance(value, pd.Timestamp):
        return pd.Series(value, index=index, dtype="datetime64[ns]")
    series = _series(value, index)
    return series if series.dtype.kind == "M" else pd.to_datetime(series, errors="coerce")


def _column(frame: pd.DataFrame | Columns, name: str) -> Any:
    """A column of the scope's records as the evaluator takes it: a numpy array, or a Series of another type."""
    if isinstance(frame, Columns):
        return frame.values(name)
    return vectors.from_series(frame[name])


def _field_name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return column_name(node.value.id, node.attr)
    raise ExpressionError("this function takes a field name, like DOB or header.DOB")


# ------------------------------------------------------------------------------------------- presence, codes


def _known(value: Any, n: int) -> np.ndarray:
    """True where a value (an array, a Series or one value for all) is there."""
    if isinstance(value, np.ndarray):
        return vectors.known(value)
    if isinstance(value, pd.Series):
        return value.notna().to_numpy(dtype=bool)
    return np.full(n, vectors.scalar_known(value), dtype=bool)


@function("present(x)", arrays=True)
def present(scope: Any, x: Any) -> np.ndarray:
    """True where the value is filled in (after trimming; blank cells are missing)."""
    return _known(x, len(scope.frame))


@function("blank(x)", arrays=True)
def blank(scope: Any, x: Any) -> np.ndarray:
    """True where the value is missing or blank."""
    return ~_known(x, len(scope.frame))


@function("invalid(FIELD)", raw_args=True)
def invalid(scope: Any, node: ast.AST) -> np.ndarray:
    """True where the file had a value in a date, number or flag FIELD that could not be read as one."""
    name = _field_name(node)
    frame = scope.frame
    if name + RAW_SUFFIX not in frame:
        raise ExpressionError(f"invalid({name}): {name} is not a date, number or flag field")
    n = len(frame)
    return _known(_column(frame, name + RAW_SUFFIX), n) & ~_known(_column(frame, name), n)


@function("raw(FIELD)", raw_args=True)
def raw(scope: Any, node: ast.AST) -> pd.Series:
    """The text the file had in a date, number or flag FIELD, before it was read."""
    name = _field_name(node)
    if name + RAW_SUFFIX in scope.frame:
        return scope.frame[name + RAW_SUFFIX]
    return scope.frame[name]


@function("filled(FIELD)", raw_args=True)
def filled(scope: Any, node: ast.AST) -> np.ndarray:
    """True where the file had something in FIELD, whether or not it could be read (for "was it completed?")."""
    name = _field_name(node)
    frame = scope.frame
    there = _known(_column(frame, name), len(frame))
    if name + RAW_SUFFIX in frame:
        return there | _known(_column(frame, name + RAW_SUFFIX), len(frame))
    return there


@function("codes(NAME)")
def codes(scope: Any, name: str) -> frozenset[str]:
    """The code list NAME (rules/<return>/codelists.yaml) as it stands in the collection year."""
    return scope.codes(name)


# ------------------------------------------------------------------------------------------------- text


@function("length(x)", pure=True, per_distinct=True)
def length(scope: Any, x: Any) -> pd.Series:
    """Number of characters."""
    return _series(x, scope.frame.index).astype("string").str.len().astype("Int64")


@function("upper(x)", pure=True, per_distinct=True)
def upper(scope: Any, x: Any) -> pd.Series:
    return _series(x, scope.frame.index).astype("string").str.upper()


@function("lower(x)", per_distinct=True)
def lower(scope: Any, x: Any) -> pd.Series:
    return _series(x, scope.frame.index).astype("string").str.lower()


@function("matches(x, PATTERN)", pure=True, per_distinct=True)
def matches(scope: Any, x: Any, pattern: str) -> pd.Series:
    """True where the whole value matches the regular expression PATTERN (missing -> False)."""
    s = _series(x, scope.frame.index).astype("string")
    return s.str.fullmatch(pattern).fillna(False).astype(bool)


@function("startswith(x, PREFIX)", per_distinct=True)
def startswith(scope: Any, x: Any, prefix: str) -> pd.Series:
    s = _series(x, scope.frame.index).astype("string")
    return s.str.startswith(prefix).fillna(False).astype(bool)


@function("listed(x, LIST)")
def listed(scope: Any, x: Any, codes: Any) -> pd.Series:
    """True where x is one of the comma-separated codes in LIST, e.g. listed(PLACE, p.PLACE_CODES) for an Ofsted
    provider's placement codes 'K1,K2' (spaces around codes ignored; missing x or LIST -> False)."""
    index = scope.frame.index
    value_codes, values = pd.factorize(_series(x, index).astype("object").to_numpy())
    list_codes, lists = pd.factorize(_series(codes, index).astype("object").to_numpy())
    if not len(values) or not len(lists):
        return pd.Series(np.zeros(len(index), dtype=bool), index=index)
    pair = np.where((value_codes >= 0) & (list_codes >= 0), value_codes * len(lists) + list_codes, -1)
    distinct, spread = np.unique(pair, return_inverse=True)  # each (value, list) pair worked out once
    found = np.array(
        [p >= 0 and _in_list(values[p // len(lists)], lists[p % len(lists)]) for p in distinct.tolist()], dtype=bool
    )
    return pd.Series(found[spread.reshape(-1)], index=index)


def _in_list(value: Any, codes: Any) -> bool:
    return isinstance(value, str) and isinstance(codes, str) and value.strip() in {p.strip() for p in codes.split(",")}


@function("substr(x, START, END)", pure=True, per_distinct=True)
def substr(scope: Any, x: Any, start: int, end: int) -> pd.Series:
    """Characters START (1-based) to END (inclusive)."""
    return _series(x, scope.frame.index).astype("string").str.slice(start - 1, end)


@function("replace(x, OLD, NEW)", pure=True, per_distinct=True)
def replace(scope: Any, x: Any, old: str, new: str) -> pd.Series:
    """The text with every OLD replaced by NEW, e.g. replace(PL_POST, ' ', '') to compare postcodes."""
    return _series(x, scope.frame.index).astype("string").str.replace(old, new, regex=False)


@function("to_number(x)", pure=True)
def to_number(scope: Any, x: Any) -> pd.Series:
    """The value as a number, missing where it is not one."""
    return pd.to_numeric(_series(x, scope.frame.index), errors="coerce")


@function("same(a, b)", arrays=True)
def same(scope: Any, a: Any, b: Any) -> Any:
    """True where a equals b, counting two missing values as the same (unlike ==)."""
    n = len(scope.frame)
    equal = vectors.compare(ast.Eq, a, b)  # None unless the numpy path takes both sides
    if equal is not None:
        return equal | (~_known(a, n) & ~_known(b, n))
    index = scope.frame.index
    left, right = _series(vectors.to_series(a, index), index), _series(vectors.to_series(b, index), index)
    both_missing = left.isna() & right.isna()
    equal_series = (left == right).fillna(False).astype(bool) & left.notna() & right.notna()
    return both_missing | equal_series


@function("coalesce(a, b)", arrays=True)
def coalesce(scope: Any, a: Any, b: Any) -> Any:
    """``a`` where present, else ``b``."""
    if isinstance(a, np.ndarray) and a.dtype.kind in "MO":
        if isinstance(b, np.ndarray) and b.dtype == a.dtype:
            return np.where(vectors.known(a), a, b)
        if a.dtype.kind == "M" and isinstance(b, pd.Timestamp) and b.tz is None:
            return np.where(vectors.known(a), a, b.to_datetime64()).astype(a.dtype)
    index = scope.frame.index
    first = _series(vectors.to_series(a, index), index)
    return first.where(first.notna(), _series(vectors.to_series(b, index), index))


# ------------------------------------------------------------------------------------------------- dates


@function("date(TEXT)")
def date(scope: Any, text: str) -> pd.Timestamp:
    """A fixed date, written dd/mm/yyyy or yyyy-mm-dd."""
    return _fixed_date(text)


@cache
def _fixed_date(text: str) -> pd.Timestamp:
    """A date written in a rule, read once per process (the rules repeat a few)."""
    parsed, _, bad = parse_dates(pd.Series([text], dtype="object"), (DMY, ISO))
    if bad.iloc[0] or pd.isna(parsed.iloc[0]):
        raise ExpressionError(f"date('{text}') is not a date")
    return parsed.iloc[0]


@function("to_date(x)", pure=True, per_distinct=True)
def to_date(scope: Any, x: Any) -> pd.Series:
    """A text field read as a date (dd/mm/yyyy or yyyy-mm-dd); missing where it is not one."""
    return parse_dates(_series(x, scope.frame.index).astype("object"), (DMY, ISO))[0]


@function("add_days(d, n)", pure=True)
def add_days(scope: Any, d: Any, n: Any) -> pd.Series:
    index = scope.frame.index
    return _dates(d, index) + pd.to_timedelta(_series(n, index).astype("float"), unit="D")


def _month_steps(n: Any, length: int, per_unit: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``n`` units (each ``per_unit`` months) as whole months for each of ``length`` records (truncated, as ``int``
    does) and where it is there; None when it is not a number this module shifts by (pandas' path then)."""
    if not isinstance(n, pd.Series):
        whole = int(n)
        return None if abs(whole) > 100_000 else (np.full(length, whole * per_unit), np.ones(length, dtype=bool))
    if n.dtype.kind not in "iuf" or isinstance(n.dtype, pd.CategoricalDtype):
        return None
    values = n.to_numpy(dtype="float64", na_value=np.nan)
    known = ~np.isnan(values)
    if (np.abs(values[known]) > 100_000).any():
        return None
    return np.where(known, np.trunc(values), 0).astype("int64") * per_unit, known


def _add_offset(scope: Any, d: Any, n: Any, unit: str) -> pd.Series:
    index = scope.frame.index
    dates = _dates(d, index)
    steps = _month_steps(n, len(dates), 12 if unit == "years" else 1)
    if steps is not None and dates.dtype == "datetime64[ns]":  # whole months, clipped to the month's end, by numpy
        months, known = steps
        shifted = calendar.add_months(dates.to_numpy(), months)
        if shifted is not None:
            shifted[~known] = np.datetime64("NaT")
            return pd.Series(shifted, index=dates.index)
    if not isinstance(n, pd.Series):
        return dates + pd.DateOffset(**{unit: int(n)})
    out = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    for value in n.dropna().unique():
        hit = n == value
        out[hit] = dates[hit] + pd.DateOffset(**{unit: int(value)})
    return out


@function("add_months(d, n)", pure=True)
def add_months(scope: Any, d: Any, n: Any) -> pd.Series:
    """``n`` calendar months later (earlier if negative); the 31st becomes the month's last day."""
    return _add_offset(scope, d, n, "months")


@function("add_years(d, n)", pure=True)
def add_years(scope: Any, d: Any, n: Any) -> pd.Series:
    """``n`` years later; 29 February becomes 28 February. For birthdays use birthday()."""
    return _add_offset(scope, d, n, "years")


@function("birthday(dob, n)", pure=True)
def birthday(scope: Any, dob: Any, n: Any) -> pd.Series:
    """Date of the n-th birthday; a 29 February birthday falls on 1 March in other years."""
    index = scope.frame.index
    return calendar.birthday(_dates(dob, index), n if isinstance(n, pd.Series) else int(n))


@function("age(dob, at)", pure=True)
def age(scope: Any, dob: Any, at: Any) -> pd.Series:
    """Whole years completed on ``at``."""
    index = scope.frame.index
    return calendar.age(_dates(dob, index), _dates(at, index))


@function("days(a, b)", pure=True)
def days(scope: Any, a: Any, b: Any) -> pd.Series:
    """Calendar days from ``a`` to ``b`` (negative when ``b`` is earlier)."""
    index = scope.frame.index
    start, end = _dates(a, index), _dates(b, index)
    if start.dtype == end.dtype == "datetime64[ns]" and start.index.equals(end.index):
        counted = calendar.days_between(start.to_numpy(), end.to_numpy())
        if counted is not None:
            return pd.Series(counted, index=start.index)
    return (end - start).dt.days.astype("Int64")


@function("working_days(a, b)")
def working_days(scope: Any, a: Any, b: Any) -> pd.Series:
    """Working days after ``a`` up to and including ``b`` (England and Wales bank holidays excluded)."""
    index = scope.frame.index
    return calendar.working_days(_dates(a, index), _dates(b, index))


@function("add_working_days(d, n)")
def add_working_days(scope: Any, d: Any, n: Any) -> pd.Series:
    """The date ``n`` working days after ``d`` (before, if negative); see docs/rules.md for the convention."""
    index = scope.frame.index
    return calendar.add_working_days(_dates(d, index), n)


@function("earliest(a, b)")
def earliest(scope: Any, a: Any, b: Any) -> pd.Series:
    """The earlier of two dates, ignoring a missing one."""
    return _either(scope.frame.index, a, b, "min")


@function("latest(a, b)")
def latest(scope: Any, a: Any, b: Any) -> pd.Series:
    """The later of two dates, ignoring a missing one."""
    return _either(scope.frame.index, a, b, "max")


def _either(index: pd.Index, a: Any, b: Any, how: str) -> pd.Series:
    """The earlier (``min``) or later (``max``) of two dates, a missing one ignored."""
    first, second = _dates(a, index), _dates(b, index)
    if first.dtype == second.dtype == "datetime64[ns]" and first.index.equals(second.index):
        pick = np.fmin if how == "min" else np.fmax  # the f-versions skip NaT, as pandas skips missing values
        return pd.Series(pick(first.to_numpy(), second.to_numpy()), index=first.index)
    both = pd.concat([first, second], axis=1)
    return both.min(axis=1) if how == "min" else both.max(axis=1)


@function("weekday(d)")
def weekday(scope: Any, d: Any) -> pd.Series:
    """Day of the week: 0 Monday ... 5 Saturday, 6 Sunday."""
    return _dates(d, scope.frame.index).dt.dayofweek.astype("Int64")


@function("year_of(d)")
def year_of(scope: Any, d: Any) -> pd.Series:
    return _dates(d, scope.frame.index).dt.year.astype("Int64")


@function("month_of(d)")
def month_of(scope: Any, d: Any) -> pd.Series:
    return _dates(d, scope.frame.index).dt.month.astype("Int64")


@function("day_of(d)")
def day_of(scope: Any, d: Any) -> pd.Series:
    return _dates(d, scope.frame.index).dt.day.astype("Int64")


# -------------------------------------------------------------------------------- records of the same table


@function("duplicated(x, ...)", arrays=True)
def duplicated(scope: Any, *keys: Any) -> Any:
    """True for every record whose values of the given fields are shared with another record (blanks never)."""
    if keys and all(isinstance(k, np.ndarray) for k in keys):  # by the keys' codes (a text column's: memoised)
        group = np.zeros(len(scope.frame), dtype="int64")
        known = np.ones(len(scope.frame), dtype=bool)
        for key in keys:
            codes, uniques = vectors.factorized(key) if key.dtype.kind == "O" else pd.factorize(key)
            known &= codes >= 0
            group, _ = pd.factorize(group * (len(uniques) + 1) + codes)
        return (np.bincount(group)[group] > 1) & known if len(group) else known
    index = scope.frame.index
    frame = pd.DataFrame({i: _series(vectors.to_series(k, index), index) for i, k in enumerate(keys)}, index=index)
    known_series = frame.notna().all(axis=1)
    dup = frame.duplicated(keep=False)
    return dup & known_series


@function("prev(x)", kind="sequence")
def prev(scope: Any, x: Any) -> pd.Series:
    """The value on the previous record of the same group in the rule's sequence order (missing for the first)."""
    return scope.sequence.shift(_series(x, scope.frame.index), 1)


@function("next(x)", kind="sequence")
def next_(scope: Any, x: Any) -> pd.Series:
    """The value on the next record of the same group in the rule's sequence order (missing for the last)."""
    return scope.sequence.shift(_series(x, scope.frame.index), -1)


@function("is_first()", kind="sequence")
def is_first(scope: Any) -> np.ndarray:
    """True for the first record of its group in sequence order."""
    return scope.sequence.positions_in_group() == 0


@function("is_last()", kind="sequence")
def is_last(scope: Any) -> np.ndarray:
    """True for the last record of its group in sequence order."""
    seq = scope.sequence
    return seq.positions_in_group() == seq.group_sizes() - 1


@function("position()", kind="sequence")
def position(scope: Any) -> pd.Series:
    """0-based position of the record within its group in sequence order."""
    return scope.sequence.position()


@function("group_count(cond)", kind="sequence")
def group_count(scope: Any, cond: Any) -> pd.Series:
    """How many records of the same group satisfy ``cond``."""
    flags = as_bool(cond, scope.frame.index).astype("int64")
    return scope.sequence.transform(flags, "sum").astype("Int64")


@function("group_any(cond)", kind="sequence")
def group_any(scope: Any, cond: Any) -> pd.Series:
    """True when any record of the same group satisfies ``cond``."""
    return scope.sequence.transform(as_bool(cond, scope.frame.index), "max").astype(bool)


@function("group_min(x)", kind="sequence")
def group_min(scope: Any, x: Any) -> pd.Series:
    """Smallest (earliest) value in the group, ignoring missing values."""
    return scope.sequence.transform(_series(x, scope.frame.index), "min")


@function("group_max(x)", kind="sequence")
def group_max(scope: Any, x: Any) -> pd.Series:
    """Largest (latest) value in the group, ignoring missing values."""
    return scope.sequence.transform(_series(x, scope.frame.index), "max")


@function("group_first(x)", kind="sequence")
def group_first(scope: Any, x: Any) -> pd.Series:
    """The value on the group's first record in sequence order."""
    return scope.sequence.at_position(_series(x, scope.frame.index), first=True)


@function("group_last(x)", kind="sequence")
def group_last(scope: Any, x: Any) -> pd.Series:
    """The value on the group's last record in sequence order."""
    return scope.sequence.at_position(_series(x, scope.frame.index), first=False)


def _run(how: str) -> Callable[..., pd.Series]:
    def impl(scope: Any, x: Any) -> pd.Series:
        return scope.sequence.run_transform(_series(x, scope.frame.index), how)

    return impl


for _how, _doc in (
    ("min", "Smallest (earliest) value in the record's run, ignoring missing values."),
    ("max", "Largest (latest) value in the record's run, ignoring missing values."),
    ("sum", "Sum of the values in the record's run."),
    ("first", "The value on the run's first record (first non-missing)."),
    ("last", "The value on the run's last record (last non-missing)."),
):
    FUNCTIONS[f"run_{_how}"] = Function(f"run_{_how}", _run(_how), "sequence", f"run_{_how}(x)", _doc)


@function("run_count()", kind="sequence")
def run_count(scope: Any) -> pd.Series:
    """Number of records in the record's run."""
    ones = pd.Series(1, index=scope.frame.index, dtype="int64")
    return scope.sequence.run_transform(ones, "sum").astype("Int64")


# ------------------------------------------------------------------------------------ whole-table aggregates


@function("count(cond)", kind="aggregate")
def count(scope: Any, cond: Any) -> int:
    """Number of records for which ``cond`` is true."""
    return int(as_bool(cond, scope.frame.index).sum())


@function("rows()", kind="aggregate")
def rows(scope: Any) -> int:
    """Number of records in the table."""
    return len(scope.frame)


# --------------------------------------------------------------------------- named checks written in Python

_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


@function("upn_check_letter(x)", pure=True, per_distinct=True)
def upn_check_letter(scope: Any, x: Any) -> pd.Series:
    """The check letter DfE's UPN algorithm gives for characters 2 to 13 (missing unless they are 12 digits).

    Sum of digit x weight for positions 2..13 with weights 2..13, modulo 23, indexed into
    A B C D E F G H J K L M N P Q R T U V W X Y Z.
    """
    s = _series(x, scope.frame.index).astype("string")
    body = s.str.slice(1, 13)
    ok = s.str.len().eq(13).fillna(False) & body.str.fullmatch(r"\d{12}").fillna(False)
    if s.empty:  # an empty table: str.split(expand=True) would give no columns at all
        return pd.Series([], index=s.index, dtype="object")
    digits = body.where(ok, "000000000000").str.split("", expand=True).iloc[:, 1:13].astype("int64")
    weights = np.arange(2, 14)
    remainder = (digits.to_numpy() * weights).sum(axis=1) % 23
    letters = pd.Series(np.array(list(_UPN_LETTERS))[remainder], index=s.index, dtype="object")
    return letters.where(ok.to_numpy(), None)


def names() -> set[str]:
    return set(FUNCTIONS)
