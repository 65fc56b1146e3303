"""Unit-selection options other than the default rendering: ``render="world"`` with each
``f0_source``, and ``vtln`` warping (synthetic talkers with known F0 and formants)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from emovc.data.synthetic import SyntheticVoice, synthesize
from emovc.features.f0 import LogF0Stats
from emovc.features.world import WorldConfig, analyze_f0
from emovc.models.synthesizer import unit_selection as us

WCFG = WorldConfig()
# a high, lively reference talker with a longer vocal tract scale, and a low front end
REFERENCE = SyntheticVoice(f0_mean=220.0, f0_range=6.0, formant_scale=1.15)
SOURCE = SyntheticVoice(f0_mean=110.0, f0_range=3.0)


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return synthesize(REFERENCE, duration=4.0, seed=3)


@pytest.fixture(scope="module")
def source() -> np.ndarray:
    return synthesize(SOURCE, duration=2.0, seed=5)


def _log_f0_corr(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of the log-F0 of ``a`` and ``b`` over the frames voiced in both."""
    fa, fb = analyze_f0(a, WCFG)[0], analyze_f0(b, WCFG)[0]
    n = min(len(fa), len(fb))
    both = (fa[:n] > 0) & (fb[:n] > 0)
    return float(np.corrcoef(np.log(fa[:n][both]), np.log(fb[:n][both]))[0, 1])


def _median_f0(wav: np.ndarray) -> float:
    f0 = analyze_f0(wav, WCFG)[0]
    return float(np.median(f0[f0 > 0]))


@pytest.mark.parametrize("f0_source", ["frontend", "reference"])
def test_world_rendering_takes_its_f0_from_the_chosen_source(reference, source, f0_source):
    """render="world": WORLD re-synthesis of the selected reference frames, at the reference's
    pitch either way (the source is an octave lower). "frontend" keeps the front end's
    intonation (its contour mapped to the reference's log-F0 statistics); "reference" uses
    the selected frames' own F0, which does not follow the front end's contour."""
    cfg = us.UnitSelectionConfig(phone_weight=0.0, render="world", f0_source=f0_source)
    units = us.analyse_reference([reference], cfg, WCFG)
    assert units.feats.ap.shape == units.feats.sp.shape  # WORLD rendering needs aperiodicity
    out = us.convert(source, units, cfg, WCFG)
    assert out.dtype == np.float32 and abs(len(out) - len(source)) <= WCFG.hop_samples * 16
    ref_median, src_median = _median_f0(reference), _median_f0(source)
    assert ref_median > 1.8 * src_median
    corr = _log_f0_corr(out, source)
    if f0_source == "frontend":
        assert _median_f0(out) == pytest.approx(np.exp(units.f0_stats.mean), rel=0.05)
        assert corr > 0.7
    else:
        assert _median_f0(out) == pytest.approx(ref_median, rel=0.15)
        assert corr < 0.4


@pytest.fixture(scope="module")
def frontend_f0(reference, source):
    """``(units, cfg, sel, f0)``: a "frontend" WORLD rendering's reference, selected frames
    and the front end's F0 with its readings above twice the median removed (the analysis
    of ``source`` has one at 679 Hz)."""
    cfg = us.UnitSelectionConfig(phone_weight=0.0, render="world", f0_source="frontend")
    units = us.analyse_reference([reference], cfg, WCFG)
    feats = us._analyse(source, WCFG, False)
    sel = us.select_units(us.matching_features(feats, cfg, WCFG), units, cfg)
    f0 = feats.f0.copy()
    f0[f0 > 2 * np.median(f0[f0 > 0])] = 0.0
    return units, cfg, sel, f0


@pytest.mark.parametrize("where", ["last", "middle"])
def test_a_wrong_frontend_f0_reading_is_not_stretched(frontend_f0, where):
    """A single wrong reading in the front end's ~120 Hz F0 (679 Hz, as WORLD found in
    ``source``) widened the spread the contour is mapped by and, as the last voiced reading,
    was held over the rest of the output: its last ~10 % of voiced frames came out at 4356 Hz.
    Far-out readings are now left out of the mapping, so a wrong one (or three) changes the
    output F0 by a few per cent at most and never takes it above WORLD's ceiling."""
    units, cfg, sel, f0 = frontend_f0
    clean = us._output_f0(f0, units, sel, cfg, WCFG)
    voiced = np.flatnonzero(f0 > 0)
    assert 0 < clean.max() < WCFG.f0_ceil
    assert voiced[-1] + 5 < len(f0)
    for frames in ([[voiced[-1] + 5]] if where == "last" else  # a lone reading after the end
                   [[voiced[len(voiced) // 2]], voiced[len(voiced) // 2:][:3]]):
        wrong = f0.copy()
        wrong[frames] = 679.0
        out = us._output_f0(wrong, units, sel, cfg, WCFG)
        assert out.max() <= WCFG.f0_ceil
        np.testing.assert_array_equal(out > 0, clean > 0)
        assert np.max(np.abs(np.log(out[out > 0] / clean[clean > 0]))) < 0.1


def test_frontend_f0_mapped_beyond_worlds_range_is_kept_within_it(frontend_f0):
    """A reference log-F0 spread far wider than the front end's stretches its contour beyond
    what WORLD analyses (71-800 Hz); the output F0 stays within that range."""
    units, cfg, sel, f0 = frontend_f0
    wide = replace(units, f0_stats=LogF0Stats(units.f0_stats.mean, 3.0))
    out = us._output_f0(f0, wide, sel, cfg, WCFG)
    voiced = out[out > 0]
    assert voiced.size and voiced.min() == pytest.approx(WCFG.f0_floor)
    assert voiced.max() == pytest.approx(WCFG.f0_ceil)


def test_vtln_uses_the_warp_closest_to_the_reference(reference):
    """vtln: the front end's envelope is warped by each factor and the one whose frames lie
    nearest the reference's is matched; a front end with formants 1.15 times lower than the
    reference's picks 1.15, and (1.0,) is no warping at all."""
    cfg = us.UnitSelectionConfig(phone_weight=0.0)
    units = us.analyse_reference([reference], cfg, WCFG)
    feats = us._analyse(synthesize(REFERENCE.with_(formant_scale=1.0), 2.0, seed=5), WCFG,
                        False)

    def warped(*factors: float) -> np.ndarray:
        return us._best_warp(feats, units, replace(cfg, vtln=factors), WCFG)

    def distance(q: np.ndarray) -> float:
        return float(np.mean(us.sq_distances(q[feats.f0 > 0][::4], units.match).min(1)))

    plain = us.matching_features(feats, cfg, WCFG)
    np.testing.assert_array_equal(warped(), plain)
    np.testing.assert_array_equal(warped(1.0), plain)
    right = warped(1.15)
    assert distance(right) < 0.85 * distance(plain)
    assert distance(warped(0.87)) > distance(right)
    np.testing.assert_array_equal(warped(0.87, 1.0, 1.15), right)
    np.testing.assert_array_equal(warped(1.15, 0.87, 1.0), right)
    out = us.convert(synthesize(REFERENCE.with_(formant_scale=1.0), 1.0, seed=6), units,
                     replace(cfg, vtln=(0.87, 1.0, 1.15)), WCFG)
    assert out.dtype == np.float32 and np.isfinite(out).all() and np.abs(out).max() > 0.01
