"""Relating records of two tables on equal keys, with numpy: each side's keys as integer codes (the child's id is
one already, CHILD_CODE), the related side sorted once by its code, and each record's related records found as
a segment of that order (searchsorted). A count or an existence per record is then the segment's length, and
the (record, related record) pairs its positions; no pandas merge is built.

The pairs come in the order a pandas inner merge gives (records in order, each one's related records in theirs),
so that everything computed from them is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import vectors
from .columns import Array, Columns, column_array

CHILD_CODE = "_child_code"


def keys_present(frame: pd.DataFrame | Columns, keys: list[str]) -> np.ndarray:
    """Rows whose keys are all there: not blank, and not -1 for a child code (a blank id)."""
    present: np.ndarray | None = None
    for key in keys:
        values = column_array(frame, key)
        if key.endswith(CHILD_CODE):
            there = _coded(np.asarray(values))
        elif isinstance(values, np.ndarray):
            there = vectors.known(values)  # text: worked out once per column and run (the run's memo)
        else:
            there = ~np.asarray(values.isna(), dtype=bool)
        present = there if present is None else present & there
    return np.ones(len(frame), dtype=bool) if present is None else present


def _coded(codes: np.ndarray) -> np.ndarray:
    """Where a child code is there (not -1), worked out once per column and run."""
    memo = vectors.RUN_MEMO.get()
    if memo is None:
        return codes >= 0
    return memo.get("coded", [codes], lambda: codes >= 0)  # type: ignore[no-any-return]


def key_codes(
    left: list[pd.Series] | list[Array], right: list[pd.Series] | list[Array]
) -> tuple[np.ndarray, np.ndarray] | None:
    """Integer codes of each side's key columns (Series, or their arrays), equal exactly where all the keys are
    equal.

    None when a key's two columns have different types (the caller then lets pandas decide what equal means).
    """
    n_left = len(left[0]) if left else 0
    left_code = np.zeros(n_left, dtype="int64")
    right_code = np.zeros(len(right[0]) if right else 0, dtype="int64")
    for lcol, rcol in zip(left, right, strict=True):
        if lcol.dtype != rcol.dtype:
            return None
        if lcol.dtype == np.int64 and len(left) == 1:  # a child code: already a code
            return np.asarray(lcol), np.asarray(rcol)
        found = _integer_codes(lcol, rcol)
        if found is None:
            both = [c if isinstance(c, pd.Series) else pd.Series(c, dtype=c.dtype, copy=False) for c in (lcol, rcol)]
            codes, uniques = pd.factorize(pd.concat(both, ignore_index=True))
            found = codes, max(len(uniques), 1)
        codes, width = found
        combined = np.concatenate([left_code, right_code]) * width + codes
        combined, _ = pd.factorize(combined)  # keeps the codes small whatever the number of keys
        left_code, right_code = combined[:n_left], combined[n_left:]
    return left_code, right_code


def _integer_codes(left: pd.Series | Array, right: pd.Series | Array) -> tuple[np.ndarray, int] | None:
    """Codes of two whole-number key columns (none missing): the numbers themselves where they are small and not
    negative (a child code, a record's ID), else their factorized codes; with how many codes there can be. None
    for columns of other types (or with a missing value)."""
    values = [_whole_numbers(column) for column in (left, right)]
    if values[0] is None or values[1] is None:
        return None
    both = np.concatenate(values)
    if not len(both):
        return None
    if both.min() >= 0 and both.max() < 2**31:
        return both, int(both.max()) + 1
    codes, uniques = pd.factorize(both)
    return codes, max(len(uniques), 1)


def _whole_numbers(column: pd.Series | Array) -> np.ndarray | None:
    """A column of whole numbers (numpy's signed integers, or pandas' nullable ones with none missing) as int64;
    None for any other column."""
    values = (
        column
        if not isinstance(column, pd.Series)
        else column.to_numpy()
        if isinstance(column.dtype, np.dtype)
        else column.array
    )
    if isinstance(values, np.ndarray):
        return values.astype("int64", copy=False) if values.dtype.kind == "i" else None
    if values.dtype.kind == "i" and not values.isna().any():  # Int64 and its kin: all there
        return values.to_numpy(dtype="int64")
    return None


@dataclass(frozen=True)
class Matches:
    """Each left record's related records: ``order[start[i] : start[i] + count[i]]`` (positions on the right)."""

    order: np.ndarray
    start: np.ndarray
    count: np.ndarray

    @classmethod
    def of(cls, left_code: np.ndarray, right_code: np.ndarray, order: np.ndarray | None = None) -> Matches:
        """The matches of codes that are small whole numbers (0 and up, as factorized codes and child codes are):
        each code's related records are a segment of the right side in code order, found by counting.
        ``order``: the right side's stable order by code, when it is known already."""
        if order is None:
            order = np.argsort(right_code, kind="stable")
        counts, starts = code_segments(right_code)
        size = len(counts)
        inside = (left_code >= 0) & (left_code < size)
        code = np.where(inside, left_code, 0)
        return cls(order, np.where(inside, starts[code], 0), np.where(inside, counts[code], 0))

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(left position, right position) of every pair, left records in order, each one's matches in order."""
        count = self.count
        left = np.repeat(np.arange(len(count)), count)
        first = np.repeat(self.start - (np.cumsum(count) - count), count)
        return left, self.order[first + np.arange(len(left))]

    def first(self) -> np.ndarray:
        """Each left record's first related record (right position), -1 where it has none."""
        out = np.full(len(self.count), -1, dtype="int64")
        has = self.count > 0
        out[has] = self.order[self.start[has]]
        return out


def code_segments(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many records have each code (0 and up), and where each code's segment starts in code order."""
    size = int(codes.max()) + 1 if len(codes) else 1
    counts = np.bincount(codes, minlength=size)
    return counts, np.cumsum(counts) - counts


def take_array(column: pd.Series | Array, positions: np.ndarray) -> Array:
    """A column's values (a Series, or its array) at ``positions`` (all valid) as an array of the column's type."""
    if not isinstance(column, pd.Series):
        return column.take(positions)
    if isinstance(column.dtype, np.dtype):
        return column.to_numpy().take(positions)
    return column.array.take(positions)


def take(column: pd.Series | Array, positions: np.ndarray) -> pd.Series:
    """A column's values at ``positions`` (all valid), its type kept (text in an ``object`` column stays
    ``object``: pandas would otherwise infer its own string type from the values)."""
    return pd.Series(take_array(column, positions), dtype=column.dtype, copy=False)


def take_or_missing(column: pd.Series | Array, positions: np.ndarray) -> pd.Series:
    """A column's values at ``positions``, missing where the position is -1, typed as a pandas left merge types
    it: integers become floats and flags objects when anything is missing."""
    values = take_or_missing_array(column, positions)
    return pd.Series(values, dtype=values.dtype, copy=False)


def take_or_missing_array(column: pd.Series | Array, positions: np.ndarray) -> Array:
    """:func:`take_or_missing` as an array of its type."""
    values = column.to_numpy() if isinstance(column, pd.Series) and isinstance(column.dtype, np.dtype) else column
    if isinstance(values, pd.Series):
        values = values.array
    missing = positions < 0
    if not missing.any():
        return values.take(positions)
    if isinstance(values, np.ndarray):
        if values.dtype.kind in "iu":
            values = values.astype("float64")
        elif values.dtype.kind == "b":
            values = values.astype(object)
        if not len(values):  # nothing to take: every value missing
            values = np.full(1, np.datetime64("NaT") if values.dtype.kind in "mM" else np.nan, dtype=values.dtype)
        out = values.take(np.where(missing, 0, positions))
        if out.dtype.kind in "mM":
            out[missing] = np.datetime64("NaT")
        else:
            out[missing] = np.nan
        return out
    return values.take(positions, allow_fill=True)


def subset_order(full_order: np.ndarray, positions: np.ndarray, length: int) -> np.ndarray:
    """The stable order by code of the records at ``positions`` (ascending) of a column of ``length`` records,
    from the stable order by code of the whole column, as indices into ``positions``: the whole column's order
    kept to those records (no sort)."""
    if len(positions) == length:  # every record: the whole column's order
        return full_order
    rank = np.full(length, -1, dtype="int64")
    rank[positions] = np.arange(len(positions))
    ranked = rank[full_order]
    return ranked[ranked >= 0]
