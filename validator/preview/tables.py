"""The return's tables as DfE will hold them: the columns as returned, then the columns DfE derives.

Bookkeeping columns (_row, _file, _line) and the raw-text copies (COL@raw) are dropped; a value that could not be
read as its type (e.g. 31/02/2024 as a date) is kept as the text the LA wrote, so nothing is silently blanked.
"""

from __future__ import annotations

import pandas as pd

from ..dataset import PREVIOUS, Dataset
from ..engine.calendar import age
from ..engine.derived import DerivationContext, DerivedDataUnavailable, placement_geography
from .common import ages_of, days_between, flag, lookup, table, window
from .groups import SHORT_BREAKS
from .measures_903 import care_episodes
from .measures_cin import ASSESSMENT_DAYS, ICPC_DAYS, assessment_days, icpc_days, open_at, referrals

GEOGRAPHY = ("PL_LA", "PL_LOCATION", "PL_DISTANCE")


def source_columns(dataset: Dataset, name: str) -> pd.DataFrame:
    """A table's declared columns (and any extra columns the LA's files had), typed, with unreadable values as the
    text written."""
    df = dataset.tables[name].df
    keep = [c for c in df.columns if not c.startswith("_") and not c.endswith("@raw")]
    out = df[keep].copy()
    for col in keep:
        raw = f"{col}@raw"
        if raw in df:
            bad = out[col].isna() & df[raw].notna() & df[raw].astype("string").str.strip().ne("")
            if bad.any():
                out[col] = out[col].astype("object").where(~bad, df[raw])
    return out


def transformed_tables(dataset: Dataset, notes: list[str]) -> dict[str, pd.DataFrame]:
    names = [n for n in dataset.tables if PREVIOUS not in n and n != "ProviderInfo"]
    tables = {name: source_columns(dataset, name) for name in names}
    if dataset.return_type == "ssda903":
        _derive_903(dataset, tables, notes)
    else:
        _derive_cin(dataset, tables)
    return tables


def _derive_903(dataset: Dataset, tables: dict[str, pd.DataFrame], notes: list[str]) -> None:
    w = window(dataset)
    header = table(dataset, "Header")
    for name in ("Header", "OC2", "OC3", "Missing", "Reviews", "UASC", "AD1", "PlacedAdoption"):
        if name in tables and "CHILD" in tables[name]:
            source = header if header is not None else table(dataset, name)
            tables[name]["AGE_31_MARCH"] = ages_of(dataset.tables[name].df["CHILD"], source, "CHILD", "DOB", w.end)
    if "Episodes" not in tables:
        return
    typed = dataset.tables["Episodes"].df
    eps = tables["Episodes"]
    care = care_episodes(dataset)
    care = care[care["_current"]].set_index("_index")
    eps["SHORT_BREAK"] = flag(typed["LS"].isin(SHORT_BREAKS)).where(typed["LS"].notna())
    for col in ("POC_ID", "POC_START", "POC_END", "PLACEMENT_START"):
        eps[col] = care[col].reindex(typed.index)
    eps["NEW_PLACEMENT"] = flag(care["NEW_PLACEMENT"].reindex(typed.index))
    eps["POC_START_KNOWN"] = flag(~care["MID_PERIOD"].reindex(typed.index).astype("boolean"))
    if header is not None:
        eps["AGE_AT_DECOM"] = age(lookup(typed["CHILD"], header, "DOB"), typed["DECOM"])
    else:
        eps["AGE_AT_DECOM"] = pd.Series(pd.NA, index=eps.index, dtype="Int64")
    open_end = (typed["DECOM"] <= w.end) & (typed["DEC"].isna() | (typed["DEC"] > w.end))
    eps["LOOKED_AFTER_31_MARCH"] = flag(open_end & ~typed["LS"].isin(SHORT_BREAKS)).where(typed["DECOM"].notna())
    eps["DAYS_IN_YEAR"] = _days_in_year(typed, w.start, w.end)
    ctx = DerivationContext("CHILD", dataset.context.la, dataset.postcodes, w.start, w.end)
    try:
        geo = placement_geography(typed, ctx)
        for col in GEOGRAPHY:
            eps[col] = geo[col]
        if not dataset.context.la:
            notes.append("PL_LOCATION (placement in or out of area) is blank: give --la, the submitting LA's code")
    except DerivedDataUnavailable as exc:
        for col in GEOGRAPHY:
            eps[col] = pd.Series(pd.NA, index=eps.index, dtype="string")
        notes.append(f"PL_LA, PL_LOCATION and PL_DISTANCE are blank: {exc.reason}")


def _days_in_year(eps: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Days of the episode within the year: from the later of DECOM and 1 April to the earlier of DEC and 31 March
    (an open episode to 31 March), counting both ends; 0 when the episode is outside the year."""
    first = eps["DECOM"].where(eps["DECOM"] > start, start)
    last = eps["DEC"].fillna(end).where(eps["DEC"].fillna(end) < end, end)
    days = (days_between(first, last) + 1).clip(lower=0)
    return days.where(eps["DECOM"].notna())


def _derive_cin(dataset: Dataset, tables: dict[str, pd.DataFrame]) -> None:
    w = window(dataset)
    people = table(dataset, "ChildIdentifiers")
    if "ChildIdentifiers" in tables and people is not None:
        tables["ChildIdentifiers"]["AGE_31_MARCH"] = ages_of(
            people["LAchildID"], people, "LAchildID", "PersonBirthDate", w.reference
        )
    if "CINdetails" in tables:
        details = referrals(dataset, w)
        assert details is not None
        out = tables["CINdetails"]
        out["REFERRAL_IN_YEAR"] = flag(w.contains(details["CINreferralDate"])).where(details["CINreferralDate"].notna())
        out["RE_REFERRAL_12_MONTHS"] = flag(details["RE_REFERRAL"])
        out["CIN_31_MARCH"] = flag(open_at(details, w.reference)).where(details["CINreferralDate"].notna())
        out["EPISODE_DAYS"] = days_between(details["CINreferralDate"], details["CINclosureDate"])
    if "Assessments" in tables:
        typed = dataset.tables["Assessments"].df
        days = assessment_days(typed)
        tables["Assessments"]["WORKING_DAYS"] = days
        tables["Assessments"][f"WITHIN_{ASSESSMENT_DAYS}_DAYS"] = flag(days <= ASSESSMENT_DAYS)
    if "Section47" in tables:
        typed = dataset.tables["Section47"].df
        days = icpc_days(typed)
        tables["Section47"]["ICPC_WORKING_DAYS"] = days
        tables["Section47"][f"ICPC_WITHIN_{ICPC_DAYS}_DAYS"] = flag(days <= ICPC_DAYS)
    if "ChildProtectionPlans" in tables:
        typed = dataset.tables["ChildProtectionPlans"].df
        out = tables["ChildProtectionPlans"]
        out["PLAN_DAYS"] = days_between(typed["CPPstartDate"], typed["CPPendDate"])
        open_ = (typed["CPPstartDate"] <= w.reference) & (
            typed["CPPendDate"].isna() | (typed["CPPendDate"] > w.reference)
        )
        out["CPP_31_MARCH"] = flag(open_).where(typed["CPPstartDate"].notna())
