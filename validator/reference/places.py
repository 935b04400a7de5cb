"""The placement fields worked out from the ONS postcode data (validator/reference/postcodes.py): PL_LA,
PL_LOCATION and PL_DISTANCE of an episode (and PROVIDER_LA, PROVIDER_LOCATION of a provider), from what was found
of the home and placement postcodes."""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

import numpy as np
import pandas as pd

from .postcode_index import Found

ENGLAND: Final = "E92000001"
WALES: Final = "W92000004"
SCOTLAND: Final = "S92000003"
NORTHERN_IRELAND: Final = "N92000002"
CHANNEL_ISLANDS: Final = "L93000001"
ISLE_OF_MAN: Final = "M83000003"
#: PL_LA for a placement outside England, by country code. The Channel Islands and the Isle of Man are Crown
#: dependencies, not part of the UK: DfE's code for a placement outside the UK is NUK.
PL_LA_OUTSIDE_ENGLAND: Final = {
    WALES: "WAL",
    SCOTLAND: "SCO",
    NORTHERN_IRELAND: "NIR",
    CHANNEL_ISLANDS: "NUK",
    ISLE_OF_MAN: "NUK",
}
#: The DfE guidance's divisor: metres / 1000 / 1.6093 = miles.
KM_PER_MILE: Final = 1.6093


# ---------------------------------------------------------------------------------------------------------
# The derived Episodes fields.
# ---------------------------------------------------------------------------------------------------------


def derive_placement_fields(
    home: pd.DataFrame,
    placement: pd.DataFrame,
    la_code: str,
    *,
    known_ltla: Collection[str] | None = None,
) -> pd.DataFrame:
    """PL_LA, PL_LOCATION and PL_DISTANCE from lookups of HOME_POST and PL_POST (same index).

    PL_LA: the placement's upper-tier LA; WAL, SCO or NIR elsewhere in the UK, NUK in the Channel Islands and
    the Isle of Man; <NA> when the postcode is unknown or has no LA. PL_LOCATION: <NA> when the placement postcode is unknown or
    has no lower-tier LA, OUT outside England, IN when PL_LA is ``la_code``, else OUT. PL_DISTANCE: straight
    line between the two grid references in miles (metres / 1000 / 1.6093), rounded to 0.1; NaN when either
    is unknown. ``known_ltla``: if given, an English placement whose lower-tier code is not in it gets a blank
    PL_LA (and OUT), as DfE's tool does with its 2021 authority list.
    """
    # PL_LA and PL_LOCATION depend on the place (utla, ltla, country) alone: worked out once per distinct place
    place, places = _distinct_places(placement)
    utla, ltla, country = ([None if pd.isna(v) else str(v) for v in places[c]] for c in ("utla", "ltla", "country"))
    pl_la, location = place_fields(utla, ltla, country, la_code, known_ltla=known_ltla)
    miles = distance_miles(
        home["easting"].to_numpy(np.float64, na_value=np.nan),
        home["northing"].to_numpy(np.float64, na_value=np.nan),
        placement["easting"].to_numpy(np.float64, na_value=np.nan),
        placement["northing"].to_numpy(np.float64, na_value=np.nan),
    )
    return pd.DataFrame(
        {"PL_LA": pl_la.take(place), "PL_LOCATION": location.take(place), "PL_DISTANCE": miles},
        index=placement.index,
    )


def place_fields(
    utla: list[str | None],
    ltla: list[str | None],
    country: list[str | None],
    la_code: str,
    *,
    known_ltla: Collection[str] | None = None,
) -> tuple[pd.api.extensions.ExtensionArray, pd.api.extensions.ExtensionArray]:
    """PL_LA and PL_LOCATION (text, <NA> where none) of each distinct place (its upper-tier, lower-tier and country
    codes, None where missing), as :func:`derive_placement_fields` describes them: a few hundred places."""
    known = None if known_ltla is None else set(known_ltla)
    pl_la: list[str | None] = []
    location: list[str | None] = []
    for upper, lower, nation in zip(utla, ltla, country, strict=True):
        if known is not None and lower is not None and lower not in known and nation == ENGLAND:
            upper = None
        la = PL_LA_OUTSIDE_ENGLAND.get(nation, upper) if nation is not None else upper
        pl_la.append(la)
        location.append(None if lower is None else ("IN" if la == la_code else "OUT"))
    return pd.array(pl_la, dtype="string"), pd.array(location, dtype="string")


def distance_miles(
    home_easting: np.ndarray, home_northing: np.ndarray, easting: np.ndarray, northing: np.ndarray
) -> np.ndarray:
    """Straight-line miles between two grid references (metres / 1000 / 1.6093), to 0.1; NaN where one is unknown."""
    metres = np.sqrt((home_easting - easting) ** 2 + (home_northing - northing) ** 2)
    return np.round(metres / 1000 / KM_PER_MILE, 1)


def found_places(
    found: Found, rows: np.ndarray, la_code: str
) -> tuple[pd.api.extensions.ExtensionArray, pd.api.extensions.ExtensionArray]:
    """PL_LA and PL_LOCATION of each row whose postcode is ``rows`` (positions in ``found``, -1 for a blank):
    worked out per group of postcodes (the same LA and country), then taken for each row."""
    groups = list(found.groups)
    utla, ltla, country = ([g[i] for g in groups] + [None] for i in (1, 0, 2))  # the last: no place
    pl_la, location = place_fields(utla, ltla, country, la_code)
    group = np.append(found.group, -1)[rows]
    at = np.where(group < 0, len(groups), group)
    return pl_la.take(at), location.take(at)


def _distinct_places(placement: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Each row's place (its position in the places), and the distinct (utla, ltla, country) places."""
    columns = [placement[name].astype("category") for name in ("utla", "ltla", "country")]
    combined = np.zeros(len(placement), dtype=np.int64)
    for column in columns:  # the category codes, one digit each: a few hundred places, not a string per row
        combined = combined * (len(column.cat.categories) + 1) + column.cat.codes.to_numpy(np.int64) + 1
    place, distinct = pd.factorize(combined)
    first = np.zeros(len(distinct), dtype=np.intp)
    first[place[::-1]] = np.arange(len(place) - 1, -1, -1)  # each place's first row
    return place, pd.DataFrame({c.name: c.array.take(first) for c in columns}).reset_index(drop=True)
