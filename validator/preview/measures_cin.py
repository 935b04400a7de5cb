"""CIN census headline measures (definitions: docs/preview.md). Every figure is worked out on whole columns."""

from __future__ import annotations

import pandas as pd

from ..dataset import Dataset
from ..engine.calendar import working_days
from .common import Window, history, table, window
from .groups import ABUSE, FACTORS, PRIMARY_NEED, breakdown
from .model import Measure, count, percent, unavailable

ASSESSMENT_DAYS = 45
ICPC_DAYS = 15
G_REF, G_ASS, G_CP, G_CIN = (
    "Referrals",
    "Assessments and section 47 enquiries",
    "Child protection plans",
    "Children in need",
)
G_NEED, G_FACTORS = PRIMARY_NEED.name, FACTORS.name
REVIEW_FIRST, REVIEW_NEXT = 3, 6  # months: the first review conference within 3 months of the plan's start, then 6

# Every column these measures read, by table: a CIN return validated in pieces (validator/chunked.py) keeps only
# these columns to work the figures out. A measure that reads another column must add it here.
COLUMNS_READ: dict[str, tuple[str, ...]] = {
    "Header": ("Collection", "Year", "ReferenceDate"),
    "ChildIdentifiers": ("LAchildID",),
    "CINdetails": ("LAchildID", "CINdetailsID", "CINreferralDate", "CINclosureDate", "ReferralNFA", "PrimaryNeedCode",
                   "DateOfInitialCPC"),
    "Assessments": ("LAchildID", "CINdetailsID", "AssessmentID", "AssessmentActualStartDate",
                    "AssessmentAuthorisationDate"),
    "AssessmentFactors": ("LAchildID", "CINdetailsID", "AssessmentID", "AssessmentFactor"),
    "CINplanDates": ("LAchildID", "CINdetailsID", "CINPlanStartDate", "CINPlanEndDate"),
    "Section47": ("LAchildID", "CINdetailsID", "S47ActualStartDate", "DateOfInitialCPC"),
    "ChildProtectionPlans": ("LAchildID", "CINdetailsID", "CPPID", "CPPstartDate", "CPPendDate",
                             "InitialCategoryOfAbuse", "NumberOfPreviousCPP"),
    "Reviews": ("LAchildID", "CINdetailsID", "CPPID", "CPPreviewDate"),
}  # fmt: skip


def referrals(dataset: Dataset, w: Window) -> pd.DataFrame | None:
    """This year's CINdetails with RE_REFERRAL: True when the same child had an earlier referral (in this return
    or an earlier year's, --previous) on or after the date 12 months before this one."""
    details = table(dataset, "CINdetails")
    if details is None:
        return None
    dates = [details[["LAchildID", "CINreferralDate"]]] + [
        d[["LAchildID", "CINreferralDate"]] for d in history(dataset, "CINdetails")
    ]
    every = pd.concat(dates, ignore_index=True).dropna().drop_duplicates()
    every = every.sort_values(["LAchildID", "CINreferralDate"], kind="stable")
    before = every["CINreferralDate"].shift(1).where(every["LAchildID"].eq(every["LAchildID"].shift(1)))
    within = before >= every["CINreferralDate"] - pd.DateOffset(months=12)
    re_referred = pd.Series(within.to_numpy(), index=pd.MultiIndex.from_frame(every[["LAchildID", "CINreferralDate"]]))
    out = details.copy()
    keys = pd.MultiIndex.from_frame(out[["LAchildID", "CINreferralDate"]])
    out["RE_REFERRAL"] = pd.Series(re_referred.reindex(keys).to_numpy(), index=out.index).astype("boolean")
    out.loc[out["CINreferralDate"].isna() | out["LAchildID"].isna(), "RE_REFERRAL"] = pd.NA
    return out


def assessment_days(assessments: pd.DataFrame) -> pd.Series:
    """Working days from the assessment's start to its authorisation (the start day not counted)."""
    return working_days(assessments["AssessmentActualStartDate"], assessments["AssessmentAuthorisationDate"])


def icpc_days(s47: pd.DataFrame) -> pd.Series:
    """Working days from the section 47 enquiry's start (the strategy discussion) to the initial conference."""
    return working_days(s47["S47ActualStartDate"], s47["DateOfInitialCPC"])


