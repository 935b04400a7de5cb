"""CSV cells: a block of lines cut into cells at once when every line has the same number of cells (the usual
file), and the cells of each column numbered by their distinct values (Coded)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .raw import Coded


def uniform_cells(text: str, delimiter: str, limit: int) -> tuple[list[str], int, int] | None:
    """``text``: complete lines, each ending with a line feed, none holding a quote, a NUL or a carriage return.
    Its cells (line after line), the number of cells a line and the number of lines, when every line has the same
    number of delimiters (one or more) and none is over ``limit`` characters; else None. The delimiters and line
    ends are found on the text's UTF-8 bytes (where no other character has a byte of theirs) in whole arrays, and
    the text is cut into cells by one ``str.split``: no Python string per line."""
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    ends = np.flatnonzero(data == 10)  # each line's line feed
    per_line = np.diff(np.searchsorted(np.flatnonzero(data == ord(delimiter)), ends), prepend=0)
    if not len(ends) or not per_line[0] or (per_line != per_line[0]).any():
        return None
    if int(np.diff(ends, prepend=-1).max()) > limit:  # in bytes: at least the characters; a long line is looked
        return None  # at line by line
    cells = text[:-1].replace("\n", delimiter).split(delimiter)
    return cells, int(per_line[0]) + 1, len(ends)


class ColumnBuilder:
    """Rows of cells -> one column of codes per cell position (Coded): each column's distinct values numbered in
    the order they first appear, so that a code or date repeated a million times is held once. Rows are turned
    into columns a block at a time (by zip, not cell by cell), and pandas numbers each block's values: only the
    block's distinct values go through Python, to be numbered among the column's. A column's first block is kept as
    pandas numbered it (most files are one block); its values go into a dictionary only when a second block comes."""

    BLOCK = 4096

    def __init__(self, width: int) -> None:
        self.first: list[tuple[np.ndarray, np.ndarray] | None] = [None] * width  # the first block's codes, uniques
        self.index: list[dict[str | None, int]] = [{} for _ in range(width)]  # value -> its slot
        self.slots = [0] * width  # slots handed out (one for each block's distinct value, new or not)
        self.parts: list[list[np.ndarray]] = [[] for _ in range(width)]
        self.rows: list[tuple[str | None, ...]] = []

    def add(self, row: tuple[str | None, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.BLOCK:
            self._flush()

    def add_columns(self, columns: list[np.ndarray]) -> None:
        """A block of records given as one array of values (object) per column (in this builder's order)."""
        self._flush()
        self._number(columns)

    def _flush(self) -> None:
        if self.rows and self.index:
            self._number(list(zip(*self.rows, strict=True)))
        self.rows = []

    def _number(self, columns: Sequence[Sequence[str | None]] | list[np.ndarray]) -> None:
        for at, given in enumerate(columns):
            values = given if isinstance(given, np.ndarray) else np.fromiter(given, dtype=object, count=len(given))
            codes, uniques = pd.factorize(values, use_na_sentinel=True)  # None: -1
            if not self.slots[at] and not self.parts[at]:  # the column's first block: kept as it is
                self.first[at], self.slots[at] = (codes, uniques), len(uniques)
                self.parts[at].append(codes)
                continue
            first = self.first[at]
            if first is not None:  # a second block: the first one's values are numbered as they came
                self.index[at], self.first[at] = dict(zip(first[1], range(self.slots[at]), strict=True)), None
            # each distinct value gets the next slot, or keeps the one it has: slots rise in the order values
            # first appear, with gaps that finish() closes
            start, index = self.slots[at], self.index[at]
            slots = np.fromiter(map(index.setdefault, uniques, itertools.count(start)), np.int64, len(uniques))
            self.slots[at] = start + len(uniques)
            self.parts[at].append(np.append(slots, -1)[codes])

    def finish(self) -> list[Coded]:
        self._flush()
        built: list[Coded] = []
        for first, index, parts, size in zip(self.first, self.index, self.parts, self.slots, strict=True):
            if first is not None:  # one block: pandas' numbers are the column's
                uniques = np.empty(len(first[1]) + 1, dtype=object)
                uniques[:-1] = first[1]
                built.append(Coded(first[0].astype(np.int32), uniques))
                continue
            code = np.full(size + 1, -1, dtype=np.int32)  # slot -> code; the last one for -1
            code[np.fromiter(index.values(), np.int64, len(index))] = np.arange(len(index), dtype=np.int32)
            uniques = np.empty(len(index) + 1, dtype=object)
            uniques[:-1] = list(index)
            built.append(Coded(code[np.concatenate(parts)] if parts else np.empty(0, dtype=np.int32), uniques))
        return built
