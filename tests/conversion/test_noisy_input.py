"""``convert`` tells once per file that its input is noisy (an estimated SNR below
``emovc.audio.noise.LOW_SNR_DB``), as it does for a clipped one; the output is unchanged."""

import warnings

import numpy as np
import pytest
import soundfile as sf

from emovc.audio.noise import LOW_SNR_DB
from emovc.audio.processing import active_rms_dbfs
from emovc.errors import EmovcWarning
from emovc.pipelines.conversion import EmotionConverter


def test_a_noisy_file_is_converted_with_one_warning(stargan_run, calm, tmp_path):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    take = np.concatenate([np.zeros(4000, np.float32), calm, np.zeros(4000, np.float32)])
    noise = np.random.default_rng(0).standard_normal(len(take))
    noisy = take + 10 ** ((active_rms_dbfs(take, 16000) - 8.0) / 20) * noise  # 8 dB SNR
    sf.write(tmp_path / "noisy.wav", noisy, 16000, subtype="FLOAT")
    sf.write(tmp_path / "clean.wav", take, 16000, subtype="FLOAT")
    with pytest.warns(EmovcWarning) as shown:
        conv.convert_file(tmp_path / "noisy.wav", tmp_path / "out.wav", "sad", source="calm")
    notes = [str(w.message) for w in shown if "noisy" in str(w.message)]
    assert len(notes) == 1
    assert notes[0].startswith(f"{tmp_path / 'noisy.wav'} is noisy: its estimated SNR is ")
    assert f"(below {LOW_SNR_DB:g} dB" in notes[0] and "quieter recording" in notes[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmovcWarning)
        conv.convert_file(tmp_path / "clean.wav", tmp_path / "out2.wav", "sad", source="calm")
    # a warning only: the file holds what convert() makes of the same samples
    wav = sf.read(tmp_path / "noisy.wav", dtype="float32")[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmovcWarning)
        want = conv.convert(wav, 16000, "sad", source="calm")
    got = sf.read(tmp_path / "out.wav", dtype="float32")[0]
    assert np.allclose(got, want, atol=1 / 32768)


def test_noisy_samples_are_converted_with_the_same_warning(stargan_run, calm, tmp_path):
    """convert() and convert_with_source() on arrays (the Python API, the app's convert tab)
    said nothing about noise that convert_file warns of; now they warn the same way, calling
    the samples "audio" and naming the caller's line, and the output is unchanged."""
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    take = np.concatenate([np.zeros(4000, np.float32), calm, np.zeros(4000, np.float32)])
    noise = np.random.default_rng(0).standard_normal(len(take))
    noisy = (take + 10 ** ((active_rms_dbfs(take, 16000) - 8.0) / 20) * noise).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmovcWarning)
        quiet = conv.convert(noisy, 16000, "sad", source="calm")
    calls = (lambda: conv.convert(noisy, 16000, "sad", source="calm"),
             lambda: conv.convert_with_source(noisy, 16000, "sad", source="calm")[0])
    for call in calls:
        with pytest.warns(EmovcWarning) as shown:
            out = call()
        notes = [w for w in shown if "noisy" in str(w.message)]
        assert len(notes) == 1 and notes[0].filename == __file__
        assert str(notes[0].message).startswith("audio is noisy: its estimated SNR is ")
        assert "quieter recording" in str(notes[0].message)
        assert np.array_equal(out, quiet)  # a warning only
    with pytest.warns(EmovcWarning, match="^audio is noisy"):  # at another rate too
        conv.convert(noisy[::2].copy(), 8000, "sad", source="calm")
    with pytest.warns(EmovcWarning, match="^take 7 is noisy: its estimated SNR is "):
        conv.convert_with_source(noisy, 16000, "sad", source="calm", name="take 7")
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmovcWarning)
        conv.convert(take, 16000, "sad", source="calm")
    sf.write(tmp_path / "noisy.wav", noisy, 16000, subtype="FLOAT")
    with pytest.warns(EmovcWarning) as shown:  # the file's warning names its caller's line
        conv.convert_file(tmp_path / "noisy.wav", tmp_path / "out.wav", "sad", source="calm")
    notes = [w for w in shown if "noisy" in str(w.message)]
    assert len(notes) == 1 and notes[0].filename == __file__
