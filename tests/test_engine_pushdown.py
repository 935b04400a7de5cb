"""Splitting a relation's `where` between the record, the related record and the pairs (engine/pushdown.py)."""

from __future__ import annotations

import ast

from validator.engine.expr import compile_expression
from validator.engine.functions import FUNCTIONS
from validator.engine.pushdown import split_where

CONSTANTS = frozenset({"collection_start", "collection_end"})


def _split(source: str) -> tuple[list[str], list[str], list[str]]:
    split = split_where(compile_expression(source, set(FUNCTIONS)), "f", CONSTANTS)
    return tuple([ast.unparse(p) for p in part] for part in (split.record, split.related, split.pairs))  # type: ignore[return-value]


def test_each_part_of_an_and_goes_to_the_side_it_reads() -> None:
    record, related, pairs = _split(
        "LS == 'V3' and f.LS == 'V3' and not invalid(f.DEC) and f.DECOM < add_months(DECOM, 12)"
        " and coalesce(f.DEC, collection_end) > collection_start"
    )
    assert record == ["LS == 'V3'"]
    assert related == ["f.LS == 'V3'", "not invalid(f.DEC)", "coalesce(f.DEC, collection_end) > collection_start"]
    assert pairs == ["f.DECOM < add_months(DECOM, 12)"]


def test_an_or_is_tested_whole_on_the_side_it_reads() -> None:
    assert _split("LS == 'V3' or f.LS == 'V3'") == ([], [], ["LS == 'V3' or f.LS == 'V3'"])
    assert _split("f.LS == 'V3' or blank(f.LS)") == ([], ["f.LS == 'V3' or blank(f.LS)"], [])


def test_a_part_looking_at_other_records_stays_on_the_pairs() -> None:
    assert _split("duplicated(f.DECOM) and LS == 'V3'") == (["LS == 'V3'"], [], ["duplicated(f.DECOM)"])


def test_a_joined_table_of_the_record_counts_as_the_record() -> None:
    assert _split("header.DOB < f.DECOM and header.SEX == '1'") == (["header.SEX == '1'"], [], ["header.DOB < f.DECOM"])
