"""Seeded synthetic returns (SSDA903 and the CIN census) for demos, tests and benchmarks.

Everything is invented: child ids, UPNs, dates, social worker ids and Ofsted URNs. No record describes a real
person. Postcodes are drawn from a short fixed list of real postcodes (areas, not anyone's address) in and
around one London borough, so that the fields the validator derives from them (placement LA, location and
distance) can be worked out; validate the samples with ``--la E09000027`` (that borough's code).

The same arguments give byte-identical files: one ``random.Random`` per purpose, seeded from the seed and the
return, no clock, no set iteration. The clean data does not depend on ``errors`` or ``previous``: injected
mistakes are drawn from their own random stream after the clean tables are built, and the previous year is
simulated (as part of each child's history) whether or not it is written.

How the SSDA903 data is kept consistent: each child gets one care history, simulated day by day from the
start of a period of care (often years before the previous collection year) to 31 March of the requested
year. A history is a list of periods of care; a period is a list of episodes that start on the day the
previous one ended (RNE P, L, T, U or B) after a first episode with RNE S; placements are shared objects, so
an episode that only changes the legal status keeps the placement's code, postcode, provider and URN, and a
return from a temporary placement goes back to the very same placement. Each year's tables are then cut from
that history (episodes open on 31 March are written open, with no end date, reason or placement-change
reason), so the previous year's open episode reappears unchanged as this year's first episode. Reviews,
OC2, OC3, adoption, previous permanence, missing, social worker and DoLO records are derived from the same
history. The CIN census is generated per child from a referral date forward (assessment, section 47,
child protection plan, CIN plan, closure), each date built on the previous one and kept inside the census
year where DfE requires it.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .codelists import codes_for
from .schema import load_schema
from .years import SUPPORTED_YEARS, check_year, collection_end, collection_start

DAY = dt.timedelta(days=1)

# The borough the samples pretend to come from (its ONS code, its old three-digit LA number).
LA_CODE = "E09000027"
LA_NUMBER = "318"

# Real postcodes (areas, not addresses): in the borough, in three neighbouring boroughs, and further away.
OWN_POSTCODES = (
    "SW13 0WA",
    "SW13 8QZ",
    "SW13 9NU",
    "SW13 9NZ",
    "SW13 9SE",
    "SW14 7JB",
    "TW1 1BN",
    "TW1 1FF",
    "TW1 1JT",
    "TW1 2WU",
    "TW1 3AN",
    "TW1 4BZ",
    "TW1 4HG",
    "TW1 4LA",
    "TW10 6DH",
    "TW10 6HB",
    "TW10 6UF",
    "TW10 6XB",
    "TW11 0AZ",
    "TW11 0RX",
    "TW11 8DZ",
    "TW11 9SR",
    "TW12 1EG",
    "TW12 2XZ",
    "TW12 3DQ",
    "TW12 3WZ",
    "TW2 6HZ",
    "TW2 6WE",
    "TW9 2UG",
    "TW9 4LQ",
)
NEAR_POSTCODES = (
    "TW13 5LH",
    "TW2 5WY",
    "TW3 4EL",
    "TW4 5EJ",
    "TW7 4AQ",
    "TW8 0BS",
    "TW8 8FJ",
    "TW8 9AP",
    "KT1 9NF",
    "KT2 5HW",
    "KT2 6EN",
    "KT3 6AH",
    "KT6 4DE",
    "KT6 4SF",
    "KT9 1AJ",
    "SW15 3PS",
    "SW11 9PZ",
    "SW15 1PW",
    "SW15 2RB",
    "SW16 6DR",
    "SW17 0HA",
    "SW17 9SL",
    "SW18 1FD",
    "SW19 5LP",
)
FAR_POSTCODES = ("B12 0PS", "B15 2AZ", "B28 8JJ", "B3 2PW", "B31 4EG", "B42 9GZ", "B5 4UG", "B5 7YN")

# Three-digit LA numbers used in UPNs (the borough, its neighbours, one further away).
UPN_LA_NUMBERS = (LA_NUMBER,) * 6 + ("313", "314", "212", "330")
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"

ETHNICITY = {
    "WBRI": 52,
    "WIRI": 1,
    "WOTH": 6,
    "WIRT": 1,
    "WROM": 1,
    "MWBC": 4,
    "MWBA": 2,
    "MWAS": 2,
    "MOTH": 4,
    "AIND": 2,
    "APKN": 2,
    "ABAN": 1,
    "AOTH": 3,
    "BCRB": 3,
    "BAFR": 6,
    "BOTH": 3,
    "CHNE": 1,
    "OOTH": 4,
    "REFU": 1,
    "NOBT": 1,
}
UASC_ETHNICITY = {"OOTH": 25, "AOTH": 20, "BAFR": 30, "BOTH": 10, "WOTH": 10, "MOTH": 5}

_SSDA903 = load_schema("ssda903")
_RETURN_TABLES = {name: table for name, table in _SSDA903.tables.items() if table.in_return}
SSDA903_FILES = {name: table.file or f"{name.lower()}.csv" for name, table in _RETURN_TABLES.items()}
SSDA903_COLUMNS = {name: table.csv_columns for name, table in _RETURN_TABLES.items()}
INJECTED_COLUMNS = ("child", "table", "field", "error", "original", "injected", "description")

Row = list[str]
Tables = dict[str, list[Row]]


# --- small helpers ---------------------------------------------------------------------------------------------

_DMY: dict[dt.date, str] = {}


def dmy(day: dt.date | None) -> str:
    """dd/mm/yyyy, or '' for no date (cached: the same dates recur across millions of cells)."""
    if day is None:
        return ""
    text = _DMY.get(day)
    if text is None:
        text = _DMY[day] = f"{day.day:02d}/{day.month:02d}/{day.year}"
    return text


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_working_days(day: dt.date, count: int) -> dt.date:
    """``count`` weekdays after ``day`` (bank holidays are not skipped)."""
    while count > 0:
        day += DAY
        if day.weekday() < 5:
            count -= 1
    return day


def weekday_on_or_before(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day -= DAY
    return day


def upn_check_letter(digits: str) -> str:
    """DfE's UPN check letter for the 12 characters after it: sum of digit x position (2..13), mod 23."""
    return UPN_LETTERS[sum(int(c) * i for i, c in enumerate(digits, start=2)) % 23]


def previous_year(year: str) -> str:
    first = int(year[:4]) - 1
    return f"{first}_{(first + 1) % 100:02d}"


class _Rand(random.Random):
    """random.Random with the few draws the generators use."""

    def date(self, first: dt.date, last: dt.date) -> dt.date:
        """A day from ``first`` to ``last`` inclusive (``first`` when the range is empty)."""
        span = (last - first).days
        return first + dt.timedelta(days=self.randint(0, span)) if span > 0 else first

    def pick(self, weights: dict[str, float]) -> str:
        """A key of ``weights``, drawn in proportion to its value."""
        left = self.random() * sum(weights.values())
        for key, weight in weights.items():
            left -= weight
            if left < 0:
                return key
        return key

    def chance(self, p: float) -> bool:
        return self.random() < p


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def _error_children(count: int, errors: float, rng: random.Random) -> list[int]:
    """Positions of the children who get one injected mistake each (at least one when errors > 0)."""
    if errors <= 0 or count == 0:
        return []
    wanted = min(count, max(1, round(errors * count)))
    return sorted(rng.sample(range(count), wanted))


