"""CSV files read a block of text at a time: the records, their lines and the findings are those a line-by-line
csv.reader gives, wherever the blocks happen to end; and the helpers of that reading."""

from __future__ import annotations

import csv
import gc
import io
from pathlib import Path

import numpy as np
import pytest

from validator.ingest import csv_reader
from validator.ingest.coerce import Factored, trimmed_already
from validator.ingest.csv_cells import ColumnBuilder
from validator.ingest.csv_reader import read_csv_file, split_block, split_lines
from validator.ingest.loader import paused_gc
from validator.ingest.raw import Coded
from validator.schema import load_schema

HEADER = ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]
ROW = "C{n},1,01/02/2015,WBRI,UN{n},,"

TEXTS = {
    "plain": "\n".join([",".join(HEADER)] + [ROW.format(n=n) for n in range(40)]) + "\n",
    "crlf, no last line break": "\r\n".join([",".join(HEADER)] + [ROW.format(n=n) for n in range(30)]),
    "lone cr": "\r".join([",".join(HEADER)] + [ROW.format(n=n) for n in range(30)]) + "\r",
    "mixed breaks and blank lines": ",".join(HEADER) + "\r\nC1,1,,,,,\n\nC2,2,,,,,\r\n  \r\nC3,1,,,,,\rC4,2,,,,,\n",
    "quoted cells over lines": ",".join(HEADER)
    + '\nC1,1,"01/02\n/2015",WBRI,"a,b",,\n'
    + "".join(ROW.format(n=n) + "\n" for n in range(20))
    + 'C2,"1\r\n2",x,y,z,,\nC3,1,,,,,\n',
    "ragged rows": ",".join(HEADER) + "\nC1,1\nC2,1,,,,,,extra\n" + "".join(ROW.format(n=n) + "\n" for n in range(20)),
    "uniformly ragged": ",".join(HEADER) + "\n" + "".join(f"C{n},1\n" for n in range(20)),
    "other line breaks in cells": ",".join(HEADER) + "\nC1,1,\x0c,\x85,\u2028,\u2029,\nC2,\x0b,,,,,\n",
    "spaces kept": ",".join(HEADER) + "\n C1 ,1 , 01/02/2015,,,,\n C1 ,1 , 01/02/2015,,,,\n",
    "tabs": "\t".join(HEADER) + "\n" + "".join(ROW.format(n=n).replace(",", "\t") + "\n" for n in range(25)),
}


def _reference(text: str) -> tuple[list[int], dict[str, list[str | None]]]:
    """Lines and columns as a line-by-line csv.reader reads the text (blank lines skipped, short rows padded)."""
    delimiter = "\t" if text.count("\t") > text.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader)
    lines: list[int] = []
    columns: dict[str, list[str | None]] = {name: [] for name in header}
    for cells in reader:
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        lines.append(reader.line_num)
        for pos, name in enumerate(header):
            columns[name].append(cells[pos] if pos < len(cells) else None)
    return lines, columns


@pytest.mark.parametrize("block", [1, 2, 5, 13, 64, 1 << 18])
@pytest.mark.parametrize("name", list(TEXTS))
def test_blocks_of_any_size_read_as_a_line_by_line_reader_does(
    name: str, block: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_reader, "_BLOCK", block)
    path = tmp_path / "header.csv"
    path.write_bytes(TEXTS[name].encode("utf-8"))
    _, raw, findings = read_csv_file(path, [load_schema("ssda903")])
    lines, columns = _reference(TEXTS[name])
    assert raw is not None
    assert list(raw.lines) == lines
    assert raw.columns == {col: columns[col] for col in HEADER}
    ragged = [f.line for f in findings if f.code == "ROW-RAGGED"]
    assert ragged == [line for line, n in zip(lines, range(len(lines)), strict=True) if _width(TEXTS[name], n) != 7]


def _width(text: str, n: int) -> int:
    delimiter = "\t" if text.count("\t") > text.count(",") else ","
    rows = [
        r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r and (len(r) > 1 or r[0].strip())
    ]
    return len(rows[n + 1])


def test_a_line_over_the_limit_stops_the_reading_after_the_rows_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_reader, "_BLOCK", 16)
    monkeypatch.setattr(csv_reader, "MAX_LINE", 200)
    path = tmp_path / "header.csv"
    path.write_text(",".join(HEADER) + "\nC1,1,,,,,\nC2,1,,,,,\n" + "x," * 150 + "\nC3,1,,,,,\n", encoding="utf-8")
    _, raw, findings = read_csv_file(path, [load_schema("ssda903")])
    assert raw is not None and list(raw.lines) == [2, 3]
    (stop,) = [f for f in findings if f.code == "FILE-UNREADABLE"]
    assert "line 4: a line of more than 200 characters" in stop.message


def test_nul_characters_are_dropped_and_counted_in_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_reader, "_BLOCK", 8)
    path = tmp_path / "header.csv"
    path.write_text(",".join(HEADER) + "\nC\x001,1,,,,,\nC2,1,,,,,\n", encoding="utf-8")
    _, raw, findings = read_csv_file(path, [load_schema("ssda903")])
    assert raw is not None and raw.columns["CHILD"] == ["C1", "C2"]
    assert any("1 NUL character(s) were removed" in f.message for f in findings)


def test_split_lines_breaks_at_newline_crlf_and_cr_only() -> None:
    assert split_lines("a\r\nb\rc\nd") == ["a\r\n", "b\r", "c\n", "d"]
    assert split_lines("a\x0cb\u2028c\n") == ["a\x0cb\u2028c\n"]  # str.splitlines would break at both
    assert split_lines("a\r") == ["a\r"]


