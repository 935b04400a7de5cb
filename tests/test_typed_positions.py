"""The bookkeeping numbers of typed tables (ROW, LINE) are 32-bit where they fit, 64-bit where they do not."""

from __future__ import annotations

from pathlib import Path

from validator.dataset import LINE, ROW
from validator.ingest.raw import RawTable
from validator.ingest.typed import build_table, positions_array
from validator.schema import load_schema


def test_positions_are_32_bit_unless_too_large() -> None:
    assert positions_array([1, 2, 3]).dtype == "int32"
    assert positions_array(range(0)).dtype == "int32"
    assert positions_array([1, 2**31]).dtype == "int64"
    assert positions_array([1, 2**31]).tolist() == [1, 2**31]


def test_typed_table_rows_and_lines(tmp_path: Path) -> None:
    table = load_schema("cin").tables["Disabilities"]
    raw = RawTable(name="Disabilities", file=str(tmp_path / "f.xml"))
    raw.append({"LAchildID": "C1", "Disability": "MOB"}, 7)
    raw.append({"LAchildID": "C1", "Disability": "HEAR"}, 3_000_000_000)  # a line past 32 bits
    built, _ = build_table("Disabilities", [raw], table, "cin", "2024_25", "LAchildID", {raw.file: ("%Y-%m-%d",)})
    assert built.df[ROW].tolist() == [0, 1] and built.df[ROW].dtype == "int32"
    assert built.df[LINE].tolist() == [7, 3_000_000_000]
