"""The table store: the dataset's tables as the rules see them, with the child's id as a code and derived
columns computed once per run and shared by every rule."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..dataset import Dataset
from ..ingest.typed import empty_frame
from .columns import Columns
from .derived import (
    ChildDerivation,
    DerivationContext,
    child_derivations_for,
    derivations_for,
    year_table,
    years_back_of,
)
from .joins import CHILD_CODE
from .rule import ALL_YEARS, Rule
from .sequences import Sequence
from .shared import SharedValues
from .vectors import Memo


class TableStore:
    """Read-only access to the dataset's tables, with derived columns computed once and shared."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._frames: dict[str, pd.DataFrame] = {}
        self._derived: dict[tuple[str, str], pd.DataFrame] = {}
        self._per_child: dict[tuple[str, int], pd.DataFrame] = {}
        self._fact_rows: dict[int, tuple[pd.DataFrame, np.ndarray, pd.DataFrame]] = {}  # per-child facts by code
        self._with_derived: dict[tuple[str, frozenset[str]], pd.DataFrame] = {}
        self.derive_seconds = 0.0  # time spent computing derived columns (reported by benchmarks/run.py)
        self._orderings: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[np.ndarray, np.ndarray]] = {}
        self._child_ids: pd.Index | None = None  # every child id of the run, in a fixed order (CHILD_CODE)
        self._table_codes: dict[int, tuple[pd.DataFrame, np.ndarray]] = {}  # a table's CHILD_CODE, by its frame
        self._child_orders: dict[int, tuple[pd.DataFrame, np.ndarray]] = {}  # a frame's order by CHILD_CODE
        self._columns: dict[tuple[int, str], tuple[pd.DataFrame, Columns]] = {}  # a frame's arrays, by prefix
        ctx = dataset.context
        self.constants = ctx.constants()  # worked out once per run
        self._shared: SharedValues | None = None
        self.memo = Memo()  # pure functions' results, shared by the rules (engine/vectors.py)
        self._derivation_context = DerivationContext(
            dataset.schema.child_key,
            ctx.la,
            dataset.postcodes,
            pd.Timestamp(ctx.collection_start),
            pd.Timestamp(ctx.collection_end),
            given=frozenset(dataset.tables),
        )

    def frame(self, name: str, derived: frozenset[str] = frozenset()) -> pd.DataFrame:
        """The table with the ``derived`` columns it has; a table that was not supplied has no records.

        The frame is the store's own, shared by every rule: never change it (a rule's base frame is a copy).
        Raises DerivedDataUnavailable when a derived column needs data the run does not have.
        """
        if name not in self._frames:
            if name.endswith(ALL_YEARS):
                self._frames[name] = self._with_child_code(self._all_years(name.removesuffix(ALL_YEARS)))
                return self._frames[name]  # no derived columns: those are worked out per year
            if name in self.dataset.tables:
                found = self.dataset.tables[name].df
            else:
                found = empty_frame(self.dataset.schema.tables[name.split("@")[0]])
            self._frames[name] = self._with_child_code(found)
        df = self._frames[name]
        base = name.split("@")[0]
        derivations = derivations_for(self.dataset.return_type, base, set(derived))
        per_child = child_derivations_for(self.dataset.return_type, set(derived))
        if self.dataset.schema.child_key not in df.columns:
            per_child = []
        if not derivations and not per_child:
            return df
        combined_key = (name, frozenset(d.name for d in [*derivations, *per_child]))
        if combined_key in self._with_derived:
            return self._with_derived[combined_key]
        parts = []
        for derivation in derivations:
            key = (name, derivation.name)
            if key not in self._derived:
                started = time.perf_counter()
                try:
                    self._derived[key] = derivation.compute(df, self._derivation_context)
                finally:
                    self.derive_seconds += time.perf_counter() - started
            parts.append(self._derived[key])
        parts.extend(self._child_facts(name, df, per_child))
        # A column the engine derives replaces a same-named extra column of the file (e.g. an extract's own
        # PL_LA): rules see one meaning of each name.
        derived_names = {c for part in parts for c in part.columns}
        combined = pd.concat([df.drop(columns=[c for c in df.columns if c in derived_names]), *parts], axis=1)
        self._with_derived[combined_key] = combined  # built once per table and set of derivations, then shared
        return combined

    def columns(self, name: str, derived: frozenset[str] = frozenset(), prefix: str = "") -> Columns:
        """:meth:`frame` as light columns (its arrays, no copy), each name with ``prefix`` before it; made once per
        frame and prefix and shared by every rule (never changed: a rule adds its own columns to a new one)."""
        frame = self.frame(name, derived)
        key = (id(frame), prefix)
        known = self._columns.get(key)
        if known is None or known[0] is not frame:
            known = self._columns[key] = (frame, Columns.of_frame(frame, prefix))
        return known[1]

    @property
    def shared(self) -> SharedValues:
        """Values of sub-expressions that several rules evaluate on the same records (engine/shared.py)."""
        if self._shared is None:
            self._shared = SharedValues(self.dataset.return_type, self.dataset.context.year)
        return self._shared

    def years_given(self, base: str) -> int:
        """How many earlier years' ``base`` tables were given, without a gap (``--previous``, most recent first)."""
        n = 0
        while year_table(base, n + 1) in self.dataset.tables:
            n += 1
        return n

    def history_start(self, base: str) -> pd.Timestamp:
        """1 April of the oldest year whose ``base`` table was given: the care history before it is unseen."""
        return pd.Timestamp(self.dataset.context.collection_start) - pd.DateOffset(years=self.years_given(base))

    def _all_years(self, base: str) -> pd.DataFrame:
        """``base`` of this year and of each earlier year given, each record with its return's collection year."""
        start = pd.Timestamp(self.dataset.context.collection_start)
        end = pd.Timestamp(self.dataset.context.collection_end)
        parts = []
        for back in range(self.years_given(base) + 1):
            name = year_table(base, back)
            df = (
                self.dataset.tables[name].df
                if name in self.dataset.tables
                else empty_frame(self.dataset.schema.tables[base])
            )
            parts.append(
                df.assign(
                    RETURN_START=start - pd.DateOffset(years=back),
                    RETURN_END=end - pd.DateOffset(years=back),
                )
            )
        return pd.concat(parts, ignore_index=True)

    def _with_child_code(self, df: pd.DataFrame) -> pd.DataFrame:
        """The table with CHILD_CODE: the child's id as a number, the same in every table and year (-1 where the
        id is blank), so that relations on the child id merge on integers rather than text."""
        key = self.dataset.schema.child_key
        if key not in df.columns:
            return df
        if self._child_ids is None:
            self._code_children(key)
        assert self._child_ids is not None
        known = self._table_codes.get(id(df))
        codes = known[1] if known is not None and known[0] is df else self._child_ids.get_indexer(df[key])
        return df.assign(**{CHILD_CODE: codes})

    def _code_children(self, key: str) -> None:
        """Numbers every child id of the run's tables in one pass: the ids in order of first appearance (as
        ``unique`` lists them), each table's codes a slice of the whole (a blank id is -1)."""
        frames = [t.df for t in self.dataset.tables.values() if key in t.df.columns]
        if not frames:
            self._child_ids = pd.Index([])
            return
        codes, uniques = pd.factorize(pd.concat([f[key] for f in frames], ignore_index=True))
        self._child_ids = pd.Index(np.asarray(uniques))  # typed as an Index of the unique ids is
        start = 0
        for frame in frames:
            self._table_codes[id(frame)] = (frame, codes[start : start + len(frame)])
            start += len(frame)

    def child_order(self, frame: pd.DataFrame) -> np.ndarray:
        """The stable order of a store frame's records by CHILD_CODE, sorted once per frame and run."""
        known = self._child_orders.get(id(frame))
        if known is None or known[0] is not frame:
            known = self._child_orders[id(frame)] = (frame, np.argsort(frame[CHILD_CODE].to_numpy(), kind="stable"))
        return known[1]

    def ordering(self, rule: Rule, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
        """The sequence order of a rule's base frame, sorted once per table and keys and shared between rules.

        Shared only when every key is a column of the rule's own table (not of a join or a `let`), so that the
        order depends on nothing but the table; the base frame holds the table's records in their order.
        """
        keys = (*rule.sequence_by, *rule.sequence_order)
        table = self.dataset.tables.get(rule.table)
        if table is None or len(frame) != len(table.df) or any("." in k or k in rule.lets for k in keys):
            return None
        cache_key = (rule.table, rule.sequence_by, rule.sequence_order)
        if cache_key not in self._orderings:
            self._orderings[cache_key] = Sequence.ordering(frame, rule.sequence_by, rule.sequence_order)
        return self._orderings[cache_key]

    def _child_facts(self, name: str, df: pd.DataFrame, chosen: list[ChildDerivation]) -> list[pd.DataFrame]:
        """The per-child derived columns of ``chosen``, each child's value on each of its records."""
        child_key = self.dataset.schema.child_key
        years_back = years_back_of(name)
        parts = []
        for derivation in chosen:
            key = (derivation.name, years_back)
            if key not in self._per_child:
                started = time.perf_counter()
                try:
                    self._per_child[key] = derivation.compute(self.frame, self._derivation_context, years_back)
                finally:
                    self.derive_seconds += time.perf_counter() - started
            parts.append(self._spread(self._per_child[key], df, child_key))
        return parts

    def _spread(self, facts: pd.DataFrame, df: pd.DataFrame, child_key: str) -> pd.DataFrame:
        """Each record's child's facts (true only where the child's fact is True; false for a child without
        facts): by the records' child codes, not by looking their ids up one by one."""
        if CHILD_CODE not in df.columns or self._child_ids is None or not facts.index.is_unique:
            return facts.reindex(df[child_key].to_numpy()).eq(True).set_axis(df.index)
        known = self._fact_rows.get(id(facts))
        if known is None or known[0] is not facts:  # worked out once per child derivation and year
            where = self._child_ids.get_indexer(facts.index)  # each child with facts: its code
            row_of_code = np.full(len(self._child_ids) + 1, -1, dtype="int64")  # the last: a blank id (code -1)
            row_of_code[where[where >= 0]] = np.flatnonzero(where >= 0)
            known = self._fact_rows[id(facts)] = (facts, row_of_code, facts.eq(True))
        _, row_of_code, flags = known
        rows = row_of_code[df[CHILD_CODE].to_numpy()]
        has = rows >= 0
        out = {}
        for column in flags.columns:
            values = np.zeros(len(df), dtype=bool)
            values[has] = flags[column].to_numpy(dtype=bool)[rows[has]]
            out[column] = values
        return pd.DataFrame(out, index=df.index, columns=flags.columns)