def generate_samples(
    return_type: str, year: str, children: int, seed: int, errors: float, output: Path, previous: bool = True
) -> list[Path]:
    """Write a synthetic return (and, for SSDA903, last year's) under ``output``; return the files written.

    SSDA903: ``output/ssda903/<year>/*.csv`` (one file per table), ``output/ssda903/<year>.xml`` (the same
    return as XML), from 2023_24 ``output/ssda903/<year>_sw.xml`` (its social worker episodes as XML) and,
    when ``previous`` is true, ``output/ssda903/<previous year>/*.csv`` for the same children. CIN:
    ``output/cin/cin_<year>.xml``. Both: ``output/<return>/<year>_injected.csv`` listing the mistakes injected
    into a share ``errors`` (0 to 1) of the children (only a header when ``errors`` is 0).
    """
    year = check_year(year)
    if return_type not in SUPPORTED_YEARS:
        raise ValueError(f"'{return_type}' is not a return: use ssda903 or cin")
    if year not in SUPPORTED_YEARS[return_type]:
        raise ValueError(f"{return_type} samples can be made for {', '.join(SUPPORTED_YEARS[return_type])}")
    if children < 0:
        raise ValueError("the number of children cannot be negative")
    if not 0 <= errors <= 1:
        raise ValueError("errors is a share of children, from 0 to 1")
    output = Path(output)
    if return_type == "ssda903":
        return _ssda903_samples(year, children, seed, errors, output, previous)
    return _cin_samples(year, children, seed, errors, output)


# === SSDA903 ====================================================================================================


@dataclass(frozen=True)
class _Year:
    """One collection year as the 903 generator needs it."""

    name: str
    start: dt.date
    end: dt.date
    place_codes: frozenset[str]
    male: str
    female: str
    social_workers: bool
    dolo: bool

    @classmethod
    def of(cls, name: str) -> _Year:
        first = int(name[:4])
        lists = name if name in SUPPORTED_YEARS["ssda903"] else SUPPORTED_YEARS["ssda903"][0]
        sexes = codes_for("ssda903", "SEX", lists)
        male, female = ("M", "F") if "M" in sexes else ("1", "2")
        return cls(
            name,
            dt.date(first, 4, 1),
            dt.date(first + 1, 3, 31),
            codes_for("ssda903", "PLACE", lists),
            male,
            female,
            first >= 2023,
            first >= 2026,
        )

    def overlaps(self, start: dt.date, end: dt.date | None) -> bool:
        return start <= self.end and (end is None or end >= self.start)


@dataclass
class _Placement:
    kind: str  # foster, kin, parents, home, semi, secure, school, health, family_centre, adoption, temp, respite
    place: str
    provider: str
    post: str
    urn: str = ""


@dataclass
class _Episode:
    decom: dt.date
    rne: str
    ls: str
    cin: str
    placement: _Placement
    home_post: str
    dec: dt.date | None = None
    rec: str = ""
    rpc: str = ""


@dataclass
class _Period:
    episodes: list[_Episode]
    prev_perm: tuple[str, str, str] = ("Z1", "", "")
    respite: bool = False
    reviews: list[tuple[dt.date, str]] = field(default_factory=list)

    @property
    def start(self) -> dt.date:
        return self.episodes[0].decom

    @property
    def end(self) -> dt.date | None:
        return self.episodes[-1].dec


@dataclass
class _Adoption:
    date_placed: dt.date
    date_match: dt.date
    foster_care: str
    adopted: dt.date | None
    adopters: tuple[str, str, str]  # NB_ADOPTR, SEX_ADOPTR, LS_ADOPTR


@dataclass
class _Child:
    child: str
    sex: str  # M or F; written with the year's codes
    dob: dt.date
    ethnic: str
    upn: str  # a UPN, or the UN code given once the child is of school age
    kind: str
    uasc: bool = False
    mc_dob: dt.date | None = None
    periods: list[_Period] = field(default_factory=list)
    adoption: _Adoption | None = None
    oc3: tuple[str, str, str] | None = None
    social_workers: list[tuple[str, dt.date, dt.date | None, str]] = field(default_factory=list)
    dolo: tuple[dt.date, dt.date | None] | None = None

    def episodes(self) -> list[_Episode]:
        return [e for p in self.periods for e in p.episodes]


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
_SHORT_BREAKS = ("V3", "V4")
_TEMPORARY = ("T0", "T1", "T2", "T3", "T4")