def test_split_block_cuts_lines_of_one_width_at_once_and_others_as_csv_does() -> None:
    even = split_block(5, ["a,b\n", "c,d\r\n", "e,f"], ",")
    assert (even.cells, even.width, even.first) == (["a", "b", "c", "d", "e", "f"], 2, 5)
    assert even.lines() == [["a", "b"], ["c", "d"], ["e", "f"]]
    uneven = split_block(2, ["a,b\n", "\n", "c\n"], ",")
    assert uneven.cells is None and uneven.lines() == [["a", "b"], [], ["c"]]
    lone_cr = split_block(2, ["a,b\r", "c,d\n"], ",")
    assert lone_cr.lines() == [["a", "b"], ["c", "d"]]


def test_column_builder_numbers_values_in_the_order_they_first_appear_and_shares_them() -> None:
    builder = ColumnBuilder(2)
    first = "".join(["x", "y"])
    builder.add_columns([[first, "a", None], ["1", "1", "2"]])
    builder.add(("b", "2"))
    builder.add_columns([["a", "xy", "b"], ["3", "1", None]])
    column, other = builder.finish()
    assert column.uniques.tolist() == ["xy", "a", "b", None] and column.codes.tolist() == [0, 1, -1, 2, 1, 0, 2]
    assert column.values() == ["xy", "a", None, "b", "a", "xy", "b"]
    assert column.values()[5] is first
    assert other.values() == ["1", "1", "2", "2", "3", "1", None]


@pytest.mark.parametrize(
    "values",
    [["a", "b", "a"], ["a", "", "b", None, ""], [" a", "a", "a "], ["x", "  ", "y"], [None, None], [], ["\xa0z"]],
)
def test_a_numbered_column_is_typed_as_the_same_column_of_text(values: list[str | None]) -> None:
    builder = ColumnBuilder(1)
    builder.add_columns([values])
    (coded,) = builder.finish()
    direct, numbered = Factored.of(values), Factored.of_coded(coded)
    assert numbered.codes.tolist() == direct.codes.tolist()
    assert numbered.uniques.tolist() == direct.uniques.tolist()


def test_trimmed_already() -> None:
    assert trimmed_already(np.array(["a", "b c"], dtype=object))
    for untrimmed in (["a", ""], [" a"], ["a "], ["a", "b\t"], ["\u2003x"], []):
        assert not trimmed_already(np.array(untrimmed, dtype=object)), untrimmed
    assert not trimmed_already(np.array(["a", 1], dtype=object))


def test_coded_values() -> None:
    coded = Coded(np.array([1, -1, 0, 1], dtype=np.int32), np.array(["p", "q", None], dtype=object))
    assert coded.values() == ["q", None, "p", "q"]


@pytest.mark.parametrize("enabled", [True, False])
def test_paused_gc_restores_the_collector_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        with paused_gc():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(ValueError), paused_gc():
            raise ValueError
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_episode_dates_of_a_numbered_column_are_those_of_its_text(tmp_path: Path) -> None:
    from dataclasses import replace

    from validator.ingest.sanity import _column_dates

    path = tmp_path / "episodes.csv"
    rows = ["C1,01/04/2024,S", "C2,2024-05-02,S", "C3,,S", "C4,31/02/2024,S", "C5,01/04/2024,S", "C6"]
    path.write_text("CHILD,DECOM,RNE\n" + "\n".join(rows) + "\n", encoding="utf-8")
    _, raw, _ = read_csv_file(path, [load_schema("ssda903")])
    assert raw is not None and raw.coded
    numbered = _column_dates(raw, "DECOM")
    text_only = _column_dates(replace(raw, coded={}, dates={}), "DECOM")
    assert numbered.equals(text_only) and numbered.notna().tolist() == [True, True, False, False, True, False]


def test_a_record_appended_after_reading_drops_the_numbered_columns(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text(",".join(HEADER) + "\nC1,1,,,,,\n", encoding="utf-8")
    _, raw, _ = read_csv_file(path, [load_schema("ssda903")])
    assert raw is not None and raw.coded
    raw.append({"CHILD": "C2"}, 3)
    assert not raw.coded and raw.columns["CHILD"] == ["C1", "C2"]


def test_a_columns_values_are_listed_only_when_asked_for_and_a_column_set_replaces_its_numbers() -> None:
    from validator.ingest.raw import CodedColumns

    coded = {
        "CHILD": Coded(np.array([0, 1, 0], dtype=np.int32), np.array(["C1", "C2", None], dtype=object)),
        "SEX": Coded(np.array([0, -1, 0], dtype=np.int32), np.array(["1", None], dtype=object)),
    }
    columns = CodedColumns(coded)
    assert list(columns) == ["CHILD", "SEX"] and len(columns) == 2 and "SEX" in columns and "DOB" not in columns
    assert columns["SEX"] == ["1", None, "1"] and columns["SEX"] is columns["SEX"]  # listed once, then kept
    assert columns.get("DOB") is None and dict(columns) == {"CHILD": ["C1", "C2", "C1"], "SEX": ["1", None, "1"]}
    columns["CHILD"] = ["X", "Y", "Z"]
    columns.setdefault("DOB", [None] * 3)
    assert columns == {"CHILD": ["X", "Y", "Z"], "SEX": ["1", None, "1"], "DOB": [None, None, None]}
    del columns["SEX"]
    assert list(columns) == ["CHILD", "DOB"]
