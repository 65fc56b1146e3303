"""Blind SNR estimate (``emovc.audio.noise``): accuracy at known SNRs, ``emovc info``'s row."""

import re
import warnings

import numpy as np
import pytest
import soundfile as sf

from emovc.audio import noise
from emovc.audio.noise import LOW_SNR_DB, estimate_snr, low_snr_note
from emovc.audio.processing import active_rms_dbfs
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import AudioError, EmovcWarning
from emovc.pipelines.analysis import describe_file

SR = 16000


def take(emotion: str = "calm", seed: int = 3) -> np.ndarray:
    """A 3.6 s speech-like take: two 1.2 s utterances between pauses of 0.4 s of silence."""
    gap = np.zeros(int(0.4 * SR), np.float32)
    return np.concatenate([gap, synthesize(EMOTION_VOICES[emotion], 1.2, seed=seed), gap,
                           synthesize(EMOTION_VOICES[emotion], 1.2, seed=seed + 1), gap])


def with_noise(x: np.ndarray, snr_db: float, kind: str = "white", seed: int = 1) -> np.ndarray:
    """``x`` plus unit-RMS noise ``snr_db`` below its active level: white, pink (1/f), or
    ``"buzz F0"``: a buzz or mains hum, the harmonics of F0 Hz up to 3 kHz at 1/k."""
    w = np.random.default_rng(seed).standard_normal(len(x))
    if kind == "pink":
        f = np.fft.rfftfreq(len(x), 1 / SR)
        w = np.fft.irfft(np.fft.rfft(w) / np.sqrt(np.maximum(f, 20.0)), len(x))
    elif kind.startswith("buzz"):
        f0, t = float(kind.split()[1]), np.arange(len(x)) / SR
        w = sum(np.sin(2 * np.pi * k * f0 * t + k) / k for k in range(1, int(3000 / f0) + 1))
    w /= np.sqrt(np.mean(w**2))
    return (x + 10 ** ((active_rms_dbfs(x, SR) - snr_db) / 20) * w).astype(np.float32)


@pytest.mark.parametrize("kind", ["white", "pink"])
@pytest.mark.parametrize("emotion", ["calm", "angry"])
def test_known_snrs_are_read_within_the_measured_tolerance(kind, emotion):
    """Measured on these takes (calm, angry, sad, happy; both noises): within 0.8 dB at
    20 dB, within 2.1 dB at 15 and 25 dB (the clean takes themselves read 31-36 dB)."""
    x = take(emotion)
    for snr, tolerance in ((25.0, 2.5), (20.0, 1.5), (15.0, 2.5)):
        assert estimate_snr(with_noise(x, snr, kind), SR) == pytest.approx(snr, abs=tolerance)
    assert estimate_snr(x, SR) > LOW_SNR_DB + 8


def test_noise_alone_reads_low_and_the_rate_does_not_matter():
    x = with_noise(take(), 20.0)
    assert estimate_snr(np.random.default_rng(0).standard_normal(3 * SR).astype(np.float32)
                        * 0.1, SR) < 0
    from emovc.audio.io import resample

    # the same take at 48 kHz (resampled to 16 kHz inside) reads the same
    assert estimate_snr(resample(x, SR, 48000), 48000) == pytest.approx(estimate_snr(x, SR),
                                                                        abs=0.5)


def test_a_take_after_long_noise_reads_its_speech_not_the_noise():
    """Half the frames were taken for speech at first: 10 s of noise before a take read 5 dB
    low (benchmarks/diag_noise.py's takes); speech is now the frames above the floor."""
    x = take()
    rng = np.random.default_rng(2)
    lead = rng.standard_normal(10 * SR) * 10 ** ((active_rms_dbfs(x, SR) - 20.0) / 20)
    padded = np.concatenate([lead, with_noise(x, 20.0, seed=3)]).astype(np.float32)
    assert estimate_snr(padded, SR) == pytest.approx(20.0, abs=1.5)


def held_vowel(f0: float = 140.0, seconds: float = 3.0) -> np.ndarray:
    """A clean held vowel: harmonics of ``f0`` (falling 6 dB per octave) with 2 % vibrato at
    5 Hz and a 10 % level swing at 3 Hz."""
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.02 * np.sin(2 * np.pi * 5 * t))) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, int(7500 / f0)))
    x *= 1 + 0.1 * np.sin(2 * np.pi * 3 * t)
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


