"""Voice-quality statistics and the perturbation that adds them (TD-PSOLA jitter/shimmer)."""

import math

import numpy as np
import pytest
import pyworld

from emovc.audio.psola import pitch_marks, psola
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.features.voice_quality import (
    MEAN_ABS_DIFF,
    added_perturbation,
    fit_emotion_stats,
    measure,
)

STATS = {"calm": {"jitter": 0.016, "shimmer_db": 1.07},
         "angry": {"jitter": 0.025, "shimmer_db": 1.26}}


def test_added_perturbation_moves_source_to_target_in_quadrature():
    j, s = added_perturbation(STATS, "calm", "angry")
    assert j == pytest.approx(math.sqrt(0.025**2 - 0.016**2) / MEAN_ABS_DIFF)
    assert s == pytest.approx(math.sqrt(1.26**2 - 1.07**2) / MEAN_ABS_DIFF)
    assert added_perturbation(STATS, "calm", "angry", 2.0) == pytest.approx((2 * j, 2 * s))
    assert added_perturbation(STATS, "angry", "calm") == (0.0, 0.0)  # cannot remove it
    assert added_perturbation(STATS, "calm", "sad") == (0.0, 0.0)  # not in the table
    assert added_perturbation({}, "calm", "angry") == (0.0, 0.0)
    assert added_perturbation(STATS, "calm", "angry", 0.0) == (0.0, 0.0)


def test_stats_are_checked():
    from emovc.errors import ConfigError
    from emovc.features.voice_quality import check_stats

    assert check_stats(None) == {}
    assert check_stats({"calm": {"jitter": 1, "shimmer_db": 2}}) == {
        "calm": {"jitter": 1.0, "shimmer_db": 2.0}}
    for bad in ({"calm": {"jitter": 0.01}}, ["calm"], {"calm": {"jitter": "x", "shimmer_db": 1}},
                {"calm": {"jitter": -1, "shimmer_db": 1}}):
        with pytest.raises(ConfigError, match="voice_quality_stats") as e:
            check_stats(bad)
        assert "\n" not in str(e.value)


def test_fit_weighs_every_speaker_the_same():
    rows = [("01", "calm", 0.01, 1.0)] * 9 + [("02", "calm", 0.03, 2.0)]
    stats = fit_emotion_stats(rows)
    assert stats == {"calm": {"jitter": 0.02, "shimmer_db": 1.5}}


def test_psola_jitter_and_shimmer_raise_the_measured_irregularity():
    x = synthesize(EMOTION_VOICES["calm"], duration=2.0, seed=5)
    f0, t = pyworld.dio(x.astype(np.float64), 16000, frame_period=5.0)
    f0 = pyworld.stonemask(x.astype(np.float64), f0, t, 16000)
    marks = pitch_marks(x, f0, 80, 16000)
    ones = np.ones(f0.shape)
    plain = psola(x, marks, ones, 80)
    rough = psola(x, marks, ones, 80, jitter=0.03, shimmer_db=1.5, seed=1)
    np.testing.assert_array_equal(rough, psola(x, marks, ones, 80, jitter=0.03,
                                               shimmer_db=1.5, seed=1))  # seeded
    j0, s0 = measure(plain, 16000)
    j1, s1 = measure(rough, 16000)
    assert j1 > j0 + 0.01 and s1 > s0 + 0.3
