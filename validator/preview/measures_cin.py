"""CIN census headline measures (definitions: docs/preview.md). Every figure is worked out on whole columns."""

from __future__ import annotations

import pandas as pd

from ..dataset import Dataset
from ..engine.calendar import working_days
from .common import Window, history, table, window
from .groups import ABUSE
from .model import Measure, count, percent, unavailable

ASSESSMENT_DAYS = 45
ICPC_DAYS = 15
G_REF, G_ASS, G_CP, G_CIN = (
    "Referrals",
    "Assessments and section 47 enquiries",
    "Child protection plans",
    "Children in need",
)


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
    return out


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
            unavailable("icpc_15_days", icpc_label, G_ASS, "percent", why),
        ]
    started = int(w.contains(s47["S47ActualStartDate"]).sum())
    held = s47[w.contains(s47["DateOfInitialCPC"])]
    timely = int((icpc_days(held) <= ICPC_DAYS).fillna(False).astype(bool).sum())
    return [
        *out,
        count("s47_enquiries", s47_label, G_ASS, started),
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
        nfa = details["ReferralNFA"].astype("boolean").fillna(False).astype(bool)
        open_ = (details["CINreferralDate"] <= ref) & (
            details["CINclosureDate"].isna() | (details["CINclosureDate"] > ref)
        )
        out.append(count("cin_31_march", cin_label, G_CIN, details.loc[open_ & ~nfa, "LAchildID"].nunique()))
    if cpp is None:
        out.append(unavailable("cpp_31_march", cp_label, G_CIN, "count", "no ChildProtectionPlans table in the return"))
    else:
        open_ = (cpp["CPPstartDate"] <= ref) & (cpp["CPPendDate"].isna() | (cpp["CPPendDate"] > ref))
        out.append(count("cpp_31_march", cp_label, G_CIN, cpp.loc[open_, "LAchildID"].nunique()))
    return out
