"""How a document that is not well formed is read: the same on every lxml / libxml2 version (issue 13).

Each case is small enough to be fed to the parser in one piece, the situation where libxml2 2.14 (lxml 6)
used to drop the records before the error and to close a record cut short by the end of the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from validator.ingest.xml_safety import MAX_DEPTH, SafeXmlStream, malformed_reason, syntax_error

RECORD = "<CHILD><CHILDID>{n}</CHILDID><SEX>1</SEX></CHILD>"


def records(count: int) -> str:
    return "".join(RECORD.format(n=f"ZZ{n:04d}") for n in range(1, count + 1))


def read(tmp_path: Path, text: str | bytes) -> tuple[list[str], etree.XMLSyntaxError | None]:
    """The CHILDIDs of the records delivered, and the parse error (or None)."""
    path = tmp_path / "doc.xml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    ids: list[str] = []
    try:
        for _event, element in SafeXmlStream(path, ("end",), "CHILD"):
            ids.append(element.findtext("CHILDID"))
    except etree.XMLSyntaxError as exc:
        return ids, exc
    return ids, None


def test_a_well_formed_document_delivers_every_record(tmp_path: Path) -> None:
    ids, error = read(tmp_path, f"<EXPSSDA903>{records(3)}</EXPSSDA903>")
    assert ids == ["ZZ0001", "ZZ0002", "ZZ0003"] and error is None


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param("<CHILD><CHILDID>ZZ0003</CHILDID><SEX>1</SEXX></CHILD>", id="mismatched tag"),
        pytest.param("<CHILD><CHILDID>ZZ0003</CHILDID><SEX>1</SEX></CHILD></EXPSSDA903><EXPSSDA903>", id="two roots"),
        pytest.param("<CHILD><CHILDID>ZZ0003</CHILDID><SEX>1</SEX></CHILD></EXPSSDA903>trailing", id="garbage after"),
    ],
)
def test_records_that_ended_before_the_error_are_kept_and_nothing_after_it(tmp_path: Path, broken: str) -> None:
    ids, error = read(tmp_path, f"<EXPSSDA903>{records(2)}{broken}{records(1)}</EXPSSDA903>")
    assert error is not None
    expected = ["ZZ0001", "ZZ0002"] if "SEXX" in broken else ["ZZ0001", "ZZ0002", "ZZ0003"]
    assert ids == expected


def test_invalid_bytes_keep_the_records_before_them(tmp_path: Path) -> None:
    text = f"<EXPSSDA903>{records(2)}".encode() + b"<CHILD><CHILDID>\xff\xfe</CHILDID></CHILD></EXPSSDA903>"
    ids, error = read(tmp_path, text)
    assert ids == ["ZZ0001", "ZZ0002"] and error is not None
    assert malformed_reason(error) == "bytes that are not valid in the file's character encoding"


def test_a_record_cut_short_by_the_end_of_the_file_is_not_delivered(tmp_path: Path) -> None:
    ids, error = read(tmp_path, f"<EXPSSDA903>{records(2)}<CHILD><CHILDID>ZZ0003</CHILDID><SE")
    assert ids == ["ZZ0001", "ZZ0002"] and error is not None


def test_a_record_cut_short_after_a_complete_element_is_not_delivered_either(tmp_path: Path) -> None:
    ids, error = read(tmp_path, f"<EXPSSDA903>{records(1)}<CHILD><CHILDID>ZZ0002</CHILDID>")
    assert ids == ["ZZ0001"] and error is not None


def test_records_in_a_later_piece_than_the_first_are_kept_too(tmp_path: Path) -> None:
    many = records(5000)  # several of the stream's 64 KB pieces
    ids, error = read(tmp_path, f"<EXPSSDA903>{many}<CHILD></SEX></CHILD></EXPSSDA903>")
    assert len(ids) == 5000 and error is not None


def test_nesting_beyond_the_limit_is_refused_in_our_own_words(tmp_path: Path) -> None:
    depth = MAX_DEPTH + 2
    ids, error = read(tmp_path, "<EXPSSDA903>" + "<a>" * depth + "</a>" * depth + "</EXPSSDA903>")
    assert ids == [] and error is not None
    assert syntax_error(error) == (1, f"elements are nested more than {MAX_DEPTH} levels deep")


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    depth = MAX_DEPTH - 3  # the root and the record add two levels
    inner = "<a>" * depth + "</a>" * depth
    ids, error = read(tmp_path, f"<EXPSSDA903><CHILD><CHILDID>ZZ0001</CHILDID>{inner}</CHILD></EXPSSDA903>")
    assert ids == ["ZZ0001"] and error is None


def test_the_reason_has_no_position_and_the_line_is_the_errors(tmp_path: Path) -> None:
    _ids, error = read(tmp_path, "<EXPSSDA903>\n" + records(1) + "\n<CHILD><SEX>1</SEXX></CHILD>\n</EXPSSDA903>")
    assert error is not None
    line, reason = syntax_error(error)
    assert (line, reason) == (3, "Opening and ending tag mismatch: SEX line 3 and SEXX")
