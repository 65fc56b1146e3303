"""Continuous log-F0, log-Gaussian F0 conversion and CWT decomposition/reconstruction."""

from __future__ import annotations

import numpy as np
import pycwt
import pytest
from scipy.ndimage import gaussian_filter1d

from emovc.data.synthetic import EMOTION_VOICES, f0_contour
from emovc.data.synthetic import synthesize as speech
from emovc.errors import AudioError, ConfigError
from emovc.features.f0 import (
    LogF0Stats,
    continuous_log_f0,
    convert_f0_gaussian,
    cwt_decompose,
    cwt_reconstruct,
    cwt_scales,
    logf0_group_stats,
    logf0_stats,
)
from emovc.features.world import WorldConfig, analyze_f0


def _normalise(lf0: np.ndarray, vuv: np.ndarray) -> np.ndarray:
    return (lf0 - lf0[vuv].mean()) / lf0[vuv].std()


def _speech_lf0(voice: str, seed: int, dur: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Normalised true log-F0 of synthetic speech at 5 ms frames + the DIO voicing mask."""
    wav = speech(EMOTION_VOICES[voice], duration=dur, seed=seed)
    f0, _ = analyze_f0(wav, WorldConfig())
    n = wav.shape[0]
    true = f0_contour(EMOTION_VOICES[voice], n, 16000, np.random.default_rng(seed))
    lf0 = np.log(true[np.minimum(np.arange(f0.shape[0]) * 80, n - 1)])
    vuv = f0 > 0
    return _normalise(lf0, vuv), vuv


def test_continuous_log_f0_interpolates():
    f0 = np.array([0.0, 100.0, 0.0, 0.0, 400.0, 0.0])
    lf0, vuv = continuous_log_f0(f0)
    assert vuv.tolist() == [False, True, False, False, True, False]
    expect = np.log([100, 100, 100 * 4 ** (1 / 3), 100 * 4 ** (2 / 3), 400, 400])
    assert np.allclose(lf0, expect)
    with pytest.raises(AudioError, match="no voiced frames"):
        continuous_log_f0(np.zeros(10))


def test_logf0_stats_and_gaussian_conversion():
    rng = np.random.default_rng(0)
    src = np.exp(rng.normal(np.log(120), 0.1, 2000)) * (rng.random(2000) > 0.3)
    st = logf0_stats([src[:1000], src[1000:]])
    assert st.mean == pytest.approx(np.log(120), abs=0.01)
    assert st.std == pytest.approx(0.1, abs=0.01)
    assert st.mean_hz == pytest.approx(120, rel=0.01)
    tgt = LogF0Stats(mean=np.log(220.0), std=0.2)
    out = convert_f0_gaussian(src, st, tgt)
    assert np.array_equal(out == 0, src == 0)  # unvoiced frames stay unvoiced
    conv = logf0_stats(out)
    assert conv.mean == pytest.approx(tgt.mean, abs=1e-9)
    assert conv.std == pytest.approx(tgt.std, abs=1e-9)
    assert LogF0Stats.from_dict(st.to_dict()) == st
    with pytest.raises(ConfigError):
        LogF0Stats.from_dict({"mean": 1.0})
    with pytest.raises(AudioError):
        logf0_stats([np.zeros(5)])


def test_logf0_group_stats():
    a, b = np.full(10, 100.0), np.full(10, 200.0)
    groups = logf0_group_stats([a, b, a], [("s1", "sad"), ("s1", "angry"), ("s1", "sad")])
    assert set(groups) == {("s1", "sad"), ("s1", "angry")}
    assert groups[("s1", "angry")].mean == pytest.approx(np.log(200))
    with pytest.raises(ConfigError):
        logf0_group_stats([a], ["x", "y"])


def test_cwt_shapes_and_scales():
    x = np.sin(np.linspace(0, 20, 400))
    c = cwt_decompose(x)
    assert c.shape == (400, 10) and c.dtype == np.float64
    assert np.allclose(cwt_scales(), 0.005 * 2.0 ** np.arange(1, 11))
    # a 2 Hz oscillation lives in the scale whose Mexican-hat peak period (≈ 3.97 s) is nearest
    t = np.arange(800) * 0.005
    energy = np.square(cwt_decompose(np.sin(2 * np.pi * 2.0 * t))).mean(axis=0)
    peak_period = 2 * np.pi / np.sqrt(2.5) * cwt_scales()[np.argmax(energy)]
    assert 0.25 <= peak_period <= 1.0


def test_icwt_matches_pycwt():
    x = gaussian_filter1d(np.random.default_rng(1).standard_normal(500), 8)
    x -= x.mean()
    w, sj, *_ = pycwt.cwt(x, 0.005, 1.0, 0.01, 9, pycwt.MexicanHat())
    ref = pycwt.icwt(w, sj, 0.005, 1.0, pycwt.MexicanHat())
    assert np.allclose(cwt_reconstruct(cwt_decompose(x)), np.real(ref), atol=1e-10)


@pytest.mark.parametrize("method", ["icwt", "weighted"])
@pytest.mark.parametrize("voice,seed", [("neutral", 1), ("sad", 2), ("angry", 3), ("happy", 4)])
def test_cwt_reconstruction_on_speech_f0(method, voice, seed):
    x, vuv = _speech_lf0(voice, seed)
    r = cwt_reconstruct(cwt_decompose(x), method=method)
    assert np.corrcoef(r[vuv], x[vuv])[0, 1] >= 0.99


@pytest.mark.parametrize("method", ["icwt", "weighted"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cwt_reconstruction_on_smooth_random_contour(method, seed):
    x = gaussian_filter1d(np.random.default_rng(seed).standard_normal(700), 10)
    x = (x - x.mean()) / x.std()
    r = cwt_reconstruct(cwt_decompose(x), method=method)
    assert np.corrcoef(r, x)[0, 1] >= 0.99
    if method == "icwt":  # calibrated inverse: amplitude preserved within a few %
        assert r.std() == pytest.approx(1.0, abs=0.05)


def test_cwt_bad_input():
    with pytest.raises(ConfigError, match="valid choices: icwt, weighted"):
        cwt_reconstruct(np.zeros((10, 10)), method="sum")
    with pytest.raises(ConfigError):
        cwt_reconstruct(np.zeros(10))
    with pytest.raises(AudioError):
        cwt_decompose(np.zeros(1))


def test_cwt_refuses_a_2d_log_f0_instead_of_interleaving_it():
    x = np.sin(np.linspace(0, 6, 200))
    with pytest.raises(ConfigError, match=r"shape \(T,\), got \(100, 2\)"):
        cwt_decompose(x.reshape(100, 2))
    assert np.array_equal(cwt_decompose(x[:, None]), cwt_decompose(x))  # one column is fine
