"""Any part of a return gives every report and the preview: DfE and LAs send partial returns while fixing them.
Rules that need a missing table are "not run", with the reason; nothing crashes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import SAMPLES

import validator
from validator.ingest.loader import load_return
from validator.outputs.formats import FORMATS, html_available, render
from validator.preview import build_preview, previous_dataset
from validator.preview.model import Convention
from validator.preview.render import measures_csv, render_workbook, table_csv

CURRENT = SAMPLES / "ssda903" / "2024_25"
TABLE_FILES = sorted(p.name for p in CURRENT.glob("*.csv"))


@pytest.mark.parametrize("name", TABLE_FILES)
def test_every_format_and_the_preview_for_a_single_table_return(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "return"
    folder.mkdir()
    shutil.copy(CURRENT / name, folder / name)
    result = validator.validate([folder], year="2024_25", la="E09000027")
    assert result.rules_crashed == [], [(r.code, r.reason) for r in result.rules_crashed]
    assert result.rules_not_run and all(r.reason for r in result.rules_not_run)
    for fmt in FORMATS:
        if fmt == "html" and not html_available():
            continue
        assert render(result, fmt), fmt
    dataset = load_return([folder], year="2024_25", la="E09000027")
    preview = build_preview(dataset, previous_dataset(dataset))
    conv = Convention()
    assert measures_csv(preview, conv) and render_workbook(preview, conv)
    for frame in preview.tables.values():
        table_csv(frame, preview.return_type)
