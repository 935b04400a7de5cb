"""A large CIN return validated in pieces of children (validator/chunked.py) gives what the whole file's run gives:
the same findings in the same order, the same rule statuses, inputs, dataset and headline figures. The tests make
the pieces tiny (a few children) so that small files are cut into many."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import ROOT

import validator
import validator.chunked as chunked
from validator.chunked import PiecesResult
from validator.engine.locality import child_local, columns_read
from validator.engine.model import rules_for
from validator.result import Result
from validator.samples import generate_samples
from validator.schema import load_schema
from validator.years import SUPPORTED_YEARS


def _runs(monkeypatch: pytest.MonkeyPatch, path: Path, children: int = 3, **kw: object) -> tuple[Result, Result]:
    """The run in pieces of ``children`` children, and the whole file's run."""
    monkeypatch.setattr(chunked, "PIECE_BYTES", 0)
    monkeypatch.setattr(chunked, "PIECE_CHILDREN", children)
    pieces = validator.validate([path], la="E09000027", **kw)  # type: ignore[arg-type]
    monkeypatch.setattr(chunked, "PIECE_BYTES", 1 << 62)
    whole = validator.validate([path], la="E09000027", **kw)  # type: ignore[arg-type]
    assert not isinstance(whole, PiecesResult)
    return pieces, whole


def _same(pieces: Result, whole: Result, figures: bool = True) -> None:
    assert pieces.findings.findings() == whole.findings.findings()
    assert pieces.unconfirmed.findings() == whole.unconfirmed.findings()
    assert pieces.rules == whole.rules
    assert pieces.inputs == whole.inputs
    assert pieces.context == whole.context
    if figures:
        assert pieces.figures == whole.figures


@pytest.mark.parametrize("year", SUPPORTED_YEARS["cin"])
def test_generated_returns_with_mistakes_give_the_same_result_in_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, year: str
) -> None:
    generate_samples("cin", year, 120, 17, 0.5, tmp_path)
    pieces, whole = _runs(monkeypatch, tmp_path / "cin" / f"cin_{year}.xml", children=7)
    assert isinstance(pieces, PiecesResult)
    assert len(pieces.findings) > 50  # mistakes of many kinds, in many pieces
    _same(pieces, whole)
    assert "_dataset" not in vars(pieces)  # the figures came from their columns, read again in pieces


@pytest.mark.parametrize(
    "sample", [ROOT / "samples" / "cin" / "cin_2024_25.xml", ROOT / "samples" / "clean" / "cin" / "cin_2024_25.xml"]
)
@pytest.mark.parametrize("children", [1, 4, 1000])
def test_bundled_samples_give_the_same_result_in_pieces(
    monkeypatch: pytest.MonkeyPatch, sample: Path, children: int
) -> None:
    pieces, whole = _runs(monkeypatch, sample, children=children)
    assert isinstance(pieces, PiecesResult)
    _same(pieces, whole)
    # the records, read again when a view asks, are the whole file's
    assert pieces.dataset is not None and whole.dataset is not None
    for name, table in whole.dataset.tables.items():
        assert table.df.equals(pieces.dataset.tables[name].df), name


def _edited(tmp_path: Path, edit: object) -> Path:
    text = (ROOT / "samples" / "cin" / "cin_2024_25.xml").read_text(encoding="utf-8")
    path = tmp_path / "cin.xml"
    path.write_text(edit(text), encoding="utf-8")  # type: ignore[operator]
    return path


def _first_id(text: str) -> str:
    found = re.search(r"<LAchildID>([^<]+)</LAchildID>", text)
    assert found is not None
    return found.group(1)


def test_a_child_id_in_two_pieces_is_validated_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """8510 and the rules relating a child's records need all the records of an id together: with an id in two
    pieces the file is validated whole."""

    def last_child_takes_the_first_id(text: str) -> str:
        last = text.rindex("<LAchildID>")
        end = text.index("</LAchildID>", last)
        return text[: last + len("<LAchildID>")] + _first_id(text) + text[end:]

    path = _edited(tmp_path, last_child_takes_the_first_id)
    pieces, whole = _runs(monkeypatch, path, children=5)
    assert not isinstance(pieces, PiecesResult)
    assert "8510" in {f.code for f in whole.findings}
    _same(pieces, whole)


def test_a_child_id_twice_in_one_piece_is_validated_in_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def second_child_takes_the_first_id(text: str) -> str:
        second = text.index("<LAchildID>", text.index("</LAchildID>"))
        end = text.index("</LAchildID>", second)
        return text[: second + len("<LAchildID>")] + _first_id(text) + text[end:]

    path = _edited(tmp_path, second_child_takes_the_first_id)
    pieces, whole = _runs(monkeypatch, path, children=5)
    assert isinstance(pieces, PiecesResult)
    assert "8510" in {f.code for f in pieces.findings}
    _same(pieces, whole)


def test_blank_child_ids_in_two_pieces_are_validated_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _edited(tmp_path, lambda text: re.sub(r"<LAchildID>[^<]+</LAchildID>", "<LAchildID></LAchildID>", text))
    pieces, whole = _runs(monkeypatch, path, children=5)
    assert not isinstance(pieces, PiecesResult)
    _same(pieces, whole)


