"""Per-group orders and reductions: a rule's sequence (each child's records in order: neighbours, positions,
runs, values per group) and the minimum and maximum per group of text."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def group_reduce(values: pd.Series, groups: np.ndarray, how: str, transform: bool = False) -> pd.Series:
    """``values.groupby(groups).agg(how)`` (or ``.transform(how)``), fast for min and max of text too.

    pandas reduces text one group at a time in Python (seconds for a national return); here the text is turned
    into its rank among the distinct values, the ranks are reduced in compiled code, and the ranks turned back
    into text. The result is the same, dtype included.
    """
    if how not in ("min", "max") or not isinstance(values.dtype, pd.StringDtype):
        grouped = values.groupby(groups)
        return grouped.transform(how) if transform else grouped.agg(how)
    codes, uniques = pd.factorize(values, sort=True)  # codes follow the sorted order; a missing value is -1
    ranks = pd.Series(np.where(codes >= 0, codes, np.nan), index=values.index)
    grouped = ranks.groupby(groups)
    reduced = grouped.transform(how) if transform else grouped.agg(how)
    picked = reduced.to_numpy()
    positions = np.where(np.isnan(picked), -1, np.nan_to_num(picked, nan=-1)).astype("int64")
    text = uniques.take(positions, allow_fill=True, fill_value=None)
    return pd.Series(text.array, index=reduced.index, dtype=values.dtype)


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

    @staticmethod
    def ordering(frame: pd.DataFrame, by: tuple[str, ...], order: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The frame's index labels in sequence order, and each one's group number."""
        keys = list(by) + list(order)
        if keys:
            ordered = frame.sort_values(keys, na_position="last", kind="stable") if len(frame) else frame
        else:
            ordered = frame
        if by:
            groups = ordered.groupby(list(by), sort=False, dropna=False).ngroup().to_numpy()
        else:
            groups = np.zeros(len(ordered), dtype="int64")
        return ordered.index.to_numpy(), groups

    def set_runs(self, continues: pd.Series) -> None:
        """Split each group into runs: a record starts a new run unless ``continues`` is true for it."""
        flags = continues.reindex(self.order).fillna(False).to_numpy(dtype=bool)
        first_in_group = np.ones(len(flags), dtype=bool)
        first_in_group[1:] = self.groups_sorted[1:] != self.groups_sorted[:-1]
        self.runs_sorted = np.cumsum(~flags | first_in_group)

    def run_transform(self, x: pd.Series, how: str) -> pd.Series:
        assert self.runs_sorted is not None
        ordered = x.reindex(self.order).reset_index(drop=True)
        keep = x.dtype if how in ("min", "max", "first", "last") else None
        return self._back(group_reduce(ordered, self.runs_sorted, how, transform=True), dtype=keep)

    def _back(self, values: np.ndarray | pd.Series, dtype: Any = None) -> pd.Series:
        out = pd.Series(values.to_numpy() if isinstance(values, pd.Series) else values, index=self.order, dtype=dtype)
        return out.reindex(self.index)

    def shift(self, x: pd.Series, n: int) -> pd.Series:
        ordered = x.reindex(self.order).reset_index(drop=True)
        shifted = ordered.groupby(self.groups_sorted, sort=False).shift(n)
        return self._back(shifted, dtype=x.dtype if x.dtype.kind in "Mb" else None)

    def position(self) -> pd.Series:
        pos = pd.Series(np.ones(len(self.order), dtype="int64")).groupby(self.groups_sorted, sort=False).cumsum() - 1
        return self._back(pos)

    def group_size(self) -> pd.Series:
        size = (
            pd.Series(np.ones(len(self.order), dtype="int64")).groupby(self.groups_sorted, sort=False).transform("sum")
        )
        return self._back(size)

    def transform(self, x: pd.Series, how: str) -> pd.Series:
        ordered = x.reindex(self.order).reset_index(drop=True)
        return self._back(
            group_reduce(ordered, self.groups_sorted, how, transform=True),
            dtype=x.dtype if how in ("min", "max") else None,
        )

    def at_position(self, x: pd.Series, first: bool) -> pd.Series:
        ordered = x.reindex(self.order).to_numpy()
        positions = pd.Series(np.arange(len(self.order))).groupby(self.groups_sorted, sort=False)
        picked = positions.transform("first" if first else "last").to_numpy()
        return self._back(ordered[picked], dtype=x.dtype)
