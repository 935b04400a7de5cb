"""SSDA903 headline measures (definitions: docs/preview.md). Every figure is worked out on whole columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..dataset import Dataset
from ..engine.derived import DerivationContext, DerivedDataUnavailable, periods_of_care, placement_geography
from ..engine.runner import TableStore, history_note
from ..ingest.typed import empty_frame
from .common import Window, age_at, ages_of, days_between, history, lookup, table, window
from .groups import (
    ADOPTION_PLACEMENTS,
    CATEGORY_OF_NEED,
    CEASED,
    COURT_AUTHORITY,
    LEGAL_STATUS,
    PLACEMENT,
    SAME_CARERS,
    SHORT_BREAKS,
    breakdown,
)
from .model import Measure, count, mean, mean_days, percent, unavailable

ADOPTED = CEASED.group("ceased_adopted").codes
G_CLA, G_MOVES, G_MISSING, G_ADOPT, G_LEAVERS, G_HEALTH = (
    "Children looked after",
    "Placement stability",
    "Missing and away from placement",
    "Adoption",
    "Care leavers",
    "Health (OC2)",
)
G_PLACE, G_LS, G_NEED = PLACEMENT.name, LEGAL_STATUS.name, CATEGORY_OF_NEED.name
G_LOCALITY = "Children looked after at 31 March by locality of placement and distance between home and placement"
G_OUTCOMES = "Children looked after for at least 12 months at 31 March: outcomes (OC2)"
GROUP_ORDER = [G_CLA, G_PLACE, G_LS, G_NEED, G_LOCALITY, G_MOVES, G_MISSING, G_ADOPT, G_LEAVERS, G_HEALTH, G_OUTCOMES]
FAR = 20  # miles: DfE's "placed more than 20 miles from home"
SDQ_AGES, SDQ_CONCERN = (5, 16), 17  # SDQ: 0-13 normal, 14-16 borderline, 17-40 a cause for concern
CONVICTION_AGE = 10  # the age of criminal responsibility


def care_episodes(dataset: Dataset) -> pd.DataFrame:
    """The episodes the measures use: this year's and earlier years' (--previous; an earlier year's copy of an
    episode this year also holds, same CHILD and DECOM, is dropped), short breaks (LS V3, V4) and episodes
    without a child or a valid DECOM left out. Added columns:

    - ``_current``: the episode is in this year's return; ``_index``: its index in this year's Episodes table;
    - POC_ID, POC_START, POC_END: periods of care (validator.engine.derived.periods_of_care);
    - NEW_PLACEMENT: the episode starts a placement with new carers: the first episode of a period of care, or any
      episode whose RNE is not L, T or U (groups.SAME_CARERS);
    - CARERS_START: DECOM of the first episode with the same carers (the last NEW_PLACEMENT episode up to this one);
    - PLACEMENT_START: CARERS_START, except that when those carers' first episode is an adoption placement
      (PLACE A3-A6) it is the start of the carers before them in the same period of care;
    - MID_PERIOD: the period's first episode in the data supplied does not start care (RNE not S): the period
      began earlier, on a date these returns do not hold, so POC_START is the earliest date known, not the start.
    """
    current = table(dataset, "Episodes")
    columns = ["CHILD", "DECOM", "DEC", "RNE", "LS", "CIN", "PLACE", "REC"]
    frames = []
    if current is not None:
        cur = current[columns].copy()
        cur["_current"], cur["_index"] = True, current.index
        frames.append(cur)
    for earlier in history(dataset, "Episodes"):
        prev = earlier[columns].copy()
        prev["_current"], prev["_index"] = False, -1
        frames.append(prev)
    if not frames:  # no Episodes table: the same steps on no episodes, so every column below is there
        empty = empty_frame(dataset.schema.tables["Episodes"])[columns]
        frames.append(empty.assign(_current=pd.Series([], dtype=bool), _index=pd.Series([], dtype="int64")))
    eps = pd.concat(frames, ignore_index=True)
    eps = eps[eps["CHILD"].notna() & eps["DECOM"].notna() & ~eps["LS"].isin(SHORT_BREAKS)]
    eps = eps.drop_duplicates(["CHILD", "DECOM"], keep="first")  # this year's copy first
    eps = eps.sort_values(["CHILD", "DECOM", "DEC"], na_position="last", kind="stable").reset_index(drop=True)
    eps = eps.join(periods_of_care(eps, "CHILD"))
    child = eps["CHILD"]
    first_of_period = ~child.eq(child.shift(1)) | eps["POC_ID"].ne(eps["POC_ID"].shift(1)).fillna(True)
    eps["NEW_PLACEMENT"] = first_of_period | ~eps["RNE"].isin(SAME_CARERS)
    starts_care = eps["RNE"].eq("S").fillna(False).astype(bool)
    first_starts = starts_care.where(first_of_period).groupby([child, eps["POC_ID"]]).transform("first")
    eps["MID_PERIOD"] = ~first_starts.astype(bool)
    block = eps["NEW_PLACEMENT"].astype("int64").groupby(child).cumsum()
    keys = [child, block]
    eps["CARERS_START"] = eps["DECOM"].groupby(keys).transform("first")
    first_place = eps["PLACE"].groupby(keys).transform("first")
    # the start of the carers before, when both are in the same period of care
    starts = eps.loc[eps["NEW_PLACEMENT"], ["CHILD", "POC_ID", "CARERS_START"]]
    same = starts["CHILD"].eq(starts["CHILD"].shift(1)) & starts["POC_ID"].eq(starts["POC_ID"].shift(1))
    before = starts["CARERS_START"].shift(1).where(same.fillna(False).astype(bool))
    eps["_before"] = pd.Series(before, index=eps.index).groupby(keys).transform("first")
    adoptive = first_place.isin(ADOPTION_PLACEMENTS) & eps["_before"].notna()
    eps["PLACEMENT_START"] = eps["_before"].where(adoptive, eps["CARERS_START"])
    return eps.drop(columns=["_before"])


def measures_903(dataset: Dataset) -> list[Measure]:
    w = window(dataset)
    eps = care_episodes(dataset)
    cur = eps[eps["_current"]]
    header = table(dataset, "Header")
    out: list[Measure] = []
    out += _looked_after(cur, w)
    out += _at_31_march(cur, header, w)
    out += _locality(dataset, cur, w)
    out += _stability(cur, header, w)
    out += _adoption(cur, eps, table(dataset, "AD1"), w)
    first = TableStore(dataset).history_start("Episodes")
    for m in out:
        if m.history_unknown:  # the long-term stability cohort needs the care history back to its start date
            since = w.end - LONG_TERM_CARE if m.id == "long_term_stability" else None
            m.history_note = history_note("Episodes", first, since, dataset.context.year)
    out += _uasc(cur, header, table(dataset, "UASC"), w)
    out += _missing(cur, table(dataset, "Missing"), w)
    if table(dataset, "Episodes") is None:  # nothing to count: every episode measure is unknown, not zero
        for m in out:
            m.numerator = m.denominator = None
            m.note = "no Episodes table in the return"
    out += _care_leavers(table(dataset, "OC3"), w)
    out += _health(dataset, w)
    order = {g: n for n, g in enumerate(GROUP_ORDER)}
    return sorted(out, key=lambda m: order.get(m.group, 99))


def at_end(cur: pd.DataFrame, w: Window) -> pd.DataFrame:
    """Each child's episode open at the end of 31 March (DECOM on or before it, DEC blank or after it)."""
    open_ = cur[(cur["DECOM"] <= w.end) & (cur["DEC"].isna() | (cur["DEC"] > w.end))]
    return open_.drop_duplicates("CHILD", keep="last")


