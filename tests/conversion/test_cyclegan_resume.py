"""CycleGAN training resumes exactly from its checkpoint (the StarGAN runs had such a test;
CycleGAN runs share common.fit but were never checked)."""

from __future__ import annotations

import torch

from emovc.models.checkpoint import load_checkpoint

from .conftest import FAST, TINY_CYCLEGAN


def test_cyclegan_resume_continues_exactly(corpus, cache_root, cyclegan_run, tmp_path,
                                           fit_sessions):
    """2 steps + resume to 4 == the 4 uninterrupted steps of ``cyclegan_run``, and the
    resumed session trains steps 3 and 4 only (a restart from step 0 ends the same)."""
    from emovc.training.cyclegan import build_config, train

    def cfg(steps: int):
        return build_config(str(corpus), str(tmp_path / "run"), "calm", "angry",
                            max_steps=steps, overrides={**FAST, "model": dict(TINY_CYCLEGAN),
                                                        "cache_dir": str(cache_root)})

    train(cfg(2))
    resumed = load_checkpoint(train(cfg(4)))
    assert resumed["extra"]["training"]["steps"] == 4
    assert fit_sessions == [2, 2]
    full = load_checkpoint(cyclegan_run)["state_dict"]
    assert full.keys() == resumed["state_dict"].keys()
    for k, v in full.items():
        assert torch.equal(v, resumed["state_dict"][k]), k
