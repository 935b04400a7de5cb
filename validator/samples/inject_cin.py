"""CIN census injected mistakes: one labelled mistake each for a share of the children, edited into their XML."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from .common import DAY, UPN_LETTERS, Rand, Row, dmy, error_children
from .simulate_cin import CinChild


def inject_cin(root: etree._Element, children: list[CinChild], errors: float, rng: Rand) -> list[Row]:
    """One mistake for each chosen child, the first in a shuffled catalogue that fits the child's data."""
    chosen = error_children(len(children), errors, rng)
    elements = root.findall("Children/Child")
    injector = InjectorCin(rng)
    records: list[Row] = []
    for position in chosen:
        kinds = list(InjectorCin.CATALOGUE)
        rng.shuffle(kinds)
        for kind in kinds:
            record = getattr(injector, kind)(elements[position], children[position])
            if record is not None:
                records.append(record)
                break
    return records


def _set(child: str, table: str, element: etree._Element, value: str, error: str, text: str) -> Row:
    """Give ``element`` the text ``value``; the record of that mistake."""
    original = element.text or ""
    element.text = value
    return [child, table, etree.QName(element).localname, error, original, value, text]


def _remove(child: str, table: str, parent: etree._Element, element: etree._Element, error: str, text: str) -> Row:
    """Take ``element`` out of ``parent``; the record of that mistake."""
    record = [child, table, etree.QName(element).localname, error, element.text or "", "", text]
    parent.remove(element)
    return record


def _day(element: etree._Element) -> dt.date:
    return dt.date.fromisoformat(element.text or "")


class InjectorCin:
    """Applies one labelled mistake to one child's <Child> element; each returns its record, or None when it
    does not fit the child."""

    CATALOGUE = (
        "invalid_code",
        "lower_case_code",
        "bad_date_text",
        "referral_before_birth",
        "end_before_start",
        "missing_upn",
        "wrong_check_letter",
        "overlapping_cp_plans",
        "closure_without_reason",
        "assessment_before_referral",
        "icpc_on_weekend",
        "missing_primary_need",
    )

    def __init__(self, rng: Rand) -> None:
        self.rng = rng

    def invalid_code(self, el: etree._Element, c: CinChild) -> Row | None:
        target = el.find("CINdetails/ReferralSource")
        assert target is not None
        return _set(c.child, "CINdetails", target, "11", "invalid_code", "referral source not in DfE's list")

    def lower_case_code(self, el: etree._Element, c: CinChild) -> Row | None:
        target = el.find("ChildCharacteristics/Ethnicity")
        assert target is not None
        value = (target.text or "").lower()
        return _set(c.child, "ChildCharacteristics", target, value, "lower_case_code", "code typed in lower case")

    def bad_date_text(self, el: etree._Element, c: CinChild) -> Row | None:
        target = el.find("CINdetails/CINreferralDate")
        assert target is not None
        year = (target.text or "2024")[:4]
        if self.rng.chance(0.5):
            return _set(
                c.child, "CINdetails", target, f"{year}-02-31", "bad_date_text", "impossible date (31 February)"
            )
        return _set(
            c.child, "CINdetails", target, dmy(_day(target)), "bad_date_text", "date written dd/mm/yyyy, not yyyy-mm-dd"
        )

    def referral_before_birth(self, el: etree._Element, c: CinChild) -> Row | None:
        target = el.find("CINdetails/CINreferralDate")
        if c.dob is None or target is None:
            return None
        value = (c.dob - self.rng.randint(300, 600) * DAY).isoformat()
        text = "referral more than 40 weeks before the date of birth"
        return _set(c.child, "CINdetails", target, value, "date_before_birth", text)

    def end_before_start(self, el: etree._Element, c: CinChild) -> Row | None:
        text = "CIN episode closed before the referral"
        return self._before_referral(el, c, "CINclosureDate", "CINdetails", (3, 30), "end_before_start", text)

    def missing_upn(self, el: etree._Element, c: CinChild) -> Row | None:
        ids = el.find("ChildIdentifiers")
        upn = ids.find("UPN") if ids is not None else None
        if upn is None or ids is None:
            return None
        return _remove(c.child, "ChildIdentifiers", ids, upn, "missing_upn", "UPN left out for a school-age child")

    def wrong_check_letter(self, el: etree._Element, c: CinChild) -> Row | None:
        upn = el.find("ChildIdentifiers/UPN")
        if upn is None or not upn.text:
            return None
        letters = [x for x in UPN_LETTERS if x != upn.text[0]]
        value = self.rng.choice(letters) + upn.text[1:]
        text = "UPN check letter does not match its digits"
        return _set(c.child, "ChildIdentifiers", upn, value, "wrong_check_letter", text)

    def overlapping_cp_plans(self, el: etree._Element, c: CinChild) -> Row | None:
        for details in el.findall("CINdetails"):
            plan = details.find("ChildProtectionPlans")
            if plan is None:
                continue
            start = plan.find("CPPstartDate")
            assert start is not None
            copy = etree.fromstring(etree.tostring(plan))
            day = _day(start) + self.rng.randint(5, 20) * DAY
            new_start = copy.find("CPPstartDate")
            assert new_start is not None
            new_start.text = day.isoformat()
            for tag in ("CPPendDate", "Reviews"):
                old = copy.find(tag)
                if old is not None:
                    copy.remove(old)
            plan.addnext(copy)
            text = "a second, open child protection plan starting during the first"
            return [c.child, "ChildProtectionPlans", "CPPstartDate", "overlapping_cp_plans", "", day.isoformat(), text]
        return None

    def closure_without_reason(self, el: etree._Element, c: CinChild) -> Row | None:
        for details in el.findall("CINdetails"):
            reason = details.find("ReasonForClosure")
            if reason is not None:
                text = "closure date without a reason for closure"
                return _remove(c.child, "CINdetails", details, reason, "closure_without_reason", text)
        return None

    def assessment_before_referral(self, el: etree._Element, c: CinChild) -> Row | None:
        path, text = "Assessments/AssessmentActualStartDate", "assessment started before the referral"
        return self._before_referral(el, c, path, "Assessments", (2, 20), "assessment_before_referral", text)

    def _before_referral(
        self, el: etree._Element, c: CinChild, path: str, table: str, days: tuple[int, int], error: str, text: str
    ) -> Row | None:
        """In the first CINdetails that has ``path``: that date moved a number of ``days`` before the referral."""
        for details in el.findall("CINdetails"):
            target = details.find(path)
            referral = details.find("CINreferralDate")
            if target is not None and referral is not None:
                day = _day(referral) - self.rng.randint(*days) * DAY
                return _set(c.child, table, target, day.isoformat(), error, text)
        return None

    def icpc_on_weekend(self, el: etree._Element, c: CinChild) -> Row | None:
        for icpc in el.findall("CINdetails/Section47/DateOfInitialCPC"):
            day = _day(icpc)
            saturday = day + ((5 - day.weekday()) % 7) * DAY
            text = "initial child protection conference on a Saturday"
            return _set(c.child, "Section47", icpc, saturday.isoformat(), "icpc_on_weekend", text)
        return None

    def missing_primary_need(self, el: etree._Element, c: CinChild) -> Row | None:
        for details in el.findall("CINdetails"):
            need = details.find("PrimaryNeedCode")
            nfa = details.find("ReferralNFA")
            if need is not None and nfa is not None and nfa.text == "false":
                text = "primary need left out for a referral with further action"
                return _remove(c.child, "CINdetails", details, need, "missing_primary_need", text)
        return None
