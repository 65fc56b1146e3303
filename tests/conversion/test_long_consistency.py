"""A long input's windows are normalised with the whole input's statistics (audit s38 M3)."""

import numpy as np
import pytest

from emovc.audio import normalize_loudness
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.models.conversion.features import (
    CONVERSION_DIO_SPEED,
    analysis_gain,
    analyze_for_conversion,
)
from emovc.models.conversion.normalizer import UtteranceStats
from emovc.pipelines import conversion_engine
from emovc.pipelines.conversion import EmotionConverter
from emovc.pipelines.world_stats import whole_input_stats


def _two_voices(seconds: float) -> np.ndarray:
    """A calm voice for the first half, a louder, higher (angry) one for the second."""
    half = int(seconds * 8000)
    parts = []
    for emo, seed in (("calm", 5), ("angry", 6)):
        one = synthesize(EMOTION_VOICES[emo], duration=2.0, seed=seed)
        unit = np.concatenate([one, np.zeros(4000, np.float32)])
        parts.append(np.resize(unit, half))
    return np.concatenate(parts).astype(np.float32)


@pytest.fixture()
def windowed(stargan_run):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    conv.window_s, conv.overlap_s = 2.0, 0.5  # long inputs in the small
    return conv


def _speaker_stats_used(conv, monkeypatch, x) -> list[UtteranceStats]:
    """The speaker statistics each window of a conversion of ``x`` was normalised with."""
    seen = []
    normalize = type(conv.backend.normalizer).normalize

    def spy(self, mcep, lf0, spk):
        seen.append(spk)
        return normalize(self, mcep, lf0, spk)

    monkeypatch.setattr(type(conv.backend.normalizer), "normalize", spy)
    conv.convert(x, 16000, "sad", source="calm")
    return seen


def test_every_window_of_a_long_input_gets_the_whole_inputs_statistics(windowed, monkeypatch):
    x = _two_voices(8.0)
    seen = _speaker_stats_used(windowed, monkeypatch, x)
    assert len(seen) >= 4  # several windows
    for spk in seen[1:]:
        assert spk.lf0_mean == seen[0].lf0_mean and spk.lf0_std == seen[0].lf0_std
        np.testing.assert_array_equal(spk.mcep_mean, seen[0].mcep_mean)
    # ... and they are the whole input's (the calm and the angry half together)
    cfg = windowed.backend.world
    feats, _, _ = analyze_for_conversion(x, cfg, dio_speed=CONVERSION_DIO_SPEED)
    own = windowed.backend.normalizer.speaker_stats(
        UtteranceStats.of(feats.mcep, feats.lf0, feats.vuv), "calm")
    assert abs(seen[0].lf0_mean - own.lf0_mean) < 0.01  # 17 cents
    assert abs(seen[0].lf0_std - own.lf0_std) < 0.01
    np.testing.assert_allclose(seen[0].mcep_mean, own.mcep_mean, atol=0.05)


def test_the_pairwise_cyclegan_gets_them_too(cyclegan_run, monkeypatch):
    conv = EmotionConverter.from_pretrained(str(cyclegan_run))
    conv.window_s, conv.overlap_s = 2.0, 0.5
    seen = []
    normalize = type(conv.backend.normalizer).normalize
    monkeypatch.setattr(type(conv.backend.normalizer), "normalize",
                        lambda self, m, f, spk: seen.append(spk) or normalize(self, m, f, spk))
    conv.convert(_two_voices(6.0), 16000, "angry", source="calm")
    assert len(seen) >= 3 and len({s.lf0_mean for s in seen}) == 1


def test_an_input_of_one_window_keeps_its_own_statistics(windowed, monkeypatch):
    """One window: no first pass, the statistics of the window itself (the unchanged path)."""
    monkeypatch.setattr(conversion_engine, "whole_input_stats",
                        lambda *a, **k: pytest.fail("no whole-input pass for one window"))
    x = _two_voices(2.0)
    seen = _speaker_stats_used(windowed, monkeypatch, x)
    feats, _, _ = analyze_for_conversion(x, windowed.backend.world,
                                         dio_speed=CONVERSION_DIO_SPEED)
    assert len(seen) == 1
    assert seen[0].lf0_mean == windowed.backend.normalizer.speaker_stats(
        UtteranceStats.of(feats.mcep, feats.lf0, feats.vuv), "calm").lf0_mean


def test_whole_input_stats_match_one_analysis_of_the_whole_input(windowed):
    x = _two_voices(8.0)
    cfg = windowed.backend.world
    feats, _, gain = analyze_for_conversion(x, cfg, dio_speed=CONVERSION_DIO_SPEED)
    own = UtteranceStats.of(feats.mcep, feats.lf0, feats.vuv)
    for stride in (1, 4):
        whole = whole_input_stats(x, cfg, 2 * 16000, stride=stride)
        assert whole.gain == pytest.approx(gain, rel=1e-4)
        assert whole.utterance.lf0_mean == pytest.approx(own.lf0_mean, abs=0.01)
        assert whole.utterance.lf0_std == pytest.approx(own.lf0_std, abs=0.01)
        np.testing.assert_allclose(whole.utterance.mcep_mean, own.mcep_mean, atol=0.05)


def test_whole_input_stats_skip_stretches_without_speech(windowed):
    x = np.concatenate([np.zeros(3 * 16000, np.float32), _two_voices(4.0)])
    whole = whole_input_stats(x, windowed.backend.world, 2 * 16000)
    assert np.isfinite(whole.utterance.lf0_mean)
    assert whole_input_stats(np.zeros(4 * 16000, np.float32), windowed.backend.world,
                             2 * 16000) is None


@pytest.mark.parametrize("spike", [0.0, 0.9])  # 0.9: a click only the peak limit holds
def test_analysis_gain_is_normalize_loudness_factor(spike):
    x = _two_voices(4.0) * np.float32(0.05)
    x[1000] = spike or x[1000]
    y = normalize_loudness(x, 16000, target_dbfs=-23.0)
    np.testing.assert_allclose(x.astype(np.float64) * analysis_gain(x, 16000), y,
                               rtol=1e-5, atol=1e-7)
    assert (np.abs(y).max() == pytest.approx(0.99, rel=1e-5)) == bool(spike)
