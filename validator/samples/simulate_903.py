"""SSDA903 children's care histories, simulated from one random stream.

Each child gets one care history, simulated from the start of a period of care (often years before the previous
collection year) to 31 March of the requested year. A history is a list of periods of care; a period is a list of
episodes that start on the day the previous one ended (RNE P, L, T, U or B) after a first episode with RNE S;
placements are shared objects, so an episode that only changes the legal status keeps the placement's code,
postcode, provider and URN, and a return from a temporary placement goes back to the very same placement.
"""

from __future__ import annotations

import datetime as dt

from .common import (
    DAY,
    ETHNICITY,
    FAR_POSTCODES,
    LA_NUMBER,
    NEAR_POSTCODES,
    OWN_POSTCODES,
    UASC_ETHNICITY,
    UPN_LA_NUMBERS,
    Rand,
    add_years,
    dmy,
    upn_body,
    with_check_letters,
)
from .model_903 import Adoption, Child, Episode, Period, Placement, Year

# Child kinds and their share of a return.
_KINDS_903 = {
    "long": 34,
    "prev_start": 17,
    "new": 22,
    "adoption": 5,
    "uasc": 5,
    "respite": 3,
    "leaver19": 7,
    "leaver17": 2,
}
_CIN_NEED = {"N1": 60, "N2": 5, "N3": 4, "N4": 9, "N5": 15, "N6": 2, "N7": 1, "N8": 4}
_FOSTER_LONG = {"U6": "U4", "U3": "U1"}  # short-term -> long-term with the same carers
_PLACEMENT_MOVE_REASONS = {
    "CARPL": 40,
    "CREQB": 12,
    "CREQO": 10,
    "CHILD": 8,
    "LAREQ": 8,
    "CLOSE": 4,
    "STAND": 3,
    "ALLEG": 3,
    "APPRR": 2,
    "OTHER": 10,
}
_SW_REASONS = {
    "MANAGE": 15,
    "LEFTRL": 35,
    "ORGRST": 8,
    "TSPROC": 20,
    "ABSENC": 6,
    "CHCHAN": 3,
    "PCCHAN": 3,
    "OTHERS": 10,
}
_PARTICIPATION = {"PN1": 35, "PN2": 15, "PN3": 15, "PN4": 10, "PN5": 10, "PN6": 5, "PN7": 10}


