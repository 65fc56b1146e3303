"""Weights of many-to-many (StarGAN) training runs: export, fine-tuning starts, teachers.

``module`` below is a :class:`emovc.training.stargan.StarGANModule` (its generator ``G``,
config ``cfg``, data ``data`` with the normaliser, ``global_step``, ``train_seconds``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch

from emovc.errors import ConfigError
from emovc.models.checkpoint import float_state, load_checkpoint, save_checkpoint
from emovc.models.conversion.stargan import StarGANGenerator
from emovc.pretrained.registry import resolve
from emovc.training.run_dir import saved_config

KIND = "emotion-converter/stargan"


def export(module, path: Path) -> Path:
    """Write the generator + normaliser as an emovc checkpoint (float16 weights)."""
    state = {k: v.detach().half() if v.is_floating_point() else v
             for k, v in module.G.state_dict().items()}
    cfg = module.cfg
    extra = {"world": cfg.world, "emotions": list(cfg.emotions),
             "normalizer": module.data.normalizer.to_dict(),
             "training": {"steps": int(module.global_step), "seconds": module.train_seconds,
                          "max_steps": int(cfg.max_steps),
                          "train_speakers": module.data.train_speakers,
                          "data_dir": cfg.data_dir, "preset": cfg.preset,
                          "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}
    return save_checkpoint(path, kind=KIND, config=module.model_cfg.to_dict(), state_dict=state,
                           extra=extra)


def init_weights(module, path: str) -> None:
    """Start from the networks of another run's Lightning checkpoint, or from the generator
    of an exported ``model.pt`` or a bundled model's name, e.g. ``m2m-ravdess`` (fine-tuning).

    Tensors missing from the checkpoint (the discriminator and classifier of a ``model.pt``,
    ``G.emo_mean`` of older runs) keep their fresh values, as do a Lightning checkpoint's
    discriminator and classifier tensors of another shape (e.g. another ``cls_channels``);
    optimiser states start fresh. The generator must match this run's model in full.

    Raises:
        ConfigError: unreadable file, a model of another kind (e.g. a CycleGAN ``model.pt``),
            a model trained on other emotions than this run's or in another order (checked
            first), or a generator that does not match this run's model settings (tensors
            missing or of another shape; the message gives the counts and the first
            mismatch).
    """
    source = resolve(path, kind=KIND)
    try:  # an emovc model file or a Lightning checkpoint: tensors and plain data either way
        ckpt = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 — torch raises several kinds for a bad file
        raise ConfigError(f"init_from: not a readable checkpoint: {source} "
                          f"({type(exc).__name__})") from None
    kind = ckpt.get("kind") if isinstance(ckpt, dict) else None
    run = _run_config(ckpt, source) if isinstance(ckpt, dict) else None
    if (kind is not None and kind != KIND) or (run is not None and not _is_stargan(run)):
        what = (f"a {kind} model" if kind is not None else "a checkpoint of another kind of "
                "run (its config.yaml is not a StarGAN run's)")
        raise ConfigError(f"init_from: {source} is {what}; a StarGAN run starts from a "
                          f"{KIND} model.pt, a StarGAN run's checkpoint or a bundled name "
                          "such as m2m-ravdess")
    state = ckpt.get("state_dict") if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ConfigError(f"init_from: {source} is neither an emovc model nor a training "
                          "checkpoint (no state_dict)")
    check_emotions(_emotions_in(ckpt, lambda: run), module.cfg.emotions, str(path))
    if kind == KIND:  # an emovc model file holds the generator alone, in fp16
        state = {f"G.{k}": v for k, v in float_state(state).items()}
    own = module.state_dict()
    check_generator(own, state, str(path))
    keep = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape
            and not k.endswith("emo_mean")}
    module.load_state_dict(keep, strict=False)


def saved_emotions(ckpt: dict, source: Path) -> list[str] | None:
    """The emotions, in embedding order, the model in ``ckpt`` (read from ``source``) was
    trained on: an exported model's ``extra["emotions"]``, a Lightning checkpoint's own
    ``emotions`` or else its run's ``config.yaml`` (``RUN/checkpoints/*.ckpt``) when that is
    a StarGAN run's; ``None`` when none of them says."""
    return _emotions_in(ckpt, lambda: _run_config(ckpt, source))


