"""Regional batches (``validate returns/ --each``): which return is which LA's, and where last year's returns are.

Two layouts are read:

- **One folder per LA, named by its ONS code**: ``returns/E09000027/`` holds that LA's return (its CSV or XML
  files), ``returns/E09000027/previous/`` last year's, ``previous-2/`` the year before, and so on. The LA code of
  each return is the folder's name.
- **A manifest** (``--manifest FILE``, or ``manifest.csv`` in the folder) for any other layout: columns ``la``,
  ``current`` and ``previous``; ``current`` is a file or folder (several files of one return separated by ``;``),
  ``previous`` is last year's return, then older years, separated by ``;``. Relative paths are relative to the
  manifest's folder.

A folder whose entries are not named by ONS codes (and that has no manifest) is read as before: each entry is one
return, without an LA code or last year's return (:func:`returns_in`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .ingest.loader import InputError
from .outputs import is_report_name

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("la", "current", "previous")
# An ONS area code: a country letter and eight digits (E06000001, E09000027, W06000015, ...).
ONS_CODE = re.compile(r"[EWSN]\d{8}")
PREVIOUS_FOLDER = re.compile(r"previous(?:-(\d+))?", re.IGNORECASE)


@dataclass(frozen=True)
class LAReturn:
    """One LA's return in a regional batch: its code, this year's paths and last year's (then older) returns."""

    la: str | None
    current: tuple[str, ...]
    previous: tuple[tuple[str, ...], ...] = ()


def is_ons_code(text: str) -> bool:
    return ONS_CODE.fullmatch(text.strip().upper()) is not None


def previous_years(folder: Path) -> tuple[tuple[str, ...], ...]:
    """The ``previous/``, ``previous-2/``, ... sub-folders of an LA's folder, most recent first; a gap in the
    numbering (``previous-3/`` without ``previous-2/``) is an error, as a year would silently be taken for another."""
    found: dict[int, Path] = {}
    for entry in folder.iterdir():
        match = PREVIOUS_FOLDER.fullmatch(entry.name)
        if match is None or not entry.is_dir():
            continue
        n = int(match.group(1) or 1)
        if match.group(1) is not None and n < 2:
            raise InputError(
                f"{entry}: last year's return goes in {folder / 'previous'}, older years in previous-2, ..."
            )
        found[n] = entry
    years = sorted(found)
    if years != list(range(1, len(years) + 1)):
        missing = next(n for n in range(1, max(years) + 1) if n not in found)
        wanted = "previous" if missing == 1 else f"previous-{missing}"
        raise InputError(f"{folder}: has {found[years[-1]].name}/ but no {wanted}/; the years must follow on")
    return tuple((str(found[n]),) for n in years)


def la_folders(folder: Path, output_dir: Path | None = None) -> list[LAReturn] | None:
    """The LA folders of a regional folder, by name; None when the folder is not laid out by ONS code (no entry is
    named by one and none has a ``previous/`` folder). Once it is, every entry must be an LA's folder; hidden
    entries, the output folder and the tool's own reports (an earlier run's) are passed over."""
    skip = output_dir.resolve() if output_dir is not None else None
    entries = sorted(
        p
        for p in folder.iterdir()
        if not p.name.startswith(".") and p.resolve() != skip and not (p.is_file() and is_report_name(p.name))
    )

    def regional(p: Path) -> bool:
        return p.is_dir() and (is_ons_code(p.name) or (p / "previous").is_dir())

    if not any(regional(p) for p in entries):
        return None
    found = []
    for entry in entries:
        if not entry.is_dir():
            raise InputError(
                f"{entry}: {folder} holds one folder per LA, named by its ONS code; this is not a folder "
                f"(for another layout, list the returns in a {MANIFEST_NAME})"
            )
        if not is_ons_code(entry.name):
            raise InputError(
                f"{entry}: the folder's name '{entry.name}' is not an ONS code like E09000027; name each LA's "
                f"folder by its code (or list the returns in a {MANIFEST_NAME})"
            )
        found.append(LAReturn(entry.name.upper(), (str(entry),), previous_years(entry)))
    return found


