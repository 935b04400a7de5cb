"""Guarantees against hostile and broken input (docs/security.md): any bytes are findings, never a crash;
no network; inputs never opened for writing; outputs atomic, private and byte-identical run to run; XML read
as a stream."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from helpers import CORPUS, SAMPLES, write

from validator.cli import main
from validator.ingest.csv_reader import read_csv_file
from validator.ingest.loader import InputError, load_return
from validator.ingest.xml903 import read_ssda903_xml
from validator.ingest.xml_cin import read_cin_xml
from validator.resources import user_cache_dir
from validator.schema import RETURN_TYPES, load_schema

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CLEAN = SAMPLES / "clean"
CIN_XML = CLEAN / "cin" / "cin_2024_25.xml"
SSDA903_XML = CLEAN / "ssda903" / "2024_25.xml"
HEADER_CSV = CLEAN / "ssda903" / "2024_25" / "header.csv"
SCHEMAS = [load_schema(r) for r in RETURN_TYPES]


# --------------------------------------------------------------------------- any bytes: findings, not exceptions


def _mutated(base: bytes) -> st.SearchStrategy[bytes]:
    """The base file cut short, with bytes replaced or inserted: truncations and damage of a real export."""

    @st.composite
    def build(draw: Any) -> bytes:
        data = bytearray(base[: draw(st.integers(0, len(base)))])
        for _ in range(draw(st.integers(0, 6))):
            pos = draw(st.integers(0, len(data)))
            junk = draw(st.binary(min_size=1, max_size=8))
            if draw(st.booleans()) and pos < len(data):
                data[pos : pos + len(junk)] = junk
            else:
                data[pos:pos] = junk
        return bytes(data)

    return build()


ANY_BYTES = st.binary(max_size=2048)


@given(data=st.one_of(ANY_BYTES, _mutated(HEADER_CSV.read_bytes()[:2000])))
def test_any_bytes_as_a_csv_file_give_findings_or_a_table(tmp_path_factory, data: bytes) -> None:
    path = write(tmp_path_factory.mktemp("csv"), "x.csv", data)
    schema, raw, findings = read_csv_file(path, SCHEMAS)
    assert (schema is None) == (raw is None)
    assert raw is not None or findings


@given(data=st.one_of(ANY_BYTES, _mutated(CIN_XML.read_bytes()[:3000])))
def test_any_bytes_as_a_cin_xml_file_give_findings_or_tables(tmp_path_factory, data: bytes) -> None:
    path = write(tmp_path_factory.mktemp("cin"), "x.xml", data)
    tables, findings = read_cin_xml(path, schema_year="2024_25")
    assert isinstance(tables, dict) and isinstance(findings, list)


@given(data=st.one_of(ANY_BYTES, _mutated(SSDA903_XML.read_bytes()[:3000])))
def test_any_bytes_as_an_ssda903_xml_file_give_findings_or_tables(tmp_path_factory, data: bytes) -> None:
    path = write(tmp_path_factory.mktemp("903"), "x.xml", data)
    tables, findings = read_ssda903_xml(path, schema_year="2024_25")
    assert isinstance(tables, dict) and isinstance(findings, list)


@given(data=st.one_of(ANY_BYTES, _mutated(CIN_XML.read_bytes()[:3000]), _mutated(HEADER_CSV.read_bytes())))
def test_any_bytes_through_the_whole_loader_give_a_dataset_or_an_input_error(tmp_path_factory, data: bytes) -> None:
    folder = tmp_path_factory.mktemp("ret")
    for name in ("a.csv", "b.xml"):
        write(folder, name, data)
    for path in (folder / "a.csv", folder / "b.xml"):
        try:
            dataset = load_return([path], year="2024_25")
        except InputError as exc:
            assert str(exc)
        else:
            assert dataset.findings or dataset.tables


# --------------------------------------------------------------------------- offline


ALL_FORMATS = "console,json,csv,xlsx,html,junit,sarif"


def test_the_whole_command_line_runs_with_sockets_disabled(no_network, tmp_path: Path, capsys) -> None:
    out = tmp_path / "reports"
    assert main(["validate", str(CIN_XML), "--format", ALL_FORMATS, "--output-dir", str(out)]) in (0, 1)
    assert main(["validate", str(CLEAN / "ssda903"), "--format", ALL_FORMATS, "--output-dir", str(out / "903")]) in (
        0,
        1,
    )
    assert main(["validate", str(CIN_XML), "--redact", "--format", "json", "--output", str(out / "r.json")]) in (0, 1)
    assert main(["convert", str(SSDA903_XML), str(CIN_XML), "--output", str(tmp_path / "csv")]) == 0
    assert main(["rules", "list", "--format", "json"]) == 0
    assert main(["rules", "show", "8940"]) == 0
    _, err = capsys.readouterr()
    assert "unexpected problem" not in err and "network connection" not in err
    assert len(list(out.glob("*"))) >= 7


# --------------------------------------------------------------------------- read-only inputs, private atomic outputs

_OPENS: list[tuple[str, Any, int]] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _OPENS is not None and event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path, mode, flags = [*args, None, 0][:3]
        _OPENS.append((os.fsdecode(path), mode, flags or 0))


sys.addaudithook(_audit)  # hooks cannot be removed: this one records only while a test sets _OPENS
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _writes(opens: list[tuple[str, Any, int]]) -> list[str]:
    return [
        path
        for path, mode, flags in opens
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (flags & _WRITE_FLAGS)
    ]


def test_inputs_are_never_opened_for_writing_and_reports_go_only_to_the_output(tmp_path: Path, capsys) -> None:
    global _OPENS
    inputs = sorted(p for p in CLEAN.rglob("*") if p.is_file())
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in inputs}
    out = tmp_path / "reports"
    _OPENS = []
    try:
        main(["validate", str(CLEAN / "ssda903"), "--previous", str(CLEAN / "ssda903" / "2023_24"),
              "--format", ALL_FORMATS, "--output-dir", str(out)])  # fmt: skip
        main(["validate", str(CIN_XML), "--format", "json,csv,xlsx", "--output-dir", str(out)])
        opens = list(_OPENS)
    finally:
        _OPENS = None
    capsys.readouterr()
    read = {Path(p).resolve() for p, _, _ in opens}
    assert CIN_XML.resolve() in read and SSDA903_XML.resolve() in read  # the hook saw the inputs being read
    written = {Path(p).resolve() for p in _writes(opens)}
    assert written, "the hook saw no report being written"
    # Two writes outside the output folder (docs/security.md): openpyxl's write-only workbook buffers each sheet in a
    # private temporary file (mode 0600, deleted when the workbook is saved), and compiled rules and prepared
    # postcodes are kept in the user's cache folder (here the test session's own: whether this run writes it
    # depends on what ran before)
    temp = Path(tempfile.gettempdir()).resolve()
    cache = user_cache_dir()
    assert cache is not None
    # and the output folder itself: the check before the run makes an unnamed file in it (O_TMPFILE), then drops it
    elsewhere = {
        p for p in written if out.resolve() not in p.parents and p != out.resolve() and cache.resolve() not in p.parents
    }
    assert all(p == temp or (p.parent == temp and p.name.startswith("openpyxl.")) for p in elsewhere), elsewhere
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in inputs} == before
    for report in out.iterdir():
        assert stat.S_IMODE(report.stat().st_mode) == 0o600, report  # private: owner read/write only
    assert not list(out.glob(".*tmp")), "a temporary file was left behind"


def test_json_reports_are_byte_identical_from_run_to_run(tmp_path: Path, capsys) -> None:
    runs = []
    for n in range(2):
        out = tmp_path / f"run{n}"
        main(["validate", str(CLEAN / "ssda903"), "--format", "json,xlsx", "--output-dir", str(out)])
        main(["validate", str(CIN_XML), "--format", "json", "--output-dir", str(out)])
        runs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    capsys.readouterr()
    assert len(runs[0]) == 3 and runs[0] == runs[1]


# --------------------------------------------------------------------------- streaming


def _child(n: int) -> str:
    return (
        f"<Child><ChildIdentifiers><LAchildID>C{n}</LAchildID><PersonBirthDate>2015-01-01</PersonBirthDate>"
        "<Sex>F</Sex></ChildIdentifiers><CINdetails><CINreferralDate>2024-06-01</CINreferralDate>"
        "<ReferralSource>1A</ReferralSource><PrimaryNeedCode>N1</PrimaryNeedCode></CINdetails></Child>\n"
    )


def test_xml_is_streamed_record_by_record_never_held_whole(tmp_path: Path, monkeypatch) -> None:
    """While the readers work, the document tree holds only the record being read and the few the parser has
    read ahead (one buffer's worth): each is cleared and dropped once read, so the tree does not grow with the
    number of records (docs/security.md has the measured peak for a large file)."""
    from validator.ingest import xml903, xml_cin

    cin = tmp_path / "big_cin.xml"
    cin.write_text("<Message><Children>\n" + "".join(_child(n) for n in range(3000)) + "</Children></Message>\n")
    held: list[int] = []
    original = xml_cin._CinTables.read_child

    def spy(self: Any, child: Any) -> None:
        held.append(len(child.getparent()))
        original(self, child)

    monkeypatch.setattr(xml_cin._CinTables, "read_child", spy)
    tables, _ = read_cin_xml(cin)
    assert len(tables["ChildIdentifiers"]) == 3000
    assert len(held) == 3000 and max(held) < 3000 // 5
    assert max(held[-1000:]) <= max(held[:1000]) + 5  # no growth from the start of the file to its end

    ssda = tmp_path / "big_903.xml"
    record = (
        "<CHILD><HEADER><CHILDID>{n}</CHILDID><SEX>1</SEX><DOB>01/01/2015</DOB></HEADER>"
        "<EPISODE><DECOM>01/06/2024</DECOM></EPISODE></CHILD>\n"
    )
    ssda.write_text("<EXPSSDA903>\n" + "".join(record.format(n=n) for n in range(3000)) + "</EXPSSDA903>\n")
    held.clear()
    original_903 = xml903._Reader.child

    def spy_903(self: Any, el: Any) -> None:
        held.append(len(el.getparent()))
        original_903(self, el)

    monkeypatch.setattr(xml903._Reader, "child", spy_903)
    tables, _ = read_ssda903_xml(ssda)
    assert len(tables["Episodes"]) == 3000
    assert len(held) == 3000 and max(held) < 3000 // 5
    assert max(held[-1000:]) <= max(held[:1000]) + 5  # no growth from the start of the file to its end


# --------------------------------------------------------------------------- terminal text (issue 14, defect 5)

CORPUS_903 = CORPUS / "ssda903"
MARKUP = "[/x]:smile:"  # markup, and an emoji code that must not become an emoji
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x9b31m"  # set the window title, clear the screen, a C1 CSI


def _hostile_header(tmp: Path) -> Path:
    """The corpus header table with a child id holding console markup and terminal escape sequences."""
    text = (CORPUS_903 / "base_header.csv").read_text(encoding="utf-8")
    path = tmp / "header.csv"
    path.write_text(text.replace("5729176", f"57{MARKUP}{ESCAPES}91", 1), encoding="utf-8")
    return path


def _assert_inert(text: str) -> None:
    assert "Traceback" not in text and "unexpected problem" not in text, text
    assert "\x1b]0;" not in text and "\x1b[2J" not in text and "\x9b" not in text and "\x07" not in text


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--la", MARKUP + ESCAPES],
        ["--split-by", MARKUP + ESCAPES, "--output-dir", "OUT"],
        ["--output", f"OUT/{MARKUP}{ESCAPES}.json", "--format", "json"],
        ["--rules", MARKUP],
    ],
)
def test_markup_and_escape_sequences_from_data_paths_and_arguments_reach_the_terminal_inert(
    extra: list[str], tmp_path: Path, capsys
) -> None:
    header = _hostile_header(tmp_path)
    args = ["validate", str(header), str(CORPUS_903 / "base_episodes.csv"), "--year", "2024_25"]
    status = main([*args, *(a.replace("OUT", str(tmp_path / "out")) for a in extra)])
    out, err = capsys.readouterr()
    _assert_inert(out + err)
    assert status in (0, 1, 2)
    if not extra:  # the child id is shown, with the markup as text and the escapes made visible
        assert f"57{MARKUP}\\x1b]0;pwned\\x07" in out


def test_rules_show_and_the_last_resort_handler_print_markup_as_text(tmp_path: Path, capsys, monkeypatch) -> None:
    assert main(["rules", "show", MARKUP + ESCAPES]) == 2
    out, err = capsys.readouterr()
    _assert_inert(out + err)
    assert f"no rule {MARKUP}" in out

    import validator.api as cli  # where validate() is looked up

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"boom {MARKUP}{ESCAPES}")

    monkeypatch.setattr(cli, "validate", explode)
    assert main(["validate", str(_hostile_header(tmp_path))]) == 2
    _, err = capsys.readouterr()
    assert "Traceback" not in err and "\x1b]0;" not in err
    assert f"RuntimeError: boom {MARKUP}" in " ".join(err.split())


# --------------------------------------------------------------------------- spreadsheet cells (issue 14, defect 4)

FORMULAS = ['=HYPERLINK("http://example.invalid","x")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "-inf"]


def _formula(cell: str) -> bool:
    from tests.test_corpus import is_formula

    return is_formula(cell) or cell.strip().lower() in ("-inf", "+inf", "-nan", "+nan")


def test_no_cell_or_field_of_any_spreadsheet_or_csv_runs_as_a_formula_column_names_included(
    tmp_path: Path, capsys
) -> None:
    """Extra columns named like formulas, with formula-like values, through the preview (workbook and CSVs, the
    web app's "DfE's tables and figures" download too) and validate's CSV and xlsx reports."""
    import csv

    from openpyxl import load_workbook

    rows = list(csv.reader((CORPUS_903 / "base_header.csv").open(encoding="utf-8")))
    folder = tmp_path / "in"
    folder.mkdir()
    with (folder / "header.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(rows[0] + FORMULAS)
        writer.writerows(r + FORMULAS[::-1] for r in rows[1:])
    (folder / "episodes.csv").write_bytes((CORPUS_903 / "base_episodes.csv").read_bytes())
    out = tmp_path / "out"
    assert main(["preview", str(folder), "--year", "2024_25", "--format", "csv,xlsx", "--output-dir", str(out)]) == 0
    assert main(["validate", str(folder), "--year", "2024_25", "--format", "csv,xlsx", "--output-dir", str(out)]) in (
        0,
        1,
    )
    capsys.readouterr()
    checked = 0
    for path in out.glob("*.csv"):
        for row in csv.reader(path.open(encoding="utf-8")):
            assert not [c for c in row if _formula(c)], (path.name, row)
            checked += 1
    for path in out.glob("*.xlsx"):
        book = load_workbook(path)
        for ws in book.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, ws.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        assert not _formula(cell.value), (path.name, ws.title, cell.coordinate, cell.value)
                        checked += 1
    header = next(csv.reader((out / "in-preview-Header.csv").open(encoding="utf-8")))
    assert "'" + FORMULAS[0] in header  # the column is kept, shown as text
    assert checked > 100


# --------------------------------------------------------------------------- input names vs internal names (defect 8)

HOSTILE_NAMES = ["Worker", "Worker", "worker", "DOB@raw", "_row", "_file", "_line", "CHILD@previous", "UASC_THIS_YEAR"]


def _with_extra_columns(tmp: Path, source: str) -> Path:
    import csv

    rows = list(csv.reader((CORPUS_903 / source).open(encoding="utf-8")))
    path = tmp / source
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(rows[0] + HOSTILE_NAMES)
        writer.writerows(r + [f"X{n}-{i}" for n in range(len(HOSTILE_NAMES))] for i, r in enumerate(rows[1:]))
    return path


def test_extra_column_names_never_stand_for_internal_ones_and_duplicates_are_kept_apart(tmp_path: Path, capsys) -> None:
    """Extra columns named like the program's own columns (``DOB@raw``, ``_row``, a derived column) or like each
    other (``Worker,Worker,worker``) are kept under names of their own: the records, their count and their typed
    values are those of the file, and every rule runs (none crashes)."""
    import json

    header = _with_extra_columns(tmp_path, "base_header.csv")
    episodes = _with_extra_columns(tmp_path, "base_episodes.csv")
    dataset = load_return([header, episodes], return_type="ssda903", year="2024_25")
    for name, source in (("Header", header), ("Episodes", episodes)):
        df = dataset.tables[name].df
        n = len(source.read_text(encoding="utf-8").splitlines()) - 1
        assert len(df) == n and list(df["_row"]) == list(range(n)) and list(df["_line"]) == list(range(2, n + 2))
        assert set(df["_file"]) == {str(source)}  # the path as given
        extras = [c for c in df.columns if str(c).startswith(("Worker", "worker", "DOB-at-raw", "row", "file", "line"))]
        assert len(extras) == 7 and len(set(extras)) == 7  # every extra column kept, each under its own name
        assert df.columns.is_unique
        values = {v for c in extras for v in df[c]}
        assert {f"X{k}-0" for k in range(7)} <= values
    assert dataset.tables["Header"].df["DOB@raw"].iloc[0] == "08/02/2023"  # the file's DOB, not the extra column
    message = next(f.message for f in dataset.findings if f.code == "COLUMN-EXTRA")
    assert "DOB@raw (kept as DOB-at-raw (column 11))" in message and "Worker (kept as Worker (column" in message

    out = tmp_path / "out.json"
    main(["validate", str(header), str(episodes), "--year", "2024_25", "--format", "json", "--output", str(out)])
    capsys.readouterr()
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["rules"]["crashed"] == []


# --------------------------------------------------------------------------- where reports go (defects 9 and 12)


def _return_folder(tmp: Path) -> Path:
    folder = tmp / "return"
    folder.mkdir()
    for name in ("base_header.csv", "base_episodes.csv"):
        (folder / name).write_bytes((CORPUS_903 / name).read_bytes())
    return folder


@pytest.mark.parametrize(
    "where, words",
    [
        (lambda t: ["--output", str(t)], "is a folder"),
        (lambda t: ["--output-dir", str(t / "return" / "base_header.csv")], "is a file, not a folder"),
        (lambda t: ["--output-dir", str(t / "return" / "base_header.csv" / "sub")], "is not a folder"),
        (lambda t: ["--output", str(t / "pc.csv"), "--postcodes", str(t / "pc.csv")], "reference files"),
        (lambda t: ["--output", str(t / "p.csv"), "--providers", str(t / "p.csv")], "reference files"),
        (lambda t: ["--output", str(t / "return" / "base_header.csv")], "one of the inputs"),
    ],
)
def test_output_places_that_cannot_work_are_refused_before_the_run(
    where: Any, words: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    import validator.api as cli  # where validate() is looked up

    folder = _return_folder(tmp_path)
    for name in ("pc.csv", "p.csv"):
        (tmp_path / name).write_text("pcds,oslaua\nTW1 4HG,E09000027\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in [*folder.iterdir(), tmp_path / "pc.csv", tmp_path / "p.csv"]}

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the return was read before the output place was checked")

    monkeypatch.setattr(cli, "validate", never)
    status = main(["validate", str(folder), "--year", "2024_25", "--format", "json", *where(tmp_path)])
    _, err = capsys.readouterr()
    assert status == 2 and words in " ".join(err.split()), err
    assert "unexpected problem" not in err and "Traceback" not in err
    assert {p: p.read_bytes() for p in before} == before


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_output_folder_is_refused_before_the_run(tmp_path: Path, capsys) -> None:
    folder = _return_folder(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        status = main(["validate", str(folder), "--year", "2024_25", "--format", "json", "--output-dir", str(locked)])
    finally:
        locked.chmod(0o700)
    _, err = capsys.readouterr()
    assert status == 2 and "cannot be written to" in err and "unexpected problem" not in err


def test_a_full_disk_is_a_clear_message_not_an_unexpected_problem(tmp_path: Path, capsys, monkeypatch) -> None:
    import errno
    import io

    import validator.outputs.formats as formats  # where report files are streamed to their temporary file

    class Full(io.BytesIO):
        def write(self, data: Any) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def full(path: Path, write: Any) -> None:
        write(Full())

    monkeypatch.setattr(formats, "write_atomic_with", full)
    out = tmp_path / "out"
    status = main(["validate", str(_return_folder(tmp_path)), "--year", "2024_25", "--output-dir", str(out)])
    _, err = capsys.readouterr()
    assert status == 2 and "No space left on device" in err and "unexpected problem" not in err, err


def test_stale_temporary_files_of_a_killed_run_are_removed_at_the_start(tmp_path: Path, capsys) -> None:
    import subprocess

    out = tmp_path / "out"
    out.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = out / f".return-validation.json.{int(gone.stdout)}.k3yx.cscvalidate-tmp"
    stale.write_text("half a report")
    alive = out / f".other-validation.json.{os.getppid()}.abcd.cscvalidate-tmp"  # a run still writing
    alive.write_text("being written")
    status = main(["validate", str(_return_folder(tmp_path)), "--year", "2024_25", "--output-dir", str(out)])
    capsys.readouterr()
    assert status in (0, 1)
    assert not stale.exists() and alive.exists()


def test_reports_written_into_the_input_folder_are_never_read_back_as_inputs(tmp_path: Path, capsys) -> None:
    import json

    folder = _return_folder(tmp_path)
    formats = "json,csv,console,junit,sarif,html,xlsx"
    runs = []
    for _ in range(2):
        status = main(["validate", str(folder), "--year", "2024_25", "--format", formats, "--output-dir", str(folder)])
        assert status in (0, 1)
        assert (
            main(["preview", str(folder), "--year", "2024_25", "--format", "csv,xlsx", "--output-dir", str(folder)])
            == 0
        )
        report = json.loads((folder / "return-validation.json").read_text(encoding="utf-8"))
        runs.append(([Path(i["path"]).name for i in report["inputs"]], report["findings"]))
    capsys.readouterr()
    assert runs[0] == runs[1]
    assert sorted(runs[1][0]) == ["base_episodes.csv", "base_header.csv"]


# --------------------------------------------------------------------------- the cache cannot run code (defect 11)


class _Planted:
    """A pickle that, when loaded, creates the file ``marker``: what an attacker would plant in a cache folder."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (Path.touch, (self.marker,))


def _plant(path: Path, marker: Path, key: bytes | None = None) -> None:
    import hashlib
    import hmac
    import pickle

    body = pickle.dumps(_Planted(marker))
    path.write_bytes((hmac.new(key, body, hashlib.sha256).digest() if key else b"") + body)


def test_a_planted_cache_file_is_never_loaded(tmp_path: Path, monkeypatch) -> None:
    """A file put in the cache folder under the name of the compiled rules (or of a postcode table), signed with
    another key or not at all, is never unpickled: the rules are compiled again and no code runs."""
    from validator.engine.model import load_rules
    from validator.reference import postcodes

    cache = tmp_path / "cache"
    monkeypatch.setenv("CSCVALIDATE_CACHE_DIR", str(cache))
    load_rules.cache_clear()
    first = load_rules("cin")
    (written,) = cache.glob("rules-cin-*.pickle")
    marker = tmp_path / "code-ran"
    for key in (None, b"another user's key of 32 bytes!!"):
        _plant(written, marker, key)
        _plant(cache / postcodes._letter_cache("B"), marker, key)
        load_rules.cache_clear()
        assert [r.code for r in load_rules("cin")] == [r.code for r in first]
        assert postcodes._read_cached_letter("B") is None
        assert not marker.exists(), "a planted cache file was unpickled"
    load_rules.cache_clear()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700  # made private


@pytest.mark.skipif(os.name == "nt", reason="POSIX ownership and modes")
def test_a_cache_folder_others_may_write_to_is_not_used(tmp_path: Path, monkeypatch) -> None:
    from validator.engine.model import load_rules

    cache = tmp_path / "shared"
    monkeypatch.setenv("CSCVALIDATE_CACHE_DIR", str(cache))
    load_rules.cache_clear()
    load_rules("cin")
    (written,) = cache.glob("rules-cin-*.pickle")
    cache.chmod(0o777)  # a shared folder: anyone could have replaced the key and the file
    marker = tmp_path / "code-ran"
    _plant(written, marker, (cache / "key").read_bytes())  # signed with the key in that folder
    load_rules.cache_clear()
    assert load_rules("cin")
    assert not marker.exists(), "a file in a folder others may write to was unpickled"
    load_rules.cache_clear()


# --------------------------------------------------------------------------- convert tells what it could not read (6)

CORPUS_CIN = CORPUS / "cin"


@pytest.mark.parametrize(
    "name, status, words",
    [
        ("truncated_mid_child.xml", 1, "XML-MALFORMED"),  # partial CSVs: said so, exit 1
        ("billion_laughs.xml", 2, "XML-UNSAFE"),  # refused: said so, nothing written, exit 2
        ("xxe.xml", 2, "XML-UNSAFE"),
    ],
)
def test_convert_reports_reading_problems_and_refusals_with_a_non_zero_exit(
    name: str, status: int, words: str, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "csv"
    assert main(["convert", str(CORPUS_CIN / name), "--output", str(out)]) == status
    _, err = capsys.readouterr()
    assert words in err and "Traceback" not in err
    if status == 2:
        assert not list(out.glob("*.csv"))


# --------------------------------------------------------------------------- zip members checked first (defect 9)

_POSTCODES_CSV = b"pcds,oslaua,oseast1m,osnrth1m,ctry\nTW1 4HG,E09000027,516000,173000,E92000001\n"


def _patched_zip(path: Path, *, flag: int = 0, method: int | None = None) -> Path:
    """A one-member stored zip with its header fields rewritten as an encrypted or a Deflate64 member has them."""
    import struct
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("Data/ONSPD_NOV_2025_UK.csv", _POSTCODES_CSV)
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    for offset, at in ((0, 6), (central, 8)):  # general purpose flags, then the method, in both headers
        flags = struct.unpack_from("<H", data, offset + at)[0] | flag
        struct.pack_into("<H", data, offset + at, flags)
        if method is not None:
            struct.pack_into("<H", data, offset + at + 2, method)
    path.write_bytes(bytes(data))
    return path


def _bomb(path: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Data/ONSPD_NOV_2025_UK.csv", _POSTCODES_CSV + b"0" * (64 * 2**20))
    return path


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda p: _patched_zip(p, flag=0x1), "is encrypted"),
        (lambda p: _patched_zip(p, method=9), "compressed with method 9"),
        (_bomb, "would expand"),
    ],
)
def test_postcode_zips_are_checked_member_by_member_before_reading(make: Any, words: str, tmp_path: Path) -> None:
    import json

    zipped = make(tmp_path / "onspd.zip")
    out = tmp_path / "r.json"
    episodes = CORPUS_903 / "base_episodes.csv"
    args = ["validate", str(CORPUS_903 / "base_header.csv"), str(episodes), "--year", "2024_25", "--rules", "164"]
    main([*args, "--postcodes", str(zipped), "--format", "json", "--output", str(out)])
    rules = json.loads(out.read_text(encoding="utf-8"))["rules"]
    assert rules["crashed"] == []
    (not_run,) = [r for r in rules["not_run"] if r["code"] == "164"]
    assert words in not_run["reason"], not_run


def test_a_workbook_that_would_expand_too_far_is_not_opened(tmp_path: Path) -> None:
    import zipfile

    from validator.reference.providers import read_providers

    book = tmp_path / "providers.xlsx"
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (64 * 2**20))
    found = read_providers([book], "2024_25")
    assert any("would expand" in f.message for f in found.findings), found.findings


# --------------------------------------------------------------------------- CSV read as a bounded stream (defect 7)


def test_a_csv_line_over_the_limit_is_reported_without_reading_it_whole(tmp_path: Path) -> None:
    """A header row, two good rows, then one line of 40 million characters (20 million cells): the rows before it
    are kept, the line is reported, and the reading never holds more than about one line's limit of text."""
    import tracemalloc

    from validator.ingest import csv_reader

    path = tmp_path / "header.csv"
    rows = (CORPUS_903 / "base_header.csv").read_text(encoding="utf-8").splitlines()[:3]
    with path.open("w", encoding="utf-8") as fh:
        fh.write("\n".join(rows) + "\n")
        for _ in range(40):
            fh.write("a," * 500_000)
        fh.write("\n")
    tracemalloc.start()
    try:
        _, raw, findings = csv_reader.read_csv_file(path, SCHEMAS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raw is not None and len(raw) == 2
    (problem,) = [f for f in findings if f.code == "FILE-UNREADABLE"]
    assert "line 4: a line of more than 33,554,432 characters" in problem.message
    assert "rows before it were kept" in problem.message
    assert peak < 3 * csv_reader.MAX_LINE + 16 * 2**20, peak  # the line's limit in text, not the file


def test_cin_markup_outside_records_is_freed_as_it_is_passed(tmp_path: Path, monkeypatch) -> None:
    """Elements that are not records (before <Header>, between <Header> and <Children>) are dropped once passed:
    at the last child the document's root holds only the path to it, not the thousands of elements before."""
    from validator.ingest import xml_cin

    junk = "".join(f"<Note{n % 7}>{'x' * 50}</Note{n % 7}>" for n in range(3000))
    cin = tmp_path / "junk_cin.xml"
    header = "<Header><CollectionDetails><Collection>CIN</Collection></CollectionDetails></Header>"
    children = "".join(_child(n) for n in range(500))
    cin.write_text(f"<Message>{junk}{header}{junk}<Children>{children}</Children></Message>\n")
    sizes: list[int] = []
    original = xml_cin._CinTables.read_child

    def spy(self: Any, child: Any) -> None:
        sizes.append(len(child.getroottree().getroot()))  # the root's children: passed markup, then <Children>
        original(self, child)

    monkeypatch.setattr(xml_cin._CinTables, "read_child", spy)
    tables, _ = read_cin_xml(cin)
    assert len(tables["ChildIdentifiers"]) == 500
    assert sizes[0] <= 3002 and max(sizes[1:]) <= 2, sizes[:3]  # not the 6,000 notes passed before