def during(cur: pd.DataFrame, w: Window) -> pd.DataFrame:
    """Episodes open at some time in the year (DECOM on or before 31 March, DEC blank or on or after 1 April)."""
    return cur[(cur["DECOM"] <= w.end) & (cur["DEC"].isna() | (cur["DEC"] >= w.start))]


def ceased(cur: pd.DataFrame, w: Window) -> pd.DataFrame:
    """Each child's last period of care that ended in the year: its last episode."""
    last = cur[cur["DEC"].notna() & cur["DEC"].eq(cur["POC_END"]) & w.contains(cur["POC_END"])]
    return last.sort_values(["CHILD", "DEC"], kind="stable").drop_duplicates("CHILD", keep="last")


def _looked_after(cur: pd.DataFrame, w: Window) -> list[Measure]:
    end = at_end(cur, w)
    started = cur.loc[w.contains(cur["POC_START"]), "CHILD"].nunique()
    gone = ceased(cur, w)
    out = [
        count("cla_31_march", "Children looked after at 31 March", G_CLA, len(end)),
        count(
            "cla_during_year",
            "Children looked after at any time during the year",
            G_CLA,
            during(cur, w)["CHILD"].nunique(),
        ),
        count("cla_started", "Children who started to be looked after during the year", G_CLA, started),
        count("cla_ceased", "Children who ceased to be looked after during the year", G_CLA, len(gone)),
    ]
    out += breakdown(CEASED, gone["REC"], G_CLA, "Ceased")
    return out


