"""DfE's code groups: which codes of the return each published category counts. Stated once, here; the measures,
the transformed tables, docs/preview.md (beside DfE's table names) and the tests all read these.

A ``CodeGroup`` is one published category: the measure's id, the category as DfE's tables name it, the field
whose codes it counts and the codes. A ``Breakdown`` is a set of categories DfE publishes together (a table):
its categories partition the codes of the field, so every code is counted in exactly one of them; a code in none
(a blank or a code that is not valid) goes to the breakdown's ``rest`` category when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .model import Measure, percent


@dataclass(frozen=True)
class CodeGroup:
    id: str
    label: str
    codes: tuple[str, ...]


@dataclass(frozen=True)
class Breakdown:
    name: str  # DfE's table, as a reader finds it in the publication's LA tables
    field: str  # the return's field (Table.FIELD)
    groups: tuple[CodeGroup, ...]
    rest: str | None = None  # the id of the group that also takes every other value (blank, invalid), if any

    def codes(self) -> tuple[str, ...]:
        return tuple(code for group in self.groups for code in group.codes)

    def group(self, id: str) -> CodeGroup:
        for group in self.groups:
            if group.id == id:
                return group
        raise KeyError(id)


def breakdown(table: Breakdown, values: pd.Series, group: str, prefix: str, total: int | None = None) -> list[Measure]:
    """One percentage per category of ``table``: the rows of ``values`` (one code a row) in it, of ``total``
    (default: one row per child, all the rows). A value in no category (blank, invalid) counts in the breakdown's
    ``rest`` category, if it has one. When a record may hold several codes (assessment factors) give ``total``."""
    listed = values.isin(table.codes()).fillna(False).astype(bool)
    out = []
    for g in table.groups:
        hit = values.isin(g.codes).fillna(False).astype(bool)
        if g.id == table.rest:
            hit |= ~listed
        out.append(
            percent(g.id, f"{prefix}: {g.label}", group, int(hit.sum()), len(values) if total is None else total)
        )
    return out


# --- SSDA903 ----------------------------------------------------------------------------------------------------

SHORT_BREAKS = ("V3", "V4")  # legal status: an agreed series of short-term breaks, left out of every measure
# Reason for new episode: the carers stay the same. L legal status only; T placement changed, carers the same;
# U legal status and placement changed, carers the same. P (placement and carers changed) and B (legal status,
# placement and carers changed) start a placement with new carers; S starts a period of care.
SAME_CARERS = ("L", "T", "U")
NEW_CARERS = ("P", "B")
ADOPTION_PLACEMENTS = ("A3", "A4", "A5", "A6")
COURT_AUTHORITY = ("E1", "D1")  # placement order, freeing order
END_OF_EPISODE_ONLY = "X1"  # REC: the episode ends, care continues

CEASED = Breakdown(
    "Children who ceased to be looked after during the year by reason episode ceased",
    "Episodes.REC",
    (
        CodeGroup("ceased_adopted", "Adopted", ("E11", "E12")),
        CodeGroup("ceased_died", "Died", ("E2",)),
        CodeGroup("ceased_other_la", "Care taken over by another local authority", ("E3",)),
        CodeGroup(
            "ceased_home",
            "Returned home to live with parents or other person with parental responsibility",
            ("E4A", "E4B"),
        ),
        CodeGroup(
            "ceased_lived_with_relatives",
            "Left care to live with parents, relatives or other person with no parental responsibility",
            ("E13",),
        ),
        CodeGroup("ceased_cao", "Child arrangements order (previously residence order)", ("E41",)),
        CodeGroup("ceased_sgo", "Special guardianship order", ("E45", "E46", "E47", "E48")),
        CodeGroup("ceased_independent", "Moved into independent living", ("E5", "E6")),
        CodeGroup("ceased_adult_care", "Transferred to residential care funded by adult social services", ("E7",)),
        CodeGroup("ceased_custody", "Sentenced to custody", ("E9",)),
        CodeGroup("ceased_remand_ended", "Accommodation on remand ended", ("E14",)),
        CodeGroup("ceased_age_assessed", "Age assessment determined child aged 18 or over", ("E15",)),
        CodeGroup("ceased_abroad", "Child moved abroad", ("E16",)),
        CodeGroup("ceased_carers18", "Aged 18 (or over) and remained with current carers", ("E17",)),
        CodeGroup("ceased_other", "Care ceased for any other reason", ("E8",)),
    ),
    rest="ceased_other",
)

PLACEMENT = Breakdown(
    "Children looked after at 31 March by placement",
    "Episodes.PLACE",
    (
        CodeGroup("placement_foster", "Foster placements", ("U1", "U2", "U3", "U4", "U5", "U6")),
        CodeGroup("placement_adoption", "Placed for adoption", ADOPTION_PLACEMENTS),
        CodeGroup("placement_parents", "Placement with parents or other person with parental responsibility", ("P1",)),
        CodeGroup("placement_community", "Other placements in the community", ("P2", "P3")),
        CodeGroup(
            "placement_homes",
            "Secure units, children's homes and semi-independent living accommodation / supported accommodation",
            ("K1", "K2", "K3", "H5"),
        ),
        CodeGroup("placement_residential", "Other residential settings", ("R1", "R2", "R3", "R5")),
        CodeGroup("placement_school", "Residential schools", ("S1",)),
        CodeGroup(
            "placement_other",
            "Other placements",
            ("T0", "T1", "T2", "T3", "T4", "Z1", "Z11", "Z12", "Z13", "Z14"),
        ),
    ),
    rest="placement_other",
)

LEGAL_STATUS = Breakdown(
    "Children looked after at 31 March by legal status",
    "Episodes.LS",
    (
        CodeGroup("ls_interim_care_order", "Interim care orders", ("C1",)),
        CodeGroup("ls_full_care_order", "Full care orders", ("C2",)),
        CodeGroup("ls_placement_order", "Placement order granted (freeing order granted included)", ("E1", "D1")),
        CodeGroup("ls_section_20", "Voluntary agreements under S20 CA 1989 (single placements)", ("V2",)),
        CodeGroup("ls_child_protection", "Detained for child protection", ("L1", "L2", "L3")),
        CodeGroup("ls_youth_justice", "Youth justice legal statuses", ("J1", "J2", "J3")),
    ),
)

CATEGORY_OF_NEED = Breakdown(
    "Children looked after at 31 March by category of need",
    "Episodes.CIN",
    (
        CodeGroup("need_abuse_neglect", "Abuse or neglect", ("N1",)),
        CodeGroup("need_disability", "Child's disability", ("N2",)),
        CodeGroup("need_parent_illness", "Parent's illness or disability", ("N3",)),
        CodeGroup("need_acute_stress", "Family in acute stress", ("N4",)),
        CodeGroup("need_dysfunction", "Family dysfunction", ("N5",)),
        CodeGroup("need_behaviour", "Socially unacceptable behaviour", ("N6",)),
        CodeGroup("need_low_income", "Low income", ("N7",)),
        CodeGroup("need_absent_parenting", "Absent parenting", ("N8",)),
    ),
)

BREAKDOWNS_903 = (CEASED, PLACEMENT, LEGAL_STATUS, CATEGORY_OF_NEED)

# --- CIN census -------------------------------------------------------------------------------------------------

ABUSE = Breakdown(
    "Child protection plans starting during the year by initial category of abuse",
    "ChildProtectionPlans.InitialCategoryOfAbuse",
    (
        CodeGroup("cpp_neg", "Neglect", ("NEG",)),
        CodeGroup("cpp_phy", "Physical abuse", ("PHY",)),
        CodeGroup("cpp_sab", "Sexual abuse", ("SAB",)),
        CodeGroup("cpp_emo", "Emotional abuse", ("EMO",)),
        CodeGroup("cpp_mul", "Multiple", ("MUL",)),
    ),
)

PRIMARY_NEED = Breakdown(
    "Children in need at 31 March by primary need at assessment",
    "CINdetails.PrimaryNeedCode",
    (
        CodeGroup("primary_need_n1", "Abuse or neglect", ("N1",)),
        CodeGroup("primary_need_n2", "Child's disability or illness", ("N2",)),
        CodeGroup("primary_need_n3", "Parent's disability or illness", ("N3",)),
        CodeGroup("primary_need_n4", "Family in acute stress", ("N4",)),
        CodeGroup("primary_need_n5", "Family dysfunction", ("N5",)),
        CodeGroup("primary_need_n6", "Socially unacceptable behaviour", ("N6",)),
        CodeGroup("primary_need_n7", "Low income", ("N7",)),
        CodeGroup("primary_need_n8", "Absent parenting", ("N8",)),
        CodeGroup("primary_need_n9", "Cases other than children in need", ("N9",)),
        CodeGroup("primary_need_n0", "Not stated", ("N0",)),
    ),
    rest="primary_need_n0",
)

_FACTORS = (
    ("1A", "Alcohol misuse: concerns about the child"),
    ("1B", "Alcohol misuse: concerns about the parent or carer"),
    ("1C", "Alcohol misuse: concerns about another person in the household"),
    ("2A", "Drug misuse: concerns about the child"),
    ("2B", "Drug misuse: concerns about the parent or carer"),
    ("2C", "Drug misuse: concerns about another person in the household"),
    ("3A", "Domestic abuse: concerns about the child"),
    ("3B", "Domestic abuse: concerns about the parent or carer"),
    ("3C", "Domestic abuse: concerns about another person in the household"),
    ("4A", "Mental health: concerns about the child"),
    ("4B", "Mental health: concerns about the parent or carer"),
    ("4C", "Mental health: concerns about another person in the household"),
    ("5A", "Learning disability: concerns about the child"),
    ("5B", "Learning disability: concerns about the parent or carer"),
    ("5C", "Learning disability: concerns about another person in the household"),
    ("6A", "Physical disability or illness: concerns about the child"),
    ("6B", "Physical disability or illness: concerns about the parent or carer"),
    ("6C", "Physical disability or illness: concerns about another person in the household"),
    ("7A", "Young carer"),
    ("8B", "Private fostering: child from overseas, parents overseas"),
    ("8C", "Private fostering: child from overseas, parents in the UK"),
    ("8D", "Private fostering: UK child, parents overseas"),
    ("8E", "Private fostering: UK child, parents in the UK"),
    ("8F", "Private fostering: other"),
    ("9A", "Unaccompanied asylum-seeking child"),
    ("10A", "Going or being missing"),
    ("11A", "Child sexual exploitation"),
    ("12A", "Trafficking"),
    ("13A", "Gangs"),
    ("14A", "Socially unacceptable behaviour"),
    ("15A", "Self-harm"),
    ("16A", "Neglect"),
    ("17A", "Emotional abuse"),
    ("18B", "Physical abuse: by an adult"),
    ("18C", "Physical abuse: by another child"),
    ("19B", "Sexual abuse: by an adult"),
    ("19C", "Sexual abuse: by another child"),
    ("20", "Female genital mutilation"),
    ("21", "No factors identified"),
    ("22A", "Abuse linked to faith or belief"),
    ("23A", "Child criminal exploitation"),
    ("24A", "Other"),
)
FACTORS = Breakdown(
    "Factors identified at the end of assessment (assessments completed during the year)",
    "AssessmentFactors.AssessmentFactor",
    tuple(CodeGroup(f"factor_{code.lower()}", label, (code,)) for code, label in _FACTORS),
)

BREAKDOWNS_CIN = (ABUSE, PRIMARY_NEED, FACTORS)
BREAKDOWNS = (*BREAKDOWNS_903, *BREAKDOWNS_CIN)
