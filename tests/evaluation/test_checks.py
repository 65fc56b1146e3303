"""Sanity notes on manifest rows and files (duplicates, identical files, down-mixed channels,
RAVDESS names that contradict the row)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import soundfile as sf

from emovc.audio import save_audio
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.evaluation.analysis import MetricConfig
from emovc.evaluation.checks import (
    downmix_notes,
    duplicate_notes,
    identical_notes,
    ravdess_notes,
    sanity_notes,
)
from emovc.evaluation.file_analysis import run_stage1
from emovc.evaluation.manifest import EvalItem


def _analyse(paths):
    return run_stage1([(str(p), "") for p in paths], MetricConfig(), None, None, workers=1)


def test_repeated_rows_are_noted():
    a = EvalItem("0000", "/s.wav", "/c.wav", "angry", "/r.wav")
    b = EvalItem("0001", "/s.wav", "/c2.wav", "angry", "/r.wav")
    assert duplicate_notes([a, b]) == []
    (note,) = duplicate_notes([a, b, replace(a, item_id="0002"), replace(a, item_id="0003")])
    assert note.startswith("2 of 4 items repeat an earlier row") and "item 0002 = item 0000" in note


def test_converted_files_identical_to_the_source_or_reference_are_noted(tmp_path):
    """The same file, or the same audio in another file or format, as the source or the
    reference; a real conversion gets no note."""
    src = save_audio(tmp_path / "src.wav", synthesize(EMOTION_VOICES["calm"], 1.0, seed=1))
    ref_audio = synthesize(EMOTION_VOICES["angry"], 1.0, seed=2)
    ref = save_audio(tmp_path / "ref.wav", ref_audio)
    copy = save_audio(tmp_path / "copy.flac", ref_audio)  # same samples, another container
    conv = save_audio(tmp_path / "conv.wav", synthesize(EMOTION_VOICES["angry"], 1.0, seed=3))
    files = _analyse([src, ref, copy, conv])
    good = EvalItem("0000", str(src), str(conv), "angry", str(ref))
    assert identical_notes([good], files) == []
    items = [good, EvalItem("0001", str(src), str(copy), "angry", str(ref)),
             EvalItem("0002", str(src), str(src), "angry", str(ref))]
    as_source, as_ref = identical_notes(items, files)
    assert as_source.startswith("1 of 3 items have a converted file identical to its source")
    assert "item 0002" in as_source
    assert as_ref.startswith("1 of 3 items have a converted file identical to its reference")
    assert "item 0001" in as_ref


def test_files_with_several_channels_are_noted(tmp_path):
    mono = synthesize(EMOTION_VOICES["calm"], 1.0, seed=1)
    sf.write(tmp_path / "stereo.wav", np.stack([mono, 0.5 * mono], axis=1), 16000)
    save_audio(tmp_path / "mono.wav", mono)
    files = _analyse([tmp_path / "stereo.wav", tmp_path / "mono.wav"])
    assert files[str(tmp_path / "stereo.wav")].channels == 2
    (note,) = downmix_notes(files)
    assert note.startswith("1 file(s) have more than one channel") and "stereo.wav: 2" in note
    assert downmix_notes({k: v for k, v in files.items() if "mono" in k}) == []


def test_ravdess_names_that_contradict_the_row_are_noted():
    take = "/d/Actor_01/03-01-{}-01-{}-01-{}.flac".format
    ok = EvalItem("0000", take("01", "01", "01"), "/out/a.wav", "angry", take("05", "01", "01"),
                  "Kids are talking by the door.", "neutral")
    assert ravdess_notes([ok]) == []
    assert ravdess_notes([replace(ok, source="/x/mine.wav", reference="/x/ref.wav")]) == []
    items = [ok,
             replace(ok, item_id="0001", reference=take("05", "01", "02")),  # another actor
             replace(ok, item_id="0002", reference=take("03", "01", "01")),  # happy for angry
             replace(ok, item_id="0003", source_emotion="calm"),
             replace(ok, item_id="0004", text="Dogs are sitting by the door")]
    notes = ravdess_notes(items)
    assert len(notes) == 4
    assert notes[0].startswith("1 of 5 items have a RAVDESS reference of another actor or "
                               "sentence") and "item 0001" in notes[0]
    assert "not the target emotion (e.g. item 0002: happy for angry)" in notes[1]
    assert "item 0003: calm for a neutral take" in notes[2]
    assert "text other than" in notes[3] and "item 0004" in notes[3]


def test_the_notes_reach_the_evaluation_and_the_command_line(tiny_run, tmp_path, capsys,
                                                              monkeypatch):
    from emovc.cli import main as cli_main

    table = tiny_run / "conversions.csv"
    lines = table.read_text().splitlines()
    table.write_text("\n".join([*lines, lines[1]]) + "\n")  # the first row again
    monkeypatch.setattr(cli_main, "COMMAND_MODULES",
                        [*cli_main.COMMAND_MODULES, "emovc.cli.eval_cmds"])
    args = ["evaluate", str(tiny_run), "-o", str(tmp_path / "ev"), "--no-asr", "--no-emotion",
            "--no-baselines", "--workers", "1", "--examples", "0"]
    assert cli_main.main(args) == 0
    assert "note: 1 of 3 items repeat an earlier row" in capsys.readouterr().out
    assert sanity_notes([], {}) == []


def test_a_header_libsndfile_cannot_read_leaves_the_analysis_alone(tmp_path, monkeypatch):
    """An mp3 that only the fallback decoder reads has no channel count: it is analysed as
    before, and simply not counted as down-mixed."""
    from emovc.errors import AudioError
    from emovc.evaluation import file_analysis

    def unreadable(path):
        raise AudioError(f"not a readable audio file: {path}")

    save_audio(tmp_path / "a.wav", synthesize(EMOTION_VOICES["calm"], 1.0, seed=1))
    monkeypatch.setattr(file_analysis, "audio_info", unreadable)
    (res,) = _analyse([tmp_path / "a.wav"]).values()
    assert res.features is not None and not res.error and res.channels == 0
