"""Raw tables: what a reader produced from a file, as text, before typing."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, MutableSequence
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Coded:
    """A column as numbers into its distinct values: ``uniques[codes[i]]`` is record i's value. ``uniques`` holds
    the distinct values in the order they first appear, then None, which code -1 stands for (a cell the row lacks).
    """

    codes: np.ndarray  # int32
    uniques: np.ndarray  # object

    def values(self) -> list[str | None]:
        """One value per record (each distinct value one shared object)."""
        return self.uniques[self.codes].tolist()  # type: ignore[no-any-return]


class CodedColumns(MutableMapping[str, list[str | None]]):
    """The columns of a table a reader numbered (Coded), as RawTable.columns: each column's list of values is made
    when it is first asked for. Typing reads the numbers, so most lists are never made (about 0.2 s and 8 bytes a
    cell for each year of a national SSDA903 return)."""

    def __init__(self, coded: dict[str, Coded]) -> None:
        self._lists: dict[str, list[str | None] | None] = dict.fromkeys(coded)  # None: not made yet
        self._coded = dict(coded)

    def __getitem__(self, name: str) -> list[str | None]:
        values = self._lists[name]
        if values is None:
            values = self._lists[name] = self._coded.pop(name).values()
        return values

    def __setitem__(self, name: str, values: list[str | None]) -> None:
        self._lists[name] = values
        self._coded.pop(name, None)

    def __delitem__(self, name: str) -> None:
        del self._lists[name]
        self._coded.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._lists

    def __iter__(self) -> Iterator[str]:
        return iter(self._lists)

    def __len__(self) -> int:
        return len(self._lists)

    def __repr__(self) -> str:
        return f"CodedColumns({list(self._lists)})"


@dataclass
class RawTable:
    """The records of one table read from one file, every value kept as the text found (None = blank/absent).

    ``columns`` maps a column name to one value per record; ``lines`` gives the source line of each record
    (the CSV line number counting the header as line 1, or the XML element's line). ``headers``: each column's
    header cell as written, for a table read from a header row (at ``header_line``).
    """

    name: str
    file: str
    columns: MutableMapping[str, list[str | None]] = field(default_factory=dict)  # a dict, or CodedColumns
    lines: MutableSequence[int] = field(default_factory=list)  # a list, or an array("q") (the CIN reader)
    extra_columns: list[str] = field(default_factory=list)
    clean: bool = False  # every value already trimmed, blank ones None (the XML readers): typing skips trimming
    # the columns as codes (Coded), when the reader numbered their values (the CSV and workbook readers); typing
    # reads these rather than ``columns``: whatever changes a column after reading must drop its entry here
    coded: dict[str, Coded] = field(default_factory=dict, repr=False, compare=False)
    # a column's values read as dates, by the checks before typing (ingest.sanity), which ask for them many times
    dates: dict[str, object] = field(default_factory=dict, repr=False, compare=False)
    headers: dict[str, str] = field(default_factory=dict)
    header_line: int = 1

    def __len__(self) -> int:
        return len(self.lines)

    def append(self, record: dict[str, str | None], line: int) -> None:
        """Add one record; columns first seen now are back-filled with None for earlier records."""
        if self.coded or self.dates:  # they no longer hold every record
            self.coded, self.dates = {}, {}
        n = len(self.lines)
        for name in record:
            if name not in self.columns:
                self.columns[name] = [None] * n
        for name, values in self.columns.items():
            values.append(record.get(name))
        self.lines.append(line)
