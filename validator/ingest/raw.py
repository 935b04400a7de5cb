"""Raw tables: what a reader produced from a file, as text, before typing."""

from __future__ import annotations

from collections.abc import MutableSequence
from dataclasses import dataclass, field


@dataclass
class RawTable:
    """The records of one table read from one file, every value kept as the text found (None = blank/absent).

    ``columns`` maps a column name to one value per record; ``lines`` gives the source line of each record
    (the CSV line number counting the header as line 1, or the XML element's line). ``headers``: each column's
    header cell as written, for a table read from a header row (at ``header_line``).
    """

    name: str
    file: str
    columns: dict[str, list[str | None]] = field(default_factory=dict)
    lines: MutableSequence[int] = field(default_factory=list)  # a list, or an array("q") (the CIN reader)
    extra_columns: list[str] = field(default_factory=list)
    clean: bool = False  # every value already trimmed, blank ones None (the XML readers): typing skips trimming
    headers: dict[str, str] = field(default_factory=dict)
    header_line: int = 1

    def __len__(self) -> int:
        return len(self.lines)

    def append(self, record: dict[str, str | None], line: int) -> None:
        """Add one record; columns first seen now are back-filled with None for earlier records."""
        n = len(self.lines)
        for name in record:
            if name not in self.columns:
                self.columns[name] = [None] * n
        for name, values in self.columns.items():
            values.append(record.get(name))
        self.lines.append(line)
