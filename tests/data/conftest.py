"""Fixtures for the data-layer tests: tiny fake corpus trees with synthetic audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emovc.audio import save_audio
from emovc.data.synthetic import SyntheticVoice, synthesize

SR = 16000


@pytest.fixture(scope="session")
def short_wav() -> np.ndarray:
    """0.25 s of speech-like audio (enough for catalog tests, which only read headers)."""
    return synthesize(SyntheticVoice(), duration=0.25, sr=SR, seed=1)


@pytest.fixture
def make_tree(short_wav):
    """``make_tree(root, ["a/b.wav", ...])`` writes the same short clip at each path."""

    def make(root: Path, rel_paths: list[str], wav: np.ndarray | None = None) -> Path:
        for rel in rel_paths:
            save_audio(root / rel, short_wav if wav is None else wav, SR)
        return root

    return make
