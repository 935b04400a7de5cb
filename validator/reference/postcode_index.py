"""The prepared postcode index: sorted postcode keys and their data as plain arrays, searched by binary search.

A postcode, normalised (upper case, no spaces: at most 7 ASCII characters), is kept as one unsigned 64-bit
integer: its bytes, zero-padded to 8, read big-endian, so the integers sort as the texts do. An index holds, in
that order and with one row per postcode, the keys, the grid reference (easting, northing) and a small integer
code into a table of the distinct (ltla, utla, country, terminated) groups: a few hundred rows, whatever the
number of postcodes. Looking postcodes up is then :func:`numpy.searchsorted` on the distinct postcodes asked
for, and nothing is built per postcode of the index.

An index is kept as two parts, read back without pickle: :meth:`PostcodeIndex.header` (plain JSON: the format,
the number of rows, the group table) and :meth:`PostcodeIndex.body` (the four arrays, whose types this module
fixes). :meth:`PostcodeIndex.from_parts` makes views of the body, not copies: kept memory-mapped in the user's
cache folder (validator/cache.py ``write_vouched``: the header in a signed manifest that names the body's file),
only the pages a run looks at are read.
"""

from __future__ import annotations

import mmap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

KEY_BYTES: Final = 8
GROUP_COLUMNS: Final = ("ltla", "utla", "country", "terminated")
#: One group: the lower-tier LA, upper-tier LA and country codes (None where none) and whether ONS lists the
#: postcode as terminated (None where the source does not say).
Group = tuple[str | None, str | None, str | None, bool | None]

FORMAT: Final = "cscvalidate postcode index 1"
_ROW_BYTES: Final = 8 + 8 + 8 + 4  # key, easting, northing, group


def encode_keys(postcodes: Sequence[str] | np.ndarray) -> np.ndarray:
    """Each normalised postcode as a uint64 ordered as its text; 0 (never a key) for one that cannot be a
    postcode: empty, over 8 characters, not ASCII, or ending in NUL characters."""
    values = np.asarray(postcodes, dtype=object)
    keys = np.zeros(len(values), dtype=np.uint64)
    if not len(values):
        return keys
    length = np.fromiter(map(len, values), dtype=np.intp, count=len(values))
    short = np.flatnonzero((length > 0) & (length <= KEY_BYTES))  # long texts never reach a fixed-width array
    if not len(short):
        return keys
    text = np.asarray(values[short], dtype=f"U{KEY_BYTES}")
    points = text.view(np.uint32).reshape(len(short), KEY_BYTES)
    # a text's trailing NULs are lost in a numpy string, so its length (up to its last character that is not NUL;
    # worked out here rather than by numpy.char, whose import costs more than a run's look-ups) then differs from
    # the Python length
    filled = points != 0
    kept = np.where(filled.any(axis=1), KEY_BYTES - np.argmax(filled[:, ::-1], axis=1), 0)
    fits = (points < 128).all(axis=1) & (kept == length[short])
    packed = points.astype(np.uint8).view(">u8").ravel().astype(np.uint64)
    keys[short[fits]] = packed[fits]
    return keys


