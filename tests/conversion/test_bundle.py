"""Bundling a trained model into the package (a developer tool)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from emovc.models.checkpoint import save_checkpoint


def test_a_failed_model_copy_leaves_the_bundled_model_as_it_was(tmp_path, monkeypatch):
    """model.pt is copied into the package atomically: a copy that failed half-way (a full
    disk) left a truncated bundled model in place of the working one."""
    from emovc.training import bundle

    model = save_checkpoint(tmp_path / "model.pt", kind="emotion-converter/m2m",
                            config={"emotions": ["calm", "angry"]},
                            state_dict={"w": torch.zeros(64)}, extra={"training": {}})
    monkeypatch.setattr(bundle, "ROOT", tmp_path / "pretrained")
    bundled = bundle.bundle(model, "toy", "A toy.", "StarGAN", "emovc train ...") / "model.pt"
    before = bundled.read_bytes()

    def half_copy(src, dst, **_):
        Path(dst).write_bytes(Path(src).read_bytes()[:100])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", half_copy)
    with pytest.raises(OSError, match="No space"):
        bundle.bundle(model, "toy", "A toy.", "StarGAN", "emovc train ...")
    assert bundled.read_bytes() == before
    assert sorted(p.name for p in bundled.parent.iterdir()) == ["card.md", "meta.json",
                                                                 "model.pt"]


def test_a_bundled_model_has_its_card_checksum_and_loads_by_name(stargan_run, calm, tmp_path,
                                                                  monkeypatch):
    """bundle() writes model.pt, a card with the training facts and the metrics table, and a
    meta.json whose checksum and inference settings the registry uses: the bundled model
    then loads by its name and converts as the run's own model.pt does."""
    import json

    import numpy as np

    from emovc import EmotionConverter
    from emovc.pretrained import registry
    from emovc.training import bundle

    root = tmp_path / "pretrained"
    monkeypatch.setattr(bundle, "ROOT", root)
    monkeypatch.setattr(registry, "ROOT", root)
    nan = float("nan")
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({
        "toy": {"all": {"rate": 0.5, "rate_e": nan, "mcd": 7.126, "f0": 251.4, "spk": 0.81234},
                "happy": {"rate": 0.25, "mcd": 6.5, "f0": nan},
                "angry": {"rate": 1.0, "mcd": 8.0}},
        "absent": {"all": {"rate": 0.1}},
    }))
    folder = bundle.bundle(stargan_run, "toy", "A toy converter.", "StarGAN", "emovc train x",
                           metrics_json=metrics, notes="Made by a test.",
                           inference={"pitch_level": 0.25})
    assert folder == root / "toy"
    assert (folder / "model.pt").read_bytes() == stargan_run.read_bytes()
    card = (folder / "card.md").read_text()
    assert card.startswith("# toy\n\nA toy converter.\n")
    assert "- **Kind**: `emotion-converter/stargan` — StarGAN" in card
    assert "- **Emotions**: calm, happy, sad, angry" in card
    assert "- **Training data**: RAVDESS speech, actors 01, 02" in card
    assert "- **Training**: 6 generator steps" in card
    table = [line for line in card.splitlines() if line.startswith("|")]
    assert table == [
        "| system | metric | all | happy | sad | angry | fearful | disgust | surprised |",
        "|---|---|---|---|---|---|---|---|---|",
        "| toy | emotion rate | 50% | 25% | – | 100% | – | – | – |",
        "| toy | MCD dB | 7.13 | 6.50 | – | 8.00 | – | – | – |",
        "| toy | log-F0 RMSE cents | 251 | – | – | – | – | – | – |",
        "| toy | spk-sim | 0.812 | – | – | – | – | – | – |",
        "| absent | emotion rate | 10% | – | – | – | – | – | – |",
    ]  # the judge-E rate is NaN for "all": no row
    assert "Made by a test." in card and "```\nemovc train x\n```" in card
    meta = json.loads((folder / "meta.json").read_text())
    assert meta == {"kind": "emotion-converter/stargan", "summary": "A toy converter.",
                    "sha256": registry.sha256_of(folder / "model.pt"),
                    "inference": {"pitch_level": 0.25}}
    [listed] = registry.available("emotion-converter")
    assert (listed.name, listed.summary, listed.path) == ("toy", "A toy converter.",
                                                           folder / "model.pt")
    conv = EmotionConverter.from_pretrained("toy")
    assert conv.pitch_level == 0.25 and conv.target_emotions == ["calm", "happy", "sad", "angry"]
    own = EmotionConverter.from_pretrained(str(stargan_run))
    args = (calm, 16000, "sad", "calm")
    np.testing.assert_array_equal(conv.convert(*args, pitch_level=0.25),
                                  own.convert(*args, pitch_level=0.25))
    without = bundle.bundle(stargan_run, "plain", "Unmeasured.", "StarGAN", "emovc train y")
    assert "(not measured)" in (without / "card.md").read_text()
    assert "inference" not in json.loads((without / "meta.json").read_text())
