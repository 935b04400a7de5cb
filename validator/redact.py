"""Pseudonymised results (``--redact``), for sharing reports outside the data team.

What changes (docs/output.md, "Pseudonymised reports", documents the same list):

- child ids (the return's ``id`` columns: CHILD, LAchildID, and each finding's ``child``) become a keyed hash,
  HMAC-SHA256 of the id under the key, the first 16 hex digits: the same id gives the same hash under the same key;
- dates of birth (and of death) become the first of their month: DOB, MC_DOB, PersonBirthDate,
  ExpectedPersonBirthDate, PersonDeathDate;
- postcodes (the ``postcode`` columns: HOME_POST, PL_POST) become their sector, "TW11 9AZ" -> "TW11 9";
- free text and other people's identifiers are removed: UPN and FormerUPN (DfE's UN1-UN10 codes are kept),
  URN, SW_ID, and every column the LA added that the return does not define;
- messages (file findings quote the values they found) and crash reasons get the same treatment for the
  values they quote, and any child id, date of birth, postcode or removed value found in them is replaced;
  text a message quotes from a file without knowing what it is (``Finding.quoted``, e.g. the first row of a
  file whose header row was not recognised) is removed, whether or not its values were seen in a table.

Everything else (codes, other dates, counts, file names and lines) is kept. The Result's records (its dataset)
are redacted the same way, so a view that shows a child's records (the HTML report) shows redacted records.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from typing import Any

import pandas as pd

from .dataset import FILE, LINE, ROW, Dataset, Table
from .findings import NO_RECORD, SEVERAL_RECORDS, Finding
from .request import KEY_ENV
from .result import Result, RuleStatus
from .schema import ReturnSchema, load_schema

REMOVED = "[removed]"
RAW = "@raw"

# Dates that identify a person: reduced to the first of their month.
BIRTH_DATES = frozenset({"DOB", "MC_DOB", "PersonBirthDate", "ExpectedPersonBirthDate", "PersonDeathDate"})
# Text columns of the returns that are dates, codes or file metadata rather than free text: kept.
KEEP_TEXT = frozenset(
    {"DATE_PERM", "SW_DECOM", "SW_DEC", "Year", "LEA", "SoftwareCode", "Release", "SerialNo", "DateTime"}
)
UPN_FIELDS = frozenset({"UPN", "FormerUPN"})
UPN_CODES = frozenset(f"UN{n}" for n in range(1, 11))  # DfE's reasons a UPN is unknown: codes, not identifiers

_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9])[A-Z]{2}")
_OUTWARD = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?")
_POSTCODE_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,2}[0-9][A-Za-z0-9]?) ?([0-9])[A-Za-z]{2}(?![A-Za-z0-9])")
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DATE_IN_TEXT = re.compile(r"(?<![0-9/-])(?:\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{1,2}-\d{1,2})(?![0-9/-])")
_QUOTED = re.compile(r"(?P<field>[A-Za-z_][A-Za-z0-9_.]*)(?P<sep>\s*[=:]?\s*)'(?P<value>[^']*)'")
_TOKEN = re.compile(r"(?<![A-Za-z0-9_/-])[A-Za-z0-9_-]+(?![A-Za-z0-9_/-])")
_LINE_NUMBER = re.compile(r"(?:line|lines|cells?|row)\s+$", re.IGNORECASE)


def resolve_key(given: str | None) -> tuple[bytes, str]:
    """The redaction key and where it came from: ``given`` (--redact-key), the environment, or random."""
    if given:
        return given.encode("utf-8"), "the --redact-key option"
    from_env = os.environ.get(KEY_ENV, "")
    if from_env:
        return from_env.encode("utf-8"), f"the {KEY_ENV} environment variable"
    return secrets.token_bytes(32), "a random key made for this run"


def birth_month(value: Any) -> Any:
    """A date reduced to the first of its month; text keeps its form (dd/mm/yyyy or yyyy-mm-dd)."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return value
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = str(value).strip()
    if not text:
        return value
    if m := _DMY.match(text):
        return f"01/{m.group(2).zfill(2)}/{m.group(3)}"
    if m := _YMD.match(text):
        return f"{m.group(1)}-{m.group(2).zfill(2)}-01"
    return REMOVED


def postcode_sector(value: Any) -> Any:
    """A postcode reduced to its sector ("TW11 9AZ" -> "TW11 9"); an outward code alone is kept; else removed."""
    if value is None or (isinstance(value, float) and value != value):
        return value
    compact = re.sub(r"\s+", "", str(value)).upper()
    if not compact:
        return value
    if m := _POSTCODE.fullmatch(compact):
        return f"{m.group(1)} {m.group(2)}"
    if _OUTWARD.fullmatch(compact):
        return compact
    return REMOVED


