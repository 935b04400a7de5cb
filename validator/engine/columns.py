"""A light table of columns for the engine's records (a rule's own records, pairs of related records), without the
cost of building a pandas DataFrame: each column is kept as the array it was taken as.

It answers the few questions the engine asks of a frame (``len``, ``in``, ``[name]``, ``index``, ``columns``,
filtering by a mask); ``[name]`` gives a Series (on a RangeIndex, its type kept), :meth:`values` the array itself
for the evaluator (engine/vectors.py), :meth:`array` the array as kept.

A table's columns (:meth:`of_frame`) are taken from its DataFrame when first read, and kept; a rule's records
with its joins and `let` values (:meth:`with_columns`) add their own columns over the table's, which they read
through and never change. So the table's columns are taken once per run, however many rules read them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

Array = np.ndarray | ExtensionArray


class Columns:
    """Named columns of equal length: arrays of their own, over those of a ``base`` (read through, never
    changed), or taken from a DataFrame when first read (:meth:`of_frame`)."""

    def __init__(self, data: Mapping[str, Array], length: int, base: Columns | None = None) -> None:
        self._data = dict(data)
        self._length = length
        self._base = base
        self._index: pd.RangeIndex | None = None
        self._source: pd.DataFrame | None = None  # of_frame: the frame whose columns are taken when read
        self._prefix = ""
        self._names: dict[str, str] = {}  # of_frame: each name and the frame's column it comes from

    @classmethod
    def of_frame(cls, frame: pd.DataFrame, prefix: str = "") -> Columns:
        """A frame's columns (no copy, each taken when first read), each name with ``prefix`` before it."""
        out = cls({}, len(frame))
        out._source, out._prefix = frame, prefix
        out._names = {prefix + name: name for name in frame.columns}
        return out

    def __len__(self) -> int:
        return self._length

    def __contains__(self, name: object) -> bool:
        return name in self._data or name in self._names or (self._base is not None and name in self._base)

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    @property
    def columns(self) -> list[str]:
        """The names, in order: the base's or the frame's (a replaced column keeps its place), then those added."""
        if self._source is not None:
            return list(self._names)
        if self._base is None:
            return list(self._data)
        names = self._base.columns
        known = set(names)
        return names + [name for name in self._data if name not in known]

    @property
    def index(self) -> pd.RangeIndex:
        if self._index is None:
            self._index = range_index(self._length)
        return self._index

    def array(self, name: str) -> Array:
        """The column's array as it is kept."""
        found = self._data.get(name)
        if found is not None:
            return found
        if name in self._names:
            assert self._source is not None
            found = self._data[name] = array_of(self._source[self._names[name]])
            return found
        if self._base is not None and name in self._base:
            return self._base.array(name)
        raise KeyError(name)

    def values(self, name: str) -> Any:
        """The column as the evaluator takes it: a numpy array, or a Series for a type numpy does not have."""
        data = self.array(name)
        if isinstance(data, np.ndarray):
            return data
        return pd.Series(data, index=self.index, copy=False)

    def __getitem__(self, name: str) -> pd.Series:
        data = self.array(name)
        return pd.Series(data, index=self.index, dtype=data.dtype, copy=False)

    def with_columns(self, data: Mapping[str, Array]) -> Columns:
        """These columns and ``data`` (a name already here is replaced, in its place); this table is not changed."""
        return Columns(data, self._length, base=self)

    def where(self, mask: np.ndarray) -> Columns:
        """The records where ``mask`` is true."""
        return self.take(np.flatnonzero(mask))

    def take(self, positions: np.ndarray) -> Columns:
        """The records at ``positions`` (all valid), in that order."""
        return Columns({name: self.array(name).take(positions) for name in self.columns}, len(positions))

    def to_frame(self) -> pd.DataFrame:
        """The columns as a pandas DataFrame (for tests and for code that needs one)."""
        return pd.DataFrame({name: self[name] for name in self.columns}, index=self.index)


_RANGES: dict[int, pd.RangeIndex] = {}  # RangeIndex(n) by n: an index is never changed, so one is shared


def range_index(length: int) -> pd.RangeIndex:
    """``pd.RangeIndex(length)``, made once per length (a rule's records, and their pairs, share a few lengths)."""
    found = _RANGES.get(length)
    if found is None:
        if len(_RANGES) >= 256:  # a long-running process (the web app) sees many lengths: keep a few
            _RANGES.clear()
        found = _RANGES[length] = pd.RangeIndex(length)
    return found


def column_array(frame: pd.DataFrame | Columns, name: str) -> Array:
    """A column of a DataFrame or of Columns as an array of its type (no copy): numpy's where the type is a numpy
    one, else pandas' extension array."""
    if isinstance(frame, Columns):
        return frame.array(name)
    return array_of(frame[name])


def array_of(series: pd.Series) -> Array:
    """A Series' values as an array of its type (no copy)."""
    return series.to_numpy() if isinstance(series.dtype, np.dtype) else series.array
