"""Weights of many-to-many (StarGAN) training runs: export, fine-tuning starts, teachers.

``module`` below is a :class:`emovc.training.stargan.StarGANModule` (its generator ``G``,
config ``cfg``, data ``data`` with the normaliser, ``global_step``, ``train_seconds``).
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from emovc.errors import ConfigError
from emovc.models.checkpoint import float_state, load_checkpoint, save_checkpoint
from emovc.models.conversion.stargan import StarGANGenerator
from emovc.pretrained.registry import resolve

KIND = "emotion-converter/stargan"


def export(module, path: Path) -> Path:
    """Write the generator + normaliser as an emovc checkpoint (float16 weights)."""
    state = {k: v.detach().half() if v.is_floating_point() else v
             for k, v in module.G.state_dict().items()}
    cfg = module.cfg
    extra = {"world": cfg.world, "emotions": list(cfg.emotions),
             "normalizer": module.data.normalizer.to_dict(),
             "training": {"steps": int(module.global_step), "seconds": module.train_seconds,
                          "train_speakers": module.data.train_speakers,
                          "data_dir": cfg.data_dir, "preset": cfg.preset,
                          "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}
    return save_checkpoint(path, kind=KIND, config=module.model_cfg.to_dict(), state_dict=state,
                           extra=extra)


def init_weights(module, path: str) -> None:
    """Start from the networks of another run's Lightning checkpoint, or from the generator
    of an exported ``model.pt`` or a bundled model's name, e.g. ``m2m-ravdess`` (fine-tuning).

    Tensors missing from the checkpoint (the discriminator and classifier of a ``model.pt``,
    ``G.emo_mean`` of older runs) keep their fresh values; optimiser states start fresh.
    """
    source = resolve(path, kind=KIND)
    try:  # an emovc model file or a Lightning checkpoint: tensors and plain data either way
        ckpt = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 — torch raises several kinds for a bad file
        raise ConfigError(f"init_from: not a readable checkpoint: {source} "
                          f"({type(exc).__name__})") from None
    state = ckpt["state_dict"]
    if ckpt.get("kind") == KIND:  # an emovc model file holds the generator alone, in fp16
        state = {f"G.{k}": v for k, v in float_state(state).items()}
    own = module.state_dict()
    keep = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape
            and not k.endswith("emo_mean")}
    module.load_state_dict(keep, strict=False)


def load_generator(generator: StarGANGenerator, path: str) -> None:
    """Load the generator of an exported ``model.pt`` (or a bundled name) into ``generator``.

    Raises:
        ConfigError: the model's generator has another architecture.
    """
    ckpt = load_checkpoint(resolve(path, kind=KIND), kind=KIND)
    try:
        generator.load_state_dict(float_state(ckpt["state_dict"]))
    except RuntimeError as err:
        raise ConfigError(f"teacher {path}: its generator does not match this run's model "
                          f"settings ({str(err).splitlines()[0]})") from None
