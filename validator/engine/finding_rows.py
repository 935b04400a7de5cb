"""Building findings: the flagged records of a rule as a FindingTable (columns), with the values of the fields they show
(from the record, or from the related record it was compared with), and care-history confirmation.

All finding building is here, so that a change to how findings are handed over lands in one module."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..dataset import FILE, LINE, ROW, Dataset
from ..findings import NO_RECORD, SEVERAL_RECORDS, UNCONFIRMED, FindingTable
from ..ingest.coerce import RAW_SUFFIX
from ..years import year_containing
from . import vectors
from .columns import Columns
from .evaluate import RuleRun, Scope
from .expr import as_bool
from .rule import Related, Rule, default_on
from .store import TableStore


def _display(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    return value


def _field_column(rule: Rule, frame: pd.DataFrame, name: str) -> str | None:
    if "." in name:
        owner, col = name.split(".", 1)
        if owner == rule.table.split("@")[0] and col in frame:
            return col
        for alias, rel in rule.joins.items():
            if owner in (alias, rel.table, rel.table.split("@")[0]) and f"{alias}.{col}" in frame:
                return f"{alias}.{col}"
        return None
    return name if name in frame else None


def _shown(frame: pd.DataFrame | dict[str, pd.Series], col: str) -> pd.Series:
    """A column's values as a finding shows them: an unreadable value as the text the file had."""
    shown = frame[col]
    if col + RAW_SUFFIX in frame:
        shown = shown.astype("object").where(shown.notna(), frame[col + RAW_SUFFIX])
    return shown


def _shown_objects(frame: pd.DataFrame | Columns, col: str) -> np.ndarray:
    """``_shown(frame, col).astype("object")`` as an array, without a Series where numpy gives the same objects
    (numbers, flags, text: not dates, which pandas gives as Timestamps)."""
    values = _array(frame, col)
    if not isinstance(values, np.ndarray) or values.dtype.kind not in "iufbO":
        return _shown(frame, col).astype("object").to_numpy()  # type: ignore[arg-type]
    objects = values.astype(object)
    if col + RAW_SUFFIX in frame and values.dtype.kind in "fO":
        missing = pd.isna(values)
        objects[missing] = np.asarray(_array(frame, col + RAW_SUFFIX), dtype=object)[missing]
    return objects


def _join_of(rule: Rule, name: str) -> str | None:
    """The alias of the join a ``Table.FIELD`` (or ``alias.FIELD``) field of the rule comes from."""
    owner = name.split(".", 1)[0]
    for alias, rel in rule.joins.items():
        if owner in (alias, rel.table, rel.table.split("@")[0]):
            return alias
    return None