def _emotions_in(ckpt: dict, run: Callable[[], dict | None]) -> list[str] | None:
    """:func:`saved_emotions`, with the run's settings from ``run()``, called only when the
    checkpoint lists no emotions itself (:func:`init_weights` passes those it has read: the
    ``config.yaml`` is read once)."""
    extra = ckpt.get("extra")
    listed = extra.get("emotions") if isinstance(extra, dict) else ckpt.get("emotions")
    settings = run() if listed is None else None
    if settings is not None and _is_stargan(settings):
        listed = settings.get("emotions")
    return list(listed) if isinstance(listed, list | tuple) else None


def _run_config(ckpt: dict, source: Path) -> dict | None:
    """The settings of the run whose Lightning checkpoint (``RUN/checkpoints/*.ckpt``, no
    ``kind``) ``ckpt`` is; ``None``: an emovc model file, or no readable ``config.yaml``."""
    if "kind" in ckpt or Path(source).parent.name != "checkpoints":
        return None
    return saved_config(Path(source).parent.parent)


def _is_stargan(config: dict) -> bool:
    """Whether a run's settings are a StarGAN run's: emotions and a classifier's learning
    rate (a SpectroGAN run has no ``lr_c``, a CycleGAN run no ``emotions``)."""
    return "lr_c" in config and "emotions" in config


def check_emotions(saved: list[str] | None, own: list[str], name: str,
                   role: str = "init_from") -> None:
    """Raise unless the model ``name`` was trained on this run's emotions ``own`` in the same
    order (``saved``; ``None``: unknown, left to the shape check): its emotion embedding,
    like the discriminator's and classifier's heads, is indexed by position.

    Raises:
        ConfigError: both lists, and how to make them agree.
    """
    if saved is not None and list(saved) != list(own):
        raise ConfigError(f"{role} {name} was trained on emotions [{', '.join(saved)}]; this "
                          f"run's are [{', '.join(own)}]; set emotions to the same list in "
                          "the same order")


def check_generator(own: dict, state: dict, name: str, role: str = "init_from") -> None:
    """Raise unless ``state`` holds every generator tensor (``G.*``, ``emo_mean`` aside) of
    ``own`` with the same shape; ``role`` (``"init_from"``, ``"teacher"``) opens the message.

    Raises:
        ConfigError: counts of missing and mismatched tensors, with the first mismatch.
    """
    keys = [k for k in own if k.startswith("G.") and not k.endswith("emo_mean")]
    missing = [k for k in keys if k not in state]
    wrong = [k for k in keys if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if not (missing or wrong):
        return
    if len(missing) == len(keys):
        raise ConfigError(f"{role} {name}: no StarGAN generator in it (0 of {len(keys)} "
                          "generator tensors found)")
    detail = (f", e.g. {wrong[0]} is {tuple(state[wrong[0]].shape)} where this run's is "
              f"{tuple(own[wrong[0]].shape)}" if wrong else f", e.g. {missing[0]} missing")
    raise ConfigError(f"{role} {name}: its generator does not match this run's model "
                      f"settings ({len(wrong)} of {len(keys)} tensors of another shape, "
                      f"{len(missing)} missing{detail}); use the --preset and model settings "
                      "it was trained with")


def load_generator(generator: StarGANGenerator, path: str, emotions: list[str]) -> None:
    """Load the generator of an exported ``model.pt`` (or a bundled name) into ``generator``
    of a run on ``emotions``.

    Raises:
        ConfigError: the model was trained on other emotions (or in another order), or its
            generator has another architecture.
    """
    source = resolve(path, kind=KIND)
    ckpt = load_checkpoint(source, kind=KIND)
    check_emotions(saved_emotions(ckpt, source), emotions, str(path), role="teacher")
    state = float_state(ckpt["state_dict"])
    check_generator({f"G.{k}": v for k, v in generator.state_dict().items()},
                    {f"G.{k}": v for k, v in state.items()}, str(path), role="teacher")
    try:
        generator.load_state_dict(state)
    except RuntimeError as err:  # e.g. a model from before emo_mean
        raise ConfigError(f"teacher {path}: its generator does not match this run's model "
                          f"settings ({str(err).splitlines()[0]})") from None
