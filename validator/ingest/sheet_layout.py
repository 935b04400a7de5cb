"""What a workbook sheet holds beyond its values, as far as its format's reader can tell."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class SheetLayout:
    """Hidden rows and columns, merged ranges and formula cells of one sheet."""

    hidden_rows: set[int] = field(default_factory=set)
    hidden_columns: set[int] = field(default_factory=set)  # 1-based
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # min_row, min_col, max_row, max_col
    formulas: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # column -> rows
