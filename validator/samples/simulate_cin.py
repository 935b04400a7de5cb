"""CIN census children, simulated from one random stream.

Each child is generated from a referral date forward (assessment, section 47, child protection plan, CIN plan,
closure), each date built on the previous one and kept inside the census year where DfE requires it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..years import collection_end, collection_start
from .common import (
    DAY,
    ETHNICITY,
    UPN_LA_NUMBERS,
    Rand,
    add_weekdays,
    upn_body,
    weekday_on_or_before,
    with_check_letters,
)

_CIN_SOURCES = {
    "1A": 4,
    "1B": 2,
    "1C": 1,
    "1D": 1,
    "2A": 18,
    "2B": 2,
    "3A": 3,
    "3B": 3,
    "3C": 1,
    "3D": 2,
    "3E": 3,
    "3F": 2,
    "4": 2,
    "5A": 4,
    "5B": 3,
    "5C": 2,
    "5D": 3,
    "6": 28,
    "7": 3,
    "8": 6,
    "9": 2,
    "10": 1,
}
_CIN_PRIMARY_NEED = {"N1": 55, "N2": 6, "N3": 4, "N4": 12, "N5": 14, "N6": 3, "N7": 1, "N8": 2, "N9": 3}
_CIN_FACTORS = {
    "1B": 6,
    "2B": 8,
    "3A": 6,
    "3B": 14,
    "4A": 6,
    "4B": 12,
    "5B": 2,
    "6B": 2,
    "10A": 3,
    "11A": 3,
    "14A": 4,
    "15A": 3,
    "16A": 8,
    "17A": 9,
    "18C": 4,
    "19C": 2,
    "20": 3,
    "22A": 1,
    "23A": 1,
    "24A": 3,
}
_CIN_DISABILITIES = ("LD", "AUT", "COMM", "BEH", "MOB", "HAND", "PC", "INC", "HEAR", "VIS", "CON", "DDA")
_CIN_ABUSE = {"NEG": 50, "EMO": 35, "PHY": 7, "SAB": 4, "MUL": 4}


@dataclass
class CinPlan:
    start: dt.date
    end: dt.date | None
    initial: str = ""
    latest: str = ""
    previous: int = 0
    reviews: list[dt.date] = field(default_factory=list)


@dataclass
class CinEpisode:
    referral: dt.date
    source: str
    need: str | None
    nfa: bool = False
    closure: dt.date | None = None
    reason: str | None = None
    assessments: list[tuple[dt.date, dt.date | None, list[str]]] = field(default_factory=list)
    cin_plans: list[CinPlan] = field(default_factory=list)
    section47: list[tuple[dt.date, dt.date | None, dt.date | None, bool]] = field(default_factory=list)
    cp_plans: list[CinPlan] = field(default_factory=list)

    def activity_dates(self) -> list[dt.date]:
        dates = [self.referral]
        for start, end, _ in self.assessments:
            dates += [start, end] if end else [start]
        for plan in self.cin_plans + self.cp_plans:
            dates += [plan.start, plan.end] if plan.end else [plan.start]
        for start, _, icpc, _ in self.section47:
            dates += [start, icpc] if icpc else [start]
        return dates


@dataclass
class CinChild:
    child: str
    dob: dt.date | None
    expected: dt.date | None
    sex: str  # M, F or U
    ethnic: str
    upn: str  # UPNs: their 12 digits until SimulatorCin.children adds the check letters
    former_upn: str
    upn_unknown: str
    disabilities: list[str]
    episodes: list[CinEpisode]
    death: dt.date | None = None


class SimulatorCin:
    """Builds CIN census children: referrals and what followed, inside the census year."""

    def __init__(self, rng: Rand, year: str) -> None:
        self.rng = rng
        self.year = year
        self.start = collection_start(year)
        self.ref = collection_end(year)
        self.upns: set[str] = set()
        self.disabled = 0

    def children(self, ids: list[int]) -> list[CinChild]:
        """The census's children in the order of ``ids``, their UPNs with check letters."""
        children = [self.child(str(i)) for i in ids]
        bodies = [c.upn for c in children if c.upn] + [c.former_upn for c in children if c.former_upn]
        upns = dict(zip(bodies, with_check_letters(bodies), strict=True))
        for child in children:
            child.upn, child.former_upn = upns.get(child.upn, ""), upns.get(child.former_upn, "")
        return children

    def child(self, child_id: str) -> CinChild:
        rng, ref = self.rng, self.ref
        expected = dob = None
        if rng.chance(0.015):
            expected = ref + rng.randint(15, 200) * DAY
            sex = "U"
        else:
            band = rng.choices((0, 1, 5, 10, 16), (12, 14, 25, 36, 13))[0]
            width = {0: 1, 1: 4, 5: 5, 10: 6, 16: 2}[band]
            dob = ref - rng.randint(band * 365 + 5, (band + width) * 365 - 5) * DAY
            sex = "M" if rng.chance(0.52) else "F"
        episodes = self._episodes(dob or expected or ref, expected is not None)
        school_age = dob is not None and dob <= dt.date(ref.year - 6, 8, 31)
        upn = former = unknown = ""
        if dob is None:
            unknown = "UN1"
        elif all(e.nfa for e in episodes) and rng.chance(0.5):
            unknown = "UN7"
        elif school_age:
            if rng.chance(0.93):
                upn = self._upn(dob)
                former = self._upn(dob) if rng.chance(0.02) else ""
            else:
                unknown = rng.choice(("UN2", "UN3", "UN5"))
        elif rng.chance(0.25) and dob <= ref - 3 * 365 * DAY:
            upn = self._upn(dob)
        else:
            unknown = "UN1"
        disabilities = self._disabilities() if dob is not None else []
        child = CinChild(
            child_id, dob, expected, sex, rng.pick(ETHNICITY), upn, former, unknown, disabilities, episodes
        )
        last = episodes[-1]
        if dob is not None and last.closure is not None and last.reason == "RC7" and rng.chance(0.004):
            child.death, last.reason = last.closure, "RC2"
        return child

    def _upn(self, dob: dt.date) -> str:
        """A UPN's 12 digits, unique in the census (``children`` puts the check letter in front)."""
        rng = self.rng
        while True:
            body = upn_body(rng.choice(UPN_LA_NUMBERS), rng.choice(("2", "4")), dob, rng)
            if body not in self.upns:
                self.upns.add(body)
                return body

    def _disabilities(self) -> list[str]:
        """Mostly NONE; otherwise one to three codes, cycling the first so a return uses many (query 2887Q)."""
        rng = self.rng
        if rng.chance(0.8):
            return ["NONE"]
        first = _CIN_DISABILITIES[self.disabled % len(_CIN_DISABILITIES)]
        count = 2 if self.disabled % 3 == 1 else rng.choice((1, 1, 2, 3))
        self.disabled += 1
        codes = [first]
        while len(codes) < count:
            code = rng.choice(_CIN_DISABILITIES)
            if code not in codes:
                codes.append(code)
        return codes

    def _episodes(self, born: dt.date, unborn: bool) -> list[CinEpisode]:
        """One CIN episode, or an earlier closed one and a later one."""
        rng, start, ref = self.rng, self.start, self.ref
        earliest = max(start, born - 250 * DAY) if unborn else max(born, start - 3 * 365 * DAY)
        if not unborn and rng.chance(0.14) and born < start + 60 * DAY:
            first = self._episode(rng.date(max(start, born), start + 150 * DAY), short=True)
            closed = first.closure
            if closed is not None and closed + 20 * DAY < ref - 5 * DAY:
                second = self._episode(rng.date(closed + 14 * DAY, min(closed + 150 * DAY, ref - 5 * DAY)))
                return [first, second]
            return [first]
        if not unborn and rng.chance(0.3) and earliest < start - 30 * DAY:
            return [self._older_episode(rng.date(earliest, start - 30 * DAY))]
        return [self._episode(rng.date(max(earliest, start), ref - 2 * DAY))]

    def _new_episode(self, referral: dt.date) -> CinEpisode:
        return CinEpisode(referral, self.rng.pick(_CIN_SOURCES), self.rng.pick(_CIN_PRIMARY_NEED))

    def _close(self, episode: CinEpisode, reason: str, latest: int = 10) -> None:
        """Close after every recorded activity, if that is still inside the census year (rule 8565)."""
        when = max(episode.activity_dates()) + self.rng.randint(0, latest) * DAY
        if when <= self.ref and all(p.end is not None for p in episode.cin_plans + episode.cp_plans):
            episode.closure, episode.reason = when, reason

    def _factors(self, none_found: bool = False) -> list[str]:
        if none_found:
            return ["21"]
        count = self.rng.choice((1, 2, 2, 3, 3, 4))
        factors: list[str] = []
        while len(factors) < count:
            code = self.rng.pick(_CIN_FACTORS)
            if code not in factors:
                factors.append(code)
        return factors

    def _assessment(self, episode: CinEpisode, after: dt.date, none_found: bool = False) -> dt.date | None:
        """An assessment starting soon after ``after``; returns its authorisation date (None while open)."""
        rng, ref = self.rng, self.ref
        begin = min(add_weekdays(after, rng.randint(0, 3)), ref)
        end: dt.date | None = add_weekdays(begin, rng.randint(8, 40))
        if end is not None and end > ref:
            end = None if begin >= ref - 40 * DAY else weekday_on_or_before(ref)
            if end is not None and end < begin:
                end = begin
        episode.assessments.append((begin, end, self._factors(none_found) if end else []))
        return end

    def _cin_plan(self, episode: CinEpisode, start: dt.date) -> None:
        if start > self.ref:
            return
        end: dt.date | None = start + self.rng.randint(90, 360) * DAY
        episode.cin_plans.append(CinPlan(start, end if end is not None and end <= self.ref else None))

    def _cp_plan(self, episode: CinEpisode, start: dt.date, end_from: dt.date | None = None) -> CinPlan:
        rng, ref = self.rng, self.ref
        end: dt.date | None = start + rng.randint(100, 600) * DAY
        if end_from is not None:
            end = rng.date(end_from, ref - 5 * DAY) if rng.chance(0.55) else None
        if end is not None and end > ref:
            end = None
        initial = rng.pick(_CIN_ABUSE)
        latest = initial if rng.chance(0.8) else rng.pick(_CIN_ABUSE)
        plan = CinPlan(start, end, initial, latest, rng.choices((0, 1, 2), (80, 15, 5))[0])
        review = start + rng.randint(75, 89) * DAY
        while review <= ref and (end is None or review < end):
            if review >= self.start:
                plan.reviews.append(review)
            review += rng.randint(165, 182) * DAY
        episode.cp_plans.append(plan)
        return plan

    def _step_down(self, episode: CinEpisode, plan: CinPlan) -> None:
        """After a child protection plan: a CIN plan from the day it ended, or closure."""
        if plan.end is None:
            return
        if self.rng.chance(0.6):
            self._cin_plan(episode, plan.end)
        self._close(episode, self.rng.pick({"RC7": 80, "RC3": 5, "RC4": 5, "RC5": 10}))

    def _episode(self, referral: dt.date, short: bool = False) -> CinEpisode:
        """A referral in the census year and what followed it."""
        rng, ref = self.rng, self.ref
        episode = self._new_episode(referral)
        if (
            rng.chance(0.5 if short else 0.09) and referral >= self.start + 7 * DAY
        ):  # NFA: not in the first days (8569Q)
            episode.nfa, episode.need = True, None if rng.chance(0.5) else episode.need
            episode.closure, episode.reason = referral, "RC7"
            return episode
        route = "close" if short else rng.pick({"close": 35, "plan": 30, "s47": 22, "s47_nr": 13})
        if route in ("close", "plan"):
            none_found = route == "close" and rng.chance(0.4)
            authorised = self._assessment(episode, referral, none_found)
            if authorised is None:
                return episode
            if route == "close":
                self._close(episode, rng.pick({"RC8": 75, "RC9": 25}), latest=7)
                if episode.closure is None and none_found:
                    episode.assessments[-1] = (episode.assessments[-1][0], authorised, self._factors())
                return episode
            self._cin_plan(episode, authorised + rng.randint(1, 14) * DAY)
            if episode.cin_plans and episode.cin_plans[-1].end is not None:
                self._close(episode, rng.pick({"RC7": 80, "RC3": 5, "RC4": 5, "RC5": 10}), latest=5)
            return episode
        s47_start = min(add_weekdays(referral, rng.randint(0, 2)), ref)
        if route == "s47_nr":
            episode.section47.append((s47_start, None, None, True))
            authorised = self._assessment(episode, referral)
            if authorised is not None:
                if rng.chance(0.5):
                    self._cin_plan(episode, authorised + rng.randint(1, 14) * DAY)
                self._close(episode, "RC7")
            return episode
        target = add_weekdays(s47_start, 15)
        icpc: dt.date | None = add_weekdays(s47_start, rng.randint(6, 15))
        if icpc is not None and icpc > ref:
            # Not held by 31 March: the enquiry stays open only if it began in the last two weeks (8675Q).
            icpc = None if s47_start >= ref - 14 * DAY else weekday_on_or_before(ref)
        episode.section47.append((s47_start, target, icpc, False))
        authorised = self._assessment(episode, referral)
        if icpc is None:
            return episode
        if rng.chance(0.85):
            plan = self._cp_plan(episode, icpc)
            if authorised is not None:
                self._step_down(episode, plan)
        elif authorised is not None:
            if rng.chance(0.5):
                self._cin_plan(episode, max(authorised, icpc) + rng.randint(1, 10) * DAY)
            self._close(episode, "RC7")
        return episode

    def _older_episode(self, referral: dt.date) -> CinEpisode:
        """A case referred before the census year and still open at its start: on a plan, or about to close."""
        rng, start = self.rng, self.start
        episode = self._new_episode(referral)
        state = rng.pick({"cp": 40, "plan": 45, "none": 15})
        if state == "cp":
            plan = self._cp_plan(episode, rng.date(referral + 20 * DAY, start - DAY), end_from=start + 30 * DAY)
            self._step_down(episode, plan)
        elif state == "plan":
            begin = rng.date(referral + 10 * DAY, start - DAY)
            end = rng.date(start + 10 * DAY, self.ref - 5 * DAY) if rng.chance(0.55) else None
            episode.cin_plans.append(CinPlan(begin, end))
            if end is not None and rng.chance(0.7):
                self._close(episode, rng.pick({"RC7": 80, "RC3": 5, "RC4": 5, "RC5": 10}), latest=5)
        else:
            episode.closure, episode.reason = rng.date(start, self.ref - DAY), "RC7"
        return episode
