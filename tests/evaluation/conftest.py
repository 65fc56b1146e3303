"""Shared fixtures: synthetic voices and a tiny evaluation manifest (no real data needed)."""

from __future__ import annotations

import numpy as np
import pytest

from emovc.audio import save_audio
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.evaluation.manifest import EvalItem, write_manifest


class FakeJudge:
    """Recognises 'angry' when the clip is loud and high-pitched-ish, else 'calm'."""

    labels = ["neutral", "calm", "happy", "sad", "angry"]

    def predict(self, wav: np.ndarray, sr: int) -> dict[str, float]:
        loud = float(np.sqrt(np.mean(wav.astype(np.float64) ** 2))) > 0.05
        probs = dict.fromkeys(self.labels, 0.05)
        probs["angry" if loud else "calm"] = 0.8
        return probs


@pytest.fixture
def fake_judge() -> FakeJudge:
    return FakeJudge()


@pytest.fixture
def tiny_run(tmp_path):
    """A run folder with conversions.csv: 2 items (calm → angry, calm → sad)."""
    run = tmp_path / "run"
    items = []
    for k, emo in enumerate(["angry", "sad"]):
        src = save_audio(run / f"src{k}.wav", synthesize(EMOTION_VOICES["calm"], 1.2, seed=k))
        cv = save_audio(run / f"conv{k}.wav", synthesize(EMOTION_VOICES[emo], 1.1, seed=k + 5))
        ref = save_audio(run / f"ref{k}.wav", synthesize(EMOTION_VOICES[emo], 1.3, seed=k + 9))
        items.append(EvalItem(str(k), src.name, cv.name, emo, ref.name,
                              "kids are talking by the door", "calm"))
    write_manifest(run / "conversions.csv", items)
    return run
