"""The command line and the library API: exit codes, JSON contract, rule listing, convert."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ONE_CHILD_903_XML, write

import validator
from validator.cli import main

HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
JSON_TOP = {"tool", "return", "year", "la", "inputs", "rules", "findings", "summary", "collection", "schema_version"}
FINDING_KEYS = {"code", "severity", "level", "message", "table", "row", "child", "fields", "values", "file", "line"}


def folder(tmp_path: Path, rows: list[str]) -> Path:
    data = tmp_path / "return"
    data.mkdir(exist_ok=True)
    (data / "header.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return data


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


def test_json_output_follows_the_documented_schema(tmp_path: Path, capsys) -> None:
    data = folder(tmp_path, ["C1,1,31/02/2015,WBRI,UN1,,", "C2,1,01/02/2015,WBRI,UN1,,"])
    status, out, _ = run_cli(
        ["validate", str(data), "--year", "2023_24", "--la", "E09000027", "--format", "json"], capsys
    )
    report = json.loads(out)
    assert set(report) >= JSON_TOP
    assert report["tool"]["name"] and report["tool"]["version"] == validator.__version__
    assert (report["return"], report["year"], report["la"]) == ("ssda903", "2023_24", "E09000027")
    assert set(report["rules"]) == {"run", "not_run", "crashed"}
    assert all(set(f) == FINDING_KEYS for f in report["findings"])
    bad = [f for f in report["findings"] if f["code"] == "DATE-INVALID"]
    assert bad and bad[0]["line"] == 2 and bad[0]["values"] == ["31/02/2015"]
    assert status == 1


def test_json_is_byte_identical_across_runs(tmp_path: Path, capsys) -> None:
    data = folder(tmp_path, ["C1,1,31/02/2015,WBRI,UN1,,"])
    args = ["validate", str(data), "--year", "2023_24", "--format", "json"]
    first = run_cli(args, capsys)[1]
    assert first == run_cli(args, capsys)[1]


def test_rules_needing_absent_tables_are_not_run_with_reasons_in_every_format(tmp_path: Path, capsys) -> None:
    data = folder(tmp_path, ["C1,1,01/02/2015,WBRI,UN1,,"])
    _, out, _ = run_cli(["validate", str(data), "--year", "2023_24", "--format", "json"], capsys)
    report = json.loads(out)
    if not report["rules"]["not_run"]:
        pytest.skip("no rule needs a table other than Header yet")
    assert all(item["reason"] for item in report["rules"]["not_run"])
    _, console, _ = run_cli(["validate", str(data), "--year", "2023_24"], capsys)
    assert "Rules not run" in console


def test_exit_codes(tmp_path: Path, capsys) -> None:
    clean = folder(tmp_path, ["C1,1,01/02/2015,WBRI,UN1,,"])
    assert run_cli(["validate", str(clean), "--year", "2023_24", "--rules", "102"], capsys)[0] == 0
    unusable = tmp_path / "junk"
    unusable.mkdir()
    (unusable / "notes.csv").write_text("colour\nred\n", encoding="utf-8")
    status, _, err = run_cli(["validate", str(unusable)], capsys)
    assert status == 2 and "cannot validate" in err
    assert run_cli(["validate", str(tmp_path / "absent")], capsys)[0] == 2
    with pytest.raises(SystemExit) as info:
        main(["validate", str(clean), "--year", "2024-26"])
    assert info.value.code == 2


def test_csv_output_and_output_file(tmp_path: Path, capsys) -> None:
    data = folder(tmp_path, ["C1,1,=HYPERLINK(1),WBRI,UN1,,"])
    target = tmp_path / "out" / "report.csv"
    run_cli(["validate", str(data), "--year", "2023_24", "--format", "csv", "--output", str(target)], capsys)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("code,severity,level,message,table,row,child,fields,values,file,line")
    assert "'=HYPERLINK(1)" in text  # never handed to a spreadsheet as a formula
    assert not list(target.parent.glob(".*.tmp"))


def test_rules_list_json_has_the_contract_fields(capsys) -> None:
    status, out, _ = run_cli(["rules", "list", "--format", "json"], capsys)
    listing = json.loads(out)
    assert status == 0 and isinstance(listing, list)
    for item in listing:
        assert {"code", "return", "years", "severity", "level", "message", "examples_pass", "examples_fail"} <= set(
            item
        )
        assert item["examples_pass"] >= 1 and item["examples_fail"] >= 1


def test_library_api_returns_findings_as_a_dataframe(tmp_path: Path) -> None:
    data = folder(tmp_path, ["C1,1,31/02/2015,WBRI,UN1,,"])
    result = validator.validate([data], year="2023_24", la="E09000027")
    frame = result.findings_frame
    assert "DATE-INVALID" in set(frame["code"])
    assert set(frame.columns) == FINDING_KEYS
    assert result.exit_status() == 1


def test_convert_writes_one_csv_per_table(tmp_path: Path, capsys) -> None:
    xml = write(tmp_path, "r.xml", ONE_CHILD_903_XML)
    status, _, _ = run_cli(["convert", str(xml), "--output", str(tmp_path / "csv")], capsys)
    assert status == 0
    episodes = (tmp_path / "csv" / "csv" / "episodes.csv").read_text(encoding="utf-8").splitlines()
    assert episodes[0].startswith("CHILD,DECOM,RNE") and episodes[1].startswith("C1,01/04/2023,S,C2,N1,U1")


def test_python_dash_m_runs_without_a_traceback(tmp_path: Path) -> None:
    junk = tmp_path / "junk.xml"
    junk.write_bytes(b"\x00\x01binary junk")
    proc = subprocess.run([sys.executable, "-m", "validator", "validate", str(junk)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_rules_show_prints_the_rule_as_written(capsys) -> None:
    status, out, _ = run_cli(["rules", "show", "8940"], capsys)
    assert status == 0
    assert "cin 8940" in out and '- code: "8940"' in out and "examples:" in out
    assert out.count("- code:") == 1
    assert run_cli(["rules", "show", "NOPE"], capsys)[0] == 2


_RUN_WITH_EXIT_HANDLER = """
import atexit, sys, threading, time
from pathlib import Path
marker, late = Path(sys.argv[1]), sys.argv[2] == "thread"
atexit.register(lambda: marker.write_text("exit handler ran", encoding="utf-8"))
if late:  # a thread still running when the command is done: the exit waits for it
    threading.Thread(target=lambda: (time.sleep(0.3), (marker.parent / "thread").write_text("done"))).start()
sys.argv = ["cscvalidate", "rules", "list", "--return", "cin", "--year", "2024_25"]
from validator.cli import run
run()
"""


@pytest.mark.parametrize("thread", ["no", "thread"])
def test_the_command_line_exits_with_its_status_after_the_exit_handlers(tmp_path: Path, thread: str) -> None:
    marker = tmp_path / "marker"
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_WITH_EXIT_HANDLER, str(marker), thread], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "8500" in proc.stdout and proc.stdout.endswith("\n")  # the whole listing, flushed
    assert marker.read_text(encoding="utf-8") == "exit handler ran"
    assert (tmp_path / "thread").exists() == (thread == "thread")
