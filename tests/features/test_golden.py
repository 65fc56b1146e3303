"""Golden-file regression for deterministic DSP: WORLD conversion features of a fixed
synthetic utterance and the CWT of a fixed log-F0 contour, pinned to stored values.

The other feature tests check properties with tolerance bands (true F0 within 1 %, encode ->
decode fidelity); a change in pyworld, pysptk or pycwt, or a refactor, that moves the
features a little but stays inside those bands would pass them. These catch it.

Regenerate (only after checking that a change is intended, and saying why in the commit)::

    EMOVC_REGEN_GOLDEN=1 python -m pytest tests/features/test_golden.py

which rewrites ``tests/features/golden/*.npz`` and skips the comparisons. The tolerances
(1e-4 for mcep and log-F0, 1e-5 for CWT coefficients of order 1) absorb float32 storage and
FFT/BLAS rounding between machines, not real changes: analysing at a 0.1 dB other level, or
DIO at another speed, moves them by far more.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from emovc.data.synthetic import SyntheticVoice, synthesize
from emovc.features.f0 import cwt_decompose
from emovc.features.world import WorldConfig
from emovc.models.conversion.features import analyze_for_conversion

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("EMOVC_REGEN_GOLDEN") == "1"


def _check(name: str, got: dict[str, np.ndarray], tol: dict[str, float]) -> None:
    path = GOLDEN / f"{name}.npz"
    if REGENERATE:
        GOLDEN.mkdir(exist_ok=True)
        np.savez_compressed(path, **got)
        pytest.skip(f"regenerated {path}")
    with np.load(path) as stored:
        assert sorted(stored.files) == sorted(got)
        for key, value in got.items():
            assert value.shape == stored[key].shape, key
            np.testing.assert_allclose(value, stored[key], rtol=0, atol=tol[key], err_msg=key)


def test_world_conversion_features_match_the_golden_file():
    """mcep (36 pyworld-coded coefficients), continuous log-F0 and voicing of 0.4 s of
    synthetic speech, as the conversion models' feature cache stores them."""
    wav = synthesize(SyntheticVoice(), duration=0.4, seed=0)
    feats, _, _ = analyze_for_conversion(wav, WorldConfig())
    assert feats.n_frames == 81
    got = {"mcep": feats.mcep.astype(np.float32), "lf0": feats.lf0.astype(np.float32),
           "vuv": feats.vuv.astype(np.float32)}
    _check("world_conversion_features", got, {"mcep": 1e-4, "lf0": 1e-4, "vuv": 0.0})


def test_cwt_decomposition_matches_the_golden_file():
    """10-scale Mexican-hat CWT of a fixed normalised log-F0 contour (two sines and a step)."""
    t = np.arange(240) * 0.005
    lf0 = np.sin(2 * np.pi * 1.3 * t) + 0.5 * np.sin(2 * np.pi * 4.1 * t) + 0.8 * (t > 0.7)
    got = {"coefficients": cwt_decompose((lf0 - lf0.mean()) / lf0.std()).astype(np.float32)}
    _check("cwt_decomposition", got, {"coefficients": 1e-5})