def read_manifest(path: Path) -> list[LAReturn]:
    """The returns listed in a manifest CSV; each problem named with its line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: the manifest does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{path}: the manifest is a folder, not a CSV file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: the manifest is not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{path}: the manifest cannot be read ({exc.strerror or exc})") from None
    reader = csv.DictReader(text.splitlines())
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in MANIFEST_COLUMNS[:2] if c not in header]
    if missing:
        raise InputError(
            f"{path}: the manifest needs the columns {', '.join(MANIFEST_COLUMNS)} (previous may be empty); "
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing"
        )
    reader.fieldnames = header
    base = path.parent
    found: list[LAReturn] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        if None in row:
            raise InputError(f"{path} line {line}: more cells than the header has columns")
        cells = {k: (v or "").strip() for k, v in row.items()}
        if not any(cells.values()):
            continue
        la = cells.get("la", "").upper()
        if not is_ons_code(la):
            raise InputError(f"{path} line {line}: '{cells.get('la', '')}' is not an ONS code like E09000027")
        if la in seen:
            raise InputError(f"{path} line {line}: {la} is listed again (first on line {seen[la]})")
        seen[la] = line
        current = _paths(path, line, "current", cells.get("current", ""), base)
        if not current:
            raise InputError(f"{path} line {line}: no current return for {la}")
        previous = tuple((p,) for p in _paths(path, line, "previous", cells.get("previous", ""), base))
        found.append(LAReturn(la, current, previous))
    if not found:
        raise InputError(f"{path}: the manifest lists no returns")
    return found


def _paths(manifest: Path, line: int, column: str, cell: str, base: Path) -> tuple[str, ...]:
    paths = []
    for part in cell.split(";"):
        if not part.strip():
            continue
        p = Path(part.strip())
        p = p if p.is_absolute() else base / p
        if not p.exists():
            raise InputError(f"{manifest} line {line}: the {column} return '{part.strip()}' does not exist ({p})")
        paths.append(str(p))
    return tuple(paths)


def returns_in(folders: Iterable[str | Path], output_dir: Path | None = None) -> list[Path]:
    """Each entry of the folders is one return: a sub-folder (of CSV or XML files) or a single file.

    Hidden entries (a leading dot), the output folder and the tool's own reports (an earlier run's, written into
    an input folder) are passed over; the order is by name, so runs are repeatable.
    """
    found: list[Path] = []
    skip = output_dir.resolve() if output_dir is not None else None
    for folder in folders:
        path = Path(folder)
        if not path.is_dir():
            raise InputError(f"{path}: --each needs folders whose entries are returns; this is not a folder")
        found.extend(
            sorted(
                p
                for p in path.iterdir()
                if not p.name.startswith(".") and p.resolve() != skip and not (p.is_file() and is_report_name(p.name))
            )
        )
    if not found:
        raise InputError("--each: the folders given hold no returns")
    return found


def region_returns(
    folders: Sequence[str | Path], manifest: Path | None, output_dir: Path | None = None
) -> list[LAReturn]:
    """The returns of ``validate --each``: from ``manifest``, else from a ``manifest.csv`` or the LA folders in each
    folder, else each entry of the folder as one return without an LA code (the layout before regional batches)."""
    if manifest is not None:
        return read_manifest(manifest)
    found: list[LAReturn] = []
    for folder in folders:
        path = Path(folder)
        if not path.is_dir():
            raise InputError(f"{path}: --each needs folders whose entries are returns; this is not a folder")
        if (path / MANIFEST_NAME).is_file():
            found.extend(read_manifest(path / MANIFEST_NAME))
            continue
        by_la = la_folders(path, output_dir)
        if by_la is not None:
            found.extend(by_la)
            continue
        found.extend(LAReturn(None, (str(p),)) for p in returns_in([path], output_dir))
    codes = [r.la for r in found if r.la is not None]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise InputError(f"--each: {', '.join(twice)} {'is' if len(twice) == 1 else 'are'} given more than once")
    if not found:
        raise InputError("--each: the folders given hold no returns")
    return found