class _Gen903:
    """Builds children's care histories from one random stream."""

    def __init__(self, rng: _Rand, current: _Year, previous: _Year) -> None:
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

    def child(self, child_id: str) -> _Child:
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

    def _person(self, child_id: str, kind: str, dob: dt.date, uasc: bool = False) -> _Child:
        rng = self.rng
        if (dob.month, dob.day) == (3, 31):
            dob -= DAY  # an 18th birthday on 31 March would end care on the last day of a year (OC2 edge)
        sex = ("M" if rng.chance(0.9) else "F") if uasc else ("M" if rng.chance(0.55) else "F")
        ethnic = rng.pick(UASC_ETHNICITY if uasc else ETHNICITY)
        return _Child(child_id, sex, dob, ethnic, "", kind, uasc=uasc)

    def _dob_for_age(self, at: dt.date, min_days: int, max_days: int) -> dt.date:
        return at - dt.timedelta(days=self.rng.randint(min_days, max_days))

    def _age_days(self) -> int:
        """Age of a looked-after child, in days, weighted towards teenagers."""
        band = self.rng.choices((0, 1, 5, 10, 16), (5, 13, 18, 39, 25))[0]
        width = {0: 1, 1: 4, 5: 5, 10: 6, 16: 2}[band]
        return self.rng.randint(band * 365 + 10, (band + width) * 365 - 10)

    def _long(self, child_id: str) -> _Child:
        """In care since before last year began; most still are on 31 March."""
        rng, cur, prev = self.rng, self.cur, self.prev
        dob = cur.start - dt.timedelta(days=max(2 * 365 + 30, self._age_days()))
        child = self._person(child_id, "long", dob)
        start = rng.date(max(dob, prev.start - 8 * 365 * DAY), prev.start - DAY)
        end, at18 = self._planned_end(child, start, cur.start, 0.18)
        child.periods.append(self._period(child, start, end, at18))
        return child

    def _prev_start(self, child_id: str) -> _Child:
        """Started to be looked after during last year."""
        rng, cur, prev = self.rng, self.cur, self.prev
        start = rng.date(prev.start, prev.end)
        oldest = (start - add_years(cur.start, -18)).days - 30  # still under 18 when this year starts
        dob = self._dob_for_age(start, 0, min(self._age_days(), oldest))
        child = self._person(child_id, "prev_start", dob)
        end, at18 = self._planned_end(child, start, cur.start, 0.3)
        child.periods.append(self._period(child, start, end, at18, prev_perm=self._prev_perm(child, start)))
        return child

    def _new(self, child_id: str) -> _Child:
        """Started to be looked after this year."""
        rng, cur = self.rng, self.cur
        start = rng.date(cur.start, cur.end - 2 * DAY)
        dob = self._dob_for_age(start, 0, min(self._age_days(), 18 * 365 - 20))
        child = self._person(child_id, "new", dob)
        end, at18 = self._planned_end(child, start, start + 7 * DAY, 0.3)
        child.periods.append(self._period(child, start, end, at18, prev_perm=self._prev_perm(child, start)))
        return child

    def _planned_end(
        self, child: _Child, start: dt.date, earliest: dt.date, leave: float
    ) -> tuple[dt.date | None, bool]:
        """When the period ends: on the 18th birthday if that comes by 31 March, else maybe during this year."""
        cur = self.cur
        eighteen = add_years(child.dob, 18)
        if eighteen <= cur.end:
            return max(eighteen, start + DAY), True
        if self.rng.chance(leave) and earliest + 7 * DAY < cur.end - DAY:
            return self.rng.date(max(earliest, start + 7 * DAY), cur.end - 2 * DAY), False
        return None, False

    def _prev_perm(self, child: _Child, start: dt.date) -> tuple[str, str, str]:
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
        child: _Child,
        start: dt.date,
        end: dt.date | None,
        at18: bool,
        prev_perm: tuple[str, str, str] = ("Z1", "", ""),
        home: str | None = None,
    ) -> _Period:
        """Episodes from ``start`` to ``end`` (or past 31 March), changing placement and legal status."""
        rng = self.rng
        stop = end if end is not None else self.cur.end + DAY
        cin = "N8" if child.uasc else rng.pick(_CIN_NEED)
        if home is None:
            home = "" if child.uasc else (rng.choice(OWN_POSTCODES) if rng.chance(0.93) else rng.choice(NEAR_POSTCODES))
        ls, plan = self._legal_statuses(child, start)
        placement = self._placement(child, start, ls, home, None)
        episodes = [_Episode(start, "S", ls, cin, placement, home)]
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
                    episodes.append(_Episode(when, "U" if same_carers else "B", ls, cin, new, home))
                    placement = new
                    move = when + self._stay(placement)
                else:
                    episodes.append(_Episode(when, "L", ls, cin, placement, home))
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
                temporary = _Placement("temp", rng.choice(("T1", "T3", "T4", "T4")), "", self._post(home))
                episodes.append(_Episode(when, "P", ls, cin, temporary, home, dec=back, rec="X1"))
                episodes.append(_Episode(back, "P", ls, cin, placement, home))
                move = back + self._stay(placement) // 2
                continue
            new = self._placement(child, when, ls, home, placement)
            same_carers = new.post == placement.post and new.kind != "parents"
            last.rpc = "PLACE" if same_carers else rng.pick(_PLACEMENT_MOVE_REASONS)
            episodes.append(_Episode(when, "T" if same_carers else "P", ls, cin, new, home))
            placement = new
            move = when + self._stay(placement)
        if end is not None and end <= self.cur.end:
            last = episodes[-1]
            last.dec, last.rec = end, self._reason_ceased(child, last, end, at18)
        return _Period(episodes, prev_perm)

    def _legal_statuses(self, child: _Child, start: dt.date) -> tuple[str, list[tuple[dt.date, str]]]:
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

    def _stay(self, placement: _Placement) -> dt.timedelta:
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

    def _placement(self, child: _Child, when: dt.date, ls: str, home: str, previous: _Placement | None) -> _Placement:
        """A new placement suited to the child's age and legal status, different from ``previous``."""
        rng = self.rng
        if previous is not None and previous.place in _FOSTER_LONG and rng.chance(0.25):
            long_term = _FOSTER_LONG[previous.place]
            return _Placement(previous.kind, long_term, previous.provider, previous.post, previous.urn)
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

    def _make_placement(self, kind: str, home: str) -> _Placement:
        rng = self.rng
        if kind in ("foster", "kin"):
            place = rng.choice(("U6", "U6", "U6", "U4", "U5")) if kind == "foster" else rng.choice(("U3", "U3", "U1"))
            if rng.chance(0.7):
                return _Placement(kind, place, "PR1", self._post(home), self.la_fostering)
            urn, provider = rng.choice(self.agencies)
            return _Placement(kind, place, provider, self._post(home, own=0.4), urn)
        if kind == "parents":
            return _Placement(kind, "P1", "PR0", home)
        if kind == "health":
            return _Placement(kind, "R2", "PR3", self._post(home, own=0.3))
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
        return _Placement(kind, place, provider, post, urn)

    def _reason_ceased(self, child: _Child, episode: _Episode, end: dt.date, at18: bool) -> str:
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

    def _adoption(self, child_id: str) -> _Child:
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
        foster = _Placement(
            "foster", "U5" if same_carers else rng.choice(("U6", "U3")), "PR1", self._post(home), self.la_fostering
        )
        episodes = [_Episode(start, "S", "C2", cin, foster, home)]
        if rng.chance(0.3) and care_order - start > 60 * DAY:
            moved = rng.date(start + 30 * DAY, care_order - 20 * DAY)
            first = foster
            foster = _Placement("foster", "U5" if same_carers else "U6", "PR1", self._post(home), self.la_fostering)
            while foster.post == first.post:
                foster.post = self._post(home)
            episodes[-1].dec, episodes[-1].rec, episodes[-1].rpc = moved, "X1", "CARPL"
            episodes.append(_Episode(moved, "P", "C2", cin, foster, home))
        for when, ls in ((care_order, "C1"), (order, "E1")):
            episodes[-1].dec, episodes[-1].rec = when, "X1"
            episodes.append(_Episode(when, "L", ls, cin, foster, home))
        if same_carers:
            adopters = _Placement("adoption", "A5", "PR1", foster.post, self.la_adoption)
        else:
            urn, provider = rng.choice(self.adoption_agencies)
            adopters = _Placement("adoption", "A6", provider, self._post(home, own=0.4), urn)
        episodes[-1].dec, episodes[-1].rec, episodes[-1].rpc = placed, "X1", "PLACE" if same_carers else "CARPL"
        episodes.append(_Episode(placed, "T" if same_carers else "P", "E1", cin, adopters, home))
        if adopted:
            episodes[-1].dec, episodes[-1].rec = adopted, rng.pick({"E11": 70, "E12": 30})
        child.periods.append(_Period(episodes, self._prev_perm(child, start)))
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
        child.adoption = _Adoption(decision, matched, "1" if same_carers else "0", adopted, (nb, sex, status))
        return child

    def _uasc(self, child_id: str) -> _Child:
        """An unaccompanied asylum-seeking child, arrived aged 14-17, accommodated under section 20."""
        rng, cur, prev = self.rng, self.cur, self.prev
        start = rng.date(prev.start, prev.end) if rng.chance(0.5) else rng.date(cur.start, cur.end - 10 * DAY)
        oldest = min(17 * 365 + 200, (start - add_years(cur.start, -18)).days - 30)
        dob = min(self._dob_for_age(start, 14 * 365 + 10, oldest), add_years(start, -14))
        child = self._person(child_id, "uasc", dob, uasc=True)
        end, at18 = self._planned_end(child, start, max(start, cur.start), 0.05)
        child.periods.append(self._period(child, start, end, at18, prev_perm=("Z1", "", "")))
        return child

    def _respite(self, child_id: str) -> _Child:
        """A disabled child who has only short breaks (V3): several short episodes in each year."""
        rng = self.rng
        child = self._person(child_id, "respite", self._dob_for_age(self.cur.start, 5 * 365, 16 * 365))
        provider, urn = ("PR1", "") if rng.chance(0.6) else ("PR4", "")
        place = rng.choice(("U6", "K2"))
        for year in (self.prev, self.cur):
            when = year.start + rng.randint(5, 60) * DAY
            while when + 8 * DAY < year.end:
                back = when + rng.randint(2, 5) * DAY
                stay = _Placement("respite", place, provider, "", urn)
                episode = _Episode(when, "S", "V3", "N2", stay, "", dec=back, rec="E4A")
                child.periods.append(_Period([episode], ("Z1", "", ""), respite=True))
                when = back + rng.randint(25, 90) * DAY
        return child

    def _leaver19(self, child_id: str) -> _Child:
        """Left care on the 18th birthday during last year; a care leaver (OC3) turning 19 this year."""
        rng, prev = self.rng, self.prev
        eighteen = rng.date(prev.start + 100 * DAY, prev.end - 15 * DAY)  # 91+ days in care in last year (1001)
        dob = add_years(eighteen, -18)
        child = self._person(child_id, "leaver19", dob)
        start = rng.date(add_years(dob, 12), min(add_years(dob, 17), prev.start - DAY))
        child.periods.append(self._period(child, start, eighteen, True))
        child.oc3 = self._oc3(child, seventeen=False)
        return child

    def _leaver17(self, child_id: str) -> _Child:
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

    def _oc3(self, child: _Child, seventeen: bool) -> tuple[str, str, str]:
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

    def _upn(self, child: _Child) -> str:
        """A UPN with a correct check letter, unique in the return; or UN2/UN3/UN5 for a few children."""
        rng = self.rng
        if rng.chance(0.6 if child.uasc else 0.04):
            return rng.choice(("UN2", "UN3", "UN5"))
        while True:
            school = rng.choice(("2", "4"))
            digits = (
                f"{rng.choice(UPN_LA_NUMBERS)}{school}{rng.randint(0, 999):03d}"
                f"{(child.dob.year + 5) % 100:02d}{rng.randint(0, 999):03d}"
            )
            upn = upn_check_letter(digits) + digits
            if upn not in self.upns:
                self.upns.add(upn)
                return upn

    def _social_workers(self, child: _Child) -> None:
        """A chain of social worker episodes for children looked after on a 31 March (from 2023_24)."""
        rng = self.rng
        ends = [y.end for y in (self.prev, self.cur) if y.social_workers and self._looked_after_on(child, y.end)]
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

    def _reviews(self, child: _Child, period: _Period) -> None:
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

    def _looked_after_on(self, child: _Child, day: dt.date) -> bool:
        return any(not p.respite and p.start <= day and (p.end is None or p.end > day) for p in child.periods)

    def _dolo(self, child: _Child) -> None:
        """A deprivation of liberty order during a children's home (K2) placement, for a few children."""
        rng, cur = self.rng, self.cur
        if (cur.end - child.dob).days < 10 * 365 or not rng.chance(0.3):
            return
        for period in child.periods:
            runs: list[list[_Episode]] = []
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

    def resolve_places(self, children: list[_Child]) -> None:
        """Supported accommodation: K3 where every year it appears in knows K3, else H5, else K2 (see rule 222/230)."""
        seen: dict[int, tuple[_Placement, set[str]]] = {}
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


