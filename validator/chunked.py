"""A large CIN census return validated in pieces of children, so that its memory does not grow with the file.

The XML is read and typed a piece of children at a time (:mod:`validator.ingest.cin_pieces`); the rules that look
within one child only (:func:`validator.engine.locality.child_local`) are run on each piece, their findings kept
and the piece dropped. What the other rules (duplicate UPNs, the return-level counts...) read is kept across
pieces, those columns only, and they are run once at the end on that slim copy of the return. The findings and rule
statuses are those of the whole file's run, in the same order. The records and the headline figures, which some
reports show, are read again from the file when a report first asks (:class:`PiecesResult`).

A return is read in pieces when it is one CIN XML file of at least :data:`PIECE_BYTES` bytes (smaller ones keep
the simple path). Whatever the pieces cannot give exactly as the whole file's run does falls back to that run: a
child id found in two pieces (or blank ids in two pieces), a stopping check, a file that could not be read.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .dataset import FILE, LINE, ROW, Dataset, Table
from .engine.locality import child_local, columns_read
from .engine.rule import Rule
from .findings import FindingTable
from .ingest.loader import load_return, sniff_xml_layout
from .reference.postcodes import open_postcode_lookup
from .result import Result, RuleStatus, rename_dataset_files

if TYPE_CHECKING:
    from .ingest.cin_pieces import CinPieces

PIECE_BYTES = 64 * 2**20  # CIN XML files this large or larger are validated in pieces (about 50,000 children)
PIECE_CHILDREN = 25_000  # children per piece


class PiecesResult(Result):
    """The Result of a return validated in pieces. Its :attr:`dataset` (every typed table, for the views that show
    a child's records and for the headline figures) is not kept by the run: it is read again from the file, whole,
    when first asked (by the HTML and Excel reports, --redact, the web app's downloads), so that a run whose
    reports do not show records (JSON, CSV, text...) never holds the whole return."""

    _load: Callable[[], Dataset] | None = None
    _slim_figures: Callable[[], Any] | None = None  # the figures from a second reading in pieces (their columns)
    _renames: tuple[dict[str, str], ...] = ()

    @property
    def figures(self) -> Any:
        """The headline figures: from the dataset when it has been read whole, else from the columns they read,
        kept over a second reading of the file in pieces (so that a report with figures but no records, a batch
        run's summary, does not hold the whole return)."""
        if not self._figures and "_dataset" not in self.__dict__ and self._slim_figures is not None:
            self._figures.append(self._slim_figures())
        return super().figures

    @property  # type: ignore[override]
    def dataset(self) -> Dataset | None:
        if "_dataset" not in self.__dict__ and self._load is not None:
            self.__dict__["_dataset"] = self._load()
            for names in self._renames:  # the same renaming of the files the run's result had
                rename_dataset_files(self.__dict__["_dataset"], names)
        return self.__dict__.get("_dataset")

    @dataset.setter
    def dataset(self, value: Dataset | None) -> None:
        if value is None:
            self.__dict__.pop("_dataset", None)
        else:
            self.__dict__["_dataset"] = value

    @property
    def _dataset(self) -> Dataset | None:
        return self.__dict__.get("_dataset")

    def rename_files(self, names: dict[str, str]) -> None:
        if "_dataset" in self.__dict__ or self._load is None:
            super().rename_files(names)
            return
        load, self._load = self._load, None
        try:
            super().rename_files(names)  # without the dataset: read later, it is renamed then
        finally:
            self._load = load
        self._renames = (*self._renames, names)


Run = Callable[..., Result]  # api.run_rules(dataset, rules, processes=...)
Choose = Callable[[str, str, Sequence[str] | None], list[Rule]]  # api.choose_rules(return_type, year, codes)


@dataclass
class _Outcomes:
    """The findings and statuses of the rules run piece by piece, by rule code, added up over the pieces."""

    findings: dict[str, list[FindingTable]] = field(default_factory=dict)
    statuses: dict[str, RuleStatus] = field(default_factory=dict)

    def add(self, result: Result) -> None:
        by_code = _split_by_code(FindingTable.concat([result.findings, result.unconfirmed]))  # sorted again at the end
        for status in result.rules:
            self.findings.setdefault(status.code, []).append(by_code.get(status.code, FindingTable()))
            known = self.statuses.get(status.code)
            if known is None or (known.status == "run" and status.status != "run"):
                self.statuses[status.code] = status  # a piece where the rule did not run (or crashed) says so
            elif known.status == "run":
                self.statuses[status.code] = replace(known, count=known.count + status.count)


def _split_by_code(findings: FindingTable) -> dict[str, FindingTable]:
    if not len(findings):
        return {}
    codes = pd.Series(findings.column("code"))
    return {code: findings.take(positions) for code, positions in codes.groupby(codes, sort=False).indices.items()}


class _Slim:
    """The columns the cross-child rules read, kept from each piece column by column, and joined at the end one
    column at a time (so that joining them needs room for one more column, not one more copy of them all). The
    file's name, the same on every record of a one-file return, is put back at the end rather than kept."""

    def __init__(self, wanted: dict[str, set[str]]) -> None:
        self.wanted = wanted
        self.columns: dict[str, dict[str, list[pd.Series]]] = {t: {} for t in wanted}
        self.about: dict[str, tuple[dict[str, list[str]], list[str]]] = {}  # missing columns, files
        self.empty: Dataset | None = None  # the return's schema, context and postcodes, without tables

    def add(self, piece: Dataset) -> None:
        if self.empty is None:
            self.empty = Dataset(piece.schema, piece.context, {}, postcodes=piece.postcodes)
        for name, cols in self.wanted.items():
            table = piece.tables.get(name)
            if table is None or (name == "Header" and name in self.about):
                continue
            self.about.setdefault(name, (dict(table.missing_columns), list(table.files)))
            kept = self.columns[name]
            for col in table.df.columns:
                if col in cols and col != FILE:
                    kept.setdefault(col, []).append(table.df[col].copy())

    def dataset(self) -> Dataset:
        if self.empty is None:
            from .ingest.cin_pieces import PiecesUnfit

            raise PiecesUnfit("no piece was read")
        tables = {}
        for name, kept in self.columns.items():
            if name not in self.about:
                continue
            missing, files = self.about[name]
            data: dict[str, pd.Series] = {}
            for col in list(kept):
                parts = kept.pop(col)
                data[col] = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
                del parts
            length = len(next(iter(data.values()))) if data else 0
            if FILE in self.wanted[name]:
                names = np.empty(length, dtype=object)
                names[:] = files[0] if files else None
                data[FILE] = pd.Series(names, dtype="object")
            tables[name] = Table(name, pd.DataFrame(data, copy=False), missing, files)
        return Dataset(self.empty.schema, self.empty.context, tables, postcodes=self.empty.postcodes)


def _slim_columns(rules: list[Rule], piece: Dataset) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for rule in rules:
        for table, cols in columns_read(rule, piece.schema).items():
            wanted.setdefault(table, set()).update(cols)
    return {t: cols for t, cols in wanted.items() if t in piece.tables}


def give_back_memory() -> None:
    """Hand the memory freed by a piece back to the system (glibc's ``malloc_trim``; nothing elsewhere): without
    it, the many blocks a piece's columns leave free in the C heap stay the process's, and the heap only grows."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # another C library (musl): no malloc_trim
        return None


_LIBC = _libc()


class _Children:
    """Whether a child's records are in two pieces: an id in two pieces (or blank ids in two) cannot be run piece
    by piece. The ids are kept as their hashes (an id of a later piece whose hash an earlier piece has is taken to
    be in both: at worst the file is read whole for nothing)."""

    def __init__(self) -> None:
        self.hashes = np.empty(0, dtype="int64")
        self.blank_seen = False

    def add(self, piece: Dataset) -> None:
        table = piece.tables.get("ChildIdentifiers")
        if table is None:
            return
        ids = table.df[piece.schema.child_key]
        blank = ids.isna()
        hashes = np.unique(pd.util.hash_array(ids[~blank].to_numpy(dtype=object)).view("int64"))
        if (blank.any() and self.blank_seen) or np.isin(hashes, self.hashes, assume_unique=True).any():
            from .ingest.cin_pieces import PiecesUnfit

            raise PiecesUnfit("a child's records are in two pieces")
        self.blank_seen = self.blank_seen or bool(blank.any())
        self.hashes = np.union1d(self.hashes, hashes)


def _cin_xml_file(paths: list[str | Path], return_type: str | None) -> Path | None:
    """The one CIN census XML file ``paths`` names (a file, not a folder), else None."""
    if len(paths) != 1 or return_type not in (None, "cin"):
        return None
    path = Path(paths[0])
    if not path.is_file() or path.suffix.lower() == ".csv":
        return None
    return path if sniff_xml_layout(path) == ("cin", "main") else None


def validate_in_pieces(
    paths: Sequence[str | Path],
    *,
    return_type: str | None,
    year: str | None,
    la: str | None,
    rules: Sequence[str] | None,
    today: dt.date | None,
    postcodes: str | Path | None,
    run: Run,
    choose: Choose,
    figures: Callable[[Dataset], Any],
    progress: Callable[[str, int, int], None] | None = None,
    piece_bytes: int | None = None,
    piece_children: int | None = None,
    processes: int | None = None,
) -> Result | None:
    """The Result of validating ``paths`` in pieces, or None when it is not a large CIN XML file or the pieces
    cannot give the whole file's result (then validate it whole). ``processes``: for ``run`` on each piece (None: 1)."""
    path = _cin_xml_file(list(paths), return_type)
    if path is None or path.stat().st_size < (PIECE_BYTES if piece_bytes is None else piece_bytes):
        return None
    from .ingest.cin_pieces import CinPieces, PiecesUnfit  # the CIN XML reader for a CIN XML file only

    pieces = CinPieces(
        path, return_type=return_type, year=year, la=la, today=today, children=piece_children or PIECE_CHILDREN
    )
    try:
        # One process unless told: forking for each piece's rules (under a second of them) cost more than it gave
        # (national CIN: 73 s of CPU on two processes per piece, 64 s on one).
        on = partial(run, processes=1 if processes is None else processes)
        result = _run_pieces(pieces, rules, postcodes, on, choose, figures, progress)
    except PiecesUnfit:
        return None

    def load() -> Dataset:
        dataset = load_return([path], return_type=return_type, year=year, la=la, today=today)
        dataset.postcodes = open_postcode_lookup(postcodes)
        return dataset

    def slim_figures() -> Any:
        again = CinPieces(path, return_type=return_type, year=year, la=la, today=today, children=pieces.children)
        from .preview.measures_cin import COLUMNS_READ  # the preview package only when figures are asked for

        slim = _Slim({t: set(cols) | {ROW, FILE, LINE} for t, cols in COLUMNS_READ.items()})
        piece: Dataset | None
        try:
            for piece in again:
                slim.add(piece)
                piece = None
                give_back_memory()
            return figures(slim.dataset())
        except PiecesUnfit:  # the file changed since: the figures of the return read whole
            return figures(load())

    result._load = load
    result._slim_figures = slim_figures
    return result


def _run_pieces(
    pieces: CinPieces,
    codes: Sequence[str] | None,
    postcodes: str | Path | None,
    run: Run,
    choose: Choose,
    figures: Callable[[Dataset], Any],
    progress: Callable[[str, int, int], None] | None,
) -> PiecesResult:
    outcomes = _Outcomes()
    children = _Children()
    chosen: list[Rule] = []
    local: list[Rule] = []
    cross: list[Rule] = []  # the rules that are not child-local: run once, at the end, on the slim columns
    slim: _Slim | None = None
    piece: Dataset | None
    read = 0
    lookup = open_postcode_lookup(postcodes)
    for piece in pieces:
        piece.postcodes = lookup
        children.add(piece)
        if slim is None:
            chosen = choose(piece.return_type, piece.context.year, codes)
            is_local = [child_local(r, piece.schema) for r in chosen]
            local = [r for r, yes in zip(chosen, is_local, strict=True) if yes]
            cross = [r for r, yes in zip(chosen, is_local, strict=True) if not yes]
            slim = _Slim(_slim_columns(cross, piece))
        outcomes.add(run(piece, local))
        slim.add(piece)
        if progress is not None:  # the children read and checked so far (how many in all is not known)
            read += len(piece.tables["ChildIdentifiers"].df) if "ChildIdentifiers" in piece.tables else 0
            progress("read", read, 0)
        piece = None  # dropped before the next piece is read, not once it has been
        give_back_memory()
    assert slim is not None and pieces.context is not None
    whole = slim.dataset()
    give_back_memory()
    outcomes.add(run(whole, cross))
    if progress is not None:
        progress("rules", len(chosen), len(chosen))
    found = [FindingTable.of(pieces.findings)]
    statuses = []
    for rule in chosen:
        found.extend(outcomes.findings.get(rule.code, []))
        statuses.append(outcomes.statuses[rule.code])
    return PiecesResult("cin", pieces.context, pieces.inputs, statuses, FindingTable.concat(found),
                        figures_source=figures)  # fmt: skip