@pytest.mark.parametrize("f0", [110.0, 220.0, 880.0])
def test_a_steady_voiced_sound_reads_cannot_tell_not_noisy(f0, tmp_path):
    """In a held vowel no band ever rests at a noise floor: it read -20 dB and was warned
    about as noisy, clean, under white noise at 40 dB and padded with digital silence. At
    880 Hz (a sung note) the vibrato sweeps harmonics in and out of single 500 Hz bands:
    the windows looked at for a change are wide enough not to take that for one."""
    vowel = held_vowel(f0)
    pad = np.zeros(SR // 2, np.float32)
    for x in (vowel, with_noise(vowel, 40.0), np.concatenate([pad, vowel, pad]),
              0.3 * np.sin(2 * np.pi * f0 * 4 * np.arange(3 * SR) / SR).astype(np.float32)):
        assert np.isnan(estimate_snr(x, SR))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.isnan(noise.warn_if_noisy(x, SR, "v.wav", "so what"))
    sf.write(tmp_path / "vowel.wav", vowel, SR, subtype="PCM_16")
    assert describe_file(tmp_path / "vowel.wav")["estimated SNR"].startswith("n/a (")


@pytest.mark.parametrize("kind", ["white", "buzz 100", "buzz 150", "buzz 60"])
def test_speech_drowned_in_noise_still_reads_noisy(kind):
    """Few frames stand out there too: the louder half of the sound is measured, far below
    the threshold, as for noise alone. White noise is not periodic; a buzz (or hum) is, as
    much as a held vowel: speech 5-10 dB under one read NaN ("a steady sound") and was not
    warned about. The speech shows in the bands the buzz leaves free, a held vowel has no
    such change."""
    for snr in (-5.0, -10.0):
        noisy = with_noise(take(), snr, kind)
        assert estimate_snr(noisy, SR) < LOW_SNR_DB - 10
        with pytest.warns(EmovcWarning, match="noisy"):
            noise.warn_if_noisy(noisy, SR, "take.wav", "so what")


def test_silence_too_short_input_and_bad_shapes():
    assert np.isnan(estimate_snr(np.zeros(SR, np.float32), SR))  # digital silence
    assert np.isnan(estimate_snr(take()[:2000], SR))  # fewer than MIN_FRAMES frames
    with pytest.raises(AudioError, match="mono"):
        estimate_snr(np.zeros((2, SR), np.float32), SR)
    bad = take()
    bad[5] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        estimate_snr(bad, SR)


def test_long_input_is_analysed_in_at_most_max_frames(monkeypatch):
    monkeypatch.setattr(noise, "MAX_FRAMES", 40)
    assert noise.band_powers(with_noise(take(), 20.0)).shape == (40, noise.N_BANDS)


def test_the_note_names_the_file_and_the_estimate_below_the_threshold_only():
    assert low_snr_note("a.wav", LOW_SNR_DB, "so what") == ""
    assert low_snr_note("a.wav", float("nan"), "so what") == ""
    assert low_snr_note("a.wav", 12.4, "so what") == (
        f"a.wav is noisy: its estimated SNR is 12 dB (below {LOW_SNR_DB:g} dB, where results "
        "clearly degrade); so what")


def test_info_prints_the_estimated_snr_and_flags_a_noisy_file(tmp_path):
    sf.write(tmp_path / "clean.wav", take(), SR, subtype="PCM_16")
    sf.write(tmp_path / "noisy.wav", with_noise(take(), 10.0), SR, subtype="PCM_16")
    clean = describe_file(tmp_path / "clean.wav")["estimated SNR"]
    assert clean.endswith(" dB") and float(clean.split()[0]) > LOW_SNR_DB + 8
    noisy = describe_file(tmp_path / "noisy.wav")["estimated SNR"]
    assert float(noisy.split()[0]) < LOW_SNR_DB
    assert noisy.endswith(f"dB (noisy: below {LOW_SNR_DB:g} dB conversion and emotion "
                          "recognition clearly degrade)")
    sf.write(tmp_path / "silent.wav", np.zeros(SR, np.float32), SR, subtype="PCM_16")
    assert describe_file(tmp_path / "silent.wav")["estimated SNR"].startswith("n/a")


def test_info_describes_a_float_file_far_beyond_full_scale_with_snr_n_a(tmp_path):
    """The SNR estimate refuses samples above MAX_INPUT_PEAK; ``info`` aborted on such a
    float file (the odd file it exists to inspect) instead of describing it."""
    x = take()
    sf.write(tmp_path / "hot.wav", x / np.abs(x).max() * 20, SR, subtype="FLOAT")
    out = describe_file(tmp_path / "hot.wav")
    assert re.fullmatch(r"n/a \(the file has samples up to 2\d\.\d+, expected float samples "
                        r"in \[-1, 1\]\)", out["estimated SNR"])  # the hint: in "analysis"
    assert out["peak"].startswith("26.0 dBFS")
    assert out["loudness"].endswith(" LUFS") and out["speech level"].endswith(" dBFS")
    assert "has samples up to 20" in out["analysis"]