def _age(dob: dt.date, on: dt.date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


class _Year903Tables:
    """Cuts one collection year's tables out of the children's histories."""

    def __init__(self, year: _Year, rng: _Rand) -> None:
        self.year = year
        self.rng = rng
        self.tables: Tables = {name: [] for name in SSDA903_COLUMNS}
        self.uasc_flags: list[str] = []

    def add(self, child: _Child, current: bool) -> None:
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
        if year.social_workers and child.social_workers and self._looked_after_at_end(child):
            for sw_id, start, until, reason in child.social_workers:
                if start <= year.end and (until is None or until >= year.start):
                    shown = dmy(until) if until is not None and until <= year.end else ""
                    t["SWEpisodes"].append([cid, dob, sw_id, dmy(start), shown, reason])
        if year.dolo and child.dolo is not None:
            t["DoLo"].append([cid, dob, dmy(child.dolo[0]), dmy(child.dolo[1])])

    def _upn(self, child: _Child) -> str:
        """UN1 while the child was under 4 on 31 August before the year (rule 209), else the child's UPN."""
        if _age(child.dob, dt.date(self.year.start.year - 1, 8, 31)) < 4:
            return "UN1"
        return child.upn

    def _looked_after_at_end(self, child: _Child) -> bool:
        end = self.year.end
        return any(not p.respite and p.start <= end and (p.end is None or p.end > end) for p in child.periods)

    def _reviews(self, child: _Child, dob: str) -> None:
        year = self.year
        for period in child.periods:
            for day, code in period.reviews:
                if year.start <= day <= year.end:
                    self.tables["Reviews"].append([child.child, dob, dmy(day), code])

    def _oc2(self, child: _Child, dob: str) -> None:
        """OC2 for children looked after continuously for the 12 months to 31 March."""
        year, rng = self.year, self.rng
        periods = [p for p in child.periods if year.overlaps(p.start, p.end)]
        if len(periods) != 1 or periods[0].respite or periods[0].start > year.start:
            return
        if periods[0].end is not None and periods[0].end <= year.end:
            return
        age_end = _age(child.dob, year.end)
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

    def _adoption(self, child: _Child, dob: str) -> None:
        year, a = self.year, child.adoption
        if a is None:
            return
        if a.date_placed <= year.end:
            self.tables["PlacedAdoption"].append([child.child, dob, dmy(a.date_placed), "", ""])
        if a.adopted is not None and year.start <= a.adopted <= year.end:
            self.tables["AD1"].append(
                [child.child, dob, dmy(a.date_placed), dmy(a.date_match), a.foster_care, *a.adopters]
            )

    def _prev_perm(self, child: _Child, dob: str) -> None:
        """Previous permanence for a child who started to be looked after this year (rules 630, 634)."""
        year = self.year
        for period in child.periods:
            if year.start <= period.start <= year.end:
                self.tables["PrevPerm"].append([child.child, dob, *period.prev_perm])
                return

    def _missing(self, child: _Child, dob: str, episodes: list[_Episode]) -> None:
        """A few short missing/away episodes for children aged 11+, each inside one placement, all ended."""
        year, rng = self.year, self.rng
        if _age(child.dob, year.end) < 11 or episodes[0].ls in _SHORT_BREAKS or not rng.chance(0.18):
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


def _ssda903_samples(year: str, count: int, seed: int, errors: float, output: Path, previous: bool) -> list[Path]:
    current, last = _Year.of(year), _Year.of(previous_year(year))
    rng = _Rand(f"ssda903:{seed}")
    generator = _Gen903(rng, current, last)
    ids = rng.sample(range(1_000_000, 10_000_000), count)
    children = [generator.child(str(i)) for i in ids]
    generator.resolve_places(children)

    written: list[Path] = []
    if previous:
        prev_tables = _Year903Tables(last, _Rand(f"ssda903:{seed}:{last.name}"))
        for child in children:
            prev_tables.add(child, current=False)
        written += _write_903_csv(prev_tables.tables, last, output / "ssda903" / last.name)
    cur_tables = _Year903Tables(current, _Rand(f"ssda903:{seed}:{current.name}"))
    for child in children:
        cur_tables.add(child, current=True)
    tables = cur_tables.tables
    injected = _inject_903(tables, children, errors, _Rand(f"ssda903:{seed}:errors"), current)
    written += _write_903_csv(tables, current, output / "ssda903" / current.name)
    written += _write_903_xml(tables, cur_tables.uasc_flags, current, output / "ssda903")
    written.append(_write_csv(output / "ssda903" / f"{current.name}_injected.csv", INJECTED_COLUMNS, injected))
    return written


def _903_tables_of(year: _Year) -> list[str]:
    names = [n for n in SSDA903_COLUMNS if n not in ("SWEpisodes", "DoLo")]
    if year.social_workers:
        names.append("SWEpisodes")
    if year.dolo:
        names.append("DoLo")
    return names


def _write_903_csv(tables: Tables, year: _Year, folder: Path) -> list[Path]:
    return [_write_csv(folder / SSDA903_FILES[n], SSDA903_COLUMNS[n], tables[n]) for n in _903_tables_of(year)]


def _write_903_xml(tables: Tables, uasc_flags: list[str], year: _Year, folder: Path) -> list[Path]:
    """The return as XML: ``<year>.xml`` (the main file, with DoLo blocks from 2026_27) and, from 2023_24,
    ``<year>_sw.xml`` (the social worker file)."""
    import pandas as pd

    from .ingest.xml903_writer import write_ssda903_sw_xml, write_ssda903_xml

    frames = {
        name: pd.DataFrame(tables[name], columns=list(SSDA903_COLUMNS[name]), dtype=object)
        for name in _903_tables_of(year)
    }
    frames["Header"]["UASC"] = uasc_flags
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / f"{year.name}.xml"]
    write_ssda903_xml(frames, written[0])
    if year.social_workers:
        written.append(folder / f"{year.name}_sw.xml")
        write_ssda903_sw_xml(frames, written[-1])
    return written


