"""An uploaded ``conversions.csv`` is read as ``emovc evaluate`` reads it (one reader,
:mod:`emovc.pipelines.run_table`)."""

from __future__ import annotations

import csv

import pytest

from emovc.app.services import AppBackend
from emovc.app.workdir import WorkDir
from emovc.errors import ConfigError


def test_an_uploaded_table_with_a_hand_edited_header_is_read(backend: AppBackend, upload,
                                                              work: WorkDir) -> None:
    """The app read the columns unstripped and refused " converted", which `emovc evaluate`
    reads."""
    a, b = upload("src.wav"), upload("conv.wav", emotion="angry")
    table = work.subdir("uploads") / "conversions.csv"
    table.write_text("source, converted, target_emotion\nsrc.wav,conv.wav,angry\n")
    assert backend.evaluate([str(a), str(b), str(table)]).report.is_file()
    run = next((work.root / "runs").iterdir())
    with open(run / "conversions.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["source"], r["converted"], r["target_emotion"]) for r in rows] == [
        ("src.wav", "conv.wav", "angry")]


def test_an_uploaded_table_without_rows_or_columns_is_refused(backend: AppBackend, upload,
                                                             work: WorkDir) -> None:
    a = upload("src.wav")
    table = work.subdir("uploads") / "conversions.csv"
    table.write_text("source,converted,target_emotion\n")
    with pytest.raises(ConfigError, match="lists no conversions"):
        backend.evaluate([str(a), str(table)])
    table.write_text("source,converted\nsrc.wav,src.wav\n")
    with pytest.raises(ConfigError, match=r"missing column\(s\) target_emotion"):
        backend.evaluate([str(a), str(table)])
