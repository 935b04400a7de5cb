"""Each collection year's SSDA903 tables, cut out of the children's care histories.

Episodes open on 31 March are written open (no end date, reason or placement-change reason), so the previous year's
open episode reappears unchanged as this year's first episode. Reviews, OC2, OC3, adoption, previous permanence,
missing, social worker and DoLO records are derived from the same history.
"""

from __future__ import annotations

import datetime as dt

from ..schema import load_schema
from .common import DAY, Rand, Tables, add_years, ages, dmy
from .model_903 import Child, Episode, Year

_SSDA903 = load_schema("ssda903")
_RETURN_TABLES = {name: table for name, table in _SSDA903.tables.items() if table.in_return}
SSDA903_FILES = {name: table.file or f"{name.lower()}.csv" for name, table in _RETURN_TABLES.items()}
SSDA903_COLUMNS = {name: table.csv_columns for name, table in _RETURN_TABLES.items()}

_SHORT_BREAKS = ("V3", "V4")


def tables_of(year: Year) -> list[str]:
    """The tables of ``year``'s return: social worker episodes from 2023_24, DoLO from 2026_27."""
    names = [n for n in SSDA903_COLUMNS if n not in ("SWEpisodes", "DoLo")]
    if year.social_workers:
        names.append("SWEpisodes")
    if year.dolo:
        names.append("DoLo")
    return names


def cut_year(year: Year, rng: Rand, children: list[Child], current: bool) -> YearTables:
    """``year``'s tables for ``children``; OC3 (care leavers) only in the ``current`` year's."""
    tables = YearTables(year, rng, children)
    for child in children:
        tables.add(child, current)
    return tables


