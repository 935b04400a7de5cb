"""Per-group orders and reductions: a rule's sequence (each child's records in order: neighbours, positions,
runs, values per group) and the minimum, maximum and sum per group of related records.

Everything here is numpy work on segments: the sort keys are turned into integer ranks once, one stable sort
puts the records in (group, order) order, and each group is then a segment of consecutive positions, so a
neighbour is an offset, a position a subtraction and a group's minimum one ``ufunc.reduceat``. The results are
what the pandas ``sort_values``/``groupby`` versions give, dtype included (tests/test_sequences.py compares them
on random frames); a dtype this module does not handle goes to pandas.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .columns import Columns
from .vectors import RUN_MEMO, factorized

_INT64_MAX = np.iinfo(np.int64).max


# ------------------------------------------------------------------------------------------------ sort keys
def _argsort_distinct(uniques: Any) -> np.ndarray | None:
    """The order of distinct, non-missing values as ``sort_values`` orders them (None: not a kind handled here)."""
    if isinstance(uniques, np.ndarray) and uniques.dtype.kind in "iufbM":
        return np.argsort(uniques, kind="stable")
    if isinstance(uniques.dtype, pd.StringDtype) or uniques.dtype == object:
        text = np.asarray(uniques, dtype=object)
        if len(text) and pd.api.types.infer_dtype(text, skipna=False) != "string":
            return None  # numbers, dates or a mix in an object column: pandas compares those
        if "\x00" in "".join(text):  # numpy's fixed-width text drops trailing NULs: compare the str objects
            return np.argsort(text, kind="stable")
        return np.argsort(text.astype(str), kind="stable")  # codepoint order, like str's own comparison
    if uniques.dtype.kind in "iufb" and not isinstance(uniques.dtype, pd.CategoricalDtype):
        return np.argsort(uniques.to_numpy(), kind="stable")  # a nullable number without its missing values
    return None


def _factorized(values: pd.Series) -> tuple[np.ndarray, Any]:
    """``pd.factorize`` of the values (codes in order of appearance, -1 for a missing value) and the uniques."""
    dtype = values.dtype
    data = values.to_numpy() if isinstance(dtype, np.dtype) else values.array
    return pd.factorize(data)


def _column_ranks(frame: pd.DataFrame | Columns, key: str) -> tuple[np.ndarray, int] | None:
    """:func:`_sort_ranks` of a column of the frame; of a table's column kept for the run (light columns, a numpy
    array), worked out once per run and shared by every sequence that sorts by it (each child's id, DECOM...)."""
    column = frame[key]
    if not isinstance(column, pd.Series):
        return None
    memo = RUN_MEMO.get()
    kept = frame.array(key) if isinstance(frame, Columns) else None
    if memo is None or not isinstance(kept, np.ndarray):
        return _sort_ranks(column)
    if kept.dtype.kind == "O":  # the distinct values of a text column are known to the run already (vectors.py)
        return memo.get("sort_ranks", [kept], lambda: _ranks_of(*factorized(kept), column.dtype))  # type: ignore[no-any-return]
    return memo.get("sort_ranks", [kept], lambda: _sort_ranks(column))  # type: ignore[no-any-return]


def _sort_ranks(values: pd.Series) -> tuple[np.ndarray, int] | None:
    """Each value's rank among the distinct values in sort order (missing values last, ranked ``count``), and
    ``count + 1``; None for a dtype sorted here differently from pandas (categories, time zones, mixed objects)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind not in "iufbMO":
        return None
    return _ranks_of(*_factorized(values), values.dtype)


def _ranks_of(codes: np.ndarray, uniques: Any, dtype: Any) -> tuple[np.ndarray, int] | None:
    """:func:`_sort_ranks` from the values' codes and distinct values."""
    if isinstance(dtype, np.dtype) and dtype.kind not in "iufbMO":
        return None
    order = _argsort_distinct(uniques)
    if order is None:
        return None
    rank = np.empty(len(uniques) + 1, dtype="int64")
    rank[order] = np.arange(len(uniques), dtype="int64")
    rank[-1] = len(uniques)  # code -1 (missing) picks the last slot
    return rank[codes], len(uniques) + 1


def _stable_order(ranks: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """The permutation sorting by the ranks (first most significant), ties kept in record order."""
    span = 1
    for _, size in ranks:
        span *= size
    if span < _INT64_MAX:  # one combined key: a single stable argsort
        combined = np.zeros(len(ranks[0][0]), dtype="int64")
        for rank, size in ranks:
            combined *= size
            combined += rank
        return np.argsort(combined, kind="stable")
    return np.lexsort([rank for rank, _ in reversed(ranks)])  # lexsort is stable too


def _pandas_ordering(frame: pd.DataFrame, by: tuple[str, ...], order: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``Sequence.ordering`` by pandas, for keys of a dtype the ranks do not handle."""
    if not isinstance(frame, pd.DataFrame):  # light columns (engine/columns.py): the keys as a frame
        frame = pd.DataFrame({k: frame[k] for k in dict.fromkeys([*by, *order])}, index=frame.index)
    ordered = frame.sort_values([*by, *order], na_position="last", kind="stable") if len(frame) else frame
    if by:
        groups = ordered.groupby(list(by), sort=False, dropna=False).ngroup().to_numpy()
    else:
        groups = np.zeros(len(ordered), dtype="int64")
    return ordered.index.to_numpy(), groups


# ------------------------------------------------------------------------------------- segment reductions
def _starts(groups: np.ndarray) -> np.ndarray:
    """Where each run of equal group numbers begins (``groups`` non-empty and grouped)."""
    boundary = np.empty(len(groups), dtype=bool)
    boundary[0] = True
    np.not_equal(groups[1:], groups[:-1], out=boundary[1:])
    return np.flatnonzero(boundary)


def _reduce_numbers(data: np.ndarray, missing: np.ndarray | None, starts: np.ndarray, how: str) -> Any:
    """min/max/sum per segment of numbers (int, float, bool, or datetime as int64 with NaT missing), skipping
    missing values; returns (per-segment values, per-segment "nothing to reduce" flags or None)."""
    if how == "sum":
        filled = data if missing is None else np.where(missing, 0, data)
        if filled.dtype == bool:
            filled = filled.astype("int64")
        return np.add.reduceat(filled, starts), None
    ufunc = np.minimum if how == "min" else np.maximum
    if missing is None:
        return ufunc.reduceat(data, starts), None
    if data.dtype.kind == "f":
        fill: Any = np.inf if how == "min" else -np.inf
    elif data.dtype == bool:
        fill = how == "min"
    else:
        info = np.iinfo(data.dtype)
        fill = info.max if how == "min" else info.min
    reduced = ufunc.reduceat(np.where(missing, fill, data), starts)
    empty = np.add.reduceat(~missing, starts) == 0
    return reduced, empty


def _exact_float_sum(data: np.ndarray, missing: np.ndarray) -> bool:
    """True when any order of adding gives pandas' (compensated) sum: whole numbers, totals below 2**53."""
    known = data[~missing]
    return bool(np.isfinite(known).all() and (known == np.round(known)).all() and np.abs(known).sum() < 2.0**53)


def _reduce_plain(values: pd.Series, starts: np.ndarray, how: str) -> Any | None:
    """min/max/sum per segment of a numpy-typed (or nullable number) series, pandas' result dtype; None: not here."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind in "iub":
            return _reduce_numbers(values.to_numpy(), None, starts, how)[0]
        if dtype.kind == "f":
            data = values.to_numpy()
            missing = np.isnan(data)
            if how == "sum" and not _exact_float_sum(data, missing):
                return None
            reduced, empty = _reduce_numbers(data, missing, starts, how)
            if empty is not None:
                reduced[empty] = np.nan
            return reduced
        if dtype.kind == "M" and how != "sum":
            data = values.to_numpy().view("int64")
            reduced, empty = _reduce_numbers(data, np.isnat(values.to_numpy()), starts, how)
            reduced[empty] = np.iinfo("int64").min  # NaT
            return reduced.view(dtype)
        return None
    if not isinstance(values.array, (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)):
        return None  # e.g. an arrow-backed number: pandas' own path
    numpy_dtype = {"i": "int64", "u": "uint64", "f": "float64", "b": "bool"}[dtype.kind]
    missing = values.isna().to_numpy()
    data = values.to_numpy(dtype=numpy_dtype, na_value=0)
    if how == "sum" and dtype.kind == "f" and not _exact_float_sum(data, missing):
        return None
    reduced, empty = _reduce_numbers(data, missing, starts, how)
    result_dtype = "Int64" if how == "sum" and dtype.kind == "b" else dtype
    out = pd.array(reduced, dtype=result_dtype)
    if empty is not None and empty.any():
        out[empty] = pd.NA
    return out


def _reduce_text(values: pd.Series, starts: np.ndarray, how: str) -> Any | None:
    """min/max per segment of text (str or object): ranks reduced as integers, turned back into text."""
    ranked = _sort_ranks(values)
    if ranked is None:
        return None
    ranks, size = ranked
    codes, uniques = _factorized(values)
    text = np.asarray(uniques, dtype=object)
    by_rank = np.empty(size, dtype=object)
    by_rank[ranks[codes >= 0]] = text[codes[codes >= 0]]
    by_rank[-1] = np.nan if values.dtype == object else values.dtype.na_value
    missing_rank = size - 1
    if how == "min":
        picked = np.minimum.reduceat(ranks, starts)
    else:
        picked = np.maximum.reduceat(np.where(ranks == missing_rank, -1, ranks), starts)
        picked[picked < 0] = missing_rank
    if values.dtype == object:
        return picked, by_rank  # object: pandas infers the dtype of the result (see _finish)
    return pd.array(by_rank[picked], dtype=values.dtype)


def _first_last(values: pd.Series, starts: np.ndarray, how: str) -> Any | None:
    """The first (last) non-missing value per segment, missing when there is none (pandas' first/last)."""
    if values.dtype == object:
        return None  # pandas fills object first/last with None here and with NaN in transform: its own path
    n = len(values)
    known = ~values.isna().to_numpy()
    if how == "first":
        picked = np.minimum.reduceat(np.where(known, np.arange(n), n), starts)
        picked[picked == n] = -1
    else:
        picked = np.maximum.reduceat(np.where(known, np.arange(n), -1), starts)
    data = values.to_numpy() if isinstance(values.dtype, np.dtype) else values.array
    return pd.api.extensions.take(data, picked, allow_fill=True)


def _reduce_sorted(values: pd.Series, starts: np.ndarray, how: str) -> Any | None:
    """One value per segment of ``values`` (grouped, non-empty), as pandas' groupby gives it; None: use pandas."""
    if how in ("first", "last"):
        return _first_last(values, starts, how)
    if how not in ("min", "max", "sum"):
        return None
    if isinstance(values.dtype, pd.StringDtype) or values.dtype == object:
        return _reduce_text(values, starts, how) if how != "sum" else None
    return _reduce_plain(values, starts, how)


def _segment_numbers(starts: np.ndarray, n: int) -> np.ndarray:
    """Each of ``n`` positions' segment number, given where the segments start."""
    marks = np.zeros(n, dtype="int64")
    marks[starts] = 1
    return np.cumsum(marks) - 1


def _finish(reduced: Any, take: np.ndarray | None, index: pd.Index, name: Any) -> pd.Series:
    """The series of the per-segment results (each row's segment's, when ``take`` is given)."""
    if isinstance(reduced, tuple):  # object text: ranks and the text of each rank; pandas infers the dtype
        picked, by_rank = reduced
        return pd.Series(by_rank[picked if take is None else picked[take]], index=index, name=name)
    out = reduced if take is None else pd.api.extensions.take(reduced, take)
    return pd.Series(out, index=index, name=name)


def group_reduce(values: pd.Series, groups: np.ndarray, how: str, transform: bool = False) -> pd.Series:
    """``values.groupby(groups).agg(how)`` (or ``.transform(how)``), for integer group numbers, by segments.

    The records are put in group order (a stable sort, skipped when they already are), each group reduced with
    a ``ufunc.reduceat`` (text as ranks among its distinct values) and the results spread back to the records.
    The result is pandas', dtype included; anything not handled here is pandas' own groupby.
    """
    groups = np.asarray(groups)
    if len(values) and len(groups) == len(values) and groups.dtype.kind in "iu":
        grouped = bool((groups[1:] >= groups[:-1]).all())
        perm = None if grouped else np.argsort(groups, kind="stable")
        in_order = values if perm is None else values.take(perm)
        in_groups = groups if perm is None else groups[perm]
        starts = _starts(in_groups)
        reduced = _reduce_sorted(in_order, starts, how)
        if reduced is not None:
            if not transform:
                return _finish(reduced, None, pd.Index(in_groups[starts]), values.name)
            segment = _segment_numbers(starts, len(values))
            if perm is not None:
                unsorted = np.empty_like(segment)
                unsorted[perm] = segment
                segment = unsorted
            return _finish(reduced, segment, values.index, values.name)
    grouped_values = values.groupby(groups)
    return grouped_values.transform(how) if transform else grouped_values.agg(how)


# ----------------------------------------------------------------------------------------------- sequence
class Sequence:
    """A rule's per-group order (e.g. each child's episodes by DECOM): neighbours, positions, group values."""

    def __init__(
        self,
        frame: pd.DataFrame,
        by: tuple[str, ...],
        order: tuple[str, ...],
        known: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.order, self.groups_sorted = known if known is not None else self.ordering(frame, by, order)
        self.index = frame.index
        self.runs_sorted: np.ndarray | None = None
        if len(self.groups_sorted) and not (self.groups_sorted[1:] >= self.groups_sorted[:-1]).all():
            regroup = np.argsort(self.groups_sorted, kind="stable")  # groups apart: together, order kept
            self.order, self.groups_sorted = self.order[regroup], self.groups_sorted[regroup]
        # where each record in sequence order sits in the frame (the order holds the frame's index labels)
        self.positions = self.index.get_indexer(self.order)
        if len(self.order) != len(self.index) or (self.positions < 0).any():
            raise ValueError("a sequence's order does not match its frame's records")
        n = len(self.order)
        self.starts = _starts(self.groups_sorted) if n else np.zeros(0, dtype="int64")
        self.segment = _segment_numbers(self.starts, n)

    @staticmethod
    def ordering(frame: pd.DataFrame, by: tuple[str, ...], order: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The frame's index labels in sequence order, and each one's group number (0, 1, ... in that order).

        Missing keys sort last; records with equal keys keep their order in the frame (a stable sort).
        """
        keys = [*by, *order]
        if not keys or not len(frame):
            return frame.index.to_numpy(), np.zeros(len(frame), dtype="int64")
        ranked: dict[str, tuple[np.ndarray, int] | None] = {}
        for key in dict.fromkeys(keys):
            ranked[key] = _column_ranks(frame, key)
        if any(r is None for r in ranked.values()):
            return _pandas_ordering(frame, by, order)
        perm = _stable_order([ranked[k] for k in keys])  # type: ignore[misc]
        groups = np.zeros(len(frame), dtype="int64")
        if by:
            changed = np.zeros(len(frame), dtype=bool)
            for key in dict.fromkeys(by):
                rank = ranked[key][0][perm]  # type: ignore[index]
                changed[1:] |= rank[1:] != rank[:-1]
            groups = np.cumsum(changed)
        return frame.index.to_numpy()[perm], groups

    def _in_order(self, x: pd.Series) -> pd.Series:
        """``x`` (aligned with the frame) in sequence order, numbered 0, 1, ..."""
        if x.index is self.index or x.index.equals(self.index):
            return x.take(self.positions).reset_index(drop=True)
        return x.reindex(self.order).reset_index(drop=True)

    def _back(self, values: np.ndarray | pd.Series, dtype: Any = None) -> pd.Series:
        """Values in sequence order, as a series aligned with the frame."""
        data = values.to_numpy() if isinstance(values, pd.Series) else values
        out = np.empty_like(data)
        out[self.positions] = data
        return pd.Series(out, index=self.index, dtype=dtype)

    def set_runs(self, continues: pd.Series) -> None:
        """Split each group into runs: a record starts a new run unless ``continues`` is true for it."""
        flags = self._in_order(continues).fillna(False).to_numpy(dtype=bool)
        first_in_group = np.zeros(len(flags), dtype=bool)
        first_in_group[self.starts] = True
        self.runs_sorted = np.cumsum(~flags | first_in_group)

    def _segment_transform(self, ordered: pd.Series, groups: np.ndarray, starts: np.ndarray, how: str) -> pd.Series:
        """``ordered.groupby(groups).transform(how)`` for grouped ``groups`` starting at ``starts``."""
        if len(ordered):
            reduced = _reduce_sorted(ordered, starts, how)
            if reduced is not None:
                segment = self.segment if starts is self.starts else _segment_numbers(starts, len(ordered))
                return _finish(reduced, segment, ordered.index, ordered.name)
        return ordered.groupby(groups).transform(how)

    def run_transform(self, x: pd.Series, how: str) -> pd.Series:
        assert self.runs_sorted is not None
        keep = x.dtype if how in ("min", "max", "first", "last") else None
        runs = self.runs_sorted
        starts = _starts(runs) if len(runs) else np.zeros(0, dtype="int64")
        return self._back(self._segment_transform(self._in_order(x), runs, starts, how), dtype=keep)

    def shift(self, x: pd.Series, n: int) -> pd.Series:
        """The value ``n`` records earlier in the group (later, for negative ``n``); missing past either end."""
        size = len(self.order)
        source = np.arange(size) - n
        inside = (source >= 0) & (source < size)
        source[~inside] = 0
        same = inside & (self.groups_sorted[source] == self.groups_sorted) if size else inside
        taken = np.where(same, self.positions[source] if size else source, -1)
        if x.index is self.index or x.index.equals(self.index):
            data = x.to_numpy() if isinstance(x.dtype, np.dtype) else x.array
        else:
            data = x.reindex(self.index)
            data = data.to_numpy() if isinstance(data.dtype, np.dtype) else data.array
        if not size:
            return self._back(x.iloc[:0], dtype=x.dtype if x.dtype.kind in "Mb" else None)
        values = pd.api.extensions.take(data, taken, allow_fill=True)
        if x.dtype == object:  # text stays objects (missing: NaN), as the column was: not pandas' own string type
            return self._back(values, dtype=object)  # inferred from it
        return self._back(pd.Series(values), dtype=x.dtype if x.dtype.kind in "Mb" else None)

    def position(self) -> pd.Series:
        return pd.Series(self.positions_in_group(), index=self.index)

    def group_size(self) -> pd.Series:
        return pd.Series(self.group_sizes(), index=self.index)

    def positions_in_group(self) -> np.ndarray:
        """Each record's 0-based position in its group (in the frame's order), as an array."""
        return self._in_frame_order(np.arange(len(self.order), dtype="int64") - self.starts[self.segment])

    def group_sizes(self) -> np.ndarray:
        """The number of records of each record's group (in the frame's order), as an array."""
        sizes = np.diff(np.append(self.starts, len(self.order))).astype("int64")
        return self._in_frame_order(sizes[self.segment])

    def _in_frame_order(self, data: np.ndarray) -> np.ndarray:
        out = np.empty_like(data)
        out[self.positions] = data
        return out

    def transform(self, x: pd.Series, how: str) -> pd.Series:
        return self._back(
            self._segment_transform(self._in_order(x), self.groups_sorted, self.starts, how),
            dtype=x.dtype if how in ("min", "max") else None,
        )

    def at_position(self, x: pd.Series, first: bool) -> pd.Series:
        ordered = self._in_order(x).to_numpy()
        ends = np.append(self.starts[1:], len(self.order)) - 1
        picked = (self.starts if first else ends)[self.segment]
        return self._back(ordered[picked], dtype=x.dtype)
