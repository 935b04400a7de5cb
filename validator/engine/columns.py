"""A light table of columns for the engine's intermediate records (pairs of related records), without the cost
of building a pandas DataFrame: each column is kept as the array it was taken as.

It answers the few questions the engine asks of a frame (``len``, ``in``, ``[name]``, ``index``, filtering by a
mask); ``[name]`` gives a Series (on a RangeIndex, its type kept), :meth:`values` the array itself for the
evaluator (engine/vectors.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

Array = np.ndarray | ExtensionArray


class Columns:
    """Named columns of equal length."""

    def __init__(self, data: Mapping[str, Array], length: int) -> None:
        self._data = dict(data)
        self._length = length
        self._index: pd.RangeIndex | None = None

    @classmethod
    def of_frame(cls, frame: pd.DataFrame, prefix: str = "") -> Columns:
        """A frame's columns (no copy), each name with ``prefix`` before it."""
        data: dict[str, Array] = {}
        for name in frame.columns:
            column = frame[name]
            data[prefix + name] = column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array
        return cls(data, len(frame))

    def __len__(self) -> int:
        return self._length

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    @property
    def columns(self) -> list[str]:
        return list(self._data)

    @property
    def index(self) -> pd.RangeIndex:
        if self._index is None:
            self._index = pd.RangeIndex(self._length)
        return self._index

    def values(self, name: str) -> Any:
        """The column as the evaluator takes it: a numpy array, or a Series for a type numpy does not have."""
        data = self._data[name]
        if isinstance(data, np.ndarray):
            return data
        return pd.Series(data, index=self.index, copy=False)

    def array(self, name: str) -> Array:
        """The column's array as it is kept."""
        return self._data[name]

    def __getitem__(self, name: str) -> pd.Series:
        data = self._data[name]
        return pd.Series(data, index=self.index, dtype=data.dtype, copy=False)

    def with_columns(self, data: Mapping[str, Array]) -> Columns:
        """A new table of these columns and ``data`` (a name already here is replaced in its place); this one is
        not changed."""
        return Columns({**self._data, **data}, self._length)

    def where(self, mask: np.ndarray) -> Columns:
        """The records where ``mask`` is true."""
        return self.take(np.flatnonzero(mask))

    def take(self, positions: np.ndarray) -> Columns:
        """The records at ``positions`` (all valid), in that order."""
        return Columns({name: data.take(positions) for name, data in self._data.items()}, len(positions))

    def to_frame(self) -> pd.DataFrame:
        """The columns as a pandas DataFrame (for tests and for code that needs one)."""
        return pd.DataFrame({name: self[name] for name in self._data}, index=self.index)


def column_array(frame: pd.DataFrame | Columns, name: str) -> Array:
    """A column of a DataFrame or of Columns as an array of its type (no copy): numpy's where the type is a numpy
    one, else pandas' extension array."""
    if isinstance(frame, Columns):
        return frame.array(name)
    column = frame[name]
    return column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array


def array_of(series: pd.Series) -> Array:
    """A Series' values as an array of its type (no copy)."""
    return series.to_numpy() if isinstance(series.dtype, np.dtype) else series.array
