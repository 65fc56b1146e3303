"""Settings of a GE2E speaker-encoder training run (:mod:`emovc.training.speaker_encoder`):
the typed config written to ``RUN_DIR/config.yaml``, its building from overrides and its
checks, and the refusal of a run folder of an earlier emovc that names a renamed setting."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from emovc.errors import ConfigError
from emovc.models.speaker_encoder import GE2EConfig
from emovc.training.common import (
    CKPT_MINUTES,
    apply_nested_overrides,
    check_corpus,
    check_keys,
    check_paths,
    check_ranges,
    model_sizes,
)

KIND = "speaker-encoder/ge2e"
WHAT = "speaker-encoder training"
MODEL_KEYS = GE2EConfig().to_dict()  # the keys a model={...} override may set
RANGES = {"speakers": 2, "utterances": 2, "max_steps": 1, "val_speakers": 0,
          "max_utterances_per_speaker": 1, "seed": 0, "devices": 1, "threads": 1,
          "ckpt_every": 1, "ckpt_minutes": 0, **model_sizes(MODEL_KEYS)}


@dataclass
class GE2ETrainConfig:
    """Speaker-encoder training settings.

    Attributes:
        data_dir: corpus folder (any layout :func:`emovc.data.catalogs.catalog_corpus` knows).
        run_dir: output folder (config.yaml, checkpoints/, tb/, model.pt).
        corpus: the layout of ``data_dir`` (a name of :data:`emovc.data.catalogs.CATALOGS`),
            or ``"auto"``: detected.
        model: architecture (:class:`GE2EConfig` as a dict).
        speakers: speakers per batch (64 in the paper).
        utterances: utterances per speaker per batch (10).
        lr: Adam learning rate.
        max_steps: optimisation steps.
        val_speakers: speakers held out for the EER check: the last ones by name of those
            with at least 2 clips (the EER compares clips of one speaker), leaving 2 speakers
            to train on; fewer than 2 such speakers: no validation
            (:func:`~emovc.training.speaker_encoder_data.split_speakers`).
        init: ``"resemblyzer"`` to fine-tune the bundled weights, ``None`` = from scratch.
        max_utterances_per_speaker: utterances per speaker loaded at most (the first ones
            by path). Not ``max_utterances``, which the synthesizer and the vocoder count in
            total, and which this recipe refuses (:data:`RENAMED`).
        seed: sampling seed.
        devices: Lightning devices.
        accelerator: Lightning's accelerator, one of
            :data:`~emovc.training.devices.ACCELERATORS` (``"auto"``: a TPU, else Apple's GPU,
            else a CUDA GPU torch sees, else the CPU; ``--accelerator``).
        threads: torch CPU threads.
        cache_dir: root of the preprocessed-clip cache (:mod:`~emovc.training.clip_cache`;
            ``""`` = ``$EMOVC_CACHE/sv2tts`` or ``~/.cache/emovc/sv2tts``).
        ckpt_every: steps between checkpoints (an interrupted run resumes from the last).
        ckpt_minutes: minutes of training between the saves of ``last.ckpt`` alone in
            between (0: none).
    """

    data_dir: str
    run_dir: str
    corpus: str = "auto"
    model: dict = field(default_factory=lambda: GE2EConfig().to_dict())
    speakers: int = 64
    utterances: int = 10
    lr: float = 1e-4
    max_steps: int = 100000
    val_speakers: int = 20
    init: str | None = None
    max_utterances_per_speaker: int = 40
    seed: int = 0
    devices: int = 1
    accelerator: str = "auto"
    threads: int = 2
    cache_dir: str = ""
    ckpt_every: int = 1000  # steps between checkpoints (what an interrupted run resumes from)
    ckpt_minutes: float = CKPT_MINUTES  # last.ckpt also every this many minutes (0: never)


#: settings of an earlier emovc → their names now (``max_utterances`` counted per speaker here,
#: in total in the other recipes)
RENAMED = {"max_utterances": "max_utterances_per_speaker"}


#: settings only this recipe's config.yaml has (a folder without them is not its run)
ENCODER_KEYS = {"speakers", "utterances"}


def check_renamed(run_dir: Path, cli: bool = True) -> None:
    """A speaker-encoder run folder of an earlier emovc, whose ``config.yaml`` names a setting
    of :data:`RENAMED`, is refused in one line saying how to resume it (rather than as
    "another kind of run"). Another recipe's folder (no :data:`ENCODER_KEYS` in its config,
    or a ``model.pt`` of another kind) is left to the usual run folder checks.

    Raises:
        ConfigError: its ``config.yaml`` has an old name and not the new one.
    """
    import yaml

    try:
        old = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return  # none, or not a run's: the run folder checks say what it is
    if not isinstance(old, dict) or not ENCODER_KEYS <= old.keys():
        return  # another recipe's (the synthesizer's, the vocoder's max_utterances is theirs)
    from emovc.training.run_dir import model_kind

    if model_kind(run_dir / "model.pt") not in (None, KIND):
        return  # another run's model: the run folder checks name it
    for name, new in RENAMED.items():
        if name in old and new not in old:
            again = ("--force starts this run afresh there" if cli else
                     "resume=False starts this run afresh there")
            raise ConfigError(f"run folder {run_dir} holds a {KIND} run of an earlier emovc, "
                              f"whose setting {name} is now {new}: rename it so in "
                              f"{run_dir / 'config.yaml'} to resume the run, or {again}")


def build_config(data_dir: str, run_dir: str, max_steps: int | None = None, devices: int = 1,
                 init: str | None = None, overrides: dict | None = None) -> GE2ETrainConfig:
    """Resolved training config: ``overrides`` replace any field, ``model`` merged key by
    key into the defaults.

    Raises:
        ConfigError: an unknown setting or key, or a setting out of its range
            (:func:`check_config`).
    """
    cfg = GE2ETrainConfig(data_dir=data_dir, run_dir=run_dir, devices=devices, init=init)
    for old, new in RENAMED.items():
        if old in (overrides or {}):
            raise ConfigError(f"{WHAT} setting {old} is now {new}: it counted utterances per "
                              f"speaker here but in total for the synthesizer and the vocoder; "
                              f"--set {new}=N (Python: overrides={{'{new}': N}})")
    return check_config(apply_nested_overrides(cfg, overrides, {"model": MODEL_KEYS}, WHAT,
                                               max_steps))


def check_config(cfg: GE2ETrainConfig) -> GE2ETrainConfig:
    """Check a config (also one built by hand) before any corpus work; returns it.

    Raises:
        ConfigError: one line naming the setting: an unknown ``model`` key, a count below its
            minimum (e.g. ``speakers`` 1, ``max_steps`` 0, a model size of 0), ``lr`` or a
            mel window/hop <= 0, an ``init`` that is not a name or path, a ``cache_dir``
            that is not a path, or an unknown ``corpus`` layout.
    """
    check_keys(cfg, "model", MODEL_KEYS, WHAT)
    check_corpus(cfg.corpus)
    check_ranges(cfg, WHAT, at_least=RANGES,
                 positive=("lr", *(f"model.{k}" for k in ("window_ms", "hop_ms")
                                   if k in cfg.model)))
    check_paths(cfg, WHAT, ("cache_dir",))
    if cfg.init is not None and not isinstance(cfg.init, str):
        raise ConfigError(f"{WHAT} setting init must be resemblyzer (fine-tune the bundled "
                          f"encoder), the path of a speaker encoder's model.pt, or null, got "
                          f"{cfg.init!r}")
    return cfg
