"""Fixtures: a tiny trained many-to-many converter and a folder-per-emotion corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from emovc.audio import save_audio
from emovc.data.synthetic import EMOTION_VOICES, synthesize

CODES = {"calm": "02", "happy": "03", "sad": "04", "angry": "05"}  # RAVDESS emotion codes
TINY = {"width": 16, "n_blocks": 1, "emb_dim": 4, "d_width": 16, "c_width": 16}
FAST = {"segment": 32, "batch_size": 2, "val_every": 4, "ckpt_every": 4, "threads": 1,
        "workers": 1}


@pytest.fixture(scope="session")
def converter(tmp_path_factory) -> Path:
    """``model.pt`` of a 4-step many-to-many converter (calm, happy, sad, angry).

    Trained on a RAVDESS-named synthetic corpus so unit tests do not depend on the size or
    availability of the bundled model; quality is irrelevant here, only the workflow.
    """
    from emovc.training.stargan import build_config, train

    root = tmp_path_factory.mktemp("aug_train")
    data = root / "ravdess"
    for a, actor in enumerate(("01", "02")):
        for emo, code in CODES.items():
            voice = EMOTION_VOICES[emo].with_(formant_scale=1.0 + 0.1 * a)
            wav = synthesize(voice, duration=1.0, seed=10 * a + int(code))
            save_audio(data / f"Actor_{actor}" / f"03-01-{code}-01-01-01-{actor}.wav", wav, 16000)
    cfg = build_config(str(data), str(root / "run"), max_steps=4,
                       overrides={**FAST, "model": dict(TINY), "cache_dir": str(root / "cache"),
                                  "emotions": list(CODES), "train_speakers": ["01", "02"],
                                  "val_speakers": []})
    return train(cfg)


# (speaker, emotion folder, file stem, seconds); "Anger" is an alias folder name
CLIPS = (("spk1", "calm", "c1", 1.0), ("spk1", "Anger", "a1", 1.0),
         ("spk2", "calm", "c2", 1.2), ("spk2", "Anger", "a2", 1.0),
         ("spk2", "calm", "short", 0.2))  # valid file, too short to convert


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    """``<speaker>/<emotion>/<clip>.wav``: 5 readable clips + 1 corrupt file."""
    root = tmp_path / "corpus"
    for i, (spk, folder, stem, dur) in enumerate(CLIPS):
        emo = "angry" if folder == "Anger" else folder
        save_audio(root / spk / folder / f"{stem}.wav",
                   synthesize(EMOTION_VOICES[emo], duration=dur, seed=i), 16000)
    (root / "spk1" / "calm" / "broken.wav").write_bytes(b"RIFF\x00\x01garbage" * 8)
    return root