def _at_31_march(cur: pd.DataFrame, header: pd.DataFrame | None, w: Window) -> list[Measure]:
    """Children looked after at 31 March by placement, legal status and category of need (of the episode open at
    the end of 31 March), placed for adoption, and looked-after mothers."""
    end = at_end(cur, w)
    out = breakdown(PLACEMENT, end["PLACE"], G_PLACE, "Placement")
    out += breakdown(LEGAL_STATUS, end["LS"], G_LS, "Legal status")
    out += breakdown(CATEGORY_OF_NEED, end["CIN"], G_NEED, "Category of need")
    adoptive = int(end["PLACE"].isin(PLACEMENT.group("placement_adoption").codes).fillna(False).sum())
    out.append(count("placed_for_adoption", "Children placed for adoption at 31 March", G_ADOPT, adoptive))
    label = "Looked after mothers at 31 March"
    if header is None or "MOTHER" not in header:
        out.append(unavailable("looked_after_mothers", label, G_CLA, "count", "no Header table (MOTHER)"))
    else:
        mothers = lookup(end["CHILD"], header, "MOTHER").eq("1").fillna(False).astype(bool)
        out.append(count("looked_after_mothers", label, G_CLA, int(mothers.sum())))
    return out


def _locality(dataset: Dataset, cur: pd.DataFrame, w: Window) -> list[Measure]:
    """Where the children looked after at 31 March are placed: outside the LA, more than 20 miles from home."""
    specs = [
        ("placed_outside_la", "Placed outside the local authority boundary"),
        ("placed_over_20_miles", f"Placed more than {FAR} miles from home"),
        (
            "placed_outside_over_20_miles",
            f"Placed outside the local authority boundary and more than {FAR} miles from home",
        ),
        ("placed_distance_unknown", "Distance between home and placement not known"),
    ]
    end = at_end(cur, w)
    typed = table(dataset, "Episodes")
    if typed is None or not len(end):
        return [percent(id, label, G_LOCALITY, 0, len(end)) for id, label in specs]
    ctx = DerivationContext("CHILD", dataset.context.la, dataset.postcodes, w.start, w.end)
    try:
        geo = placement_geography(typed, ctx).reindex(end["_index"].to_numpy())
    except DerivedDataUnavailable as exc:
        return [unavailable(id, label, G_LOCALITY, "percent", exc.reason) for id, label in specs]
    miles = geo["PL_DISTANCE"].astype("float64").to_numpy()
    far = np.nan_to_num(miles, nan=0.0) > FAR
    unknown = np.isnan(miles)
    if not dataset.context.la:
        why = "needs the submitting LA's code: give --la"
        outside = None
    else:
        outside = geo["PL_LOCATION"].eq("OUT").fillna(False).to_numpy(dtype=bool)
    out = []
    for (id, label), hit in zip(
        specs, [outside, far, None if outside is None else outside & far, unknown], strict=True
    ):
        if hit is None:
            out.append(unavailable(id, label, G_LOCALITY, "percent", why))
        else:
            out.append(percent(id, label, G_LOCALITY, int(hit.sum()), len(end)))
    return out


