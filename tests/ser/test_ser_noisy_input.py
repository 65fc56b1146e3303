"""``ser predict`` (``predict_file``) warns in one line about a noisy file, not about a clean
one, nor about noise alone (which is warned about as maybe not speech)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from emovc.audio import save_audio
from emovc.audio.processing import active_rms_dbfs
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import EmovcWarning
from emovc.pipelines.recognition import EmotionRecognizer, predict_paths


def _take() -> np.ndarray:
    gap = np.zeros(6400, np.float32)
    return np.concatenate([gap, synthesize(EMOTION_VOICES["angry"], 1.5, seed=7), gap])


def test_a_noisy_file_is_classified_with_one_warning(ser_run, tmp_path):
    rec = EmotionRecognizer.from_pretrained(ser_run)
    take = _take()
    noise = np.random.default_rng(0).standard_normal(len(take)).astype(np.float32)
    noisy = save_audio(tmp_path / "noisy.wav",
                       take + 10 ** ((active_rms_dbfs(take, 16000) - 8.0) / 20) * noise, 16000)
    with pytest.warns(EmovcWarning, match=r"noisy\.wav is noisy: its estimated SNR is \d+ dB "
                                          r"\(below 20 dB.*labels are far less reliable"):
        rec.predict_file(noisy)
    with pytest.warns(EmovcWarning, match="is noisy"):
        (found,) = predict_paths(rec, [noisy])  # `ser predict` keeps it in the CSV's note
    assert "is noisy" in found.note and found.probs
    clean = save_audio(tmp_path / "clean.wav", take, 16000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmovcWarning)
        rec.predict_file(clean)
    alone = save_audio(tmp_path / "alone.wav", 0.1 * noise, 16000)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        rec.predict_file(alone)
    messages = [str(w.message) for w in shown if issubclass(w.category, EmovcWarning)]
    assert any("may not be speech" in m for m in messages)
    assert not any("is noisy" in m for m in messages)


def test_a_telephone_file_is_classified_with_one_warning(ser_run, tmp_path):
    """An 8 kHz recording was classified without a word, though the recogniser, trained on
    16 kHz speech, is far less accurate on it (docs/ser.md); convert and clone warn of one."""
    from emovc.audio.io import resample

    rec = EmotionRecognizer.from_pretrained(ser_run)
    phone = save_audio(tmp_path / "phone.wav", resample(_take(), 16000, 8000), 8000)
    with pytest.warns(EmovcWarning) as shown:
        rec.predict_file(phone)
    notes = [str(w.message) for w in shown if "no sound above" in str(w.message)]
    assert len(notes) == 1 and notes[0].startswith(
        f"{phone} is 8000 Hz audio, with no sound above 4 kHz: its emotion labels are "
        "less reliable"), notes
    # recorded at 11.025 kHz: its band reaches 5.5 kHz, past the measured test's 5 kHz, so
    # only the file's own rate tells (the file was read at 16 kHz and measured there)
    mid = save_audio(tmp_path / "mid.wav", resample(_take(), 16000, 11025), 11025)
    with pytest.warns(EmovcWarning, match="is 11025 Hz audio, with no sound above 5.5125 kHz"):
        rec.predict_file(mid)
    with pytest.warns(EmovcWarning, match="no sound above"):
        (found,) = predict_paths(rec, [phone])  # `ser predict` keeps it in the CSV's note
    assert "no sound above" in found.note and found.probs
