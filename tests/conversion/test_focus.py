"""Fine-tuning one emotion: focus pairs, teacher distillation for the others (tiny runs)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from emovc.errors import ConfigError
from emovc.models.checkpoint import load_checkpoint

from .conftest import stargan_config


def _data(cfg):
    from emovc.training.common import prepare_features
    from emovc.training.datamodule import ConversionData

    folder, tr, va = prepare_features(cfg.data_dir, cfg.cache_dir, cfg.world, None, None, 1)
    return ConversionData(folder, cfg.emotions, tr, va)


def _sampler(corpus, cache_root, tmp_path, batch_size: int = 64):
    from emovc.training.datamodule import SegmentSampler

    cfg = stargan_config(corpus, tmp_path / "run", cache_root, 1)
    data = _data(cfg)
    return data, SegmentSampler(data, cfg.segment, batch_size, seed=0)


def test_focus_pairs_target_the_focus_emotion(corpus, cache_root, tmp_path):
    data, sampler = _sampler(corpus, cache_root, tmp_path)
    angry = data.emotions.index("angry")
    _, _, s, t = sampler.pairs(sampler.rng(0), focus=angry, focus_prob=1.0)
    assert (t == angry).all() and (s != angry).all()
    _, _, s, t = sampler.pairs(sampler.rng(0), focus=angry, focus_prob=0.5)
    assert 0.25 < (t == angry).mean() < 0.9  # about half, plus the random draws that hit it
    # without a focus the draws are the plain ones
    plain = sampler.pairs(sampler.rng(3), 0.1)
    for a, b in zip(plain, sampler.pairs(sampler.rng(3), 0.1, focus=None), strict=True):
        np.testing.assert_array_equal(a, b)


def test_pairs_come_from_the_groups_asked_for(corpus, cache_root, tmp_path):
    """Validation draws its pairs from the validation groups (they were once ignored)."""
    data, sampler = _sampler(corpus, cache_root, tmp_path)
    group = dict(list(data.val_groups[0].items())[:2])
    _, _, s, t = sampler.pairs(sampler.rng(0), 0.0, groups=[group])
    allowed = {data.emotions.index(e) for e in group}
    assert set(s) <= allowed and set(t) <= allowed


def test_focus_settings_are_checked(corpus, tmp_path):
    from emovc.training.stargan import build_config

    with pytest.raises(ConfigError, match="focus emotion 'grumpy'.*disgust"):
        build_config(corpus, tmp_path / "r", overrides={"focus_emotion": "grumpy"})
    with pytest.raises(ConfigError, match="focus_prob"):
        build_config(corpus, tmp_path / "r", overrides={"focus_emotion": "sad", "focus_prob": 0})
    with pytest.raises(ConfigError, match="distill_others needs"):
        build_config(corpus, tmp_path / "r", overrides={"focus_emotion": "sad",
                                                          "distill_others": True})


def _output(module, x, t, s):
    with torch.no_grad():
        return module.G(x, t, s)


def test_distillation_keeps_the_other_emotions(corpus, stargan_run: Path, cache_root, tmp_path):
    """Fine-tuned towards angry with the aligned and classification losses, a distilled run
    changes the generator's *other* conversions less than the same run without
    distillation; its teacher is the starting generator, neither trained nor exported."""
    from emovc.training.stargan import StarGANModule, train

    base = stargan_config(corpus, tmp_path / "x", cache_root, 12)
    base = replace(base, init_from=str(stargan_run), focus_emotion="angry", focus_prob=0.25,
                   lr_g=1e-3, w_cls=1.0, w_adv=0.0, w_cyc=0.0)
    start = StarGANModule(base, _data(base))
    from emovc.training.stargan import init_weights

    init_weights(start, str(stargan_run))
    sampler = start.sampler
    sampler.batch_size = 32
    x, _, s, t = (torch.from_numpy(a) for a in sampler.pairs(sampler.rng(99), 0.0))
    other = t != base.emotions.index("angry")
    ref = _output(start, x, t, s)[other]

    drift = {}
    for distill in (False, True):
        cfg = replace(base, run_dir=str(tmp_path / f"run-{distill}"), distill_others=distill)
        model = train(cfg)
        assert not any(k.startswith("teacher") for k in load_checkpoint(model)["state_dict"])
        module = StarGANModule(cfg, _data(cfg))
        init_weights(module, str(model))
        drift[distill] = (_output(module, x, t, s)[other] - ref).abs().mean().item()
    assert drift[True] < 0.75 * drift[False], drift
    ckpt = torch.load(tmp_path / "run-True" / "checkpoints" / "last.ckpt", weights_only=False,
                      map_location="cpu")
    teacher = {k[len("teacher."):]: v for k, v in ckpt["state_dict"].items()
               if k.startswith("teacher.")}
    for k, v in load_checkpoint(stargan_run)["state_dict"].items():
        if not k.endswith("emo_mean"):
            torch.testing.assert_close(teacher[k], v.float())


def test_teacher_settings_are_checked(corpus, stargan_run, tmp_path):
    from emovc.training.stargan import build_config

    with pytest.raises(ConfigError, match="teacher emotion 'grumpy'.*disgust"):
        build_config(corpus, tmp_path / "r", overrides={"teachers": {"grumpy": "m.pt"}})
    with pytest.raises(ConfigError, match="both the focus emotion and a teacher"):
        build_config(corpus, tmp_path / "r", overrides={"focus_emotion": "sad",
                                                          "teachers": {"sad": "m.pt"}})
    with pytest.raises(ConfigError, match="teachers must be a mapping"):
        build_config(corpus, tmp_path / "r", overrides={"teachers": "sad"})
    with pytest.raises(ConfigError, match="distill_others needs"):
        build_config(corpus, tmp_path / "r", overrides={"teachers": {"sad": str(stargan_run)},
                                                          "distill_others": True})
    with pytest.raises(ConfigError, match="not found.*nope.pt"):
        build_config(corpus, tmp_path / "r", overrides={"teachers": {"sad": "nope.pt"}})
    cfg = build_config(corpus, tmp_path / "r", overrides={"teachers": {"sad": str(stargan_run)},
                                                            "init_from": str(stargan_run),
                                                            "distill_others": True})
    assert cfg.teachers == {"sad": str(stargan_run)}


def _perturbed(model: Path, out: Path, seed: int = 7) -> Path:
    """A copy of ``model`` whose generator weights carry noise: a teacher that differs."""
    from emovc.models.checkpoint import save_checkpoint

    ckpt = load_checkpoint(model)
    g = torch.Generator().manual_seed(seed)
    state = {k: (v.float() + 0.02 * torch.randn(v.shape, generator=g)).half()
             if v.is_floating_point() and not k.endswith("emo_mean") else v
             for k, v in ckpt["state_dict"].items()}
    return save_checkpoint(out, kind=ckpt["kind"], config=ckpt["config"], state_dict=state,
                           extra=ckpt["extra"])


def test_teachers_pull_their_emotions(corpus, stargan_run: Path, cache_root, tmp_path):
    """Pairs aimed at an emotion with a teacher are pulled to that teacher's output (the
    aligned-loss target of exactly those pairs), so with a teacher for every emotion a run's
    conversions move towards the teacher's more than the same run's without teachers;
    teachers are not exported, and a teacher of another architecture is refused."""
    from emovc.training.stargan import StarGANModule, init_weights, load_generator, train

    teacher_path = _perturbed(stargan_run, tmp_path / "teacher.pt")
    base = stargan_config(corpus, tmp_path / "x", cache_root, 30)
    base = replace(base, init_from=str(stargan_run), lr_g=1e-3, w_adv=0.0, w_cyc=0.0,
                   w_cls=0.0)
    probe = StarGANModule(base, _data(base))
    sampler = probe.sampler
    sampler.batch_size = 32
    x, _, s, t = (torch.from_numpy(a) for a in sampler.pairs(sampler.rng(99), 0.0))
    init_weights(probe, str(teacher_path))
    goal = _output(probe, x, t, s)

    angry = t == base.emotions.index("angry")
    taught = StarGANModule(replace(base, teachers={"angry": str(teacher_path)}), _data(base))
    load_generator(taught.teachers["angry"], str(teacher_path), base.emotions)
    y = torch.randn_like(goal)
    target, kept = taught._goal(x, y, s, t)
    assert torch.equal(kept, angry)
    # the teacher runs exactly as exported (its fp16 emo_mean; the probe keeps the data's)
    torch.testing.assert_close(target[angry], goal[angry], atol=1e-2, rtol=0)
    # exactly the teacher's whole-batch output (sub-batches round differently; the shipped
    # disgust fine-tune is reproducible bit for bit only this way)
    with torch.no_grad():
        assert torch.equal(target[angry], taught.teachers["angry"](x, t, s)[angry])
    torch.testing.assert_close(target[~angry], y[~angry])

    gap = {}
    every = {e: str(teacher_path) for e in base.emotions}
    for name, teachers in (("plain", {}), ("taught", every)):
        cfg = replace(base, run_dir=str(tmp_path / name), teachers=teachers)
        model = train(cfg)
        assert not any(k.startswith("teachers") for k in load_checkpoint(model)["state_dict"])
        module = StarGANModule(cfg, _data(cfg))
        init_weights(module, str(model))
        gap[name] = (_output(module, x, t, s) - goal).abs().mean().item()
    assert gap["taught"] < 0.9 * gap["plain"], gap

    wide = replace(base, run_dir=str(tmp_path / "wide"), teachers={"angry": str(teacher_path)},
                   model={**base.model, "width": base.model["width"] * 2})
    # the message says what differs, as init_from's does (it quoted torch's first line)
    with pytest.raises(ConfigError, match=r"teacher .* does not match this run's model settings "
                                          r"\(\d+ of \d+ tensors of another shape.*e\.g\. G\."):
        train(wide)
