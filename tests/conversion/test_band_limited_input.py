"""``convert`` tells once that its input is band-limited (telephone speech: recorded at 8 kHz,
or resampled from it), with the detection ``emovc clone`` uses for its references
(:mod:`emovc.audio.bandwidth`); the converted samples are unchanged."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import soundfile as sf

from emovc.audio.bandwidth import band_limit_hz, band_limit_note, upper_band_edge
from emovc.audio.io import resample
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import EmovcWarning
from emovc.pipelines.conversion import EmotionConverter

LIMIT = "no sound above"


def _phone(wav: np.ndarray) -> np.ndarray:
    """16 kHz ``wav`` through 8 kHz and back, as emovc reads an 8 kHz recording."""
    return resample(resample(wav, 16000, 8000), 8000, 16000)


@pytest.fixture(scope="module")
def calm() -> np.ndarray:
    return synthesize(EMOTION_VOICES["calm"], duration=1.5, seed=4)


@pytest.fixture(scope="module")
def tiny(tiny_spectrogan) -> EmotionConverter:
    """An untrained calm <-> angry SpectroGAN without a prosody stage."""
    return EmotionConverter(tiny_spectrogan)


def _notes(shown) -> list[str]:
    return [str(w.message) for w in shown if LIMIT in str(w.message)]


def test_the_band_edge_tells_telephone_audio_from_16_khz_speech(calm) -> None:
    assert upper_band_edge(calm, 16000) > 7000  # the synthetic voice reaches 8 kHz
    assert band_limit_hz(calm, 16000) is None
    assert 3500 < band_limit_hz(_phone(calm), 16000) < 4100  # resampled from 8 kHz
    assert band_limit_hz(resample(calm, 16000, 8000), 8000) == 4000  # the rate says it
    assert band_limit_hz(_phone(calm), 16000, rate=8000) == 4000  # the file's own rate
    assert band_limit_hz(resample(calm, 16000, 44100), 44100) is None  # above 16 kHz: fine
    assert band_limit_note("x.wav", calm, 16000, "so?") == ""
    assert band_limit_note("x.wav", _phone(calm), 16000, "so?") == (
        "x.wav has no sound above about 4 kHz (as telephone audio): so?")


def test_band_limited_samples_are_converted_with_one_warning(tiny, calm) -> None:
    """convert() of 8 kHz samples, or of 16 kHz samples resampled from 8 kHz (the app's
    upload), said nothing, where emovc clone warns of such a reference."""
    cases = [(resample(calm, 16000, 8000), 8000, "audio is 8000 Hz audio, with no sound "
                                                 "above 4 kHz: "),
             (_phone(calm), 16000, "audio has no sound above about 4 kHz (as telephone "
                                   "audio): ")]
    for wav, sr, start in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EmovcWarning)
            quiet = tiny.convert(wav, sr, "angry", source="calm")
        with pytest.warns(EmovcWarning) as shown:
            out = tiny.convert(wav, sr, "angry", source="calm")
        notes = _notes(shown)
        assert len(notes) == 1 and notes[0].startswith(start), notes
        assert "keeps that band limit" in notes[0] and "trained on 16 kHz speech" in notes[0]
        assert [w.filename for w in shown if LIMIT in str(w.message)] == [__file__]
        np.testing.assert_array_equal(out, quiet)  # a warning only
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmovcWarning)
        tiny.convert(calm, 16000, "angry", source="calm")


def test_a_band_limited_file_is_converted_with_one_warning(tiny, calm, tmp_path) -> None:
    sf.write(tmp_path / "phone.wav", resample(calm, 16000, 8000), 8000, subtype="FLOAT")
    sf.write(tmp_path / "wide.wav", calm, 16000, subtype="FLOAT")
    with pytest.warns(EmovcWarning) as shown:
        tiny.convert_file(tmp_path / "phone.wav", tmp_path / "out.wav", "angry", source="calm")
    notes = _notes(shown)
    assert len(notes) == 1 and notes[0].startswith(f"{tmp_path / 'phone.wav'} is 8000 Hz "
                                                   "audio, with no sound above 4 kHz"), notes
    # 11.025 kHz audio reaches 5.5 kHz, past the measured test's 5 kHz: the file's own rate
    # tells (it was read at 16 kHz and measured there, and passed)
    sf.write(tmp_path / "mid.wav", resample(calm, 16000, 11025), 11025, subtype="FLOAT")
    with pytest.warns(EmovcWarning, match="mid.wav is 11025 Hz audio"):
        tiny.convert_file(tmp_path / "mid.wav", tmp_path / "out3.wav", "angry", source="calm")
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmovcWarning)
        tiny.convert_file(tmp_path / "wide.wav", tmp_path / "out2.wav", "angry", source="calm")


def test_the_command_line_warns_of_a_telephone_recording(stargan_run, calm, tmp_path,
                                                         capsys) -> None:
    """A WORLD model's run, on the command line: one 'emovc: warning:' line."""
    from emovc.cli.main import main

    sf.write(tmp_path / "phone.wav", resample(calm, 16000, 8000), 8000, subtype="PCM_16")
    code = main(["convert", str(tmp_path / "phone.wav"), "--to", "sad", "--from", "calm",
                 "--model", str(stargan_run), "-o", str(tmp_path / "out.wav")])
    err = capsys.readouterr().err
    assert code == 0, err
    lines = [line for line in err.splitlines() if LIMIT in line]
    assert len(lines) == 1 and lines[0].startswith("emovc: warning: "), err
    assert "phone.wav is 8000 Hz audio, with no sound above 4 kHz" in lines[0]


def test_clone_uses_the_same_check_for_its_references(calm, tmp_path) -> None:
    """emovc clone warned of a reference below 16 kHz only: telephone audio already
    resampled to 16 kHz made a band-limited clone without a word."""
    from emovc.pipelines.clone_refs import band_limit_note as clone_note
    from emovc.pipelines.clone_refs import read_reference

    sf.write(tmp_path / "phone16.wav", _phone(calm), 16000, subtype="FLOAT")
    sf.write(tmp_path / "wide.wav", calm, 16000, subtype="FLOAT")
    assert clone_note(read_reference(tmp_path / "phone16.wav", 0)) == (
        "reference phone16.wav has no sound above about 4 kHz (as telephone audio): the clone "
        "will sound band-limited (like a phone call) and match the speaker less well; use a "
        "recording of 16 kHz or more if you have one")
    assert clone_note(read_reference(tmp_path / "wide.wav", 0)) == ""


def test_the_average_spectrum_is_welchs_in_flat_memory(calm) -> None:
    """Within one block it is scipy's welch; a long input is measured block by block (welch
    of a whole 32 s input took 12.8 MB, failing test_long_inputs' flat-memory check), with
    the same band edge."""
    from scipy.signal import welch

    from emovc.audio import bandwidth

    freqs, power = bandwidth.average_spectrum(calm, 16000)
    np.testing.assert_array_equal(power, welch(calm.astype(np.float64), 16000, nperseg=512)[1])
    long = np.tile(_phone(calm), 1 + 3 * bandwidth.SPECTRUM_BLOCK // len(calm))
    assert bandwidth.upper_band_edge(long, 16000) == bandwidth.upper_band_edge(_phone(calm),
                                                                              16000)
    whole = welch(long.astype(np.float64), 16000, nperseg=512)[1]
    np.testing.assert_allclose(bandwidth.average_spectrum(long, 16000)[1], whole, rtol=0.02)