def _stability(cur: pd.DataFrame, header: pd.DataFrame | None, w: Window) -> list[Measure]:
    end = at_end(cur, w)
    year = during(cur, w)
    counted = ~year["CHILD"].duplicated() | year["NEW_PLACEMENT"]  # the first in the year, then each new carer
    placements = counted.groupby(year["CHILD"]).sum()
    three = int((placements.reindex(end["CHILD"].to_numpy()).fillna(0).to_numpy() >= 3).sum())
    out = [
        percent(
            "placements_3_plus",
            "Looked after at 31 March with 3 or more placements in the year",
            G_MOVES,
            three,
            len(end),
        )
    ]
    if header is None:
        return [
            *out,
            unavailable("long_term_stability", LONG_TERM, G_MOVES, "percent", "no Header table (dates of birth)"),
        ]
    ages = ages_of(end["CHILD"], header, "CHILD", "DOB", w.end)
    under_16 = (ages < 16).fillna(False).astype(bool)
    long_enough = end["POC_START"] <= w.end - LONG_TERM_CARE
    cohort = end[under_16 & long_enough]
    stable = int((cohort["PLACEMENT_START"] <= w.end - pd.DateOffset(years=2)).sum())
    measure = percent("long_term_stability", LONG_TERM, G_MOVES, stable, len(cohort))
    # Left out only because the known start is too late: an earlier, unknown start could put them in (and their
    # carers may date from before it too). A child in the cohort is in it whatever the earlier history.
    measure.history_unknown = int((under_16 & ~long_enough & end["MID_PERIOD"]).sum())
    return [*out, measure]


LONG_TERM = "Under 16, looked after 2.5 years or more, in the same placement 2 years or more"
LONG_TERM_CARE = pd.DateOffset(years=2, months=6)


def _adoption(cur: pd.DataFrame, eps: pd.DataFrame, ad1: pd.DataFrame | None, w: Window) -> list[Measure]:
    adopted = ceased(cur, w)
    adopted = adopted[adopted["REC"].isin(ADOPTED)][["CHILD", "POC_ID", "POC_START", "MID_PERIOD"]]
    period = eps.merge(adopted[["CHILD", "POC_ID"]], on=["CHILD", "POC_ID"])
    placed = period[period["PLACE"].isin(ADOPTION_PLACEMENTS)].drop_duplicates("CHILD", keep="first")
    moved = lookup(adopted["CHILD"], placed, "DECOM")
    carers = lookup(adopted["CHILD"], placed, "CARERS_START")
    authority = period[period["LS"].isin(COURT_AUTHORITY)].drop_duplicates("CHILD", keep="first")
    court = lookup(adopted["CHILD"], authority, "DECOM")
    out = [count("adopted", "Children adopted during the year", G_ADOPT, len(adopted))]
    out.append(mean_days("adoption_a1", A1, G_ADOPT, days_between(adopted["POC_START"], moved)))
    # A period whose start is not in the data: its days are too few, or its move to the adopters is not known.
    out[-1].history_unknown = int(adopted["MID_PERIOD"].sum())
    if ad1 is None:
        why = "no AD1 table in the return"
        return [
            *out,
            unavailable("adoption_a10", A10, G_ADOPT, "mean_days", why),
            unavailable("adoption_a2", A2, G_ADOPT, "mean_days", why),
        ]
    ad1 = ad1.dropna(subset=["CHILD"]).drop_duplicates("CHILD")
    foster = lookup(adopted["CHILD"], ad1, "FOSTER_CARE").eq("1").fillna(False).astype(bool)
    moved_a10 = carers.where(foster, moved)
    match = lookup(adopted["CHILD"], ad1, "DATE_MATCH")
    out.append(mean_days("adoption_a10", A10, G_ADOPT, days_between(adopted["POC_START"], moved_a10)))
    out[-1].history_unknown = int(adopted["MID_PERIOD"].sum())
    out.append(mean_days("adoption_a2", A2, G_ADOPT, days_between(court, match)))
    # The court's authority may predate the data: unknown when the first E1/D1 episode is the first one known.
    unsure = adopted["MID_PERIOD"] & match.notna() & (court.isna() | court.eq(adopted["POC_START"]).fillna(False))
    out[-1].history_unknown = int(unsure.sum())
    return out


A1 = "A1: days from entering care to moving in with the adoptive family (mean)"
A10 = "A10: as A1, from moving in with the foster carers for foster carer adoptions (mean)"
A2 = "A2: days from court authority to place to the match with adopters (mean)"