# --- SSDA903 injected mistakes -----------------------------------------------------------------------------------


class _Injector903:
    """Applies one labelled mistake to one child's rows of the current year."""

    def __init__(self, tables: Tables, rng: _Rand, year: _Year) -> None:
        self.tables = tables
        self.rng = rng
        self.year = year
        self.rows: dict[str, dict[str, list[Row]]] = {}
        for name, rows in tables.items():
            by_child: dict[str, list[Row]] = {}
            for row in rows:
                by_child.setdefault(row[0], []).append(row)
            self.rows[name] = by_child

    def child_rows(self, table: str, child: str) -> list[Row]:
        return self.rows[table].get(child, [])

    def set(self, table: str, row: Row, column: str, value: str, error: str, description: str) -> Row:
        index = SSDA903_COLUMNS[table].index(column)
        original = row[index]
        row[index] = value
        return [row[0], table, column, error, original, value, description]

    # Each mistake returns its record, or None when it does not fit the child.

    def invalid_code(self, child: _Child) -> Row | None:
        episodes = self.child_rows("Episodes", child.child)
        choice = self.rng.choice(("PLACE", "LS", "ETHNIC"))
        if choice == "ETHNIC" or not episodes:
            header = self.child_rows("Header", child.child)[0]
            return self.set("Header", header, "ETHNIC", "WHIT", "invalid_code", "ethnicity code not in DfE's list")
        row = self.rng.choice(episodes)
        value = {"PLACE": "U7", "LS": "C3"}[choice]
        return self.set("Episodes", row, choice, value, "invalid_code", f"{choice} code not in DfE's list")

    def lower_case_code(self, child: _Child) -> Row | None:
        episodes = self.child_rows("Episodes", child.child)
        if not episodes:
            header = self.child_rows("Header", child.child)[0]
            return self.set(
                "Header", header, "ETHNIC", header[3].lower(), "lower_case_code", "code typed in lower case"
            )
        row = self.rng.choice(episodes)
        column = self.rng.choice(("PLACE", "LS", "CIN"))
        value = row[SSDA903_COLUMNS["Episodes"].index(column)].lower()
        return self.set("Episodes", row, column, value, "lower_case_code", "code typed in lower case")

    def bad_date_text(self, child: _Child) -> Row | None:
        episodes = self.child_rows("Episodes", child.child)
        if episodes and self.rng.chance(0.5):
            row = episodes[-1]
            year = row[1][-4:]
            return self.set("Episodes", row, "DECOM", f"31/02/{year}", "bad_date_text", "impossible date (31 February)")
        header = self.child_rows("Header", child.child)[0]
        day, month, year = header[2].split("/")
        return self.set(
            "Header",
            header,
            "DOB",
            f"{year}-{month}-{day}",
            "bad_date_text",
            "date written yyyy-mm-dd instead of dd/mm/yyyy",
        )

    def date_before_birth(self, child: _Child) -> Row | None:
        episodes = self.child_rows("Episodes", child.child)
        if not episodes:
            return None
        first = min(dt.datetime.strptime(r[1], "%d/%m/%Y").date() for r in episodes)
        born = dmy(first + self.rng.randint(20, 200) * DAY)
        record = None
        for name in self.tables:
            if "DOB" in SSDA903_COLUMNS[name]:
                for row in self.child_rows(name, child.child):
                    record = record or self.set(
                        name,
                        row,
                        "DOB",
                        born,
                        "date_before_birth",
                        "date of birth after the first episode started (DOB changed everywhere)",
                    )
                    row[SSDA903_COLUMNS[name].index("DOB")] = born
        return record

    def end_before_start(self, child: _Child) -> Row | None:
        episodes = self.child_rows("Episodes", child.child)
        if episodes and episodes[-1][7]:
            row = episodes[-1]
            start = dt.datetime.strptime(row[1], "%d/%m/%Y").date()
            return self.set(
                "Episodes",
                row,
                "DEC",
                dmy(start - self.rng.randint(3, 40) * DAY),
                "end_before_start",
                "episode ends before it started",
            )
        missing = self.child_rows("Missing", child.child)
        if missing:
            row = missing[0]
            start = dt.datetime.strptime(row[3], "%d/%m/%Y").date()
            return self.set(
                "Missing",
                row,
                "MIS_END",
                dmy(start - self.rng.randint(1, 5) * DAY),
                "end_before_start",
                "missing period ends before it started",
            )
        return None

    def episode_gap(self, child: _Child) -> Row | None:
        episodes = self.child_rows("Episodes", child.child)
        for row in episodes[1:]:
            if row[2] in "PLTUB" and row[2]:
                start = dt.datetime.strptime(row[1], "%d/%m/%Y").date()
                end = dt.datetime.strptime(row[7], "%d/%m/%Y").date() if row[7] else self.year.end + 30 * DAY
                later = start + self.rng.randint(2, 9) * DAY
                if later < end:
                    return self.set(
                        "Episodes",
                        row,
                        "DECOM",
                        dmy(later),
                        "episode_gap",
                        "continuation episode starts days after the previous one ended",
                    )
        return None

    def episode_overlap(self, child: _Child) -> Row | None:
        episodes = self.child_rows("Episodes", child.child)
        for before, after in itertools.pairwise(episodes):
            if before[8] == "X1" and after[7]:
                end = dt.datetime.strptime(after[7], "%d/%m/%Y").date()
                ended = dt.datetime.strptime(before[7], "%d/%m/%Y").date() + self.rng.randint(2, 9) * DAY
                if ended < end:
                    return self.set(
                        "Episodes",
                        before,
                        "DEC",
                        dmy(ended),
                        "episode_overlap",
                        "episode ends after the next one started",
                    )
        return None

    def missing_upn(self, child: _Child) -> Row | None:
        header = self.child_rows("Header", child.child)[0]
        if not self.child_rows("Episodes", child.child):
            return None
        return self.set("Header", header, "UPN", "", "missing_upn", "UPN left blank for a looked-after child")

    def missing_reason_ceased(self, child: _Child) -> Row | None:
        for row in self.child_rows("Episodes", child.child):
            if row[7]:
                return self.set(
                    "Episodes", row, "REC", "", "missing_reason_ceased", "episode end date without a reason"
                )
        return None

    def missing_mother(self, child: _Child) -> Row | None:
        header = self.child_rows("Header", child.child)[0]
        if not header[5]:
            return None
        return self.set("Header", header, "MOTHER", "", "missing_mother", "mother status left blank for a girl in care")

    def sdq_out_of_range(self, child: _Child) -> Row | None:
        for row in self.child_rows("OC2", child.child):
            if row[2]:
                return self.set("OC2", row, "SDQ_SCORE", "45", "sdq_out_of_range", "SDQ score above 40")
        return None

    def review_code_for_age(self, child: _Child) -> Row | None:
        for row in self.child_rows("Reviews", child.child):
            if row[3] != "PN0":
                return self.set(
                    "Reviews",
                    row,
                    "REVIEW_CODE",
                    "PN0",
                    "review_code_for_age",
                    "PN0 (under 4) for a child aged 4 or over",
                )
        return None

    def provider_on_temporary(self, child: _Child) -> Row | None:
        for row in self.child_rows("Episodes", child.child):
            if row[5] in _TEMPORARY:
                return self.set(
                    "Episodes",
                    row,
                    "PLACE_PROVIDER",
                    "PR1",
                    "provider_on_temporary",
                    "placement provider given for a temporary placement",
                )
        return None

    CATALOGUE = (
        "invalid_code",
        "lower_case_code",
        "bad_date_text",
        "date_before_birth",
        "end_before_start",
        "episode_gap",
        "episode_overlap",
        "missing_upn",
        "missing_reason_ceased",
        "missing_mother",
        "sdq_out_of_range",
        "review_code_for_age",
        "provider_on_temporary",
    )


