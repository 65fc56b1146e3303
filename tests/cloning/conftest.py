"""Synthetic speakers for the cloning tests (no real data needed)."""

from __future__ import annotations

import numpy as np
import pytest

from emovc.data.synthetic import SyntheticVoice, synthesize

VOICES = {
    "low": SyntheticVoice(f0_mean=100.0, formant_scale=0.9, tilt=0.8),
    "high": SyntheticVoice(f0_mean=220.0, formant_scale=1.2, tilt=0.5),
    "mid": SyntheticVoice(f0_mean=150.0, formant_scale=1.05, tilt=0.65, rate=5.0),
}


@pytest.fixture(scope="session")
def reference_wav() -> np.ndarray:
    """4 s of synthetic speech of one talker at 16 kHz."""
    return synthesize(VOICES["high"], duration=4.0, seed=3)


@pytest.fixture(scope="session")
def speaker_clips() -> dict[str, list[np.ndarray]]:
    """Four 2 s clips per synthetic speaker."""
    return {name: [synthesize(v, duration=2.0, seed=10 + i) for i in range(4)]
            for name, v in VOICES.items()}
