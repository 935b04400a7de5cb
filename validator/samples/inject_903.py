"""SSDA903 injected mistakes: one labelled mistake each for a share of the children, in the current year's tables."""

from __future__ import annotations

import datetime as dt
import itertools

from .common import DAY, Rand, Row, Tables, dmy, error_children
from .model_903 import Child, Year
from .tables_903 import SSDA903_COLUMNS

_TEMPORARY = ("T0", "T1", "T2", "T3", "T4")


def _date(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d/%m/%Y").date()


class Injector903:
    """Applies one labelled mistake to one child's rows of the current year."""

    def __init__(self, tables: Tables, rng: Rand, year: Year) -> None:
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

    def invalid_code(self, child: Child) -> Row | None:
        episodes = self.child_rows("Episodes", child.child)
        choice = self.rng.choice(("PLACE", "LS", "ETHNIC"))
        if choice == "ETHNIC" or not episodes:
            header = self.child_rows("Header", child.child)[0]
            return self.set("Header", header, "ETHNIC", "WHIT", "invalid_code", "ethnicity code not in DfE's list")
        row = self.rng.choice(episodes)
        value = {"PLACE": "U7", "LS": "C3"}[choice]
        return self.set("Episodes", row, choice, value, "invalid_code", f"{choice} code not in DfE's list")

    def lower_case_code(self, child: Child) -> Row | None:
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

    def bad_date_text(self, child: Child) -> Row | None:
        episodes = self.child_rows("Episodes", child.child)
        if episodes and self.rng.chance(0.5):
            row = episodes[-1]
            year = row[1][-4:]
            return self.set("Episodes", row, "DECOM", f"31/02/{year}", "bad_date_text", "impossible date (31 February)")
        header = self.child_rows("Header", child.child)[0]
        day, month, year = header[2].split("/")
        text = "date written yyyy-mm-dd instead of dd/mm/yyyy"
        return self.set("Header", header, "DOB", f"{year}-{month}-{day}", "bad_date_text", text)

    def date_before_birth(self, child: Child) -> Row | None:
        episodes = self.child_rows("Episodes", child.child)
        if not episodes:
            return None
        first = min(_date(r[1]) for r in episodes)
        born = dmy(first + self.rng.randint(20, 200) * DAY)
        text = "date of birth after the first episode started (DOB changed everywhere)"
        record = None
        for name in self.tables:
            if "DOB" in SSDA903_COLUMNS[name]:
                for row in self.child_rows(name, child.child):
                    record = record or self.set(name, row, "DOB", born, "date_before_birth", text)
                    row[SSDA903_COLUMNS[name].index("DOB")] = born
        return record

    def end_before_start(self, child: Child) -> Row | None:
        episodes = self.child_rows("Episodes", child.child)
        if episodes and episodes[-1][7]:
            row = episodes[-1]
            ended = dmy(_date(row[1]) - self.rng.randint(3, 40) * DAY)
            return self.set("Episodes", row, "DEC", ended, "end_before_start", "episode ends before it started")
        missing = self.child_rows("Missing", child.child)
        if missing:
            row = missing[0]
            ended = dmy(_date(row[3]) - self.rng.randint(1, 5) * DAY)
            text = "missing period ends before it started"
            return self.set("Missing", row, "MIS_END", ended, "end_before_start", text)
        return None

    def episode_gap(self, child: Child) -> Row | None:
        episodes = self.child_rows("Episodes", child.child)
        for row in episodes[1:]:
            if row[2] in "PLTUB" and row[2]:
                start = _date(row[1])
                end = _date(row[7]) if row[7] else self.year.end + 30 * DAY
                later = start + self.rng.randint(2, 9) * DAY
                if later < end:
                    text = "continuation episode starts days after the previous one ended"
                    return self.set("Episodes", row, "DECOM", dmy(later), "episode_gap", text)
        return None

    def episode_overlap(self, child: Child) -> Row | None:
        episodes = self.child_rows("Episodes", child.child)
        for before, after in itertools.pairwise(episodes):
            if before[8] == "X1" and after[7]:
                end = _date(after[7])
                ended = _date(before[7]) + self.rng.randint(2, 9) * DAY
                if ended < end:
                    text = "episode ends after the next one started"
                    return self.set("Episodes", before, "DEC", dmy(ended), "episode_overlap", text)
        return None

    def missing_upn(self, child: Child) -> Row | None:
        header = self.child_rows("Header", child.child)[0]
        if not self.child_rows("Episodes", child.child):
            return None
        return self.set("Header", header, "UPN", "", "missing_upn", "UPN left blank for a looked-after child")

    def missing_reason_ceased(self, child: Child) -> Row | None:
        for row in self.child_rows("Episodes", child.child):
            if row[7]:
                return self.set(
                    "Episodes", row, "REC", "", "missing_reason_ceased", "episode end date without a reason"
                )
        return None

    def missing_mother(self, child: Child) -> Row | None:
        header = self.child_rows("Header", child.child)[0]
        if not header[5]:
            return None
        return self.set("Header", header, "MOTHER", "", "missing_mother", "mother status left blank for a girl in care")

    def sdq_out_of_range(self, child: Child) -> Row | None:
        for row in self.child_rows("OC2", child.child):
            if row[2]:
                return self.set("OC2", row, "SDQ_SCORE", "45", "sdq_out_of_range", "SDQ score above 40")
        return None

    def review_code_for_age(self, child: Child) -> Row | None:
        for row in self.child_rows("Reviews", child.child):
            if row[3] != "PN0":
                text = "PN0 (under 4) for a child aged 4 or over"
                return self.set("Reviews", row, "REVIEW_CODE", "PN0", "review_code_for_age", text)
        return None

    def provider_on_temporary(self, child: Child) -> Row | None:
        for row in self.child_rows("Episodes", child.child):
            if row[5] in _TEMPORARY:
                text = "placement provider given for a temporary placement"
                return self.set("Episodes", row, "PLACE_PROVIDER", "PR1", "provider_on_temporary", text)
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


def inject_903(tables: Tables, children: list[Child], errors: float, rng: Rand, year: Year) -> list[Row]:
    """One mistake for each chosen child, the first in a shuffled catalogue that fits the child's data."""
    chosen = error_children(len(children), errors, rng)
    if not chosen:
        return []
    injector = Injector903(tables, rng, year)
    present = {row[0] for row in tables["Header"]}
    records: list[Row] = []
    for position in chosen:
        child = children[position]
        if child.child not in present:
            continue
        kinds = list(Injector903.CATALOGUE)
        rng.shuffle(kinds)
        for kind in kinds:
            record = getattr(injector, kind)(child)
            if record is not None:
                records.append(record)
                break
    return records