def test_dates_in_another_form_are_counted_over_the_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DATE-FORMAT says how many values of a column are written in another form: the whole file's count."""

    def day_first(text: str) -> str:
        text = re.sub(r"<CINreferralDate>(\d{4})-(\d\d)-(\d\d)<", r"<CINreferralDate>\3/\2/\1<", text)
        return re.sub(r"<PersonBirthDate>(\d{4})-(\d\d)-(\d\d)<", r"<PersonBirthDate>\3/\2/\1 00:00<", text, count=9)

    pieces, whole = _runs(monkeypatch, _edited(tmp_path, day_first), children=4)
    assert isinstance(pieces, PiecesResult)
    formats = [f.message for f in pieces.findings if f.code == "DATE-FORMAT"]
    assert len(formats) == 2 and any("9 value(s)" in m for m in formats)
    _same(pieces, whole)


def test_a_year_that_stops_the_run_is_validated_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    pieces, whole = _runs(monkeypatch, ROOT / "samples" / "cin" / "cin_2024_25.xml", year="2023_24")
    assert not isinstance(pieces, PiecesResult)
    assert "YEAR-MISMATCH" in {f.code for f in pieces.findings}
    _same(pieces, whole, figures=False)


def test_a_file_broken_half_way_is_validated_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _edited(tmp_path, lambda text: text[: len(text) // 2])
    pieces, whole = _runs(monkeypatch, path, children=4)
    assert not isinstance(pieces, PiecesResult)
    _same(pieces, whole, figures=False)


def test_year_and_return_found_from_the_file_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    pieces, whole = _runs(monkeypatch, ROOT / "samples" / "cin" / "cin_2024_25.xml", return_type=None)
    assert isinstance(pieces, PiecesResult)
    assert {"YEAR-INFERRED", "RETURN-INFERRED"} <= {f.code for f in pieces.findings}
    _same(pieces, whole)


def test_small_returns_keep_the_simple_path() -> None:
    result = validator.validate([ROOT / "samples" / "cin" / "cin_2024_25.xml"])
    assert not isinstance(result, PiecesResult)


def test_renamed_files_reach_the_records_read_later(monkeypatch: pytest.MonkeyPatch) -> None:
    sample = ROOT / "samples" / "cin" / "cin_2024_25.xml"
    pieces, whole = _runs(monkeypatch, sample)
    assert isinstance(pieces, PiecesResult)
    pieces.rename_files({str(sample): "upload.xml"})
    whole.rename_files({str(sample): "upload.xml"})
    _same(pieces, whole)
    assert pieces.dataset is not None and whole.dataset is not None
    assert set(pieces.dataset.tables["ChildIdentifiers"].df["_file"]) == {"upload.xml"}


def test_which_rules_look_across_children() -> None:
    schema = load_schema("cin")
    rules = {r.code: r for r in rules_for("cin", "2024_25")}
    cross = {code for code, rule in rules.items() if not child_local(rule, schema)}
    assert {"1520", "2883", "2886Q", "100"} <= cross  # duplicate UPNs, return-level counts, the header's rule
    assert {"8510", "8794", "8898"}.isdisjoint(cross)  # duplicated() over a child's own records
    assert len(cross) < 10
    assert columns_read(rules["1520"], schema)["ChildIdentifiers"] >= {"UPN", "LAchildID", "_row", "_line"}


def test_progress_counts_the_children_read_then_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunked, "PIECE_BYTES", 0)
    monkeypatch.setattr(chunked, "PIECE_CHILDREN", 10)
    calls: list[tuple[str, int, int]] = []
    result = validator.validate(
        [ROOT / "samples" / "cin" / "cin_2024_25.xml"], progress=lambda *call: calls.append(call)
    )
    assert isinstance(result, PiecesResult)
    assert calls[:5] == [("read", 0, 0), ("read", 10, 0), ("read", 20, 0), ("read", 30, 0), ("read", 40, 0)]
    assert calls[-1] == ("rules", len(result.rules), len(result.rules))


def test_every_report_format_is_the_same_in_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The HTML and Excel reports show records and figures, which a run in pieces reads again when asked."""
    from validator.outputs.formats import FORMATS, write_report
    from validator.redact import redact_result

    pieces, whole = _runs(monkeypatch, ROOT / "samples" / "cin" / "cin_2024_25.xml")
    assert isinstance(pieces, PiecesResult)
    for fmt in FORMATS:
        write_report(tmp_path / f"pieces.{fmt}", pieces, fmt)
        write_report(tmp_path / f"whole.{fmt}", whole, fmt)
        assert (tmp_path / f"pieces.{fmt}").read_bytes() == (tmp_path / f"whole.{fmt}").read_bytes(), fmt
    for name, result in (("pieces", pieces), ("whole", whole)):
        write_report(tmp_path / f"{name}-redacted.html", redact_result(result, b"k" * 32), "html")
    assert (tmp_path / "pieces-redacted.html").read_bytes() == (tmp_path / "whole-redacted.html").read_bytes()