def _inject_903(tables: Tables, children: list[_Child], errors: float, rng: _Rand, year: _Year) -> list[Row]:
    """One mistake for each chosen child, the first in a shuffled catalogue that fits the child's data."""
    chosen = _error_children(len(children), errors, rng)
    if not chosen:
        return []
    injector = _Injector903(tables, rng, year)
    present = {row[0] for row in tables["Header"]}
    records: list[Row] = []
    for position in chosen:
        child = children[position]
        if child.child not in present:
            continue
        kinds = list(_Injector903.CATALOGUE)
        rng.shuffle(kinds)
        for kind in kinds:
            record = getattr(injector, kind)(child)
            if record is not None:
                records.append(record)
                break
    return records


# === CIN census ==================================================================================================

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
class _CinPlan:
    start: dt.date
    end: dt.date | None
    initial: str = ""
    latest: str = ""
    previous: int = 0
    reviews: list[dt.date] = field(default_factory=list)


@dataclass
class _CinEpisode:
    referral: dt.date
    source: str
    need: str | None
    nfa: bool = False
    closure: dt.date | None = None
    reason: str | None = None
    assessments: list[tuple[dt.date, dt.date | None, list[str]]] = field(default_factory=list)
    cin_plans: list[_CinPlan] = field(default_factory=list)
    section47: list[tuple[dt.date, dt.date | None, dt.date | None, bool]] = field(default_factory=list)
    cp_plans: list[_CinPlan] = field(default_factory=list)

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
class _CinChild:
    child: str
    dob: dt.date | None
    expected: dt.date | None
    sex: str  # M, F or U
    ethnic: str
    upn: str
    former_upn: str
    upn_unknown: str
    disabilities: list[str]
    episodes: list[_CinEpisode]
    death: dt.date | None = None


class _GenCin:
    """Builds CIN census children: referrals and what followed, inside the census year."""

    def __init__(self, rng: _Rand, year: str) -> None:
        self.rng = rng
        self.year = year
        self.start = collection_start(year)
        self.ref = collection_end(year)
        self.upns: set[str] = set()
        self.disabled = 0

    def child(self, child_id: str) -> _CinChild:
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
        child = _CinChild(
            child_id, dob, expected, sex, rng.pick(ETHNICITY), upn, former, unknown, disabilities, episodes
        )
        last = episodes[-1]
        if dob is not None and last.closure is not None and last.reason == "RC7" and rng.chance(0.004):
            child.death, last.reason = last.closure, "RC2"
        return child

    def _upn(self, dob: dt.date) -> str:
        rng = self.rng
        while True:
            digits = (
                f"{rng.choice(UPN_LA_NUMBERS)}{rng.choice(('2', '4'))}{rng.randint(0, 999):03d}"
                f"{(dob.year + 5) % 100:02d}{rng.randint(0, 999):03d}"
            )
            upn = upn_check_letter(digits) + digits
            if upn not in self.upns:
                self.upns.add(upn)
                return upn

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

    def _episodes(self, born: dt.date, unborn: bool) -> list[_CinEpisode]:
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

    def _new_episode(self, referral: dt.date) -> _CinEpisode:
        return _CinEpisode(referral, self.rng.pick(_CIN_SOURCES), self.rng.pick(_CIN_PRIMARY_NEED))

    def _close(self, episode: _CinEpisode, reason: str, latest: int = 10) -> None:
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

    def _assessment(self, episode: _CinEpisode, after: dt.date, none_found: bool = False) -> dt.date | None:
        """An assessment starting soon after ``after``; returns its authorisation date (None while open)."""
        rng, ref = self.rng, self.ref
        begin = min(add_working_days(after, rng.randint(0, 3)), ref)
        end: dt.date | None = add_working_days(begin, rng.randint(8, 40))
        if end is not None and end > ref:
            end = None if begin >= ref - 40 * DAY else weekday_on_or_before(ref)
            if end is not None and end < begin:
                end = begin
        episode.assessments.append((begin, end, self._factors(none_found) if end else []))
        return end

    def _cin_plan(self, episode: _CinEpisode, start: dt.date) -> None:
        if start > self.ref:
            return
        end: dt.date | None = start + self.rng.randint(90, 360) * DAY
        episode.cin_plans.append(_CinPlan(start, end if end is not None and end <= self.ref else None))

    def _cp_plan(self, episode: _CinEpisode, start: dt.date, end_from: dt.date | None = None) -> _CinPlan:
        rng, ref = self.rng, self.ref
        end: dt.date | None = start + rng.randint(100, 600) * DAY
        if end_from is not None:
            end = rng.date(end_from, ref - 5 * DAY) if rng.chance(0.55) else None
        if end is not None and end > ref:
            end = None
        initial = rng.pick(_CIN_ABUSE)
        latest = initial if rng.chance(0.8) else rng.pick(_CIN_ABUSE)
        plan = _CinPlan(start, end, initial, latest, rng.choices((0, 1, 2), (80, 15, 5))[0])
        review = start + rng.randint(75, 89) * DAY
        while review <= ref and (end is None or review < end):
            if review >= self.start:
                plan.reviews.append(review)
            review += rng.randint(165, 182) * DAY
        episode.cp_plans.append(plan)
        return plan

    def _step_down(self, episode: _CinEpisode, plan: _CinPlan) -> None:
        """After a child protection plan: a CIN plan from the day it ended, or closure."""
        if plan.end is None:
            return
        if self.rng.chance(0.6):
            self._cin_plan(episode, plan.end)
        self._close(episode, self.rng.pick({"RC7": 80, "RC3": 5, "RC4": 5, "RC5": 10}))

    def _episode(self, referral: dt.date, short: bool = False) -> _CinEpisode:
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
        s47_start = min(add_working_days(referral, rng.randint(0, 2)), ref)
        if route == "s47_nr":
            episode.section47.append((s47_start, None, None, True))
            authorised = self._assessment(episode, referral)
            if authorised is not None:
                if rng.chance(0.5):
                    self._cin_plan(episode, authorised + rng.randint(1, 14) * DAY)
                self._close(episode, "RC7")
            return episode
        target = add_working_days(s47_start, 15)
        icpc: dt.date | None = add_working_days(s47_start, rng.randint(6, 15))
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

    def _older_episode(self, referral: dt.date) -> _CinEpisode:
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
            episode.cin_plans.append(_CinPlan(begin, end))
            if end is not None and rng.chance(0.7):
                self._close(episode, rng.pick({"RC7": 80, "RC3": 5, "RC4": 5, "RC5": 10}), latest=5)
        else:
            episode.closure, episode.reason = rng.date(start, self.ref - DAY), "RC7"
        return episode


