"""Derived columns the engine computes once per table and shares with every rule that names them.

Each derivation is computed only when a rule that runs names one of its columns, and only once per run.

SSDA903 Episodes (current and previous years) gain, from the periods of care:
- POC_ID: 1-based number of the child's period of care. Episodes with a valid DECOM are taken in DECOM order
  (then DEC, blanks last); an episode starts a new period when its DECOM is later than the previous episode's
  DEC. An episode whose previous episode is open (blank DEC) stays in the same period.
- POC_START: the DECOM of the period's first episode.
- POC_END: the DEC of the period's last episode (blank while the period is open).
Episodes with a blank or invalid DECOM belong to no period (all three blank).

and, from the ONS postcode data (validator/reference/postcodes.py; rules that need it are not run without it):
- HOME_POST_FOUND, PL_POST_FOUND: the postcode is in the ONS data (blank when the field is blank);
- PL_LA: the placement's upper-tier LA (ONS code), or WAL, SCO, NIR elsewhere in the UK, NUK in the Channel
  Islands and the Isle of Man;
- PL_LOCATION: IN when PL_LA is the submitting LA (--la), else OUT;
- PL_DISTANCE: miles between the home and placement postcodes' grid references (metres / 1000 / 1.6093, to 0.1).

SSDA903 ProviderInfo (the Ofsted provider lists, --providers) gains, from the same postcode data:
- PROVIDER_LA: the upper-tier LA of the provider's postcode (or WAL, SCO, NIR), blank when it is not found;
- PROVIDER_LOCATION: IN when PROVIDER_LA is the submitting LA (--la), OUT when it is another, blank when unknown.

Facts about each child, worked out once from several tables and offered on every SSDA903 table that has CHILD
(true or false, never blank; a child the source tables do not mention gets false). On a previous year's table
(``OC2@previous``) they are worked out from that year's return and collection year.
- CONTINUOUSLY_LOOKED_AFTER: looked after continuously for 12 months at 31 March (DfE's OC2 cohort): an
  episode covers 1 April (DECOM on or before it, DEC blank or on or after it), and during the year no episode
  starts care (RNE S, DECOM after 1 April and by 31 March), none ends care (REC other than X1, blank included,
  DEC from 1 April to 30 March) and none is a short break (LS V3 or V4, overlapping the year).
- UASC_THIS_YEAR: the child is UASC in the year's return: its Header.UASC is 1, or that flag is blank (or the
  column absent, as in older CSV extracts) and the child has a UASC record (the CSV uasc file; in XML a DUC).
- UASC_THIS_OR_LAST_2_YEARS: the child is UASC (as above) in this year's return or in either of the two
  previous years' returns. A previous year's return that was not given counts as having no UASC children.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..reference.places import distance_miles, found_places
from ..reference.postcode_index import Found
from ..reference.postcodes import PostcodeDataUnavailable
from .joins import CHILD_CODE


class DerivedDataUnavailable(RuntimeError):
    """What a derivation needs is not there (postcode data, the LA code); ``reason`` says what to give."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DerivationContext:
    child_key: str
    la: str | None
    postcodes: Any  # a validator.reference.postcodes.PostcodeLookup, opened lazily
    collection_start: pd.Timestamp
    collection_end: pd.Timestamp
    # The tables of the run (``UASC@previous``...): one not there has no records and is not asked for; None: all
    given: frozenset[str] | None = None
    # Work shared between derivations of one run (e.g. the postcode look-ups behind PL_LA and PL_LOCATION), by key.
    shared: dict[tuple[str, int], pd.DataFrame] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Derivation:
    name: str
    columns: tuple[str, ...]
    compute: Callable[[pd.DataFrame, DerivationContext], pd.DataFrame]


TableSource = Callable[[str], pd.DataFrame]  # table name (``Episodes``, ``UASC@previous``) -> its records


@dataclass(frozen=True)
class ChildDerivation:
    """Columns about each child, computed once per year of returns from any tables (``compute`` gets a table
    source, the context and how many years back the table asking is) and indexed by the child's id."""

    name: str
    columns: tuple[str, ...]
    compute: Callable[[TableSource, DerivationContext, int], pd.DataFrame]


def year_table(name: str, years_back: int) -> str:
    """``Episodes`` 0 -> ``Episodes``; 1 -> ``Episodes@previous``; 2 -> ``Episodes@previous2``."""
    if years_back == 0:
        return name
    return f"{name}@previous" if years_back == 1 else f"{name}@previous{years_back}"


def years_back_of(table: str) -> int:
    """How many years back a table name points: ``OC2`` 0, ``OC2@previous`` 1, ``OC2@previous2`` 2."""
    if "@previous" not in table:
        return 0
    suffix = table.split("@previous", 1)[1]
    return int(suffix) if suffix else 1


