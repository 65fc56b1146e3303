"""Configuration of a many-to-many (StarGAN-VC2-style) converter training run: the typed
config written to ``RUN_DIR/config.yaml`` and its validation (the losses and settings are
described in :mod:`emovc.training.stargan`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from emovc.data.emotions import EMOTIONS, emotion_list
from emovc.errors import ConfigError, choice_error
from emovc.features.world import WorldConfig
from emovc.models.conversion.stargan import PRESETS, StarGANModelConfig
from emovc.pretrained.registry import resolve
from emovc.training.common import (
    CKPT_MINUTES,
    LEARNING_RATES,
    RUN_RANGES,
    apply_run_settings,
    check_corpus,
    check_keep_checkpoints,
    check_ranges,
    default_cache,
)
from emovc.training.stargan_weights import KIND


@dataclass
class StarGANTrainConfig:
    """Everything a many-to-many training run needs (written to ``RUN_DIR/config.yaml``)."""

    data_dir: str
    run_dir: str
    corpus: str = "auto"  # data_dir's layout (emovc.data.catalogs.CATALOGS); auto: detected
    cache_dir: str = field(default_factory=default_cache)
    preset: str = "compact"
    emotions: list[str] = field(default_factory=lambda: list(EMOTIONS))
    train_speakers: list[str] | None = None
    val_speakers: list[str] | None = None
    world: dict = field(default_factory=lambda: WorldConfig().to_dict())
    model: dict = field(default_factory=dict)
    segment: int = 128
    batch_size: int = 8
    lr_g: float = 3e-4
    lr_d: float = 1e-4
    lr_c: float = 2e-4
    w_adv: float = 1.0
    w_cls: float = 0.2
    w_cyc: float = 2.0
    w_id: float = 0.0
    w_pair: float = 20.0
    same_prob: float = 0.1
    max_steps: int = 1500
    val_every: int = 250
    ckpt_every: int = 250
    keep_checkpoints: int = 5  # newest step checkpoints kept (-1: all)
    ckpt_minutes: float = CKPT_MINUTES  # last.ckpt also every this many minutes (0: never)
    init_from: str = ""
    cls_channels: int = 0
    w_gv: float = 0.0
    gv_channels: int = 0
    w_spk: float = 0.0
    focus_emotion: str = ""
    focus_prob: float = 0.5
    distill_others: bool = False
    teachers: dict = field(default_factory=dict)
    seed: int = 0
    devices: int = 1
    accelerator: str = "auto"  # Lightning's: auto, cpu, gpu, cuda or mps (training.devices)
    threads: int = 2
    workers: int = 2


def build_config(data_dir: str, run_dir: str, source: str | None = None,
                 target: str | None = None, preset: str = "compact", max_steps: int | None = None,
                 devices: int = 1, overrides: dict | None = None) -> StarGANTrainConfig:
    """Resolve a run config. The model covers all its emotions (``--set emotions=[...]``), so
    a ``source`` or ``target`` (``--from``/``--to``, which name a pairwise model's pair) is
    refused rather than silently ignored.

    ``model`` and ``world`` overrides are merged key by key into the preset's values.

    Raises:
        ConfigError: unknown preset, corpus layout or override key (also inside
            ``model``/``world``),
            ``emotions`` that are not a list of 2 or more distinct known labels (e.g. a
            single name, or a label listed twice), a setting out of its range (e.g.
            ``batch_size`` 0, a negative loss weight or learning rate, ``same_prob`` above
            1), a ``focus_emotion`` that is not one of
            ``emotions``, ``focus_prob`` outside (0, 1], ``distill_others`` without
            ``init_from`` or without ``focus_emotion`` and ``teachers``, ``teachers`` that
            name an unknown emotion, the focus emotion or a missing model.
    """
    if source is not None or target is not None:
        raise ConfigError("--from/--to name the pair of a pairwise model (--method cyclegan or "
                          "spectrogan); stargan converts between all the emotions it is trained "
                          "on: choose them with --set emotions=[calm, angry, ...]")
    if preset not in PRESETS:
        raise choice_error("preset", preset, PRESETS)
    cfg = StarGANTrainConfig(data_dir=str(data_dir), run_dir=str(run_dir), preset=preset,
                             model=dict(PRESETS[preset]), devices=devices)
    what = "StarGAN training"
    cfg = apply_run_settings(cfg, overrides, what, max_steps, MODEL_KEYS)
    check_corpus(cfg.corpus)
    check_ranges(cfg, what, at_least=RANGES, positive=LEARNING_RATES, fractions=("same_prob",))
    cfg.emotions = emotion_list(cfg.emotions)
    _check_fine_tuning(cfg)
    check_keep_checkpoints(cfg.keep_checkpoints)
    return cfg


# sizes a --set model={...} may change (the input and label counts come from the data)
MODEL_KEYS = {f.name: f.default for f in fields(StarGANModelConfig)
              if f.name not in ("n_feat", "n_emotions")}
RANGES = {**RUN_RANGES, "cls_channels": 0, "gv_channels": 0, "w_adv": 0, "w_cls": 0,
          "w_cyc": 0, "w_id": 0, "w_pair": 0, "w_gv": 0, "w_spk": 0, "model.emb_dim": 1}


def _check_fine_tuning(cfg: StarGANTrainConfig) -> None:
    if cfg.focus_emotion and cfg.focus_emotion not in cfg.emotions:
        raise choice_error("focus emotion", cfg.focus_emotion, cfg.emotions)
    if not 0.0 < cfg.focus_prob <= 1.0:
        raise ConfigError(f"focus_prob must be in (0, 1], got {cfg.focus_prob}")
    if cfg.distill_others and not ((cfg.focus_emotion or cfg.teachers) and cfg.init_from):
        raise ConfigError("distill_others needs init_from (the generator whose other emotions "
                          "are kept) and focus_emotion or teachers")
    if not isinstance(cfg.teachers, dict):
        raise ConfigError("teachers must be a mapping {emotion: model path or bundled name}, "
                          f"got {cfg.teachers!r}")
    for emotion in cfg.teachers:
        if emotion not in cfg.emotions:
            raise choice_error("teacher emotion", emotion, cfg.emotions)
        if emotion == cfg.focus_emotion:
            raise ConfigError(f"{emotion!r} is both the focus emotion and a teacher's emotion")
        resolve(cfg.teachers[emotion], kind=KIND)  # a missing model fails before any work


def config_dict(cfg: StarGANTrainConfig) -> dict:
    """Plain-data copy of a config."""
    return asdict(cfg)
