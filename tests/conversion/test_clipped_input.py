"""``convert`` tells once per file that its input is clipped (audit s38 L2)."""

import warnings

import numpy as np
import pytest
import soundfile as sf

from emovc.errors import EmovcWarning
from emovc.pipelines.conversion import EmotionConverter


def test_a_clipped_file_is_converted_with_one_warning(stargan_run, calm, tmp_path):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    sf.write(tmp_path / "clipped.wav", np.clip(4 * calm / np.abs(calm).max(), -1, 1), 16000,
             subtype="PCM_16")
    sf.write(tmp_path / "clean.wav", 0.5 * calm / np.abs(calm).max(), 16000, subtype="PCM_16")
    with pytest.warns(EmovcWarning) as shown:
        conv.convert_file(tmp_path / "clipped.wav", tmp_path / "out.wav", "sad", source="calm")
    notes = [str(w.message) for w in shown if "clipped" in str(w.message)]
    assert len(notes) == 1
    assert notes[0].startswith(f"{tmp_path / 'clipped.wav'} is clipped: ")
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmovcWarning)
        conv.convert_file(tmp_path / "clean.wav", tmp_path / "out2.wav", "sad", source="calm")
