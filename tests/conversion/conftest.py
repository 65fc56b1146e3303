"""Fixtures: a tiny synthetic RAVDESS-named corpus and tiny trained converters (session-wide)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emovc.audio import save_audio
from emovc.data.synthetic import EMOTION_VOICES, synthesize

CODES = {"calm": "02", "happy": "03", "sad": "04", "angry": "05"}
TINY_STARGAN = {"width": 16, "n_blocks": 1, "emb_dim": 4, "d_width": 16, "c_width": 16}
TINY_CYCLEGAN = {"width": 16, "n_blocks": 1, "d_width": 16, "c_width": 16}
FAST = {"segment": 32, "batch_size": 2, "val_every": 4, "ckpt_every": 2, "threads": 1,
        "workers": 1}


@pytest.fixture(scope="session")
def calm():
    """A 1.5 s synthetic calm utterance, ``(n,)`` float at 16 kHz."""
    return synthesize(EMOTION_VOICES["calm"], duration=1.5, seed=99)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """RAVDESS-style folder: actors 01, 02 (train) and 17 (validation), 4 emotions, 2 sentences."""
    root = tmp_path_factory.mktemp("ravdess")
    for a, actor in enumerate(("01", "02", "17")):
        for emo, code in CODES.items():
            voice = EMOTION_VOICES[emo].with_(formant_scale=1.0 + 0.1 * a)
            for s in ("01", "02"):
                wav = synthesize(voice, duration=1.0, seed=int(actor) * 10 + int(s))
                name = f"03-01-{code}-01-{s}-01-{actor}.wav"
                save_audio(root / f"Actor_{actor}" / name, wav, 16000)
    return root


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory) -> Path:
    """One feature cache shared by every test (features depend only on the audio)."""
    return tmp_path_factory.mktemp("feature-cache")


def stargan_config(corpus: Path, run: Path, cache: Path, steps: int):
    from emovc.training.stargan import build_config

    return build_config(str(corpus), str(run), max_steps=steps,
                        overrides={**FAST, "model": dict(TINY_STARGAN), "cache_dir": str(cache),
                                   "emotions": list(CODES)})


@pytest.fixture(scope="session")
def stargan_run(corpus, cache_root, tmp_path_factory) -> Path:
    """A 6-step tiny many-to-many run; returns its ``model.pt``."""
    from emovc.training.stargan import train

    root = tmp_path_factory.mktemp("sg")
    return train(stargan_config(corpus, root / "run", cache_root, 6))


def train_tiny_cyclegan(corpus: Path, cache: Path, root: Path, **overrides) -> Path:
    """A 4-step tiny calm<->angry CycleGAN run in ``root/run``; returns its ``model.pt``."""
    from emovc.training.cyclegan import build_config, train

    cfg = build_config(str(corpus), str(root / "run"), "calm", "angry", max_steps=4,
                       overrides={**FAST, "model": dict(TINY_CYCLEGAN), "cache_dir": str(cache),
                                  **overrides})
    return train(cfg)


@pytest.fixture(scope="session")
def cyclegan_run(corpus, cache_root, tmp_path_factory) -> Path:
    """A 4-step tiny calm<->angry CycleGAN run; returns its ``model.pt``."""
    return train_tiny_cyclegan(corpus, cache_root, tmp_path_factory.mktemp("cg"))


@pytest.fixture(scope="session")
def cyclegan_energy_run(corpus, cache_root, tmp_path_factory) -> Path:
    """The same tiny run with the CWT log-energy channels (``energy_cwt=True``)."""
    return train_tiny_cyclegan(corpus, cache_root, tmp_path_factory.mktemp("cg-energy"),
                               energy_cwt=True)