def _cin_xml(children: list[_CinChild], year: str) -> etree._Element:
    """The census as an lxml tree, in the element order of schemas/cin/cin_<year>.xsd."""
    ref = collection_end(year)
    sex_element = "GenderCurrent" if year <= "2023_24" else "Sex"
    gender = {"M": "1", "F": "2", "U": "0"}

    def sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
        element = etree.SubElement(parent, tag)
        if text is not None:
            element.text = text
        return element

    def iso(day: dt.date) -> str:
        return day.isoformat()

    root = etree.Element("Message")
    header = sub(root, "Header")
    details = sub(header, "CollectionDetails")
    sub(details, "Collection", "CIN")
    sub(details, "Year", str(ref.year))
    sub(details, "ReferenceDate", iso(ref))
    source = sub(header, "Source")
    sub(source, "SourceLevel", "L")
    sub(source, "LEA", LA_NUMBER)
    sub(source, "SoftwareCode", "cscvalidate synthetic samples")
    sub(source, "Release", "1")
    sub(source, "SerialNo", "001")
    sub(source, "DateTime", f"{ref.year}-05-01T09:00:00")
    holder = sub(root, "Children")
    for c in children:
        child = sub(holder, "Child")
        ids = sub(child, "ChildIdentifiers")
        sub(ids, "LAchildID", c.child)
        if c.upn:
            sub(ids, "UPN", c.upn)
        if c.former_upn:
            sub(ids, "FormerUPN", c.former_upn)
        if c.upn_unknown:
            sub(ids, "UPNunknown", c.upn_unknown)
        if c.dob is not None:
            sub(ids, "PersonBirthDate", iso(c.dob))
        if c.expected is not None:
            sub(ids, "ExpectedPersonBirthDate", iso(c.expected))
        sub(ids, sex_element, gender[c.sex] if sex_element == "GenderCurrent" else c.sex)
        if c.death is not None:
            sub(ids, "PersonDeathDate", iso(c.death))
        characteristics = sub(child, "ChildCharacteristics")
        sub(characteristics, "Ethnicity", c.ethnic)
        if c.disabilities:
            block = sub(characteristics, "Disabilities")
            for code in c.disabilities:
                sub(block, "Disability", code)
        for e in c.episodes:
            details = sub(child, "CINdetails")
            sub(details, "CINreferralDate", iso(e.referral))
            sub(details, "ReferralSource", e.source)
            if e.need:
                sub(details, "PrimaryNeedCode", e.need)
            if e.closure is not None:
                sub(details, "CINclosureDate", iso(e.closure))
                sub(details, "ReasonForClosure", e.reason)
            for begin, end, factors in e.assessments:
                block = sub(details, "Assessments")
                sub(block, "AssessmentActualStartDate", iso(begin))
                if end is not None:
                    sub(block, "AssessmentAuthorisationDate", iso(end))
                if factors:
                    found = sub(block, "FactorsIdentifiedAtAssessment")
                    for code in factors:
                        sub(found, "AssessmentFactors", code)
            for plan in e.cin_plans:
                block = sub(details, "CINPlanDates")
                sub(block, "CINPlanStartDate", iso(plan.start))
                if plan.end is not None:
                    sub(block, "CINPlanEndDate", iso(plan.end))
            for begin, target, icpc, not_required in e.section47:
                block = sub(details, "Section47")
                sub(block, "S47ActualStartDate", iso(begin))
                if target is not None:
                    sub(block, "InitialCPCtarget", iso(target))
                if icpc is not None:
                    sub(block, "DateOfInitialCPC", iso(icpc))
                sub(block, "ICPCnotRequired", "true" if not_required else "false")
            sub(details, "ReferralNFA", "true" if e.nfa else "false")
            for plan in e.cp_plans:
                block = sub(details, "ChildProtectionPlans")
                sub(block, "CPPstartDate", iso(plan.start))
                if plan.end is not None:
                    sub(block, "CPPendDate", iso(plan.end))
                sub(block, "InitialCategoryOfAbuse", plan.initial)
                sub(block, "LatestCategoryOfAbuse", plan.latest)
                sub(block, "NumberOfPreviousCPP", str(plan.previous))
                if plan.reviews:
                    reviews = sub(block, "Reviews")
                    for day in plan.reviews:
                        sub(reviews, "CPPreviewDate", iso(day))
    return root


