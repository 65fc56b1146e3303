"""Tiny end-to-end training runs on synthetic emotion caricatures (CPU, seconds)."""

from pathlib import Path

import torch
import yaml

from emovc.models.checkpoint import load_checkpoint

from .conftest import stargan_config


def test_stargan_run_writes_everything(stargan_run: Path):
    run = stargan_run.parent
    ckpt = load_checkpoint(stargan_run, "emotion-converter/stargan")
    assert ckpt["extra"]["training"]["steps"] == 6
    assert ckpt["extra"]["emotions"] == ["calm", "happy", "sad", "angry"]
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert yaml.safe_load((run / "config.yaml").read_text())["max_steps"] == 6
    assert list((run / "audio").glob("*.wav")), "validation audio missing"
    assert list((run / "tb").rglob("events.out.tfevents.*")), "tensorboard log missing"
    # float16 weights keep the shipped file small
    assert all(v.dtype == torch.float16 for k, v in ckpt["state_dict"].items()
               if v.is_floating_point())


def test_cyclegan_run_writes_model(cyclegan_run: Path):
    ckpt = load_checkpoint(cyclegan_run, "emotion-converter/cyclegan")
    assert ckpt["extra"]["emotions"] == ["calm", "angry"]
    assert ckpt["extra"]["training"]["steps"] == 4
    assert len(ckpt["extra"]["cwt_std"]) == 10
    assert any(k.startswith("g_ab.") for k in ckpt["state_dict"])
    assert any(k.startswith("g_ba.") for k in ckpt["state_dict"])


def test_generator_fits_aligned_pairs(corpus, cache_root, tmp_path):
    """The generator + data pipeline can fit real aligned pairs (the supervised part)."""
    from emovc.training.stargan import StarGANModule

    cfg = stargan_config(corpus, tmp_path / "run", cache_root, 1)
    module = StarGANModule(cfg, _data(cfg))
    module.sampler.batch_size = 8
    x, y, _, t = (torch.from_numpy(a) for a in module.sampler.pairs(module.sampler.rng(0)))
    n = module.model_cfg.n_out
    opt = torch.optim.Adam(module.G.parameters(), 3e-3)
    first = None
    for _ in range(30):
        loss = torch.nn.functional.l1_loss(module.G(x, t), y[:, :n])
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.7 * first


def _data(cfg):
    from emovc.training.common import prepare_features
    from emovc.training.datamodule import ConversionData

    folder, tr, va = prepare_features(cfg.data_dir, cfg.cache_dir, cfg.world, None, None, 1)
    return ConversionData(folder, cfg.emotions, tr, va)


def test_resume_continues_exactly(corpus, stargan_run, cache_root, tmp_path):
    """3 steps + resume to 6 steps == 6 uninterrupted steps (same batches, same weights)."""
    from emovc.training.stargan import train

    cache = cache_root
    train(stargan_config(corpus, tmp_path / "b", cache, 4))
    resumed = train(stargan_config(corpus, tmp_path / "b", cache, 6))  # same folder: resumes
    a = load_checkpoint(stargan_run)
    b = load_checkpoint(resumed)
    assert b["extra"]["training"]["steps"] == 6
    for k, v in a["state_dict"].items():
        assert torch.equal(v, b["state_dict"][k]), k
