"""Small wording helpers shared by the reports, the command line and the web app."""

from __future__ import annotations

_IRREGULAR = {"query": "queries", "child": "children", "file(s)": "files"}


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 error``, ``2 errors``, ``1 query``, ``3 queries``, ``1,204 rules`` (thousands separated)."""
    return f"{n:,} {word if n == 1 else (many or _IRREGULAR.get(word) or word + 's')}"


def size_label(n_bytes: int) -> str:
    """A file size for people: ``312 bytes``, ``4 KB``, ``2.5 MB`` (never ``0 KB``)."""
    if n_bytes < 1024:
        return plural(n_bytes, "byte")
    if n_bytes < 1024 * 1024:
        return f"{round(n_bytes / 1024):,} KB"
    return f"{n_bytes / (1024 * 1024):,.1f} MB"