class Simulator903:
    """Builds children's care histories from one random stream."""

    def __init__(self, rng: Rand, current: Year, previous: Year) -> None:
        self.rng = rng
        self.cur = current
        self.prev = previous
        self.upns: set[str] = set()
        self.social_workers = [f"SW99{rng.randint(10000, 99999)}" for _ in range(60)]
        urn = self._urn
        self.la_fostering = urn()
        self.la_adoption = urn()
        self.agencies = [(urn(), rng.choice(("PR4", "PR4", "PR5"))) for _ in range(6)]
        self.adoption_agencies = [(urn(), "PR5") for _ in range(2)] + [(self.la_adoption, "PR1")] * 3
        # (URN, provider, postcode) of the homes, supported accommodation and schools children are placed in.
        self.homes = self._providers(
            [("PR1", OWN_POSTCODES)] * 3
            + [("PR4", OWN_POSTCODES)] * 3
            + [("PR4", NEAR_POSTCODES)] * 4
            + [("PR5", NEAR_POSTCODES)] * 2
            + [("PR4", FAR_POSTCODES)] * 2,
        )
        self.semi = self._providers(
            [("PR1", OWN_POSTCODES)] * 2
            + [("PR4", OWN_POSTCODES)] * 2
            + [("PR4", NEAR_POSTCODES)] * 3
            + [("PR5", NEAR_POSTCODES)],
        )
        self.secure = self._providers([("PR2", NEAR_POSTCODES), ("PR2", FAR_POSTCODES)])
        self.schools = self._providers([("PR4", FAR_POSTCODES), ("PR5", NEAR_POSTCODES), ("PR4", NEAR_POSTCODES)])
        self.family_centres = self._providers([("PR4", NEAR_POSTCODES)])

    def _urn(self) -> str:
        """An invented seven-digit Ofsted URN."""
        return str(self.rng.randint(2_900_000, 2_999_999))

    def _providers(self, specs: list[tuple[str, tuple[str, ...]]]) -> list[tuple[str, str, str]]:
        """(URN, provider, postcode) for each (provider, postcodes to choose from) in ``specs``."""
        return [(self._urn(), provider, self.rng.choice(posts)) for provider, posts in specs]

    # --- the child ---------------------------------------------------------------------------------------------

    def children(self, ids: list[int]) -> list[Child]:
        """The return's children in the order of ``ids``: UPNs with their check letters, place codes resolved."""
        children = [self.child(str(i)) for i in ids]
        numbered = [c for c in children if c.upn.isdigit()]
        for child, upn in zip(numbered, with_check_letters([c.upn for c in numbered]), strict=True):
            child.upn = upn
        self.resolve_places(children)
        return children

    def child(self, child_id: str) -> Child:
        """One child of the current year's return, with a history consistent across both years."""
        rng = self.rng
        kind = rng.pick(_KINDS_903)
        build = {
            "long": self._long,
            "prev_start": self._prev_start,
            "new": self._new,
            "adoption": self._adoption,
            "uasc": self._uasc,
            "respite": self._respite,
            "leaver19": self._leaver19,
            "leaver17": self._leaver17,
        }
        child = build[kind](child_id)
        child.upn = self._upn(child)
        for period in child.periods:
            self._reviews(child, period)
        grown = add_years(child.dob, 15) < self.prev.start
        if child.sex == "F" and kind in ("long", "prev_start", "new") and grown and rng.chance(0.05):
            child.mc_dob = rng.date(add_years(child.dob, 14) + 200 * DAY, self.prev.start - 30 * DAY)
        self._social_workers(child)
        if self.cur.dolo:
            self._dolo(child)
        return child

    def _person(self, child_id: str, kind: str, dob: dt.date, uasc: bool = False) -> Child:
        rng = self.rng
        if (dob.month, dob.day) == (3, 31):
            dob -= DAY  # an 18th birthday on 31 March would end care on the last day of a year (OC2 edge)
        sex = ("M" if rng.chance(0.9) else "F") if uasc else ("M" if rng.chance(0.55) else "F")
        ethnic = rng.pick(UASC_ETHNICITY if uasc else ETHNICITY)
        return Child(child_id, sex, dob, ethnic, "", kind, uasc=uasc)

    def _dob_for_age(self, at: dt.date, min_days: int, max_days: int) -> dt.date:
        return at - dt.timedelta(days=self.rng.randint(min_days, max_days))

    def _age_days(self) -> int:
        """Age of a looked-after child, in days, weighted towards teenagers."""
        band = self.rng.choices((0, 1, 5, 10, 16), (5, 13, 18, 39, 25))[0]
        width = {0: 1, 1: 4, 5: 5, 10: 6, 16: 2}[band]
        return self.rng.randint(band * 365 + 10, (band + width) * 365 - 10)

    def _long(self, child_id: str) -> Child:
        """In care since before last year began; most still are on 31 March."""
        rng, cur, prev = self.rng, self.cur, self.prev
        dob = cur.start - dt.timedelta(days=max(2 * 365 + 30, self._age_days()))
        child = self._person(child_id, "long", dob)
        start = rng.date(max(dob, prev.start - 8 * 365 * DAY), prev.start - DAY)
        end, at18 = self._planned_end(child, start, cur.start, 0.18)
        child.periods.append(self._period(child, start, end, at18))
        return child

    def _prev_start(self, child_id: str) -> Child:
        """Started to be looked after during last year."""
        rng, cur, prev = self.rng, self.cur, self.prev
        start = rng.date(prev.start, prev.end)
        oldest = (start - add_years(cur.start, -18)).days - 30  # still under 18 when this year starts
        dob = self._dob_for_age(start, 0, min(self._age_days(), oldest))
        child = self._person(child_id, "prev_start", dob)
        end, at18 = self._planned_end(child, start, cur.start, 0.3)
        child.periods.append(self._period(child, start, end, at18, prev_perm=self._prev_perm(child, start)))
        return child

    def _new(self, child_id: str) -> Child:
        """Started to be looked after this year."""
        rng, cur = self.rng, self.cur
        start = rng.date(cur.start, cur.end - 2 * DAY)
        dob = self._dob_for_age(start, 0, min(self._age_days(), 18 * 365 - 20))
        child = self._person(child_id, "new", dob)
        end, at18 = self._planned_end(child, start, start + 7 * DAY, 0.3)
        child.periods.append(self._period(child, start, end, at18, prev_perm=self._prev_perm(child, start)))
        return child

    def _planned_end(
        self, child: Child, start: dt.date, earliest: dt.date, leave: float
    ) -> tuple[dt.date | None, bool]:
        """When the period ends: on the 18th birthday if that comes by 31 March, else maybe during this year."""
        cur = self.cur
        eighteen = add_years(child.dob, 18)
        if eighteen <= cur.end:
            return max(eighteen, start + DAY), True
        if self.rng.chance(leave) and earliest + 7 * DAY < cur.end - DAY:
            return self.rng.date(max(earliest, start + 7 * DAY), cur.end - 2 * DAY), False
        return None, False

    def _prev_perm(self, child: Child, start: dt.date) -> tuple[str, str, str]:
        """Previous permanence before this period: mostly none (Z1); sometimes an old SGO, CAO or adoption."""
        rng = self.rng
        if rng.chance(0.88) or start - child.dob < 3 * 365 * DAY:
            return ("Z1", "", "")
        option = rng.choice(("P1", "P2", "P2", "P3", "P3"))
        when = rng.date(child.dob + 400 * DAY, start - 200 * DAY)
        la = LA_NUMBER if rng.chance(0.6) else rng.choice(("313", "314", "212", "330", "873", "936"))
        if rng.chance(0.2):
            return (option, la, f"ZZ/{when.month:02d}/{when.year}")
        return (option, la, dmy(when))

    # --- periods of care ----------------------------------------------------------------------------------------

    def _period(
        self,
        child: Child,
        start: dt.date,
        end: dt.date | None,
        at18: bool,
        prev_perm: tuple[str, str, str] = ("Z1", "", ""),
        home: str | None = None,
    ) -> Period:
        """Episodes from ``start`` to ``end`` (or past 31 March), changing placement and legal status."""
        rng = self.rng
        stop = end if end is not None else self.cur.end + DAY
        cin = "N8" if child.uasc else rng.pick(_CIN_NEED)
        if home is None:
            home = "" if child.uasc else (rng.choice(OWN_POSTCODES) if rng.chance(0.93) else rng.choice(NEAR_POSTCODES))
        ls, plan = self._legal_statuses(child, start)
        placement = self._placement(child, start, ls, home, None)
        episodes = [Episode(start, "S", ls, cin, placement, home)]
        move = start + self._stay(placement)
        had_temporary = False
        while True:
            since = episodes[-1].decom  # every episode lasts at least a day (rule 355)
            if plan and plan[0][0] <= since:
                plan[0] = (since + rng.randint(1, 5) * DAY, plan[0][1])
            if move <= since:
                move = since + rng.randint(1, 5) * DAY
            change = plan[0][0] if plan else None
            when = move if change is None else min(move, change)
            if when >= stop:
                break
            last = episodes[-1]
            last.dec, last.rec = when, "X1"
            if change is not None and change <= move:
                ls = plan.pop(0)[1]
                if rng.chance(0.1) and placement.kind != "parents":
                    new = self._placement(child, when, ls, home, placement)
                    same_carers = new.post == placement.post
                    last.rpc = "PLACE" if same_carers else rng.pick(_PLACEMENT_MOVE_REASONS)
                    episodes.append(Episode(when, "U" if same_carers else "B", ls, cin, new, home))
                    placement = new
                    move = when + self._stay(placement)
                else:
                    episodes.append(Episode(when, "L", ls, cin, placement, home))
                continue
            days = rng.randint(2, 7)
            back = when + days * DAY
            if (
                not had_temporary
                and rng.chance(0.12)
                and placement.kind != "parents"
                and ls[0] != "L"
                and back < stop
                and (change is None or back < change)
            ):
                had_temporary = True
                temporary = Placement("temp", rng.choice(("T1", "T3", "T4", "T4")), "", self._post(home))
                episodes.append(Episode(when, "P", ls, cin, temporary, home, dec=back, rec="X1"))
                episodes.append(Episode(back, "P", ls, cin, placement, home))
                move = back + self._stay(placement) // 2
                continue
            new = self._placement(child, when, ls, home, placement)
            same_carers = new.post == placement.post and new.kind != "parents"
            last.rpc = "PLACE" if same_carers else rng.pick(_PLACEMENT_MOVE_REASONS)
            episodes.append(Episode(when, "T" if same_carers else "P", ls, cin, new, home))
            placement = new
            move = when + self._stay(placement)
        if end is not None and end <= self.cur.end:
            last = episodes[-1]
            last.dec, last.rec = end, self._reason_ceased(child, last, end, at18)
        return Period(episodes, prev_perm)

    def _legal_statuses(self, child: Child, start: dt.date) -> tuple[str, list[tuple[dt.date, str]]]:
        """The first legal status and the planned changes after it (police protection, EPO, interim order...)."""
        rng = self.rng
        if child.uasc:
            return "V2", []
        age = (start - child.dob).days / 365.25
        weights = (
            {"C2": 55, "V2": 25, "L1": 8, "L2": 12}
            if age < 5
            else ({"C2": 40, "V2": 42, "L1": 10, "L2": 8} if age < 13 else {"C2": 25, "V2": 62, "L1": 10, "L2": 3})
        )
        first = rng.pick(weights)
        plan: list[tuple[dt.date, str]] = []
        when, ls = start, first
        if ls in ("L1", "L2"):
            when += dt.timedelta(days=rng.randint(1, 3) if ls == "L1" else rng.randint(5, 21))
            ls = "C2" if ls == "L2" or rng.chance(0.6) else "V2"
            plan.append((when, ls))
        if ls == "V2" and rng.chance(0.15):
            when += dt.timedelta(days=rng.randint(60, 400))
            ls = "C2"
            plan.append((when, ls))
        if ls == "C2":
            plan.append((when + dt.timedelta(days=rng.randint(90, 300)), "C1"))
        return first, plan

    def _stay(self, placement: Placement) -> dt.timedelta:
        mean = {
            "foster": 380,
            "kin": 450,
            "parents": 240,
            "home": 300,
            "semi": 280,
            "secure": 120,
            "school": 400,
            "health": 40,
            "family_centre": 90,
        }.get(placement.kind, 300)
        if placement.place in ("U1", "U4"):
            mean = 900
        return dt.timedelta(days=max(10, int(self.rng.expovariate(1 / mean))))

    def _post(self, avoid: str, own: float = 0.6) -> str:
        """A placement postcode different from the home postcode (rule 392d)."""
        rng = self.rng
        while True:
            post = rng.choice(OWN_POSTCODES) if rng.chance(own) else rng.choice(NEAR_POSTCODES)
            if post != avoid:
                return post

    def _placement(self, child: Child, when: dt.date, ls: str, home: str, previous: Placement | None) -> Placement:
        """A new placement suited to the child's age and legal status, different from ``previous``."""
        rng = self.rng
        if previous is not None and previous.place in _FOSTER_LONG and rng.chance(0.25):
            long_term = _FOSTER_LONG[previous.place]
            return Placement(previous.kind, long_term, previous.provider, previous.post, previous.urn)
        age = (when - child.dob).days / 365.25
        if child.uasc:
            weights = {"foster": 60, "home": 40} if age < 16 else {"foster": 30, "home": 20, "semi": 50}
        elif age < 5:
            weights = {"foster": 55, "kin": 25, "parents": 6, "family_centre": 2 if age < 1 else 0}
        elif age < 12:
            weights = {"foster": 55, "kin": 18, "home": 8, "parents": 6, "school": 2}
        elif age < 16:
            weights = {"foster": 42, "kin": 12, "home": 28, "parents": 5, "school": 3, "secure": 2, "health": 1}
        else:
            weights = {"foster": 28, "kin": 8, "home": 20, "semi": 35, "parents": 4, "health": 1}
        if ls not in ("C1", "C2"):
            weights.pop("parents", None)  # P1 with V2 is rule 378; nobody is placed with parents under L1/L2
            weights.pop("secure", None)
        for _ in range(20):
            placement = self._make_placement(rng.pick(weights), home)
            if previous is None or (placement.place, placement.post, placement.urn, placement.provider) != (
                previous.place,
                previous.post,
                previous.urn,
                previous.provider,
            ):
                return placement
        return self._make_placement("foster", home)

    def _make_placement(self, kind: str, home: str) -> Placement:
        rng = self.rng
        if kind in ("foster", "kin"):
            place = rng.choice(("U6", "U6", "U6", "U4", "U5")) if kind == "foster" else rng.choice(("U3", "U3", "U1"))
            if rng.chance(0.7):
                return Placement(kind, place, "PR1", self._post(home), self.la_fostering)
            urn, provider = rng.choice(self.agencies)
            return Placement(kind, place, provider, self._post(home, own=0.4), urn)
        if kind == "parents":
            return Placement(kind, "P1", "PR0", home)
        if kind == "health":
            return Placement(kind, "R2", "PR3", self._post(home, own=0.3))
        pool = {
            "home": self.homes,
            "semi": self.semi,
            "secure": self.secure,
            "school": self.schools,
            "family_centre": self.family_centres,
        }[kind]
        choices = [entry for entry in pool if entry[2] != home]
        if not choices:
            return self._make_placement("foster", home)
        urn, provider, post = rng.choice(choices)
        place = {"home": "K2", "semi": "SEMI", "secure": "K1", "school": "S1", "family_centre": "R3"}[kind]
        return Placement(kind, place, provider, post, urn)

    def _reason_ceased(self, child: Child, episode: Episode, end: dt.date, at18: bool) -> str:
        """Why the period ended, fitting the placement and the age (rules 386, 387, 389, 460, 516)."""
        rng = self.rng
        place = episode.placement.place
        foster = place.startswith("U")
        if at18:
            if foster:
                return rng.pick({"E17": 45, "E5": 25, "E8": 30})
            if place == "P1":
                return "E8"
            return rng.pick({"E5": 45, "E6": 15, "E8": 30, "E7": 10})
        age = (end - child.dob).days / 365.25
        if place == "P1":
            return rng.pick({"E4A": 70, "E41": 15, "E13": 15})
        if foster:
            sgo = "E45" if place in ("U1", "U2", "U3") else "E46"
            return rng.pick({"E4A": 35, "E13": 12, "E41": 10, sgo: 14, "E3": 4, "E4B": 4, "E8": 5})
        reasons = {"E4A": 50, "E13": 20, "E3": 8, "E4B": 8, "E8": 10}
        if age >= 16:
            reasons.update({"E5": 10, "E6": 4})
        if age >= 12:
            reasons["E9"] = 2
        return rng.pick(reasons)

    # --- other kinds of child -------------------------------------------------------------------------------------

    def _adoption(self, child_id: str) -> Child:
        """Placed for adoption: adopted this year, or still placed with the adopters on 31 March."""
        rng, cur = self.rng, self.cur
        adopted = rng.date(cur.start + 20 * DAY, cur.end - 20 * DAY) if rng.chance(0.65) else None
        placed = adopted - rng.randint(70, 300) * DAY if adopted else rng.date(cur.start, cur.end - 20 * DAY)
        matched = placed - rng.randint(7, 45) * DAY
        order = matched - rng.randint(20, 120) * DAY
        decision = order - rng.randint(30, 120) * DAY
        care_order = decision - rng.randint(20, 90) * DAY
        start = care_order - rng.randint(120, 300) * DAY
        child = self._person(child_id, "adoption", start - rng.randint(0, 700) * DAY)
        cin = rng.pick({"N1": 85, "N3": 5, "N4": 5, "N5": 5})
        home = rng.choice(OWN_POSTCODES)
        same_carers = rng.chance(0.35)
        foster = Placement(
            "foster", "U5" if same_carers else rng.choice(("U6", "U3")), "PR1", self._post(home), self.la_fostering
        )
        episodes = [Episode(start, "S", "C2", cin, foster, home)]
        if rng.chance(0.3) and care_order - start > 60 * DAY:
            moved = rng.date(start + 30 * DAY, care_order - 20 * DAY)
            first = foster
            foster = Placement("foster", "U5" if same_carers else "U6", "PR1", self._post(home), self.la_fostering)
            while foster.post == first.post:
                foster.post = self._post(home)
            episodes[-1].dec, episodes[-1].rec, episodes[-1].rpc = moved, "X1", "CARPL"
            episodes.append(Episode(moved, "P", "C2", cin, foster, home))
        for when, ls in ((care_order, "C1"), (order, "E1")):
            episodes[-1].dec, episodes[-1].rec = when, "X1"
            episodes.append(Episode(when, "L", ls, cin, foster, home))
        if same_carers:
            adopters = Placement("adoption", "A5", "PR1", foster.post, self.la_adoption)
        else:
            urn, provider = rng.choice(self.adoption_agencies)
            adopters = Placement("adoption", "A6", provider, self._post(home, own=0.4), urn)
        episodes[-1].dec, episodes[-1].rec, episodes[-1].rpc = placed, "X1", "PLACE" if same_carers else "CARPL"
        episodes.append(Episode(placed, "T" if same_carers else "P", "E1", cin, adopters, home))
        if adopted:
            episodes[-1].dec, episodes[-1].rec = adopted, rng.pick({"E11": 70, "E12": 30})
        child.periods.append(Period(episodes, self._prev_perm(child, start)))
        nb, sex, status = rng.choice(
            (
                ("2", "MF", "L11"),
                ("2", "MF", "L11"),
                ("2", "MF", "L3"),
                ("2", "FF", "L12"),
                ("2", "MM", "L2"),
                ("2", "FF", "L4"),
                ("1", "F1", "L0"),
                ("1", "M1", "L0"),
            )
        )
        child.adoption = Adoption(decision, matched, "1" if same_carers else "0", adopted, (nb, sex, status))
        return child

    def _uasc(self, child_id: str) -> Child:
        """An unaccompanied asylum-seeking child, arrived aged 14-17, accommodated under section 20."""
        rng, cur, prev = self.rng, self.cur, self.prev
        start = rng.date(prev.start, prev.end) if rng.chance(0.5) else rng.date(cur.start, cur.end - 10 * DAY)
        oldest = min(17 * 365 + 200, (start - add_years(cur.start, -18)).days - 30)
        dob = min(self._dob_for_age(start, 14 * 365 + 10, oldest), add_years(start, -14))
        child = self._person(child_id, "uasc", dob, uasc=True)
        end, at18 = self._planned_end(child, start, max(start, cur.start), 0.05)
        child.periods.append(self._period(child, start, end, at18, prev_perm=("Z1", "", "")))
        return child

    def _respite(self, child_id: str) -> Child:
        """A disabled child who has only short breaks (V3): several short episodes in each year."""
        rng = self.rng
        child = self._person(child_id, "respite", self._dob_for_age(self.cur.start, 5 * 365, 16 * 365))
        provider, urn = ("PR1", "") if rng.chance(0.6) else ("PR4", "")
        place = rng.choice(("U6", "K2"))
        for year in (self.prev, self.cur):
            when = year.start + rng.randint(5, 60) * DAY
            while when + 8 * DAY < year.end:
                back = when + rng.randint(2, 5) * DAY
                stay = Placement("respite", place, provider, "", urn)
                episode = Episode(when, "S", "V3", "N2", stay, "", dec=back, rec="E4A")
                child.periods.append(Period([episode], ("Z1", "", ""), respite=True))
                when = back + rng.randint(25, 90) * DAY
        return child

    def _leaver19(self, child_id: str) -> Child:
        """Left care on the 18th birthday during last year; a care leaver (OC3) turning 19 this year."""
        rng, prev = self.rng, self.prev
        eighteen = rng.date(prev.start + 100 * DAY, prev.end - 15 * DAY)  # 91+ days in care in last year (1001)
        dob = add_years(eighteen, -18)
        child = self._person(child_id, "leaver19", dob)
        start = rng.date(add_years(dob, 12), min(add_years(dob, 17), prev.start - DAY))
        child.periods.append(self._period(child, start, eighteen, True))
        child.oc3 = self._oc3(child, seventeen=False)
        return child

    def _leaver17(self, child_id: str) -> Child:
        """Left care after 16 and before 17; a care leaver (OC3) whose 17th birthday falls this year."""
        rng, cur = self.rng, self.cur
        seventeen = rng.date(cur.start + 120 * DAY, cur.end - 5 * DAY)
        dob = add_years(seventeen, -17)
        sixteen = add_years(dob, 16)
        child = self._person(child_id, "leaver17", dob)
        start = rng.date(sixteen - 400 * DAY, sixteen - 100 * DAY)
        end = rng.date(sixteen + 100 * DAY, seventeen - 10 * DAY)
        period = self._period(child, start, end, False)
        period.episodes[-1].rec = rng.pick({"E4A": 60, "E13": 40})
        child.periods.append(period)
        child.oc3 = self._oc3(child, seventeen=True)
        return child

    def _oc3(self, child: Child, seventeen: bool) -> tuple[str, str, str]:
        """IN_TOUCH, ACTIV, ACCOM: in touch with an activity and accommodation, or codes 0 (rules 344, 345)."""
        rng = self.rng
        in_touch = rng.pick({"YES": 80, "NO": 7, "REFU": 4, "NREQ": 4, "RHOM": 5})
        if in_touch != "YES":
            return in_touch, "0", "0"
        activity = rng.pick(
            {"F1": 20, "P1": 8, "F2": 15, "P2": 5, "F4": 4, "F5": 6, "P5": 3, "G4": 12, "G5": 5, "G6": 22}
        )
        accommodation = {
            "B1": 10,
            "C1": 8,
            "D1": 10,
            "E1": 8,
            "G1": 10,
            "H1": 6,
            "K1": 4,
            "R1": 12,
            "S2": 4,
            "T1": 5,
            "U1": 8,
            "V1": 3,
            "W1": 2,
            "Y1": 4,
            "B2": 1,
            "E2": 1,
            "R2": 1,
        }
        if seventeen:
            del accommodation["T1"]  # a Foyer is not for care leavers under 18 (rule 347)
        elif child.periods and child.periods[-1].episodes[-1].rec == "E17":
            accommodation = {"Z1": 1}  # stayed with the former foster carers (rule 3001 applies to 17-year-olds only)
        return in_touch, activity, rng.pick(accommodation)

    # --- identifiers, social workers, DoLO --------------------------------------------------------------------------

    def _upn(self, child: Child) -> str:
        """A UPN's 12 digits, unique in the return (``finish`` puts the check letter in front); or UN2/UN3/UN5
        for a few children."""
        rng = self.rng
        if rng.chance(0.6 if child.uasc else 0.04):
            return rng.choice(("UN2", "UN3", "UN5"))
        while True:
            school = rng.choice(("2", "4"))
            body = upn_body(rng.choice(UPN_LA_NUMBERS), school, child.dob, rng)
            if body not in self.upns:
                self.upns.add(body)
                return body

    def _social_workers(self, child: Child) -> None:
        """A chain of social worker episodes for children looked after on a 31 March (from 2023_24)."""
        rng = self.rng
        ends = [y.end for y in (self.prev, self.cur) if y.social_workers and child.looked_after_on(y.end)]
        if not ends:
            return
        period = next(p for p in child.periods if p.start <= ends[0] and (p.end is None or p.end > ends[0]))
        when = period.start - rng.randint(0, 150) * DAY
        # Known to a social worker since before the year of that 31 March too (SW12STG2 asks for the whole year,
        # even before care), but not before birth: the first social worker's episode reaches back that far.
        year_start = self.prev.start if ends[0] == self.prev.end else self.cur.start
        known_from = max(min(when, year_start - (period.start - when)), child.dob)
        reason = "FCONTA"
        while when <= self.cur.end:
            until: dt.date | None = when + rng.randint(90, 600) * DAY
            for year_end in (self.prev.end, self.cur.end):
                if until is not None and year_end - 6 * DAY <= until <= year_end:
                    until = year_end + 3 * DAY  # not in the last days of a year (rule SW11b)
            if until is not None and until > self.cur.end:
                until = None
            child.social_workers.append((rng.choice(self.social_workers), when, until, reason))
            if until is None:
                break
            when, reason = until, rng.pick(_SW_REASONS)
        first_id, _, first_until, first_reason = child.social_workers[0]
        child.social_workers[0] = (first_id, known_from, first_until, first_reason)

    def _reviews(self, child: Child, period: Period) -> None:
        """Statutory reviews: within 20 working days of entry, 3 months later, then every 6 months."""
        rng = self.rng
        if period.respite:
            return
        four = add_years(child.dob, 4)
        review = period.start + rng.randint(14, 27) * DAY
        gap = rng.randint(80, 90)
        while review <= self.cur.end and (period.end is None or review <= period.end):
            if review >= self.prev.start:
                code = "PN0" if review < four else rng.pick(_PARTICIPATION)
                period.reviews.append((review, code))
            review += gap * DAY
            gap = rng.randint(165, 182)

    def _dolo(self, child: Child) -> None:
        """A deprivation of liberty order during a children's home (K2) placement, for a few children."""
        rng, cur = self.rng, self.cur
        if (cur.end - child.dob).days < 10 * 365 or not rng.chance(0.3):
            return
        for period in child.periods:
            runs: list[list[Episode]] = []
            for episode in period.episodes:
                if runs and runs[-1][-1].placement is episode.placement:
                    runs[-1].append(episode)
                else:
                    runs.append([episode])
            for run in runs:
                placement = run[0].placement
                first, last = max(run[0].decom, cur.start), run[-1].dec
                until = cur.end if last is None else min(last, cur.end)
                if placement.place != "K2" or until - first < 45 * DAY or run[0].decom > cur.end:
                    continue
                start = first + rng.randint(1, 10) * DAY
                if last is None and rng.chance(0.5):
                    child.dolo = (start, None)
                else:
                    child.dolo = (start, start + rng.randint(20, (until - start).days - 1) * DAY)
                return

    # --- place codes that depend on the year ------------------------------------------------------------------------

    def resolve_places(self, children: list[Child]) -> None:
        """Supported accommodation: K3 where every year it appears in knows K3, else H5, else K2 (see rule 222/230)."""
        seen: dict[int, tuple[Placement, set[str]]] = {}
        for child in children:
            for episode in child.episodes():
                placement = episode.placement
                if placement.place != "SEMI":
                    continue
                entry = seen.setdefault(id(placement), (placement, set()))
                for year in (self.prev, self.cur):
                    if year.overlaps(episode.decom, episode.dec):
                        entry[1].add(year.name)
        years = {self.prev.name: self.prev, self.cur.name: self.cur}
        for placement, names in seen.values():
            lists = [years[n].place_codes for n in sorted(names)] or [self.cur.place_codes]
            if all("K3" in codes for codes in lists):
                placement.place = "K3"
            elif all("H5" in codes for codes in lists) and not ("2022_23" in names and len(names) > 1):
                placement.place = "H5"
                if names == {"2022_23"}:
                    placement.urn = ""  # 2022_23 forbids a URN on H5 (rule 222)
            else:
                placement.place = "K2"
