"""convert: XML -> one CSV file per table; validating the CSV folder gives the XML's rule findings."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ONE_CHILD_903_XML, SAMPLES, rule_findings, write

import validator
from validator.convert import convert_xml
from validator.schema import load_schema


@pytest.mark.parametrize(
    ("inputs", "year"),
    [
        (["ssda903/2024_25.xml", "ssda903/2024_25_sw.xml"], "2024_25"),
        (["clean/ssda903/2024_25.xml", "clean/ssda903/2024_25_sw.xml"], "2024_25"),
        (["cin/cin_2024_25.xml"], "2024_25"),
        (["clean/cin/cin_2024_25.xml"], "2024_25"),
    ],
)
def test_round_trip_xml_convert_validate_gives_the_same_rule_findings(
    tmp_path: Path, inputs: list[str], year: str
) -> None:
    paths = [SAMPLES / p for p in inputs]
    convert_xml(paths, tmp_path)
    from_xml = validator.validate(paths, year=year, la="E09000027")
    from_csv = validator.validate([tmp_path], year=year, la="E09000027")
    assert from_csv.rules_run == from_xml.rules_run
    assert rule_findings(from_csv) == rule_findings(from_xml)
    if "clean" not in inputs[0]:
        assert rule_findings(from_xml)  # the comparison is not of two empty lists


def test_tables_the_xml_leaves_empty_are_written_with_their_header(tmp_path: Path) -> None:
    xml = write(tmp_path, "r.xml", ONE_CHILD_903_XML)
    written = {p.name: p for p in convert_xml([xml], tmp_path / "csv").written}
    schema = load_schema("ssda903")
    main_tables = [t for t in schema.tables.values() if t.xml_file == "main"]
    assert len(written) == len(main_tables)
    for table in main_tables:
        name = f"r_{table.file.removesuffix('.csv') if table.file else table.name}.csv"
        lines = written[name].read_text(encoding="utf-8").splitlines()
        assert lines[0] == ",".join(table.csv_columns)
    assert len(written["r_uasc.csv"].read_text(encoding="utf-8").splitlines()) == 1  # header only
