"""Synthetic two-emotion corpus (angry vs sad caricatures) and a small trained recogniser."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emovc.audio import save_audio
from emovc.data.synthetic import EMOTION_VOICES, synthesize

SPEAKERS = {"s1": 1.0, "s2": 0.9, "s3": 1.12, "s4": 0.95, "val": 1.05}  # F0 scale per talker
EMOS = ("angry", "sad")
CLIPS_PER_CELL = 4


@pytest.fixture(scope="session")
def ser_corpus(tmp_path_factory) -> Path:
    """``<root>/<speaker>/<emotion>/*.wav``: 5 talkers x 2 emotions x 4 takes of 1 s."""
    root = tmp_path_factory.mktemp("ser_corpus")
    for k, (spk, scale) in enumerate(SPEAKERS.items()):
        for emo in EMOS:
            base = EMOTION_VOICES[emo]
            voice = base.with_(f0_mean=base.f0_mean * scale)
            for i in range(CLIPS_PER_CELL):
                wav = synthesize(voice, duration=1.0, seed=100 * k + 10 * i + len(emo))
                save_audio(root / spk / emo / f"{spk}_{emo}_{i}.wav", wav, 16000)
    return root


@pytest.fixture(scope="session")
def ser_run(ser_corpus: Path, tmp_path_factory) -> Path:
    """A linear eGeMAPS recogniser trained on s1-s4 (validation speaker: ``val``)."""
    from emovc.training.ser import build_config, train

    run = tmp_path_factory.mktemp("ser_run")
    cfg = build_config(str(ser_corpus), str(run), {
        "val_speakers": ["val"], "method": "linear", "feature_set": "egemaps",
        "world_augment": False, "cache_dir": str(run / "cache"), "c_utterance": 0.1,
        "c_speaker": 0.1})
    return train(cfg, progress=False)


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def stop_after(monkeypatch, epochs: int) -> None:
    """Interrupt a CNN fit (as Ctrl-C would) once the checkpoint of ``epochs`` is written."""
    from emovc.training import ser_checkpoint

    save = ser_checkpoint.save_state

    def save_then_stop(ckpt, state):
        save(ckpt, state)
        if state["epochs_done"] == epochs:
            raise KeyboardInterrupt

    monkeypatch.setattr(ser_checkpoint, "save_state", save_then_stop)
