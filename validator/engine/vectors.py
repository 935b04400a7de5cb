"""Expression values as numpy arrays: the fast path of the evaluator (engine/expr.py).

Inside one expression every column has the records of one frame, in its order, so element-wise operations on
the columns' numpy arrays give what pandas gives on the aligned Series, without pandas' cost per operation
(tens of microseconds each, over some 300 rules and several operations per rule). A column whose type has no
numpy equivalent (pandas' nullable ``Int64``, ``string``, ``boolean``) stays a Series and takes the pandas path,
as does any operation between types this module does not handle: each function here returns ``None`` for "not
mine", and the caller then does exactly what it did before.

Missing values are those pandas calls missing: ``None``, ``NaN``, ``NaT`` and ``pd.NA``.

The run's memo (:class:`Memo`, reached through ``RUN_MEMO`` while a rule runs) keeps what is worked out on a
column once per run: its missing and distinct values, and pure functions of it.
"""

from __future__ import annotations

import ast
import operator
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import numpy as np
import pandas as pd

NUMBER_KINDS = "iuf"
COMPARE: dict[type, Callable[[Any, Any], Any]] = {  # the comparisons of the rule language
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def from_series(value: Any) -> Any:
    """A Series of a numpy type as its array (no copy); anything else unchanged."""
    if isinstance(value, pd.Series) and isinstance(value.dtype, np.dtype):
        return value.to_numpy()
    return value


def to_series(value: Any, index: pd.Index) -> Any:
    """An array as a Series on ``index``, its type kept (text in an object array stays ``object``); anything else
    unchanged."""
    if isinstance(value, np.ndarray):
        return pd.Series(value, index=index, dtype=value.dtype, copy=False)
    return value


def known(values: np.ndarray) -> np.ndarray:
    """True where the value is there (not missing)."""
    kind = values.dtype.kind
    if kind in "mM":
        return ~np.isnat(values)
    if kind == "f":
        return ~np.isnan(values)
    if kind in "iub":
        return np.ones(len(values), dtype=bool)
    memo = RUN_MEMO.get()  # text: a pass over Python objects, done once per column and run
    return ~(pd.isna(values) if memo is None else memo.missing(values))


def scalar_known(value: Any) -> bool:
    return not (value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _comparable(left: Any, right: Any) -> bool:
    """Whether the two operands (at least one an array) are of kinds compared here exactly as pandas does."""
    arrays = [v for v in (left, right) if isinstance(v, np.ndarray)]
    scalars = [v for v in (left, right) if not isinstance(v, np.ndarray)]
    kinds = {a.dtype.kind for a in arrays}
    if len(kinds) != 1:
        return False
    kind = kinds.pop()
    if kind == "M":
        return all(isinstance(s, pd.Timestamp) and s.tz is None for s in scalars)
    if kind in NUMBER_KINDS:
        return all(_is_number(s) for s in scalars)
    if kind == "O":
        return all(isinstance(s, (str, int, float)) and not isinstance(s, bool) for s in scalars)
    return False


def _plain_number(value: Any) -> Any:
    """A Series of pandas' nullable numbers (``Int64``, ``Float64``) as floats, missing as NaN (exact for the
    whole numbers a return holds); anything else unchanged."""
    if isinstance(value, pd.Series) and not isinstance(value.dtype, np.dtype) and value.dtype.kind in "iuf":
        return value.to_numpy(dtype="float64", na_value=np.nan)
    return value


def _plain_text(value: Any) -> Any:
    """A Series of pandas' text type (``string``, ``str``) as an object array, missing as None (what a text
    function such as ``upper`` gives); anything else unchanged."""
    if isinstance(value, pd.Series) and isinstance(value.dtype, pd.StringDtype):
        return value.to_numpy(dtype=object, na_value=None)
    return value


def compare(op: type, left: Any, right: Any) -> np.ndarray | None:
    """``left OP right`` element-wise, false wherever either side is missing; None when not handled here."""
    left, right = _plain_number(left), _plain_number(right)
    if op is ast.Eq or op is ast.NotEq:  # text equality is the same on Python's strings
        left, right = _plain_text(left), _plain_text(right)
    if not (isinstance(left, np.ndarray) or isinstance(right, np.ndarray)):
        return None
    if op not in COMPARE or not _comparable(left, right):
        return None
    n = len(left) if isinstance(left, np.ndarray) else len(right)
    if any(not isinstance(v, np.ndarray) and not scalar_known(v) for v in (left, right)):
        return np.zeros(n, dtype=bool)
    ok = np.ones(n, dtype=bool)
    for side in (left, right):
        if isinstance(side, np.ndarray) and side.dtype.kind not in "iub":
            ok &= known(side)
    compute = COMPARE[op]
    by_codes = _compare_distinct(compute, left, right, ok)
    if by_codes is not None:
        return by_codes
    if any(isinstance(side, np.ndarray) and side.dtype.kind == "O" for side in (left, right)):
        out = np.zeros(n, dtype=bool)  # Python's comparison, on the values there only
        left_known = left[ok] if isinstance(left, np.ndarray) else left
        right_known = right[ok] if isinstance(right, np.ndarray) else right
        out[ok] = np.asarray(compute(left_known, right_known), dtype=bool)
        return out
    if isinstance(left, pd.Timestamp):
        left = left.to_datetime64()
    if isinstance(right, pd.Timestamp):
        right = right.to_datetime64()
    return np.asarray(compute(left, right), dtype=bool) & ok


def _compare_distinct(compute: Callable[[Any, Any], Any], left: Any, right: Any, ok: np.ndarray) -> np.ndarray | None:
    """A text column compared with one value, on the column's distinct values only (Python's comparison on each,
    then spread to the records by their codes); None unless one side is a text column whose distinct values are
    known already (:func:`known_codes`: finding them costs several comparisons) and the other one value. Where
    the column is missing (``ok`` false) the answer is false."""
    if isinstance(left, np.ndarray) == isinstance(right, np.ndarray):
        return None
    column = left if isinstance(left, np.ndarray) else right
    known = known_codes(column) if column.dtype.kind == "O" else None
    if known is None:
        return None
    codes, uniques = known
    if len(uniques):
        pairs = (uniques, right) if column is left else (left, uniques)
        table = np.append(np.asarray(compute(*pairs), dtype=bool), False)  # the last: a missing value
    else:
        table = np.zeros(1, dtype=bool)
    return table[codes] & ok


def at_positions(values: np.ndarray, positions: np.ndarray, gap: Any) -> np.ndarray:
    """``values.take(positions)``, with ``gap`` where the position is -1."""
    gaps = positions < 0
    if not gaps.any():
        return values.take(positions)
    out = values.take(np.maximum(positions, 0)) if len(values) else np.empty(len(positions), dtype=values.dtype)
    out[gaps] = gap
    return out


def known_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """A text column's codes (-1 where missing) and distinct values where the run has them already (its own,
    :func:`factorized`, or those of the column it was taken from: :meth:`Memo.taken`), else None."""
    memo = RUN_MEMO.get()
    if memo is None:
        return None
    origin = memo.origin(values)
    if origin is None:
        return memo.peek("factorize", [values])  # type: ignore[no-any-return]
    source, positions = origin
    found = known_codes(source)
    if found is None:
        return None
    codes, uniques = found
    return at_positions(codes, positions, -1), uniques  # not kept: a column of pairs can be long


def is_text(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "O"


def has_text(value: Any) -> bool:
    """Whether the value is a text column: an object array, or a Series of pandas' text type (what a text function
    such as ``replace`` gives)."""
    return is_text(value) or (isinstance(value, pd.Series) and isinstance(value.dtype, pd.StringDtype))


def is_column(value: Any) -> bool:
    return isinstance(value, (np.ndarray, pd.Series))


def factorized(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A text column's codes (-1 where missing) and distinct values, found once per column and run."""
    memo = RUN_MEMO.get()
    if memo is None:
        return pd.factorize(values)
    return memo.get("factorize", [values], lambda: pd.factorize(values))  # type: ignore[no-any-return]


def per_distinct(values: np.ndarray | pd.Series, compute: Callable[[pd.Series], Any], index: pd.Index) -> Any:
    """``compute`` (a function of one value at a time) of a text column (an object array, or a Series of pandas'
    text type: :func:`has_text`), worked out on its distinct values and a missing one only, then spread to every
    record; None when ``compute`` gives something that cannot be spread."""
    if isinstance(values, pd.Series):
        codes, uniques = pd.factorize(values)
        dtype = values.dtype
    else:
        codes, uniques = factorized(values)
        dtype = np.dtype(object)
    distinct = pd.Series(np.append(np.asarray(uniques, dtype=object), None), dtype=dtype)  # last: a missing value
    result = compute(distinct)
    spread = np.where(codes < 0, len(uniques), codes)
    if isinstance(result, np.ndarray) and len(result) == len(distinct):
        return result.take(spread)
    if not isinstance(result, pd.Series) or len(result) != len(distinct):
        return None
    if isinstance(result.dtype, np.dtype):
        return result.to_numpy().take(spread)
    return pd.Series(result.array.take(spread), index=index, dtype=result.dtype, copy=False)


def is_in(values: np.ndarray, listed: Any) -> np.ndarray | None:
    """True where the value is one of ``listed`` (missing: false); None when not handled here."""
    if values.dtype.kind != "O":
        return None
    wanted = set(listed)
    codes, uniques = factorized(values)
    table = np.fromiter((u in wanted for u in uniques), dtype=bool, count=len(uniques))
    return np.append(table, False)[codes]


def truth(value: np.ndarray) -> np.ndarray | None:
    """An array as plain booleans (missing: false), as pandas' ``fillna(False).astype(bool)``; None when not
    handled here."""
    kind = value.dtype.kind
    if kind == "b":
        return value
    if kind in "iu":
        return value != 0
    if kind == "f":
        return ~np.isnan(value) & (value != 0)
    return None


def arithmetic(op: type, left: Any, right: Any) -> np.ndarray | None:
    """``+``, ``-`` and ``*`` on numbers (and ``/`` on floats, where dividing by zero gives a missing value); None
    when not handled here (dates, text, integer division: pandas' rules for those are kept)."""
    if not (isinstance(left, np.ndarray) or isinstance(right, np.ndarray)):
        return None
    for side in (left, right):
        if isinstance(side, np.ndarray) and side.dtype.kind not in NUMBER_KINDS:
            return None
        if not isinstance(side, np.ndarray) and not _is_number(side):
            return None
    if op is ast.Add:
        return np.add(left, right)
    if op is ast.Sub:
        return np.subtract(left, right)
    if op is ast.Mult:
        return np.multiply(left, right)
    return None


def identity(value: Any) -> Any:
    """A key that is equal for two values exactly when they are the same data: for an array, its memory, shape,
    strides and type (arrays here are never changed in place); for a hashable single value, its type and value.
    None for anything else."""
    if isinstance(value, np.ndarray):
        return ("array", value.__array_interface__["data"][0], value.shape, value.strides, value.dtype.str)
    if isinstance(value, (pd.Series, list, set, dict)):
        return None
    try:
        hash(value)
    except TypeError:
        return None
    return (type(value).__name__, value)


class Memo:
    """Results of pure functions of columns (``to_date(SW_DECOM)``, ``birthday(DOB, 18)``, which values of a
    text column are missing...) for one run, so that the rules that need one on the same column compute it once.

    An entry lasts no longer than its argument arrays: it is dropped when one of them is let go (so that another
    array can never be taken for it at the same memory), and the memo holds no array alive but its results. When
    the results would hold more than ``size`` entries or ``budget`` bytes, the least recently used entries are let
    go first (the columns many rules read, such as a table's LS or DEC, stay)."""

    def __init__(self, size: int = 256, budget: int = 32 * 2**20) -> None:
        self.size = size
        self.budget = budget
        self._held = 0
        self._entries: dict[tuple[Any, ...], tuple[Any, int]] = {}  # oldest use first
        self._origins: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}  # see taken()

    def get(self, name: str, args: list[Any], compute: Callable[[], Any]) -> Any:
        keys = [identity(a) for a in args]
        if any(k is None for k in keys):
            return compute()
        key = (name, *keys)
        found = self._entries.pop(key, None)
        if found is not None:
            self._entries[key] = found  # the most recently used now
            return found[0]
        result = compute()
        held = sum(a.nbytes for a in (result if isinstance(result, tuple) else (result,)) if isinstance(a, np.ndarray))
        while self._entries and (len(self._entries) >= self.size or self._held + held > self.budget):
            self._drop(next(iter(self._entries)))
        self._entries[key] = (result, held)
        self._held += held
        for arg in args:
            if isinstance(arg, np.ndarray):
                weakref.finalize(arg, self._drop, key).atexit = False
        return result

    def peek(self, name: str, args: list[Any]) -> Any:
        """What :meth:`get` would give without computing it, when it is known; else None."""
        keys = [identity(a) for a in args]
        if any(k is None for k in keys):
            return None
        key = (name, *keys)
        found = self._entries.pop(key, None)
        if found is None:
            return None
        self._entries[key] = found  # the most recently used now
        return found[0]

    def taken(self, values: np.ndarray, source: np.ndarray, positions: np.ndarray) -> None:
        """Notes that ``values`` is ``source.take(positions)`` (a column of related records' pairs, or of each record's
        first related record: missing where the position is -1), so that which of its values are missing, and its
        distinct values, are taken from the source's, worked out once, not worked out again on the copy."""
        key = identity(values)
        if key is not None and values.dtype.kind == "O" and source.dtype.kind == "O":
            self._origins[key] = (source, positions)
            weakref.finalize(values, self._origins.pop, key, None).atexit = False

    def origin(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The column and positions ``values`` was taken from (:meth:`taken`), or None."""
        return self._origins.get(identity(values)) if self._origins else None

    def missing(self, values: np.ndarray) -> np.ndarray:
        """Where a text column's values are missing (``pd.isna``), worked out once per column and run."""
        origin = self._origins.get(identity(values))
        if origin is not None:
            source, positions = origin
            return at_positions(self.missing(source), positions, True)
        return self.get("isna", [values], lambda: pd.isna(values))  # type: ignore[no-any-return]

    def _drop(self, key: tuple[Any, ...]) -> None:
        found = self._entries.pop(key, None)
        if found is not None:
            self._held -= found[1]


RUN_MEMO: ContextVar[Memo | None] = ContextVar("RUN_MEMO", default=None)  # the running rule's store's memo