def _uasc(cur: pd.DataFrame, header: pd.DataFrame | None, uasc: pd.DataFrame | None, w: Window) -> list[Measure]:
    label = "Unaccompanied asylum-seeking children looked after at 31 March"
    end = at_end(cur, w)
    if header is None or "UASC" not in header:
        return [unavailable("uasc_31_march", label, G_CLA, "percent", "no Header table with a UASC flag")]
    flagged = set(header.loc[header["UASC"].eq("1").fillna(False).astype(bool), "CHILD"].dropna())
    if uasc is not None:
        ended = uasc.loc[(uasc["DUC"] <= w.end).fillna(False).astype(bool), "CHILD"]
        flagged -= set(ended.dropna())
    return [percent("uasc_31_march", label, G_CLA, int(end["CHILD"].isin(flagged).sum()), len(end))]


def _missing(cur: pd.DataFrame, missing: pd.DataFrame | None, w: Window) -> list[Measure]:
    children = during(cur, w)["CHILD"].drop_duplicates()
    specs = [("M", "missing", "went missing"), ("A", "away", "were away from placement without authorisation")]
    out = []
    for code, key, words in specs:
        if missing is None:
            why = "no Missing table in the return"
            out.append(
                unavailable(f"{key}_children", f"Children who {words} during the year", G_MISSING, "percent", why)
            )
            out.append(unavailable(f"{key}_incidents", f"Incidents: {key}", G_MISSING, "count", why))
            continue
        mask = missing["MISSING"].eq(code) & w.contains(missing["MIS_START"]) & missing["CHILD"].isin(children)
        incidents = missing[mask.fillna(False).astype(bool)]
        out.append(
            percent(
                f"{key}_children",
                f"Children who {words} during the year",
                G_MISSING,
                incidents["CHILD"].nunique(),
                len(children),
            )
        )
        out.append(
            count(
                f"{key}_incidents",
                f"{'Missing' if code == 'M' else 'Away from placement'} incidents during the year",
                G_MISSING,
                len(incidents),
            )
        )
    return out


LEAVER_BANDS = [((17, 21), "", "17 to 21"), ((17, 18), "_17_18", "17 and 18"), ((19, 21), "_19_21", "19 to 21")]


def _care_leavers(oc3: pd.DataFrame | None, w: Window) -> list[Measure]:
    """In touch, suitable accommodation and education, employment or training: of all care leavers aged 17 to 21,
    and in DfE's bands, 17 and 18 and 19 to 21 (age at 31 March: the age reached on the birthday in the year)."""
    specs = [
        ("leavers_in_touch", "Care leavers aged {} the LA is in touch with", "IN_TOUCH"),
        ("leavers_suitable", "Care leavers aged {} in suitable accommodation", "ACCOM"),
        ("leavers_eet", "Care leavers aged {} in education, employment or training", "ACTIV"),
    ]
    measures = [
        (f"{id}{tail}", label.format(words), col, band)
        for band, tail, words in LEAVER_BANDS
        for id, label, col in specs
    ]
    if oc3 is None:
        return [
            unavailable(id, label, G_LEAVERS, "percent", "no OC3 table in the return") for id, label, _, _ in measures
        ]
    ages = ages_of(oc3["CHILD"], oc3, "CHILD", "DOB", w.end) if "DOB" in oc3 else None
    known = oc3["CHILD"].notna()
    tests = {
        "IN_TOUCH": oc3["IN_TOUCH"].eq("YES"),
        "ACCOM": oc3["ACCOM"].str.endswith("1"),  # the second character: 1 suitable, 2 not suitable
        "ACTIV": oc3["ACTIV"].str[:1].isin(["F", "P"]),  # full-time or part-time education, training, work
    }
    out = []
    for id, label, col, band in measures:
        in_band = (
            ages.between(*band).fillna(False).astype(bool)
            if ages is not None
            else pd.Series(band[0] == 17, index=oc3.index)
        )
        cohort = known & in_band
        hit = tests[col].fillna(False).astype(bool) & cohort
        out.append(percent(id, label, G_LEAVERS, int(hit.sum()), int(cohort.sum())))
    return out