def measures_cin(dataset: Dataset) -> list[Measure]:
    w = window(dataset)
    out: list[Measure] = []
    out += _referrals(referrals(dataset, w), w)
    out += _assessments(table(dataset, "Assessments"), table(dataset, "Section47"), w)
    out += _plans(table(dataset, "ChildProtectionPlans"), w)
    out += _in_need(table(dataset, "CINdetails"), table(dataset, "ChildProtectionPlans"), w)
    out += _episodes(table(dataset, "CINdetails"), table(dataset, "CINplanDates"), w)
    out += _factors(table(dataset, "Assessments"), table(dataset, "AssessmentFactors"), w)
    out += _reviews(table(dataset, "ChildProtectionPlans"), table(dataset, "Reviews"), w)
    order = {g: n for n, g in enumerate([G_REF, G_CIN, G_NEED, G_ASS, G_FACTORS, G_CP])}
    return sorted(out, key=lambda m: order.get(m.group, 99))


def open_at(details: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """CINdetails open at the end of ``day``: referred on or before it, not closed by it, not NFA."""
    nfa = details["ReferralNFA"].astype("boolean").fillna(False).astype(bool)
    open_ = (details["CINreferralDate"] <= day) & (details["CINclosureDate"].isna() | (details["CINclosureDate"] > day))
    return open_.fillna(False).astype(bool) & ~nfa


def _episodes(details: pd.DataFrame | None, plans: pd.DataFrame | None, w: Window) -> list[Measure]:
    """Children in need during the year, episodes starting and ending, primary need at 31 March, CIN plans."""
    labels = [
        ("cin_during_year", "Children in need at any time during the year"),
        ("cin_episodes_started", "Episodes of need starting during the year"),
        ("cin_episodes_ended", "Episodes of need ending during the year"),
    ]
    out = []
    if details is None:
        why = "no CINdetails table in the return"
        out += [unavailable(id, label, G_CIN, "count", why) for id, label in labels]
        out += [unavailable(g.id, f"Primary need: {g.label}", G_NEED, "percent", why) for g in PRIMARY_NEED.groups]
    else:
        nfa = details["ReferralNFA"].astype("boolean").fillna(False).astype(bool)
        child = details["LAchildID"].notna()
        during = (details["CINreferralDate"] <= w.reference) & (
            details["CINclosureDate"].isna() | (details["CINclosureDate"] >= w.start)
        )
        during = during.fillna(False).astype(bool) & ~nfa & child
        started = w.contains(details["CINreferralDate"]).fillna(False).astype(bool) & ~nfa & child
        ended = w.contains(details["CINclosureDate"]).fillna(False).astype(bool) & ~nfa & child
        out.append(count(labels[0][0], labels[0][1], G_CIN, details.loc[during, "LAchildID"].nunique()))
        out.append(count(labels[1][0], labels[1][1], G_CIN, int(started.sum())))
        out.append(count(labels[2][0], labels[2][1], G_CIN, int(ended.sum())))
        # each child in need at 31 March once: its latest open episode's primary need
        latest = details[open_at(details, w.reference) & child].sort_values("CINreferralDate", kind="stable")
        latest = latest.drop_duplicates("LAchildID", keep="last")
        out += breakdown(PRIMARY_NEED, latest["PrimaryNeedCode"], G_NEED, "Primary need")
    label = "Children on a child in need plan at 31 March"
    if plans is None:
        out.append(unavailable("cin_plan_31_march", label, G_CIN, "count", "no CINplanDates table in the return"))
    else:
        ref = w.reference
        open_ = (plans["CINPlanStartDate"] <= ref) & (plans["CINPlanEndDate"].isna() | (plans["CINPlanEndDate"] > ref))
        out.append(
            count("cin_plan_31_march", label, G_CIN, plans.loc[open_.fillna(False).astype(bool), "LAchildID"].nunique())
        )
    return out


def _factors(assessments: pd.DataFrame | None, factors: pd.DataFrame | None, w: Window) -> list[Measure]:
    """Of the assessments completed in the year, the share with each factor identified at assessment."""
    if assessments is None or factors is None:
        why = f"no {'Assessments' if assessments is None else 'AssessmentFactors'} table in the return"
        return [unavailable(g.id, f"Factor: {g.label}", G_FACTORS, "percent", why) for g in FACTORS.groups]
    keys = ["LAchildID", "CINdetailsID", "AssessmentID"]
    done = assessments.loc[w.contains(assessments["AssessmentAuthorisationDate"]).fillna(False).astype(bool), keys]
    done = done.dropna(subset=["LAchildID"]).drop_duplicates()
    found = factors.merge(done, on=keys)[[*keys, "AssessmentFactor"]].drop_duplicates()
    return breakdown(FACTORS, found["AssessmentFactor"], G_FACTORS, "Factor", total=len(done))


def _reviews(cpp: pd.DataFrame | None, reviews: pd.DataFrame | None, w: Window) -> list[Measure]:
    """Plans ending in the year; of those that lasted 3 months or more, the share reviewed on time throughout:
    a review within 3 months of the start, each later one within 6 months of the one before, and none falling due
    (6 months after the last) before the plan ended."""
    ended_label = "Child protection plans ending during the year"
    label = "Plans ending during the year that lasted 3 months or more: reviewed within the required timescales"
    if cpp is None:
        why = "no ChildProtectionPlans table in the return"
        return [
            unavailable("cpp_ended", ended_label, G_CP, "count", why),
            unavailable("cpp_reviews_on_time", label, G_CP, "percent", why),
        ]
    ended = cpp[w.contains(cpp["CPPendDate"]).fillna(False).astype(bool)]
    out = [count("cpp_ended", ended_label, G_CP, len(ended))]
    if reviews is None:
        return [*out, unavailable("cpp_reviews_on_time", label, G_CP, "percent", "no Reviews table in the return")]
    keys = ["LAchildID", "CINdetailsID", "CPPID"]
    plans = ended[ended["CPPendDate"] >= ended["CPPstartDate"] + pd.DateOffset(months=REVIEW_FIRST)]
    plans = plans[[*keys, "CPPstartDate", "CPPendDate"]].reset_index(drop=True)
    plans["_plan"] = plans.index
    # the plan's dates in order: its start, its reviews while it was open, its end
    held = reviews[[*keys, "CPPreviewDate"]].dropna().merge(plans, on=keys)
    held = held[(held["CPPreviewDate"] >= held["CPPstartDate"]) & (held["CPPreviewDate"] <= held["CPPendDate"])]
    dates = pd.concat(
        [
            pd.DataFrame({"_plan": plans["_plan"], "date": plans["CPPstartDate"], "_step": 0}),
            pd.DataFrame({"_plan": held["_plan"], "date": held["CPPreviewDate"], "_step": 1}),
            pd.DataFrame({"_plan": plans["_plan"], "date": plans["CPPendDate"], "_step": 2}),
        ],
        ignore_index=True,
    ).sort_values(["_plan", "date", "_step"], kind="stable")
    before = dates.groupby("_plan")["date"].shift(1)
    step = dates.groupby("_plan")["_step"].shift(1)
    # the gap allowed after the date before: 3 months after the start, 6 months after a review
    allowed = before + pd.DateOffset(months=REVIEW_FIRST)
    allowed = allowed.where(step.eq(0), before + pd.DateOffset(months=REVIEW_NEXT))
    late = (dates["date"] > allowed) & before.notna()
    late_plans = set(dates.loc[late.fillna(False).astype(bool), "_plan"])
    on_time = int((~plans["_plan"].isin(late_plans)).sum())
    return [*out, percent("cpp_reviews_on_time", label, G_CP, on_time, len(plans))]


def _referrals(details: pd.DataFrame | None, w: Window) -> list[Measure]:
    labels = [
        ("referrals", "Referrals during the year", "count"),
        ("re_referrals", "Re-referrals: referrals within 12 months of a previous referral", "percent"),
        ("referrals_nfa", "Referrals with no further action", "percent"),
    ]
    if details is None:
        return [unavailable(id, label, G_REF, kind, "no CINdetails table in the return") for id, label, kind in labels]
    year = details[w.contains(details["CINreferralDate"]) & details["LAchildID"].notna()]
    n = len(year)
    again = int(year["RE_REFERRAL"].fillna(False).astype(bool).sum())
    nfa = int(year["ReferralNFA"].astype("boolean").fillna(False).astype(bool).sum())
    return [
        count(labels[0][0], labels[0][1], G_REF, n),
        percent(labels[1][0], labels[1][1], G_REF, again, n),
        percent(labels[2][0], labels[2][1], G_REF, nfa, n),
    ]


def _assessments(assessments: pd.DataFrame | None, s47: pd.DataFrame | None, w: Window) -> list[Measure]:
    out = []
    done_label = "Assessments completed during the year"
    in_time = f"Assessments completed within {ASSESSMENT_DAYS} working days"
    if assessments is None:
        why = "no Assessments table in the return"
        out += [
            unavailable("assessments", done_label, G_ASS, "count", why),
            unavailable("assessments_45_days", in_time, G_ASS, "percent", why),
        ]
    else:
        done = assessments[w.contains(assessments["AssessmentAuthorisationDate"])]
        quick = int((assessment_days(done) <= ASSESSMENT_DAYS).fillna(False).astype(bool).sum())
        out += [
            count("assessments", done_label, G_ASS, len(done)),
            percent("assessments_45_days", in_time, G_ASS, quick, len(done)),
        ]
    s47_label = "Section 47 enquiries started during the year"
    icpc_label = f"Initial child protection conferences within {ICPC_DAYS} working days of the section 47 start"
    if s47 is None:
        why = "no Section47 table in the return"
        return [
            *out,
            unavailable("s47_enquiries", s47_label, G_ASS, "count", why),
            unavailable("icpc", "Initial child protection conferences during the year", G_CP, "count", why),
            unavailable("icpc_15_days", icpc_label, G_CP, "percent", why),
        ]
    started = int(w.contains(s47["S47ActualStartDate"]).sum())
    held = s47[w.contains(s47["DateOfInitialCPC"])]
    icpc = count("icpc", "Initial child protection conferences during the year", G_CP, len(held))
    timely = int((icpc_days(held) <= ICPC_DAYS).fillna(False).astype(bool).sum())
    return [
        *out,
        count("s47_enquiries", s47_label, G_ASS, started),
        icpc,
        percent("icpc_15_days", icpc_label, G_CP, timely, len(held)),
    ]


def _plans(cpp: pd.DataFrame | None, w: Window) -> list[Measure]:
    started_label = "Child protection plans started during the year"
    specs = [
        ("cpp_started", started_label, "count"),
        ("cpp_second", "Plans started that were a second or subsequent plan", "percent"),
    ]
    specs += [(g.id, f"Plans started: initial category of abuse: {g.label}", "percent") for g in ABUSE.groups]
    specs += [("cpp_ended_2_years", "Plans ended during the year that lasted 2 years or more", "percent")]
    if cpp is None:
        return [
            unavailable(id, label, G_CP, kind, "no ChildProtectionPlans table in the return")
            for id, label, kind in specs
        ]
    started = cpp[w.contains(cpp["CPPstartDate"])]
    n = len(started)
    out = [count("cpp_started", started_label, G_CP, n)]
    second = int((started["NumberOfPreviousCPP"] >= 1).fillna(False).astype(bool).sum())
    out.append(percent("cpp_second", specs[1][1], G_CP, second, n))
    for g, (id, label, _) in zip(ABUSE.groups, specs[2:-1], strict=True):
        hit = started["InitialCategoryOfAbuse"].isin(g.codes).fillna(False).astype(bool)
        out.append(percent(id, label, G_CP, int(hit.sum()), n))
    ended = cpp[w.contains(cpp["CPPendDate"])]
    long = int((ended["CPPendDate"] >= ended["CPPstartDate"] + pd.DateOffset(years=2)).sum())
    out.append(percent("cpp_ended_2_years", specs[-1][1], G_CP, long, len(ended)))
    return out


def _in_need(details: pd.DataFrame | None, cpp: pd.DataFrame | None, w: Window) -> list[Measure]:
    ref = w.reference
    cin_label, cp_label = "Children in need at 31 March", "Children subject to a child protection plan at 31 March"
    out = []
    if details is None:
        out.append(unavailable("cin_31_march", cin_label, G_CIN, "count", "no CINdetails table in the return"))
    else:
        out.append(count("cin_31_march", cin_label, G_CIN, details.loc[open_at(details, ref), "LAchildID"].nunique()))
    if cpp is None:
        out.append(unavailable("cpp_31_march", cp_label, G_CIN, "count", "no ChildProtectionPlans table in the return"))
    else:
        open_ = (cpp["CPPstartDate"] <= ref) & (cpp["CPPendDate"].isna() | (cpp["CPPendDate"] > ref))
        out.append(count("cpp_31_march", cp_label, G_CIN, cpp.loc[open_, "LAchildID"].nunique()))
    return out
