"""Collection years ("2024_25") and the year ranges rules are written with."""

from __future__ import annotations

import datetime as dt
import re

SUPPORTED_YEARS: dict[str, tuple[str, ...]] = {
    "ssda903": ("2022_23", "2023_24", "2024_25", "2025_26", "2026_27"),
    "cin": ("2022_23", "2023_24", "2024_25", "2025_26"),
}

_YEAR = re.compile(r"^(\d{4})_(\d{2})$")


class YearError(ValueError):
    """A year or year range that cannot be read."""


def check_year(year: str) -> str:
    """Accept 2024_25, 2024-25, 2024/25 or 202425 and return the canonical 2024_25."""
    text = str(year).strip().replace("-", "_").replace("/", "_")
    if re.fullmatch(r"\d{6}", text):
        text = f"{text[:4]}_{text[4:]}"
    match = _YEAR.match(text)
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise YearError(f"'{year}' is not a collection year; write it like 2024_25")
    return text


def start_year(year: str) -> int:
    return int(check_year(year)[:4])


def collection_start(year: str) -> dt.date:
    """1 April at the start of the collection year."""
    return dt.date(start_year(year), 4, 1)


def collection_end(year: str) -> dt.date:
    """31 March at the end of the collection year (also the CIN census reference date)."""
    return dt.date(start_year(year) + 1, 3, 31)


def year_containing(day: dt.date) -> str:
    """The collection year (1 April to 31 March) that contains ``day``."""
    first = day.year if day.month >= 4 else day.year - 1
    return f"{first}_{(first + 1) % 100:02d}"


def previous_year(year: str, n: int = 1) -> str:
    """The collection year ``n`` years before ``year``: previous_year("2024_25") is "2023_24"."""
    first = start_year(year) - n
    return f"{first}_{(first + 1) % 100:02d}"


def expand(spec: str | list[str], available: tuple[str, ...]) -> list[str]:
    """Years named by a rule's ``years`` entry: "all", "2024_25", "2024_25+", "2022_23..2023_24" or a list."""
    parts = spec if isinstance(spec, list) else [spec]
    chosen: list[str] = []
    for part in parts:
        text = str(part).strip()
        if text == "all":
            chosen.extend(available)
        elif text.endswith("+"):
            first = check_year(text[:-1])
            chosen.extend(y for y in available if y >= first)
        elif ".." in text:
            lo, hi = (check_year(t) for t in text.split("..", 1))
            if lo > hi:
                raise YearError(f"year range '{text}' runs backwards")
            chosen.extend(y for y in available if lo <= y <= hi)
        else:
            year = check_year(text)
            if year not in available:
                raise YearError(f"year {year} is not supported (supported: {', '.join(available)})")
            chosen.append(year)
    return sorted(set(chosen))