def _given(ctx: DerivationContext, table: str) -> bool:
    return ctx.given is None or table in ctx.given


def _text(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A text column as objects, None where missing (compared with ``==`` as plain Python strings)."""
    return frame[column].to_numpy(dtype=object, na_value=None)


def _any_per_child(frame: pd.DataFrame, child_key: str, **flags: np.ndarray) -> pd.DataFrame:
    """For each child of the frame (blank ids left out), whether any of its records has each flag: one column per
    flag, indexed by the children's ids."""
    codes = _child_codes(frame, child_key)
    has_child = codes >= 0
    size = int(codes.max()) + 1 if has_child.any() else 0
    rows = np.flatnonzero(has_child)
    row_of = np.zeros(size, dtype=np.intp)
    row_of[codes[rows]] = rows  # a record of each child: its id (the same on all of them)
    children = np.flatnonzero(np.bincount(codes[rows], minlength=size))
    return pd.DataFrame(
        {name: np.bincount(codes[has_child & flag], minlength=size)[children] > 0 for name, flag in flags.items()},
        index=pd.Index(frame[child_key].to_numpy(dtype=object)[row_of[children]], dtype=object),
    )


def continuously_looked_after(tables: TableSource, ctx: DerivationContext, years_back: int) -> pd.DataFrame:
    start = (ctx.collection_start - pd.DateOffset(years=years_back)).to_datetime64()
    end = (ctx.collection_end - pd.DateOffset(years=years_back)).to_datetime64()
    episodes = tables(year_table("Episodes", years_back))
    decom = episodes["DECOM"].to_numpy(dtype="datetime64[ns]")
    dec = episodes["DEC"].to_numpy(dtype="datetime64[ns]")
    open_on_start = np.isnat(dec) | (dec >= start)  # a missing date compares false
    covers_first_day = (decom <= start) & open_on_start
    starts_care = (_text(episodes, "RNE") == "S") & (decom > start) & (decom <= end)
    ends_care = (_text(episodes, "REC") != "X1") & (dec >= start) & (dec < end)
    short_break = np.isin(_text(episodes, "LS"), ["V3", "V4"]) & (decom <= end) & open_on_start
    facts = _any_per_child(
        episodes, ctx.child_key, first_day=covers_first_day, broken=starts_care | ends_care | short_break
    )
    return pd.DataFrame(
        {"CONTINUOUSLY_LOOKED_AFTER": facts["first_day"].to_numpy() & ~facts["broken"].to_numpy()}, index=facts.index
    )


def uasc_children(tables: TableSource, ctx: DerivationContext, years_back: int) -> np.ndarray:
    """The distinct children UASC in one year's return: Header.UASC is 1, or it is blank (or absent) and the child
    has a UASC record. A year whose tables were not given has none."""
    header_name, records_name = year_table("Header", years_back), year_table("UASC", years_back)
    none = np.array([], dtype=object)
    flagged, with_flag, records = none, none, none
    if _given(ctx, header_name):
        header = tables(header_name)
        ids = _text(header, ctx.child_key)
        flag = _text(header, "UASC") if "UASC" in header.columns else np.full(len(header), None, dtype=object)
        known = ~pd.isna(ids)
        flagged = ids[known & (flag == "1")]
        with_flag = ids[known & ~pd.isna(flag) & (flag != "")]
    if _given(ctx, records_name):
        records = _text(tables(records_name), ctx.child_key)
        records = records[~pd.isna(records)]
        records = records[~pd.Series(records, dtype=object).isin(with_flag).to_numpy()]
    return pd.unique(np.concatenate([flagged, records]))


def uasc_this_year(tables: TableSource, ctx: DerivationContext, years_back: int) -> pd.DataFrame:
    children = uasc_children(tables, ctx, years_back)
    return pd.DataFrame({"UASC_THIS_YEAR": np.ones(len(children), dtype=bool)}, index=pd.Index(children, dtype=object))


def uasc_recent_years(tables: TableSource, ctx: DerivationContext, years_back: int) -> pd.DataFrame:
    children = pd.unique(np.concatenate([uasc_children(tables, ctx, years_back + n) for n in range(3)]))
    return pd.DataFrame(
        {"UASC_THIS_OR_LAST_2_YEARS": np.ones(len(children), dtype=bool)}, index=pd.Index(children, dtype=object)
    )


def _child_codes(frame: pd.DataFrame, child_key: str) -> np.ndarray:
    """A number for each record's child (-1 where the id is blank): the store's CHILD_CODE where the frame has it,
    else the ids factorized. Only which records share a child matters, not the numbers' order."""
    if CHILD_CODE in frame.columns:
        return frame[CHILD_CODE].to_numpy(dtype="int64")
    return pd.factorize(frame[child_key].to_numpy())[0]


def periods_of_care(episodes: pd.DataFrame, child_key: str) -> pd.DataFrame:
    """Each episode's period of care: POC_ID (1, 2... per child), POC_START (the period's first DECOM) and
    POC_END (the DEC of its last episode; blank while that episode is open). A child's episodes in order of DECOM,
    then DEC (blank last), run on in one period while each starts on or before the previous one's DEC (or that DEC
    is blank). Episodes without a DECOM or a child are in none."""
    n = len(episodes)
    poc_id = np.zeros(n, dtype="int64")
    has_period = np.zeros(n, dtype=bool)
    poc_start = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    poc_end = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    decom = episodes["DECOM"].to_numpy(dtype="datetime64[ns]")
    dec = episodes["DEC"].to_numpy(dtype="datetime64[ns]")
    children = _child_codes(episodes, child_key)
    valid = np.flatnonzero(~np.isnat(decom) & (children >= 0))
    if len(valid):
        child_code = children[valid]
        dec_valid = dec[valid]
        dec_last = np.where(np.isnat(dec_valid), np.iinfo("int64").max, dec_valid.view("int64"))  # blank DEC last
        sorter = np.lexsort((dec_last, decom[valid].view("int64"), child_code))  # stable, as sort_values is
        order, child = valid[sorter], child_code[sorter]
        first_of_child = np.ones(len(order), dtype=bool)
        first_of_child[1:] = child[1:] != child[:-1]
        prev_dec = np.empty(len(order), dtype="datetime64[ns]")
        prev_dec[0] = np.datetime64("NaT")
        prev_dec[1:] = dec[order][:-1]
        new_period = first_of_child | (~np.isnat(prev_dec) & (decom[order] > prev_dec))
        counted = np.cumsum(new_period)  # a number per period, across children
        child_starts = np.flatnonzero(first_of_child)
        before_child = np.repeat(counted[child_starts] - 1, np.diff(np.append(child_starts, len(order))))
        period_starts = np.flatnonzero(new_period)
        period_ends = np.append(period_starts[1:], len(order)) - 1
        lengths = period_ends - period_starts + 1
        poc_id[order] = counted - before_child
        has_period[order] = True
        poc_start[order] = np.repeat(decom[order][period_starts], lengths)
        poc_end[order] = np.repeat(dec[order][period_ends], lengths)
    ids = pd.array(poc_id, dtype="Int64")
    ids[~has_period] = pd.NA
    return pd.DataFrame({"POC_ID": ids, "POC_START": poc_start, "POC_END": poc_end}, index=episodes.index)


def _places(ctx: DerivationContext, postcodes: np.ndarray) -> tuple[np.ndarray, Found]:
    """Each postcode's position among the distinct ones (-1: blank) and the ONS data of those; DerivedDataUnavailable
    (so the rule is not run) when there is none."""
    if ctx.postcodes is None:
        raise DerivedDataUnavailable("no postcode data was made available to this run")
    try:
        return ctx.postcodes.places(postcodes)  # type: ignore[no-any-return]
    except PostcodeDataUnavailable as exc:
        raise DerivedDataUnavailable(exc.reason) from None


def placement_geography(episodes: pd.DataFrame, ctx: DerivationContext) -> pd.DataFrame:
    """PL_LA, PL_LOCATION, PL_DISTANCE, HOME_POST_FOUND and PL_POST_FOUND, worked out once per table and run
    (the frames a run derives from live as long as it, so the table's id is a safe key)."""
    key = ("placement_geography", id(episodes))
    if key not in ctx.shared:
        ctx.shared[key] = _placement_geography(episodes, ctx)
    return ctx.shared[key]


def _placement_geography(episodes: pd.DataFrame, ctx: DerivationContext) -> pd.DataFrame:
    home_post = episodes["HOME_POST"].to_numpy(dtype=object)
    placement_post = episodes["PL_POST"].to_numpy(dtype=object)
    # Both columns in one look-up: the postcode data for all their first letters is then loaded once.
    rows, found = _places(ctx, np.concatenate([home_post, placement_post]))
    home, placement = rows[: len(episodes)], rows[len(episodes) :]
    pl_la, location = found_places(found, placement, ctx.la or "")
    easting, northing = np.append(found.easting, np.nan), np.append(found.northing, np.nan)  # the last: blank
    exists = np.append(found.group >= 0, False)
    return pd.DataFrame(
        {
            "PL_LA": pl_la,
            "PL_LOCATION": location if ctx.la else pd.array([None] * len(episodes), dtype="string"),
            "PL_DISTANCE": distance_miles(easting[home], northing[home], easting[placement], northing[placement]),
            "HOME_POST_FOUND": pd.arrays.BooleanArray(exists[home], pd.isna(home_post)),
            "PL_POST_FOUND": pd.arrays.BooleanArray(exists[placement], pd.isna(placement_post)),
        },
        index=episodes.index,
    )


def provider_geography(providers: pd.DataFrame, ctx: DerivationContext) -> pd.DataFrame:
    """PROVIDER_LA and PROVIDER_LOCATION from the provider's postcode, worked out as PL_LA and PL_LOCATION are."""
    rows, found = _places(ctx, providers["POSTCODE"].to_numpy(dtype=object))
    provider_la, location = found_places(found, rows, ctx.la or "")
    location[provider_la.isna()] = pd.NA
    return pd.DataFrame({"PROVIDER_LA": provider_la, "PROVIDER_LOCATION": location}, index=providers.index)


_ONS_LA_CODE = re.compile(r"E(06|08|09|10)\d{6}")  # an English upper-tier LA: unitary, metropolitan, London, county


def _check_la(ctx: DerivationContext, what: str) -> None:
    """In or out of area compares ONS codes: without --la, or with a code of another kind, it cannot be told."""
    if not ctx.la:
        raise DerivedDataUnavailable(f"needs the submitting LA's code to tell {what}: give --la")
    if not _ONS_LA_CODE.fullmatch(ctx.la):
        raise DerivedDataUnavailable(
            f"needs the submitting LA's ONS code (e.g. E09000027) to tell {what}; '{ctx.la}' is not one "
            "(an old three-digit LA number is not accepted here)"
        )


def _provider_location(providers: pd.DataFrame, ctx: DerivationContext) -> pd.DataFrame:
    _check_la(ctx, "the provider's LA")
    return provider_geography(providers, ctx)[["PROVIDER_LOCATION"]]


def _needs_la(columns: tuple[str, ...]) -> Callable[[pd.DataFrame, DerivationContext], pd.DataFrame]:
    """PL_LOCATION compares with the submitting LA: without --la it cannot be worked out."""

    def compute(episodes: pd.DataFrame, ctx: DerivationContext) -> pd.DataFrame:
        _check_la(ctx, "in-area placements")
        return placement_geography(episodes, ctx)[list(columns)]

    return compute


_POSTCODE_COLUMNS = ("PL_LA", "PL_DISTANCE", "HOME_POST_FOUND", "PL_POST_FOUND")
DERIVATIONS: dict[str, dict[str, tuple[Derivation, ...]]] = {
    "ssda903": {
        "Episodes": (
            Derivation(
                "periods_of_care", ("POC_ID", "POC_START", "POC_END"), lambda f, c: periods_of_care(f, c.child_key)
            ),
            Derivation(
                "placement_postcodes",
                _POSTCODE_COLUMNS,
                lambda f, c: placement_geography(f, c)[list(_POSTCODE_COLUMNS)],
            ),
            Derivation("placement_location", ("PL_LOCATION",), _needs_la(("PL_LOCATION",))),
        ),
        "ProviderInfo": (
            Derivation("provider_postcode", ("PROVIDER_LA",), lambda f, c: provider_geography(f, c)[["PROVIDER_LA"]]),
            Derivation("provider_location", ("PROVIDER_LOCATION",), _provider_location),
        ),
    },
    "cin": {},
}


CHILD_DERIVATIONS: dict[str, tuple[ChildDerivation, ...]] = {
    "ssda903": (
        ChildDerivation("continuously_looked_after", ("CONTINUOUSLY_LOOKED_AFTER",), continuously_looked_after),
        ChildDerivation("uasc_this_year", ("UASC_THIS_YEAR",), uasc_this_year),
        ChildDerivation("uasc_recent_years", ("UASC_THIS_OR_LAST_2_YEARS",), uasc_recent_years),
    ),
    "cin": (),
}


def child_columns(return_type: str) -> tuple[str, ...]:
    """The per-child derived columns, offered on every table of the return that has the child's id."""
    return tuple(c for d in CHILD_DERIVATIONS.get(return_type, ()) for c in d.columns)


def child_derivations_for(return_type: str, columns: set[str]) -> list[ChildDerivation]:
    return [d for d in CHILD_DERIVATIONS.get(return_type, ()) if set(d.columns) & columns]


def derived_columns(return_type: str, table: str) -> tuple[str, ...]:
    return tuple(c for d in DERIVATIONS.get(return_type, {}).get(table, ()) for c in d.columns)


def derivations_for(return_type: str, table: str, columns: set[str]) -> list[Derivation]:
    """The derivations of ``table`` that give any of ``columns``."""
    return [d for d in DERIVATIONS.get(return_type, {}).get(table, ()) if set(d.columns) & columns]


__all__ = [
    "ChildDerivation",
    "DerivedDataUnavailable",
    "child_columns",
    "child_derivations_for",
    "derivations_for",
    "derived_columns",
    "np",
    "periods_of_care",
]
