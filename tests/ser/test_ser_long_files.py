"""Long files are classified in 20 s windows (audit s38 M1); short files exactly as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emovc.audio import load_audio, save_audio
from emovc.audio.chunking import split_windows
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import AudioError
from emovc.pipelines.recognition import EmotionRecognizer


def _speech(emotion: str, seconds: float, seed: int) -> np.ndarray:
    one = synthesize(EMOTION_VOICES[emotion], duration=1.5, seed=seed)
    unit = np.concatenate([one, np.zeros(4000, np.float32)])
    return np.resize(unit, int(seconds * 16000)).astype(np.float32)


@pytest.fixture(scope="module")
def long_file(tmp_path_factory) -> Path:
    """45 s: 25 s of angry speech, then 20 s of sad speech (three 15 s windows)."""
    x = np.concatenate([_speech("angry", 25.0, 1), _speech("sad", 20.0, 2)])
    return save_audio(tmp_path_factory.mktemp("long") / "long.wav", x, 16000)


def _cli():
    import typer

    from emovc.cli import ser_cmds

    app = typer.Typer()
    ser_cmds.register(app)
    return app


def test_a_long_file_is_the_length_weighted_mean_of_its_windows(ser_run, long_file):
    """It was classified as one 45 s clip (features of the whole file: memory grew with it)."""
    rec = EmotionRecognizer.from_pretrained(ser_run)
    wav = load_audio(long_file, 16000)
    bounds = split_windows(len(wav), 20 * 16000, 0)
    assert len(bounds) == 3
    want = {lab: 0.0 for lab in rec.labels}
    for s, e in bounds:
        for lab, p in rec.predict(wav[s:e], 16000).items():
            want[lab] += p * (e - s) / len(wav)
    got = rec.predict_file(long_file)
    assert got == pytest.approx(want, abs=1e-12)
    assert got != pytest.approx(rec.predict(wav, 16000), abs=1e-6)
    found = rec.predict_file_windows(long_file)
    assert [(w.start_s, w.end_s) for w in found.windows] == [(s / 16000, e / 16000)
                                                             for s, e in bounds]
    assert found.windows[0].probs == rec.predict(wav[:bounds[0][1]], 16000)


def test_a_short_file_is_one_clip_as_before(ser_run, tmp_path):
    rec = EmotionRecognizer.from_pretrained(ser_run)
    path = save_audio(tmp_path / "short.wav", _speech("sad", 20.0, 3), 16000)  # one window
    assert rec.predict_file(path) == rec.predict(load_audio(path, 16000), 16000)
    assert rec.predict_file_windows(path).windows == []


def test_windows_without_speech_are_skipped_and_listed(ser_run, tmp_path):
    rec = EmotionRecognizer.from_pretrained(ser_run)
    x = np.concatenate([_speech("angry", 20.0, 4), np.zeros(20 * 16000, np.float32)])
    path = save_audio(tmp_path / "pause.wav", x, 16000)
    found = rec.predict_file_windows(path)
    speech = load_audio(path, 16000)[:20 * 16000]
    assert found.probs == pytest.approx(rec.predict(speech, 16000), abs=1e-12)
    assert found.windows[1].probs == {} and "pause.wav [0:20.0-0:40.0]" in found.windows[1].error
    silent = save_audio(tmp_path / "silent.wav", np.zeros(45 * 16000, np.float32), 16000)
    with pytest.raises(AudioError, match=r"silent\.wav: no 20 s window holds enough speech"):
        rec.predict_file(silent)


def test_ser_predict_windows_prints_each_window(ser_run, long_file):
    from typer.testing import CliRunner

    args = ["ser", "predict", str(long_file), "--model", str(ser_run), "-k", "1"]
    plain = CliRunner().invoke(_cli(), args)
    res = CliRunner().invoke(_cli(), [*args, "--windows"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == plain.output.splitlines()[0]  # the file's line is unchanged
    assert [ln.split("\t")[0] for ln in lines[1:]] == ["  0:00-0:15", "  0:15-0:30",
                                                      "  0:30-0:45"]
