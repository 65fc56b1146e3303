"""An uploaded ``conversions.csv`` is read as ``emovc evaluate`` reads it (one reader,
:mod:`emovc.pipelines.run_table`)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from emovc.app.services import AppBackend
from emovc.app.workdir import WorkDir
from emovc.audio import save_audio
from emovc.data.synthetic import EMOTION_VOICES, synthesize
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
    with pytest.raises(ConfigError, match="conversions.csv.: no rows to evaluate"):  # as the CLI
        backend.evaluate([str(a), str(table)])
    table.write_text("source,converted\nsrc.wav,src.wav\n")
    with pytest.raises(ConfigError, match=r"missing column\(s\) target_emotion"):
        backend.evaluate([str(a), str(table)])


def _browser_upload(work: WorkDir, folder) -> list[str]:
    """The files of ``folder`` as a browser's folder upload reaches the app: each in a
    folder of its own in the uploads, without the sub-folders it was in."""
    paths = []
    for k, f in enumerate(sorted(p for p in folder.rglob("*") if p.is_file())):
        dest = work.subdir("uploads", f"{folder.name}{k}") / f.name
        shutil.copy(f, dest)
        paths.append(str(dest))
    return paths


def test_a_folder_of_emovc_convert_is_evaluated_with_its_source_folder(backend_with,
                                                                      work: WorkDir,
                                                                      tmp_path) -> None:
    """`emovc convert FOLDER -o OUT` names each output after its input and lists the inputs
    by their full paths, which `emovc evaluate OUT` reads; the evaluate tab refused OUT
    ("both source and converted") and had nowhere to take the sources from. With FOLDER
    uploaded as the source folder it evaluates the pairs `emovc evaluate OUT` does."""
    from emovc.evaluation.manifest import read_manifest
    from emovc.pipelines.conversion import EmotionConverter
    from emovc.pipelines.conversion_batch import convert_paths

    inp, out = tmp_path / "in", tmp_path / "out"
    (inp / "sub").mkdir(parents=True)
    for k, name in enumerate(("a.wav", "sub/b.wav")):
        save_audio(inp / name, synthesize(EMOTION_VOICES["calm"], 2.0, seed=k), 16000)
    convert_paths(EmotionConverter.from_pretrained(), inp, out, "angry", source="calm")
    seen = {}

    def evaluator(run_dir, out_dir, progress):
        seen["items"] = read_manifest(run_dir)  # as `emovc evaluate` reads the run folder
        report = out_dir / "report.html"
        report.write_text("<html></html>")
        return report

    backend = backend_with(evaluator=evaluator)
    run_files, source_files = _browser_upload(work, out), _browser_upload(work, inp)
    assert backend.evaluate(run_files, sources=source_files).report.is_file()

    def pairs(items):
        return sorted((Path(i.source).read_bytes(), Path(i.converted).read_bytes(),
                       i.target_emotion, i.source_emotion) for i in items)

    assert pairs(seen["items"]) == pairs(read_manifest(out))  # what `emovc evaluate OUT` gets
    with pytest.raises(ConfigError, match="both source and converted.*the source folder"):
        backend.evaluate(run_files)
    with pytest.raises(ConfigError, match="'b.wav' \\(source\\), which was not uploaded; it is "
                                          "not in the uploaded source folder"):
        backend.evaluate(run_files, sources=[p for p in source_files if "b.wav" not in p])
    with pytest.raises(ConfigError, match="no run folder"):
        backend.evaluate(None, sources=source_files)
