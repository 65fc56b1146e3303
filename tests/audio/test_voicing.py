"""The voiced-speech check: speech passes, noise, clicks and low hum do not."""

import numpy as np
import pytest
import scipy.signal

from emovc.audio import check_voiced_speech
from emovc.audio.voicing import MIN_PERIODIC_SHARE, periodic_share
from emovc.data.synthetic import SyntheticVoice, synthesize
from emovc.errors import AudioError

SR = 16000


def _noises(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    white = rng.standard_normal(n)
    brown = np.cumsum(white)
    brown = scipy.signal.detrend(brown)
    b, a = scipy.signal.butter(4, [100 / (SR / 2), 400 / (SR / 2)], "band")
    clicks = np.zeros(n)
    clicks[rng.integers(0, n, 40)] = 1.0
    t = np.arange(n) / SR
    out = {"white": white, "brown": brown, "band 100-400 Hz": scipy.signal.lfilter(b, a, white),
           "clicks": clicks + 1e-3 * white, "50 Hz hum": np.sin(2 * np.pi * 50 * t)}
    return {k: (0.1 * v / np.max(np.abs(v))).astype(np.float32) for k, v in out.items()}


def test_speech_is_voiced_and_noise_is_not():
    speech = synthesize(SyntheticVoice(), duration=3.0, seed=2)
    assert periodic_share(speech, SR) > 5 * MIN_PERIODIC_SHARE
    check_voiced_speech(speech, SR)
    for name, noise in _noises(np.random.default_rng(0), 3 * SR).items():
        assert periodic_share(noise, SR) < MIN_PERIODIC_SHARE, name
        with pytest.raises(AudioError, match=r"no voiced speech found in noise\.wav") as e:
            check_voiced_speech(noise, SR, name="noise.wav")
        assert "\n" not in str(e.value)


def test_share_counts_the_active_frames_and_any_rate():
    """Digital silence around the speech does not dilute it; 22.05 kHz input is resampled."""
    speech = synthesize(SyntheticVoice(), duration=2.0, seed=3)
    padded = np.concatenate([np.zeros(5 * SR, np.float32), speech, np.zeros(5 * SR, np.float32)])
    # counted over all frames, the silence would take it to a sixth
    assert periodic_share(padded, SR) == pytest.approx(periodic_share(speech, SR), abs=0.15)
    import soxr
    assert periodic_share(soxr.resample(speech, SR, 22050), 22050) == pytest.approx(
        periodic_share(speech, SR), abs=0.05)


def test_a_little_speech_in_a_long_quiet_noise_floor_is_measured_by_itself():
    """2 s of speech in two minutes of room noise at -60 dBFS: counted over every frame above
    the loudest ones' range it measured 1.7 % and was refused; the frames standing out from
    the noise floor are the speech."""
    rng = np.random.default_rng(2)
    x = (1e-3 * rng.standard_normal(120 * SR)).astype(np.float32)
    x[60 * SR:62 * SR] += synthesize(SyntheticVoice(), duration=2.0, seed=5)
    assert periodic_share(x, SR) > 0.5
    check_voiced_speech(x, SR)


def test_bad_shapes_and_samples_are_refused_not_crashed_on():
    """A (1, n) array crashed the interpreter in the resampler (read as n channels)."""
    speech = synthesize(SyntheticVoice(), duration=1.0, seed=6)
    with pytest.raises(AudioError, match=r"must be mono audio of shape \(n,\), got shape \(1,"):
        periodic_share(speech[None], 22050)
    with pytest.raises(AudioError, match="contains NaN or Inf"):
        periodic_share(np.where(np.arange(speech.size) == 5, np.nan, speech), SR)


def test_zeroed_stretches_do_not_set_the_noise_floor():
    """With a tenth of the file exact zeros, the zeros were the floor: every noise frame stood
    out and diluted the speech again (1 %)."""
    rng = np.random.default_rng(4)
    x = (1e-3 * rng.standard_normal(120 * SR)).astype(np.float32)
    x[60 * SR:62 * SR] += synthesize(SyntheticVoice(), duration=2.0, seed=5)
    x[:15 * SR] = 0.0
    assert periodic_share(x, SR) > 0.5


def test_the_recogniser_warns_instead_of_refusing():
    """Emotion labels of noise are a guess: said, not refused."""
    from emovc.audio.voicing import warn_if_unvoiced
    from emovc.errors import EmovcWarning

    noise = _noises(np.random.default_rng(3), 2 * SR)["white"]
    with pytest.warns(EmovcWarning, match=r"hiss.wav may not be speech: only 0.0% .*a guess"):
        assert warn_if_unvoiced(noise, SR, "hiss.wav", "its labels are a guess") == 0.0


def test_speech_in_a_long_stretch_of_noise_is_found():
    """A few seconds of speech in a minute of noise (more frames than are analysed) pass."""
    rng = np.random.default_rng(1)
    noise = 0.02 * rng.standard_normal(60 * SR).astype(np.float32)
    speech = synthesize(SyntheticVoice(), duration=4.0, seed=4)
    x = noise.copy()
    x[20 * SR:24 * SR] += speech
    assert periodic_share(x, SR) > 0.5  # the speech stands out from the noise: measured alone
    check_voiced_speech(x, SR)


def test_too_short_for_one_frame_has_no_voiced_share():
    assert periodic_share(np.zeros(100, np.float32), SR) == 0.0


def test_digital_silence_has_no_voiced_share():
    # its difference function is 0 at every lag: it measured as perfectly periodic (0.93)
    assert periodic_share(np.zeros(32000, np.float32), SR) == 0.0
    assert periodic_share(np.full(32000, 0.3, np.float32) - np.float32(0.3), SR) == 0.0