def _cell(value: object) -> object:
    """A group value as plain JSON: a code (str), a flag (bool) or None for missing."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return bool(value) if isinstance(value, (bool, np.bool_)) else str(value)


def _group_codes(table: pd.DataFrame) -> tuple[np.ndarray, tuple[Group, ...]]:
    """Each row's group code, and the groups, from the table's category and boolean columns."""
    combined = np.zeros(len(table), dtype=np.int64)
    for name in GROUP_COLUMNS[:3]:
        column = table[name].astype("category")
        combined = combined * (len(column.cat.categories) + 1) + column.cat.codes.to_numpy(np.int64) + 1
    terminated = table["terminated"].astype("boolean")
    flag = np.where(terminated.isna().to_numpy(), 0, np.where(terminated.fillna(False).to_numpy(bool), 2, 1))
    codes, uniques = pd.factorize(combined * 3 + flag)
    first = np.zeros(len(uniques), dtype=np.intp)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # each group's first row
    columns = [table[name].array for name in GROUP_COLUMNS]
    groups = tuple(tuple(_cell(column[row]) for column in columns) for row in first)
    return codes.astype(np.int32), groups  # type: ignore[return-value]


@dataclass(frozen=True)
class PostcodeIndex:
    """Postcodes sorted by key, one row each: key (uint64), easting and northing (float64, NaN where ONS holds
    no grid reference) and group (int32, a position in ``groups``)."""

    keys: np.ndarray
    easting: np.ndarray
    northing: np.ndarray
    group: np.ndarray
    groups: tuple[Group, ...]

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> PostcodeIndex:
        """From a table of unique normalised postcodes (its index) with the columns ltla, utla, country (codes),
        easting, northing and terminated. A postcode that cannot be a key (see :func:`encode_keys`) is left out:
        no normalised postcode asked for could match it."""
        keys = encode_keys(table.index.to_numpy(dtype=object))
        group, groups = _group_codes(table)
        order = np.argsort(keys, kind="stable")
        order = order[keys[order] > 0]
        return cls(
            keys=keys[order],
            easting=table["easting"].to_numpy(np.float64, na_value=np.nan)[order],
            northing=table["northing"].to_numpy(np.float64, na_value=np.nan)[order],
            group=group[order],
            groups=groups,
        )

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The row of each key (from :func:`encode_keys`), -1 where it is not in the index."""
        if not len(self.keys) or not len(keys):
            return np.full(len(keys), -1, dtype=np.intp)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[at] == keys, at, -1)

    def header(self) -> dict[str, object]:
        """What :meth:`from_parts` needs besides :meth:`body`: the format, the number of rows and the groups."""
        return {"format": FORMAT, "rows": len(self), "groups": [list(g) for g in self.groups]}

    def body(self) -> bytes:
        """The arrays, one after the other: keys, easting, northing (8 bytes a row each), group (4 bytes)."""
        arrays = (self.keys.astype("<u8"), self.easting.astype("<f8"), self.northing.astype("<f8"))
        return b"".join([*(a.tobytes() for a in arrays), self.group.astype("<i4").tobytes()])

    @classmethod
    def from_parts(cls, header: Mapping[str, object], body: bytes | memoryview | mmap.mmap) -> PostcodeIndex | None:
        """The index whose :meth:`header` and :meth:`body` these are, its arrays read-only views of ``body`` (not
        copied: a memory-mapped file stays mapped and only the pages looked at are read); None if they are not."""
        rows, groups = header.get("rows"), header.get("groups")
        if header.get("format") != FORMAT or not isinstance(rows, int) or rows < 0 or not isinstance(groups, list):
            return None
        if not all(_is_group(g) for g in groups) or memoryview(body).nbytes != rows * _ROW_BYTES:
            return None
        arrays = []
        offset = 0
        for dtype, width in (("<u8", 8), ("<f8", 8), ("<f8", 8), ("<i4", 4)):
            arrays.append(np.frombuffer(body, dtype=dtype, count=rows, offset=offset))
            offset += rows * width
        keys, easting, northing, group = arrays
        if rows and (group.min() < 0 or group.max() >= len(groups)):  # a few hundred kB: no out-of-range take later
            return None
        return cls(keys=keys, easting=easting, northing=northing, group=group, groups=tuple(tuple(g) for g in groups))


def _is_group(value: object) -> bool:
    if not isinstance(value, list) or len(value) != len(GROUP_COLUMNS):
        return False
    return all(v is None or isinstance(v, str) for v in value[:3]) and (value[3] is None or isinstance(value[3], bool))


@dataclass(frozen=True)
class Found:
    """What a source found for each postcode looked up: its group (a position in ``groups``, -1: not found) and
    grid reference (NaN where not found or ONS holds none). Plain arrays: a rule's derived columns are worked out
    from them per group (a few hundred) and per postcode, without a table of a row per postcode."""

    group: np.ndarray
    easting: np.ndarray
    northing: np.ndarray
    groups: Sequence[Group]

    def frame(self) -> pd.DataFrame:
        """The same as a table (:func:`found_frame`)."""
        return found_frame(self.group, self.easting, self.northing, self.groups)


def found_frame(group: np.ndarray, easting: np.ndarray, northing: np.ndarray, groups: Sequence[Group]) -> pd.DataFrame:
    """One row per postcode looked up, from its group (-1: not found) and grid reference: the columns exists,
    ltla, utla, country (category), easting, northing (float64) and terminated (boolean)."""
    columns = list(zip(*groups, strict=True)) if groups else [(), (), (), ()]
    frame: dict[str, object] = {"exists": group >= 0}
    for name, values in zip(GROUP_COLUMNS[:3], columns[:3], strict=True):
        frame[name] = pd.Categorical(list(values)).take(group, allow_fill=True)
    frame["easting"] = easting
    frame["northing"] = northing
    frame["terminated"] = pd.array(list(columns[3]), dtype="boolean").take(group, allow_fill=True)
    return pd.DataFrame(frame)