def _cin_samples(year: str, count: int, seed: int, errors: float, output: Path) -> list[Path]:
    rng = _Rand(f"cin:{seed}")
    generator = _GenCin(rng, year)
    ids = rng.sample(range(10_000_000, 100_000_000), count)
    children = [generator.child(str(i)) for i in ids]
    root = _cin_xml(children, year)
    injected = _inject_cin(root, children, errors, _Rand(f"cin:{seed}:errors"))
    folder = output / "cin"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"cin_{year}.xml"
    etree.indent(root, space="  ")
    etree.ElementTree(root).write(str(path), xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return [path, _write_csv(folder / f"{year}_injected.csv", INJECTED_COLUMNS, injected)]


# --- CIN injected mistakes -----------------------------------------------------------------------------------------


def _inject_cin(root: etree._Element, children: list[_CinChild], errors: float, rng: _Rand) -> list[Row]:
    """One mistake for each chosen child, edited straight into its <Child> element."""
    chosen = _error_children(len(children), errors, rng)
    elements = root.findall("Children/Child")
    records: list[Row] = []

    def record(child: str, table: str, element: etree._Element, value: str, error: str, text: str) -> Row:
        original = element.text or ""
        element.text = value
        return [child, table, etree.QName(element).localname, error, original, value, text]

    def first(el: etree._Element, path: str) -> etree._Element | None:
        return el.find(path)

    def invalid_code(el: etree._Element, c: _CinChild) -> Row | None:
        target = first(el, "CINdetails/ReferralSource")
        assert target is not None
        return record(c.child, "CINdetails", target, "11", "invalid_code", "referral source not in DfE's list")

    def lower_case_code(el: etree._Element, c: _CinChild) -> Row | None:
        target = first(el, "ChildCharacteristics/Ethnicity")
        assert target is not None
        value = (target.text or "").lower()
        return record(c.child, "ChildCharacteristics", target, value, "lower_case_code", "code typed in lower case")

    def bad_date_text(el: etree._Element, c: _CinChild) -> Row | None:
        target = first(el, "CINdetails/CINreferralDate")
        assert target is not None
        year = (target.text or "2024")[:4]
        if rng.chance(0.5):
            return record(
                c.child, "CINdetails", target, f"{year}-02-31", "bad_date_text", "impossible date (31 February)"
            )
        day = dt.date.fromisoformat(target.text or "")
        return record(
            c.child, "CINdetails", target, dmy(day), "bad_date_text", "date written dd/mm/yyyy, not yyyy-mm-dd"
        )

    def referral_before_birth(el: etree._Element, c: _CinChild) -> Row | None:
        target = first(el, "CINdetails/CINreferralDate")
        if c.dob is None or target is None:
            return None
        value = (c.dob - rng.randint(300, 600) * DAY).isoformat()
        return record(
            c.child,
            "CINdetails",
            target,
            value,
            "date_before_birth",
            "referral more than 40 weeks before the date of birth",
        )

    def end_before_start(el: etree._Element, c: _CinChild) -> Row | None:
        for details in el.findall("CINdetails"):
            closure = details.find("CINclosureDate")
            referral = details.find("CINreferralDate")
            if closure is not None and referral is not None:
                day = dt.date.fromisoformat(referral.text or "") - rng.randint(3, 30) * DAY
                return record(
                    c.child,
                    "CINdetails",
                    closure,
                    day.isoformat(),
                    "end_before_start",
                    "CIN episode closed before the referral",
                )
        return None

    def missing_upn(el: etree._Element, c: _CinChild) -> Row | None:
        ids = el.find("ChildIdentifiers")
        upn = ids.find("UPN") if ids is not None else None
        if upn is None or ids is None:
            return None
        rec = [
            c.child,
            "ChildIdentifiers",
            "UPN",
            "missing_upn",
            upn.text or "",
            "",
            "UPN left out for a school-age child",
        ]
        ids.remove(upn)
        return rec

    def wrong_check_letter(el: etree._Element, c: _CinChild) -> Row | None:
        upn = el.find("ChildIdentifiers/UPN")
        if upn is None or not upn.text:
            return None
        letters = [x for x in UPN_LETTERS if x != upn.text[0]]
        return record(
            c.child,
            "ChildIdentifiers",
            upn,
            rng.choice(letters) + upn.text[1:],
            "wrong_check_letter",
            "UPN check letter does not match its digits",
        )

    def overlapping_cp_plans(el: etree._Element, c: _CinChild) -> Row | None:
        for details in el.findall("CINdetails"):
            plan = details.find("ChildProtectionPlans")
            if plan is None:
                continue
            start = plan.find("CPPstartDate")
            assert start is not None
            copy = etree.fromstring(etree.tostring(plan))
            day = dt.date.fromisoformat(start.text or "") + rng.randint(5, 20) * DAY
            new_start = copy.find("CPPstartDate")
            assert new_start is not None
            new_start.text = day.isoformat()
            for tag in ("CPPendDate", "Reviews"):
                old = copy.find(tag)
                if old is not None:
                    copy.remove(old)
            plan.addnext(copy)
            return [
                c.child,
                "ChildProtectionPlans",
                "CPPstartDate",
                "overlapping_cp_plans",
                "",
                day.isoformat(),
                "a second, open child protection plan starting during the first",
            ]
        return None

    def closure_without_reason(el: etree._Element, c: _CinChild) -> Row | None:
        for details in el.findall("CINdetails"):
            reason = details.find("ReasonForClosure")
            if reason is not None:
                rec = [
                    c.child,
                    "CINdetails",
                    "ReasonForClosure",
                    "closure_without_reason",
                    reason.text or "",
                    "",
                    "closure date without a reason for closure",
                ]
                details.remove(reason)
                return rec
        return None

    def assessment_before_referral(el: etree._Element, c: _CinChild) -> Row | None:
        for details in el.findall("CINdetails"):
            start = details.find("Assessments/AssessmentActualStartDate")
            referral = details.find("CINreferralDate")
            if start is not None and referral is not None:
                day = dt.date.fromisoformat(referral.text or "") - rng.randint(2, 20) * DAY
                return record(
                    c.child,
                    "Assessments",
                    start,
                    day.isoformat(),
                    "assessment_before_referral",
                    "assessment started before the referral",
                )
        return None

    def icpc_on_weekend(el: etree._Element, c: _CinChild) -> Row | None:
        for icpc in el.findall("CINdetails/Section47/DateOfInitialCPC"):
            day = dt.date.fromisoformat(icpc.text or "")
            saturday = day + ((5 - day.weekday()) % 7) * DAY
            return record(
                c.child,
                "Section47",
                icpc,
                saturday.isoformat(),
                "icpc_on_weekend",
                "initial child protection conference on a Saturday",
            )
        return None

    def missing_primary_need(el: etree._Element, c: _CinChild) -> Row | None:
        for details in el.findall("CINdetails"):
            need = details.find("PrimaryNeedCode")
            nfa = details.find("ReferralNFA")
            if need is not None and nfa is not None and nfa.text == "false":
                rec = [
                    c.child,
                    "CINdetails",
                    "PrimaryNeedCode",
                    "missing_primary_need",
                    need.text or "",
                    "",
                    "primary need left out for a referral with further action",
                ]
                details.remove(need)
                return rec
        return None

    catalogue: list[Callable[[etree._Element, _CinChild], Row | None]] = [
        invalid_code,
        lower_case_code,
        bad_date_text,
        referral_before_birth,
        end_before_start,
        missing_upn,
        wrong_check_letter,
        overlapping_cp_plans,
        closure_without_reason,
        assessment_before_referral,
        icpc_on_weekend,
        missing_primary_need,
    ]
    for position in chosen:
        kinds = list(catalogue)
        rng.shuffle(kinds)
        for kind in kinds:
            rec = kind(elements[position], children[position])
            if rec is not None:
                records.append(rec)
                break
    return records
