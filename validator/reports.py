"""Report files: their names, the files they must never overwrite, and the check of the paths planned for them.

Shared by the command line, batch runs, the preview command and the web downloads, so that none of them imports
another for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from .ingest.loader import InputError, expand_paths

_DATA_SUFFIXES = (".csv", ".xml", ".tsv", ".txt")


def safe_name(text: str) -> str:
    """Text made safe for a file name on every system: letters, digits, dot, dash and underscore."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[:60]
    return cleaned or "blank"


def input_stem(inputs: Sequence[str]) -> str:
    """The first input's name made safe for a file name: a file without its extension, or the folder's name."""
    first = Path(inputs[0])
    return safe_name(first.stem if first.suffix.lower() in _DATA_SUFFIXES else first.resolve().name)


def report_stem(inputs: Sequence[str]) -> str:
    """The report's file name without extension: the first input's name, then "-validation"."""
    return f"{input_stem(inputs)}-validation"


def protected_files(options: object) -> list[Path]:
    """The files a report must never overwrite: the inputs, previous years' and the reference files named by a
    command's options (``inputs`` and, where the command has them, ``previous``, ``postcodes``, ``providers``)."""
    files = expand_paths([*getattr(options, "inputs"), *getattr(options, "previous", [])])  # noqa: B009
    refs = [getattr(options, "postcodes", None), *getattr(options, "providers", [])]
    return [*files, *(Path(r) for r in refs if r is not None)]


def check_targets(targets: Iterable[Path], protected: Iterable[Path]) -> None:
    """Raise InputError when a planned report path is one of the protected files or a folder."""
    inputs = {p.resolve() for p in protected}
    for path in targets:
        if path.resolve() in inputs:
            raise InputError(f"{path} is one of the inputs or reference files; a report never overwrites one")
        if path.is_dir():
            raise InputError(f"{path} is a folder; the report cannot be written there")