def twelve_months_cohort(dataset: Dataset) -> pd.Index:
    """The children looked after continuously for 12 months at 31 March, worked out from the episodes as the
    rules' CONTINUOUSLY_LOOKED_AFTER is (the engine's derived column), not taken from who has an OC2 record."""
    episodes = TableStore(dataset).frame("Episodes", frozenset({"CONTINUOUSLY_LOOKED_AFTER"}))
    return pd.Index(episodes.loc[episodes["CONTINUOUSLY_LOOKED_AFTER"], "CHILD"].dropna().unique())


def _health(dataset: Dataset, w: Window) -> list[Measure]:
    specs = [
        ("health_assessment", "Health assessment up to date", "HEALTH_ASSESSMENT", None),
        ("teeth_check", "Teeth checked by a dentist", "TEETH_CHECK", None),
        ("immunisations", "Immunisations up to date", "IMMUNISATIONS", None),
        ("development_check", "Under 5: development assessment up to date", "HEALTH_CHECK", (0, 4)),
        ("sdq_completed", "Aged 5 to 16: SDQ score received", "SDQ_SCORE", (5, 16)),
    ]
    oc2 = table(dataset, "OC2")
    if oc2 is None:
        why = "no OC2 table in the return"
        out = [unavailable(id, label, G_HEALTH, "percent", why) for id, label, _, _ in specs]
        return out + [unavailable(id, label, G_OUTCOMES, kind, why) for id, kind, label in OUTCOMES]
    # One row per child of the cohort, with its OC2 record's values (blank when it has none: not done).
    cohort = pd.Series(twelve_months_cohort(dataset), name="CHILD")
    records = oc2[oc2["CHILD"].notna()].drop_duplicates("CHILD").set_index("CHILD")
    children = records.reindex(cohort.to_numpy())
    dob = children["DOB"]
    header = table(dataset, "Header")
    if header is not None:  # a child of the cohort without an OC2 record: its age from the Header
        dob = dob.fillna(lookup(cohort, header, "DOB").set_axis(children.index))
    ages = age_at(dob, w.end)
    out = []
    for id, label, col, span in specs:
        chosen = children if span is None else children[ages.between(*span).fillna(False).astype(bool).to_numpy()]
        done = chosen[col].notna() if col == "SDQ_SCORE" else chosen[col].eq("1").fillna(False)
        out.append(percent(id, label, G_HEALTH, int(np.asarray(done, dtype=bool).sum()), len(chosen)))
    return out + _outcomes(children, ages)


OUTCOMES = [
    ("sdq_average", "mean", "Aged 5 to 16 with an SDQ score: average score"),
    ("sdq_concern", "percent", f"Aged 5 to 16 with an SDQ score: score a cause for concern ({SDQ_CONCERN} or more)"),
    (
        "convicted",
        "percent",
        f"Aged {CONVICTION_AGE} or over: convicted or subject to a youth caution or youth conditional caution during "
        "the year",
    ),
    ("substance_misuse", "percent", "Identified as having a substance misuse problem"),
]


def _outcomes(children: pd.DataFrame, ages: pd.Series) -> list[Measure]:
    """The 12-month cohort's SDQ (average score and share of concern, of those aged 5 to 16 with a score),
    convictions (aged 10 or over) and substance misuse (all ages)."""
    scored = children.loc[ages.between(*SDQ_AGES).fillna(False).astype(bool).to_numpy(), "SDQ_SCORE"].dropna()
    scores = pd.to_numeric(scored, errors="coerce").dropna()
    older = children[(ages >= CONVICTION_AGE).fillna(False).astype(bool).to_numpy()]
    convicted = int(older["CONVICTED"].eq("1").fillna(False).sum())
    misuse = int(children["SUBSTANCE_MISUSE"].eq("1").fillna(False).sum())
    (sdq, _, sdq_label), (concern, _, concern_label), (conv, _, conv_label), (drugs, _, drugs_label) = OUTCOMES
    return [
        mean(sdq, sdq_label, G_OUTCOMES, scores),
        percent(concern, concern_label, G_OUTCOMES, int((scores >= SDQ_CONCERN).sum()), len(scores)),
        percent(conv, conv_label, G_OUTCOMES, convicted, len(older)),
        percent(drugs, drugs_label, G_OUTCOMES, misuse, len(children)),
    ]