class YearTables:
    """Cuts one collection year's tables out of the children's histories."""

    def __init__(self, year: Year, rng: Rand, children: list[Child]) -> None:
        self.year = year
        self.rng = rng
        self.tables: Tables = {name: [] for name in SSDA903_COLUMNS}
        self.uasc_flags: list[str] = []
        ids, dobs = [c.child for c in children], [c.dob for c in children]
        # Ages on 31 August before the year (UN1 below 4, rule 209) and on 31 March at its end.
        self.age_at_school_start = dict(zip(ids, ages(dobs, dt.date(year.start.year - 1, 8, 31)), strict=True))
        self.age_at_end = dict(zip(ids, ages(dobs, year.end), strict=True))

    def add(self, child: Child, current: bool) -> None:
        year, t = self.year, self.tables
        episodes = [e for e in child.episodes() if year.overlaps(e.decom, e.dec)]
        oc3 = child.oc3 if current else None
        if not episodes and oc3 is None:
            return
        cid, dob = child.child, dmy(child.dob)
        sex = year.male if child.sex == "M" else year.female
        mother = mc_dob = ""
        if child.sex == "F" and any(e.ls not in _SHORT_BREAKS for e in episodes):
            is_mother = child.mc_dob is not None and child.mc_dob <= year.end
            mother, mc_dob = ("1", dmy(child.mc_dob)) if is_mother else ("0", "")
        t["Header"].append([cid, sex, dob, child.ethnic, self._upn(child), mother, mc_dob])
        self.uasc_flags.append("1" if child.uasc and episodes else "0")
        for e in episodes:
            closed = e.dec is not None and e.dec <= year.end
            p = e.placement
            t["Episodes"].append(
                [
                    cid,
                    dmy(e.decom),
                    e.rne,
                    e.ls,
                    e.cin,
                    p.place,
                    p.provider,
                    dmy(e.dec) if closed else "",
                    e.rec if closed else "",
                    e.rpc if closed else "",
                    e.home_post,
                    p.post,
                    p.urn,
                ]
            )
        if child.uasc and episodes:
            t["UASC"].append([cid, sex, dob, dmy(add_years(child.dob, 18))])
        if oc3 is not None:
            t["OC3"].append([cid, dob, *oc3])
        if not episodes:
            return
        self._reviews(child, dob)
        self._oc2(child, dob)
        self._adoption(child, dob)
        self._prev_perm(child, dob)
        self._missing(child, dob, episodes)
        if year.social_workers and child.social_workers and child.looked_after_on(year.end):
            for sw_id, start, until, reason in child.social_workers:
                if start <= year.end and (until is None or until >= year.start):
                    shown = dmy(until) if until is not None and until <= year.end else ""
                    t["SWEpisodes"].append([cid, dob, sw_id, dmy(start), shown, reason])
        if year.dolo and child.dolo is not None:
            t["DoLo"].append([cid, dob, dmy(child.dolo[0]), dmy(child.dolo[1])])

    def _upn(self, child: Child) -> str:
        """UN1 while the child was under 4 on 31 August before the year (rule 209), else the child's UPN."""
        if self.age_at_school_start[child.child] < 4:
            return "UN1"
        return child.upn

    def _reviews(self, child: Child, dob: str) -> None:
        year = self.year
        for period in child.periods:
            for day, code in period.reviews:
                if year.start <= day <= year.end:
                    self.tables["Reviews"].append([child.child, dob, dmy(day), code])

    def _oc2(self, child: Child, dob: str) -> None:
        """OC2 for children looked after continuously for the 12 months to 31 March."""
        year, rng = self.year, self.rng
        periods = [p for p in child.periods if year.overlaps(p.start, p.end)]
        if len(periods) != 1 or periods[0].respite or periods[0].start > year.start:
            return
        if periods[0].end is not None and periods[0].end <= year.end:
            return
        age_end = self.age_at_end[child.child]
        sdq_due = add_years(child.dob, 4) <= year.end and add_years(child.dob, 17) >= year.start
        score = reason = ""
        if sdq_due:
            if rng.chance(0.78):
                score = str(min(40, max(0, int(rng.gauss(15, 7)))))
            else:
                reason = rng.choice(("SDQ2", "SDQ3", "SDQ4", "SDQ5"))
        convicted = ("1" if rng.chance(0.04) else "0") if add_years(child.dob, 10) <= year.end else ""
        health_check = ("1" if rng.chance(0.9) else "0") if year.end < add_years(child.dob, 5) else ""
        misuse = "1" if age_end >= 12 and rng.chance(0.06) else "0"
        received = offered = ""
        if misuse == "1":
            received = "1" if rng.chance(0.6) else "0"
            offered = ("1" if rng.chance(0.7) else "0") if received == "0" else ""
        flag = lambda p: "1" if rng.chance(p) else "0"  # noqa: E731
        self.tables["OC2"].append(
            [
                child.child,
                dob,
                score,
                reason,
                convicted,
                health_check,
                flag(0.9),
                flag(0.85),
                flag(0.9),
                misuse,
                received,
                offered,
            ]
        )

    def _adoption(self, child: Child, dob: str) -> None:
        year, a = self.year, child.adoption
        if a is None:
            return
        if a.date_placed <= year.end:
            self.tables["PlacedAdoption"].append([child.child, dob, dmy(a.date_placed), "", ""])
        if a.adopted is not None and year.start <= a.adopted <= year.end:
            self.tables["AD1"].append(
                [child.child, dob, dmy(a.date_placed), dmy(a.date_match), a.foster_care, *a.adopters]
            )

    def _prev_perm(self, child: Child, dob: str) -> None:
        """Previous permanence for a child who started to be looked after this year (rules 630, 634)."""
        year = self.year
        for period in child.periods:
            if year.start <= period.start <= year.end:
                self.tables["PrevPerm"].append([child.child, dob, *period.prev_perm])
                return

    def _missing(self, child: Child, dob: str, episodes: list[Episode]) -> None:
        """A few short missing/away episodes for children aged 11+, each inside one placement, all ended."""
        year, rng = self.year, self.rng
        if self.age_at_end[child.child] < 11 or episodes[0].ls in _SHORT_BREAKS or not rng.chance(0.18):
            return
        after = year.start
        for episode in episodes:
            if episode.placement.kind == "temp" or rng.chance(0.4):
                continue
            first = max(episode.decom, year.start, after) + DAY
            last = min(episode.dec or year.end, year.end) - 2 * DAY
            if last <= first:
                continue
            start = rng.date(first, last)
            end = min(start + rng.randint(0, 3) * DAY, last + DAY)
            self.tables["Missing"].append([child.child, dob, rng.pick({"M": 80, "A": 20}), dmy(start), dmy(end)])
            after = end
