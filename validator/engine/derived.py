"""Derived columns the engine computes once per table and shares with every rule that names them.

SSDA903 Episodes (current and previous years) gain:
- POC_ID: 1-based number of the child's period of care. Episodes with a valid DECOM are taken in DECOM order
  (then DEC, blanks last); an episode starts a new period when its DECOM is later than the previous episode's
  DEC. An episode whose previous episode is open (blank DEC) stays in the same period.
- POC_START: the DECOM of the period's first episode.
- POC_END: the DEC of the period's last episode (blank while the period is open).
Episodes with a blank or invalid DECOM belong to no period (all three blank).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

DerivedFn = Callable[[pd.DataFrame, str], pd.DataFrame]


def periods_of_care(episodes: pd.DataFrame, child_key: str) -> pd.DataFrame:
    out = pd.DataFrame(index=episodes.index)
    out["POC_ID"] = pd.Series(pd.NA, index=episodes.index, dtype="Int64")
    out["POC_START"] = pd.Series(pd.NaT, index=episodes.index, dtype="datetime64[ns]")
    out["POC_END"] = pd.Series(pd.NaT, index=episodes.index, dtype="datetime64[ns]")
    valid = episodes[episodes["DECOM"].notna() & episodes[child_key].notna()]
    if valid.empty:
        return out
    ordered = valid.sort_values([child_key, "DECOM", "DEC"], na_position="last", kind="stable")
    child = ordered[child_key]
    same_child = child.eq(child.shift(1))
    prev_dec = ordered["DEC"].shift(1)
    new_period = ~same_child | (prev_dec.notna() & (ordered["DECOM"] > prev_dec))
    period = new_period.astype("int64").groupby(child.to_numpy()).cumsum()
    key = pd.DataFrame({"c": child.to_numpy(), "p": period.to_numpy()}, index=ordered.index)
    starts = ordered["DECOM"].groupby([key["c"], key["p"]]).transform("first")
    ends = ordered["DEC"].groupby([key["c"], key["p"]]).transform("last")
    last_is_open = ordered["DEC"].isna().groupby([key["c"], key["p"]]).transform("last")
    out.loc[ordered.index, "POC_ID"] = period.astype("Int64").to_numpy()
    out.loc[ordered.index, "POC_START"] = starts.to_numpy()
    out.loc[ordered.index, "POC_END"] = ends.where(~last_is_open.astype(bool), pd.NaT).to_numpy()
    return out


_DERIVED: dict[str, dict[str, tuple[tuple[str, ...], DerivedFn]]] = {
    "ssda903": {"Episodes": (("POC_ID", "POC_START", "POC_END"), periods_of_care)},
    "cin": {},
}


def derived_columns(return_type: str, table: str) -> tuple[str, ...]:
    entry = _DERIVED.get(return_type, {}).get(table)
    return entry[0] if entry else ()


def compute_derived(return_type: str, table: str, frame: pd.DataFrame, child_key: str) -> pd.DataFrame | None:
    entry = _DERIVED.get(return_type, {}).get(table)
    if entry is None:
        return None
    result = entry[1](frame, child_key)
    assert isinstance(result, pd.DataFrame)
    return result


__all__ = ["compute_derived", "derived_columns", "np", "periods_of_care"]
