"""``init_from`` loads a whole matching generator or refuses in one line (it used to load
only the tensors whose shapes happened to match, or nothing at all, without a word)."""

from __future__ import annotations

import pytest

from emovc.errors import ConfigError

from .conftest import stargan_config


def _module(corpus, cache_root, tmp_path, emotions=None, **model):
    from emovc.training.common import prepare_features
    from emovc.training.datamodule import ConversionData
    from emovc.training.stargan import StarGANModule

    cfg = stargan_config(corpus, tmp_path / "run", cache_root, 1)
    cfg.model.update(model)
    cfg.emotions = emotions or cfg.emotions
    folder, tr, va = prepare_features(cfg.data_dir, cfg.cache_dir, cfg.world, None, None, 1)
    return StarGANModule(cfg, ConversionData(folder, cfg.emotions, tr, va))


def test_init_from_refuses_a_generator_of_another_width(corpus, cache_root, stargan_run,
                                                        tmp_path):
    from emovc.training.stargan import init_weights

    module = _module(corpus, cache_root, tmp_path, width=24)
    with pytest.raises(ConfigError, match=r"does not match this run's model settings \(\d+ of "
                                          r"\d+ tensors of another shape.*where this run's is"):
        init_weights(module, str(stargan_run))
    lightning = stargan_run.parent / "checkpoints" / "last.ckpt"
    with pytest.raises(ConfigError, match="does not match this run's model settings"):
        init_weights(module, str(lightning))


def test_init_from_refuses_a_model_of_another_kind(corpus, cache_root, cyclegan_run, tmp_path):
    from emovc.training.stargan import init_weights

    module = _module(corpus, cache_root, tmp_path)
    with pytest.raises(ConfigError, match="is a emotion-converter/cyclegan model; a StarGAN"):
        init_weights(module, str(cyclegan_run))
    with pytest.raises(ConfigError, match=r"is a checkpoint of another kind of run \(its "
                                          r"config.yaml is not a StarGAN run's\); a StarGAN"):
        init_weights(module, str(cyclegan_run.parent / "checkpoints" / "last.ckpt"))


def test_a_spectrogan_checkpoint_is_another_kind_of_model_not_other_emotions(tmp_path):
    """A SpectroGAN m2m run's last.ckpt has no kind, and its config.yaml lists emotions:
    those were read as a StarGAN run's, and the refusal blamed the emotions."""
    from types import SimpleNamespace

    import torch
    import yaml

    from emovc.training.stargan import init_weights
    from emovc.training.stargan_weights import saved_emotions

    ckpt = tmp_path / "m2m" / "checkpoints" / "last.ckpt"
    ckpt.parent.mkdir(parents=True)
    torch.save({"state_dict": {"G_a.w": torch.zeros(1)}}, ckpt)
    (tmp_path / "m2m" / "config.yaml").write_text(yaml.safe_dump(
        {"emotions": ["sad", "calm"], "lambda_cycle": 10.0, "max_steps": 4}))
    assert saved_emotions(torch.load(ckpt, weights_only=True), ckpt) is None
    module = SimpleNamespace(cfg=SimpleNamespace(emotions=["calm", "angry"]))
    with pytest.raises(ConfigError, match="is a checkpoint of another kind of run") as err:
        init_weights(module, str(ckpt))
    assert "emotions" not in str(err.value)


def test_init_from_a_lightning_checkpoint_reads_its_runs_config_once(tmp_path, monkeypatch):
    """init_weights read the source run's config.yaml twice: once for its kind, once more
    for its emotions (a checkpoint of an earlier emovc, without its own list)."""
    from types import SimpleNamespace

    import torch
    import yaml

    from emovc.training import stargan_weights

    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    ckpt.parent.mkdir(parents=True)
    torch.save({"state_dict": {"G.w": torch.zeros(1)}}, ckpt)
    (tmp_path / "run" / "config.yaml").write_text(yaml.safe_dump(
        {"emotions": ["sad", "calm"], "lr_c": 1e-4, "max_steps": 4}))
    reads, original = [], stargan_weights.saved_config
    monkeypatch.setattr(stargan_weights, "saved_config",
                        lambda run: reads.append(run) or original(run))
    module = SimpleNamespace(cfg=SimpleNamespace(emotions=["calm", "angry"]))
    with pytest.raises(ConfigError, match=r"was trained on emotions \[sad, calm\]"):
        stargan_weights.init_weights(module, str(ckpt))
    assert reads == [tmp_path / "run"]


@pytest.mark.parametrize("emotions", [["angry", "calm", "happy", "sad"], ["calm", "angry"]])
def test_init_from_and_teachers_refuse_other_emotions(corpus, cache_root, stargan_run,
                                                      tmp_path, emotions):
    """The emotion embedding is indexed by position: a run on the same emotions in another
    order was initialised with its rows swapped, silently; with another count the message
    blamed the --preset and model settings."""
    import shutil

    import torch

    from emovc.training.stargan import init_weights, load_generator

    module = _module(corpus, cache_root, tmp_path, emotions)
    said = (r"^{role} {path} was trained on emotions \[calm, happy, sad, angry\]; this "
            rf"run's are \[{', '.join(emotions)}\]; set emotions to the same list in the "
            "same order$")
    with pytest.raises(ConfigError, match=said.format(role="init_from", path=stargan_run)):
        init_weights(module, str(stargan_run))
    with pytest.raises(ConfigError, match=said.format(role="teacher", path=stargan_run)):
        load_generator(module.G, str(stargan_run), emotions)
    # a Lightning checkpoint: its own list, else (an earlier emovc's) its run's config.yaml
    lightning = stargan_run.parent / "checkpoints" / "last.ckpt"
    with pytest.raises(ConfigError, match="was trained on emotions"):
        init_weights(module, str(lightning))
    old = tmp_path / "old"
    (old / "checkpoints").mkdir(parents=True)
    shutil.copy(stargan_run.parent / "config.yaml", old / "config.yaml")
    ckpt = torch.load(lightning, map_location="cpu", weights_only=True)
    del ckpt["emotions"]
    torch.save(ckpt, old / "checkpoints" / "last.ckpt")
    with pytest.raises(ConfigError, match="was trained on emotions"):
        init_weights(module, str(old / "checkpoints" / "last.ckpt"))