def _one_per_record(pairs: pd.DataFrame | Columns, col: str, count: int) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``count`` records (``__pos``): its related records' value of ``col`` where they agree, and
    how many related records it has; records whose related records disagree get SEVERAL_RECORDS.

    Agreeing is judged on the values' text, a blank being a value of its own; a record whose related records
    agree shows the first one's value that is not blank (a blank only if all are blank)."""
    found = np.zeros(count, dtype="int64")
    out = np.full(count, None, dtype=object)
    if not len(pairs):
        return out, found
    positions = pairs["__pos"].to_numpy()
    found = np.bincount(positions, minlength=count)
    order = np.argsort(positions, kind="stable")  # each record's related records together, in their order
    positions = positions[order]
    values = _shown_objects(pairs, col)[order]
    texts = [None if v is None or v is pd.NA or v is pd.NaT or v != v else str(v) for v in values.tolist()]
    codes, _ = pd.factorize(np.array(texts, dtype=object), use_na_sentinel=False)  # a blank is a value too
    width = int(codes.max()) + 1
    distinct = np.bincount(np.unique(positions * width + codes) // width, minlength=count)
    filled = np.flatnonzero(np.fromiter((t is not None for t in texts), dtype=bool, count=len(texts)))
    first_pos, first_at = np.unique(positions[filled], return_index=True)
    out[first_pos] = [_display(v) for v in values[filled[first_at]].tolist()]
    out[distinct > 1] = SEVERAL_RECORDS
    return out, found


def related_values(
    run: RuleRun,
    hits: pd.DataFrame,
    name: str,
    known: dict[tuple[str, int, bool], Columns | pd.DataFrame] | None = None,
) -> list[Any]:
    """The value of ``Table.FIELD`` that each flagged record was compared with, from the record the rule related
    it to: a joined record; the records an `exists`/`none`/`let` relates it to (those its `where` matched, else
    all its related records); the value of a `min`/`max` of that field; otherwise the owner table's records
    related by default (the CIN header's one record). NO_RECORD where there is none, SEVERAL_RECORDS where
    several disagree; a blank only where the record's field is blank in the file.

    ``known``: the pairs of each related table worked out for another field of the rule (given the same ``hits``),
    which carry the columns of every field of the rule from that table."""
    rule = run.rule
    owner, col = name.split(".", 1)
    alias = _join_of(rule, name)
    if alias is not None:
        rel = rule.joins[alias]
        _, rk = run.merge_keys(hits, rel)
        values = [_display(v) for v in _shown(hits, f"{alias}.{col}").tolist()]
        matched = hits[rk].notna().all(axis=1).tolist()
        return [v if m else NO_RECORD for v, m in zip(values, matched, strict=True)]
    for let_name, (how, rel) in rule.lets.items():
        if (
            how in ("min", "max")
            and rel.table.split("@")[0] == owner
            and rel.value is not None
            and rel.value.source.strip() == f"{rel.alias}.{col}"
            and let_name in hits
        ):
            return [v if v is not None else NO_RECORD for v in (_display(x) for x in hits[let_name].tolist())]
    candidates = [r for r in rule.related if r.table.split("@")[0] == owner and not r.whole_table]
    candidates.sort(key=lambda r: r.table != owner)  # this year's table before an earlier year's
    base = hits.reset_index(drop=True)
    if not candidates:
        schema = run.dataset.schema
        if owner not in schema.tables:
            return [None] * len(hits)
        on = default_on(schema, rule.table, owner)
        keys = [on] if isinstance(on, str) else on
        if all(k in base.columns for k in keys) and all(k in schema.tables[owner].columns for k in keys):
            pairs_on = tuple((k, k) for k in keys)
        else:
            pairs_on = ()  # a table that does not relate to the record (the CIN header): its own records
        candidates = [Related(owner, owner.lower(), pairs_on, None, False, None)]
    count = len(base)
    chosen = np.full(count, None, dtype=object)
    decided = np.zeros(count, dtype=bool)
    known = {} if known is None else known
    shown = {f.split(".", 1)[1] for f in rule.fields if "." in f and f.split(".", 1)[0] == owner}  # its fields
    for use_where in (True, False):
        for rel in candidates:
            if rel.table not in run.dataset.tables or decided.all():
                continue
            key = (owner, id(rel), use_where)
            rel = rel if use_where else replace(rel, where=None)
            column = f"{rel.alias}.{col}"
            if key not in known:
                known[key] = _related_pairs(
                    run, base, rel, {f"{rel.alias}.{c}{s}" for c in shown for s in ("", RAW_SUFFIX)}
                )
            pairs = known[key]
            if column not in pairs:
                continue
            values, found = _one_per_record(pairs, column, count)
            take = ~decided & (found > 0)
            chosen[take] = values[take]
            decided |= take
    chosen[~decided] = NO_RECORD
    return chosen.tolist()


def _related_pairs(run: RuleRun, base: pd.DataFrame, rel: Related, columns: set[str]) -> Columns | pd.DataFrame:
    """The pairs of ``base``'s records and their records of ``rel``, carrying the related ``columns``."""
    if rel.on:
        return run.pairs(base, rel, frozenset(columns))
    records = run.related_frame(rel, columns)
    count = len(base)
    return pd.DataFrame(
        {c: np.tile(records[c].to_numpy(), count) for c in records.columns}
        | {"__pos": np.repeat(np.arange(count), len(records))}
    )


def _array(frame: pd.DataFrame | Columns, name: str) -> Any:
    """A column's values as an array of its type (no copy)."""
    if isinstance(frame, Columns):
        return frame.array(name)
    column = frame[name]
    return column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array


def shown_values(frame: pd.DataFrame | Columns, col: str, positions: np.ndarray) -> list[Any]:
    """The values of ``col`` at ``positions`` as findings show them (``_display`` of ``_shown``): an unreadable
    value as the text the file had. Only the records at ``positions`` are converted."""
    values = _array(frame, col).take(positions)
    raw = _array(frame, col + RAW_SUFFIX).take(positions).tolist() if col + RAW_SUFFIX in frame else None
    if isinstance(values, np.ndarray) and values.dtype.kind in "iufbOM":
        listed = _displayed(values)
        if raw is not None and values.dtype.kind not in "iub":
            there = vectors.known(values) if values.dtype.kind != "O" else ~pd.isna(values)
            listed = [v if k else _display(r) for v, k, r in zip(listed, there.tolist(), raw, strict=True)]
        return listed
    shown = pd.Series(values, copy=False)  # a type numpy has not got: the pandas way, on these records only
    if raw is not None:
        shown = shown.astype("object").where(shown.notna(), pd.Series(raw, dtype=object))
    return [_display(v) for v in shown.tolist()]


def _displayed(values: np.ndarray) -> list[Any]:
    """``_display`` of each value of a numpy array (dates as pandas gives them: Timestamps, NaT where missing),
    without a call per value where the type says what it gives: whole numbers and flags as they are, text as it
    is, each distinct date once."""
    kind = values.dtype.kind
    if kind in "iub":
        return values.tolist()  # type: ignore[no-any-return]
    if kind == "f":
        return [None if v != v else v for v in values.tolist()]
    if kind == "M":
        distinct, where = np.unique(values, return_inverse=True)
        shown = np.empty(len(distinct), dtype=object)
        shown[:] = [_display(pd.Timestamp(v)) for v in distinct]
        return shown[where.reshape(-1)].tolist()  # type: ignore[no-any-return]
    return [v if type(v) is str else _display(v) for v in values.tolist()]


def make_findings(
    rule: Rule,
    frame: pd.DataFrame | Columns,
    mask: pd.Series | np.ndarray,
    dataset: Dataset,
    run: RuleRun | None = None,
) -> FindingTable:
    flags = mask if isinstance(mask, np.ndarray) else mask.to_numpy(dtype=bool)
    if not flags.any():  # most rules flag nothing: skip building the columns
        return FindingTable()
    child_key = dataset.schema.child_key
    cols = [_field_column(rule, frame, f) for f in rule.fields]
    related = run is not None and any(
        "." in f and col != f.split(".", 1)[1] for f, col in zip(rule.fields, cols, strict=True)
    )
    positions = np.flatnonzero(flags)
    hits = _rows(frame, positions) if related else None
    n = len(positions)
    values: list[list[Any]] = []
    known: dict[tuple[str, int, bool], Columns | pd.DataFrame] = {}  # related tables' pairs, shared by the fields
    for name, col in zip(rule.fields, cols, strict=True):
        if run is not None and "." in name and col != name.split(".", 1)[1]:
            assert hits is not None
            values.append(related_values(run, hits, name, known))
            continue
        if col is None:
            values.append([None] * n)
            continue
        values.append(shown_values(frame, col, positions))
    children = _array(frame, child_key).take(positions).tolist() if child_key in frame else [None] * n
    return FindingTable.build(
        n,
        code=rule.code,
        severity=rule.severity,
        level=rule.level,
        message=rule.message,
        table=rule.table,
        row=_ints(_array(frame, ROW).take(positions)),
        child=[c if type(c) is str else None if c is None or c != c else str(c) for c in children],
        fields=tuple(rule.fields),
        values=list(zip(*values, strict=True)) if values else [()] * n,
        file=_array(frame, FILE).take(positions).tolist(),
        line=_ints(_array(frame, LINE).take(positions)),
    )


def _ints(values: Any) -> list[int]:
    """Whole numbers as Python ints (an integer array's ``tolist`` gives them already)."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        return values.tolist()  # type: ignore[no-any-return]
    return [int(x) for x in values.tolist()]


def _rows(frame: pd.DataFrame | Columns, positions: np.ndarray) -> pd.DataFrame:
    """The records at ``positions`` as a DataFrame (for the fields shown from related records)."""
    if isinstance(frame, Columns):
        return frame.take(positions).to_frame()
    return frame.iloc[positions]


def confirm_history(
    rule: Rule, frame: pd.DataFrame | Columns, flagged: np.ndarray, findings: FindingTable, store: TableStore
) -> FindingTable:
    """Marks unconfirmed the findings that rest on history older than the returns given (the rule's `history:`).

    ``findings`` are those of ``frame``'s flagged records, in frame order (as :func:`make_findings` makes them).
    """
    history = rule.history
    assert history is not None
    run = RuleRun(rule, store)
    scope = Scope(frame, run)
    mask = np.asarray(flagged, dtype=bool)
    needed_from = pd.to_datetime(pd.Series(run.evaluate(history.start, scope), index=frame.index))[mask]
    applies = (
        as_bool(run.evaluate(history.when, scope), frame.index)[mask]
        if history.when is not None
        else pd.Series(True, index=needed_from.index)
    )
    first = store.history_start(history.table)
    confidence, notes = findings.column("confidence"), findings.column("note")
    for i, (since, rests) in enumerate(zip(needed_from.tolist(), applies.tolist(), strict=True)):
        if not rests or (not pd.isna(since) and since >= first):
            continue
        confidence[i] = UNCONFIRMED
        notes[i] = history_note(history.table, first, since, store.dataset.context.year)
    return findings.assign(confidence=confidence, note=notes)


def history_note(table: str, first: pd.Timestamp, since: pd.Timestamp | None, year: str) -> str:
    """Why an answer resting on ``table`` before ``first`` (1 April of the oldest year given with ``year``'s return)
    is not settled, and the returns that would settle it: back to the year of ``since`` (blank: every earlier one).
    Unconfirmed findings and the preview's figures say it in these same words."""
    oldest = year_containing(first.date())
    given = "only this year's return was given" if oldest == year else f"returns given back to {oldest}"
    need = "every earlier year's return"
    if since is not None and not pd.isna(since):
        need = f"the returns back to {year_containing(since.date())}"
    return f"Rests on {table} before {first:%d/%m/%Y} ({given}): give {need} with --previous to confirm."
