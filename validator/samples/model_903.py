"""The SSDA903 generator's picture of a child: one care history (periods of care, episodes, placements) across years."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..codelists import codes_for
from ..years import SUPPORTED_YEARS, collection_end, collection_start


@dataclass(frozen=True)
class Year:
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
    def of(cls, name: str) -> Year:
        first = int(name[:4])
        lists = name if name in SUPPORTED_YEARS["ssda903"] else SUPPORTED_YEARS["ssda903"][0]
        sexes = codes_for("ssda903", "SEX", lists)
        male, female = ("M", "F") if "M" in sexes else ("1", "2")
        return cls(
            name,
            collection_start(name),
            collection_end(name),
            codes_for("ssda903", "PLACE", lists),
            male,
            female,
            first >= 2023,
            first >= 2026,
        )

    def overlaps(self, start: dt.date, end: dt.date | None) -> bool:
        return start <= self.end and (end is None or end >= self.start)


@dataclass
class Placement:
    kind: str  # foster, kin, parents, home, semi, secure, school, health, family_centre, adoption, temp, respite
    place: str
    provider: str
    post: str
    urn: str = ""


@dataclass
class Episode:
    decom: dt.date
    rne: str
    ls: str
    cin: str
    placement: Placement
    home_post: str
    dec: dt.date | None = None
    rec: str = ""
    rpc: str = ""


@dataclass
class Period:
    episodes: list[Episode]
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
class Adoption:
    date_placed: dt.date
    date_match: dt.date
    foster_care: str
    adopted: dt.date | None
    adopters: tuple[str, str, str]  # NB_ADOPTR, SEX_ADOPTR, LS_ADOPTR


@dataclass
class Child:
    child: str
    sex: str  # M or F; written with the year's codes
    dob: dt.date
    ethnic: str
    upn: str  # a UPN (its 12 digits until Simulator903.children adds the check letter), or UN2/UN3/UN5
    kind: str
    uasc: bool = False
    mc_dob: dt.date | None = None
    periods: list[Period] = field(default_factory=list)
    adoption: Adoption | None = None
    oc3: tuple[str, str, str] | None = None
    social_workers: list[tuple[str, dt.date, dt.date | None, str]] = field(default_factory=list)
    dolo: tuple[dt.date, dt.date | None] | None = None

    def episodes(self) -> list[Episode]:
        return [e for p in self.periods for e in p.episodes]

    def looked_after_on(self, day: dt.date) -> bool:
        """In care (other than short breaks) at the end of ``day``."""
        return any(not p.respite and p.start <= day and (p.end is None or p.end > day) for p in self.periods)