def _blank(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value) or value == ""


class Redactor:
    """Applies one key's pseudonymisation to a Result: findings, rule reasons and records."""

    def __init__(self, key: bytes, schema: ReturnSchema, dataset: Dataset | None = None) -> None:
        self.key = key
        self.schema = schema
        self._hashes: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        for table in schema.tables.values():
            for col in table.columns.values():
                self.kinds[col.name] = self._kind_of(col.name, col.type)
        self.extra_columns: set[str] = set()
        # Values seen in the records, to find them again inside messages.
        self.child_ids: set[str] = set()
        self.birth_dates: set[tuple[int, int, int]] = set()
        self.removed_values: set[str] = set()
        self.static_messages: set[str] = set()  # DfE's own rule messages: fixed text, never personal
        if dataset is not None:
            self._learn(dataset)

    @staticmethod
    def _kind_of(name: str, col_type: str) -> str:
        if col_type == "id":
            return "id"
        if name in BIRTH_DATES:
            return "birth"
        if col_type == "postcode":
            return "postcode"
        if name in UPN_FIELDS:
            return "upn"
        if col_type == "text" and name not in KEEP_TEXT:
            return "remove"
        return "keep"

    def kind(self, field: str | None) -> str:
        """How a field's values are treated: id, birth, postcode, upn, remove or keep."""
        if not field:
            return "unknown"
        name = field.rsplit(".", 1)[-1]
        if name in self.kinds:
            return self.kinds[name]
        if name in self.extra_columns:
            return "remove"
        return "unknown"

    # -- values ---------------------------------------------------------------------------------------------
    def child(self, value: Any) -> Any:
        if _blank(value):
            return value
        text = str(value).strip()
        if text not in self._hashes:
            self._hashes[text] = hmac.new(self.key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
        return self._hashes[text]

    def value(self, field: str | None, value: Any) -> Any:
        kind = self.kind(field)
        if _blank(value) or value in (NO_RECORD, SEVERAL_RECORDS):  # not a value from the file
            return value
        if kind == "id":
            return self.child(value)
        if kind == "birth":
            return birth_month(value)
        if kind == "postcode":
            return postcode_sector(value)
        if kind == "upn":
            return value if str(value).strip().upper() in UPN_CODES else REMOVED
        if kind == "remove":
            return REMOVED
        if kind == "unknown" and isinstance(value, str):
            return self.text(value)
        return value

    def text(self, message: str | None) -> str | None:
        """A message or reason with the personal values it quotes redacted."""
        if not message:
            return message

        def quoted(m: re.Match[str]) -> str:
            kind = self.kind(m.group("field"))
            raw = m.group("value")
            if kind in ("unknown", "keep"):
                new = self._scrub(raw)
            else:
                new = str(self.value(m.group("field"), raw))
            return f"{m.group('field')}{m.group('sep')}'{new}'"

        return self._scrub(_QUOTED.sub(quoted, message))

    def _scrub(self, text: str) -> str:
        def date(m: re.Match[str]) -> str:
            found = _date_parts(m.group(0))
            return str(birth_month(m.group(0))) if found in self.birth_dates else m.group(0)

        text = _DATE_IN_TEXT.sub(date, text)
        text = _POSTCODE_IN_TEXT.sub(lambda m: f"{m.group(1).upper()} {m.group(2)}", text)

        def token(m: re.Match[str]) -> str:
            word = m.group(0)
            if word in self.child_ids and not _LINE_NUMBER.search(text[: m.start()]):
                return self.child(word)
            if word in self.removed_values:
                return REMOVED
            return word

        return _TOKEN.sub(token, text)

    # -- whole objects --------------------------------------------------------------------------------------
    def finding(self, f: Finding) -> Finding:
        values = tuple(self.value(f.fields[i] if i < len(f.fields) else None, v) for i, v in enumerate(f.values))
        message = f.message
        for quoted in sorted(set(f.quoted), key=len, reverse=True):  # file content of unknown meaning: removed
            if quoted:
                message = message.replace(quoted, REMOVED)
        if message not in self.static_messages:
            message = self.text(message) or message
        return dataclasses.replace(f, child=self.child(f.child), values=values, message=message, quoted=())

    def rule_status(self, status: RuleStatus) -> RuleStatus:
        return dataclasses.replace(status, reason=self.text(status.reason) or status.reason)

    def table(self, table: Table) -> Table:
        base = table.name.split("@", 1)[0]
        table_def = self.schema.tables.get(base)
        declared = set(table_def.columns) if table_def else set()
        df = table.df.copy()
        for col in df.columns:
            if col in (ROW, FILE, LINE):
                continue
            name = col[: -len(RAW)] if col.endswith(RAW) else col
            kind = self.kinds.get(name, "keep") if name in declared else "remove"
            if kind == "keep":
                continue
            if kind == "id":
                df[col] = df[col].map(self.child, na_action="ignore")
            elif kind == "birth":
                if pd.api.types.is_datetime64_any_dtype(df[col]):
                    df[col] = df[col].dt.to_period("M").dt.to_timestamp()
                else:
                    df[col] = df[col].map(birth_month, na_action="ignore")
            elif kind == "postcode":
                df[col] = df[col].map(postcode_sector, na_action="ignore")
            elif kind == "upn":
                df[col] = df[col].map(
                    lambda v: v if str(v).strip().upper() in UPN_CODES else REMOVED, na_action="ignore"
                )
            else:
                df[col] = df[col].map(lambda _v: REMOVED, na_action="ignore")
        return dataclasses.replace(table, df=df)

    def dataset(self, dataset: Dataset) -> Dataset:
        return dataclasses.replace(
            dataset,
            tables={name: self.table(t) for name, t in dataset.tables.items()},
            findings=[self.finding(f) for f in dataset.findings],
        )

    def _learn(self, dataset: Dataset) -> None:
        for table in dataset.tables.values():
            base = table.name.split("@", 1)[0]
            table_def = self.schema.tables.get(base)
            declared = set(table_def.columns) if table_def else set()
            for col in table.df.columns:
                if col in (ROW, FILE, LINE) or col.endswith(RAW):
                    continue
                if col not in declared:
                    self.extra_columns.add(col)
                    kind = "remove"
                else:
                    kind = self.kinds.get(col, "keep")
                series = table.df[col]
                if kind == "id":
                    self.child_ids.update(str(v).strip() for v in series.dropna().unique())
                elif kind == "birth":
                    texts = table.df[col + RAW] if col + RAW in table.df.columns else series
                    for v in [*series.dropna().unique(), *texts.dropna().unique()]:
                        parts = _date_parts(v)
                        if parts:
                            self.birth_dates.add(parts)
                elif kind in ("remove", "upn"):
                    self.removed_values.update(
                        t for t in (str(v).strip() for v in series.dropna().unique()) if len(t) >= 4
                    )
        self.removed_values -= UPN_CODES


def _date_parts(value: Any) -> tuple[int, int, int] | None:
    if isinstance(value, pd.Timestamp | dt.date):
        if value is pd.NaT:
            return None
        return (value.year, value.month, value.day)
    text = str(value).strip()
    if m := _DMY.match(text):
        return (int(m.group(3)), int(m.group(2)), int(m.group(1)))
    if m := _YMD.match(text):
        return (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return None


def redact_result(result: Result, key: bytes) -> Result:
    """A pseudonymised copy of ``result`` (the original is not changed)."""
    dataset: Dataset | None = getattr(result, "dataset", None)
    redactor = Redactor(key, load_schema(result.return_type), dataset)
    redactor.static_messages = {r.message for r in result.rules if r.message}
    changes: dict[str, Any] = {
        "redacted": True,
        "findings": [redactor.finding(f) for f in result.findings],
        "unconfirmed": [redactor.finding(f) for f in result.unconfirmed],
        "rules": [redactor.rule_status(r) for r in result.rules],
    }
    if dataset is not None:
        changes["dataset"] = redactor.dataset(dataset)
    return dataclasses.replace(result, **changes)


def redacted_columns(schema: ReturnSchema) -> dict[str, list[str]]:
    """For documentation and tests: the return's columns by treatment (id, birth, postcode, upn, remove)."""
    out: dict[str, list[str]] = {}
    redactor = Redactor(b"", schema)
    for name, kind in sorted(redactor.kinds.items()):
        if kind != "keep":
            out.setdefault(kind, []).append(name)
    return out


def iter_personal_values(dataset: Dataset) -> Iterable[tuple[str, str]]:
    """(kind, text) of every personal value in the records, for tests that search reports for them."""
    redactor = Redactor(b"", dataset.schema, dataset)
    for child in sorted(redactor.child_ids):
        yield "id", child
    for y, m, d in sorted(redactor.birth_dates):
        yield "birth", f"{d:02d}/{m:02d}/{y}"
        yield "birth", f"{y}-{m:02d}-{d:02d}"
    for value in sorted(redactor.removed_values):
        yield "removed", value
