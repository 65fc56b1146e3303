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
