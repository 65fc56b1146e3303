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


def transcribed_clip(root, spk: str, i: int, wav: np.ndarray, text: str):
    """Save ``wav`` (16 kHz) as clip ``i`` of speaker ``spk`` of a LibriTTS-layout corpus at
    ``root``, with its transcript; returns the audio path."""
    from emovc.audio import save_audio

    path = save_audio(root / spk / "100" / f"{spk}_100_00000{i}_000000.wav", wav, 16000)
    path.with_name(path.stem + ".normalized.txt").write_text(text)
    return path


@pytest.fixture(scope="session")
def transcribed_corpus():
    """``make(root, silent=False)``: a LibriTTS-layout corpus of speakers 11 and 12, two 1 s
    transcribed synthetic clips each (and a silent clip 9 of speaker 12 with ``silent``);
    ``make.clip`` is :func:`transcribed_clip`."""
    from emovc.data.synthetic import EMOTION_VOICES

    def make(root, silent: bool = False):
        for spk in ("11", "12"):
            for i in range(2):
                wav = synthesize(EMOTION_VOICES["neutral"], duration=1.0, seed=int(spk) + i)
                transcribed_clip(root, spk, i, wav, f"Hello there number {i}.")
        if silent:
            transcribed_clip(root, "12", 9, np.zeros(16000, np.float32), "Nothing.")
        return root

    make.clip = transcribed_clip
    return make


@pytest.fixture(scope="session")
def ge2e_checkpoint():
    """``make(path, seed=0)``: a random tiny speaker-encoder checkpoint (hidden 16, 1 layer,
    8-d embeddings) as ``emovc train-voice encoder`` writes one; returns its path."""
    import torch

    from emovc.models.checkpoint import save_checkpoint
    from emovc.models.speaker_encoder import GE2E, GE2EConfig

    def make(path, seed: int = 0):
        torch.manual_seed(seed)
        model = GE2E(GE2EConfig(hidden=16, layers=1, embedding=8))
        return save_checkpoint(path, kind="speaker-encoder/ge2e", config=model.cfg.to_dict(),
                               state_dict=model.state_dict(), extra={"steps": 1})

    return make


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory, monkeypatch) -> None:
    """The recipes' default clip cache ($EMOVC_CACHE/sv2tts) in a temporary folder: a test
    that leaves out cache_dir must not write into the user's ~/.cache."""
    monkeypatch.setenv("EMOVC_CACHE", str(tmp_path_factory.mktemp("emovc-cache")))
