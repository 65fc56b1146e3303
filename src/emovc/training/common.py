"""Pieces shared by the CycleGAN and StarGAN conversion trainers: data setup, Lightning run."""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.data import DataLoader

from emovc.config import apply_overrides, same_kind
from emovc.data.cache import default_cache_dir
from emovc.data.catalogs.ravdess import TRAIN_ACTORS, VALIDATION_ACTORS
from emovc.errors import ConfigError
from emovc.features.world import WorldConfig
from emovc.training.feature_cache import build_cache, read_index
from emovc.training.progress import (
    log_interval,
    progress_callback,
    quiet_lightning,
    uses_bar,
)
from emovc.training.run_clips import ClipList
from emovc.training.run_dir import config_data, last_checkpoint, prepare_run_dir


def default_cache() -> str:
    """Feature cache root of the conversion trainers: ``$EMOVC_CACHE/conversion``, else
    ``~/.cache/emovc/conversion`` (:func:`~emovc.data.cache.default_cache_dir`, the base of
    every emovc cache), whatever the current directory."""
    return str(default_cache_dir() / "conversion")


def default_speakers(cache_folder: Path) -> tuple[list[str], list[str]]:
    """RAVDESS split (train 01-16, validation 17-20) when present, else all speakers train;
    ``cache_folder`` is one corpus's folder (:func:`build_cache`), so only its speakers count."""
    speakers = sorted({r.speaker for r in read_index(cache_folder)})
    train = [s for s in speakers if s in TRAIN_ACTORS]
    val = [s for s in speakers if s in VALIDATION_ACTORS]
    if not train:
        return speakers, []
    return train, val


def prepare_features(data_dir: str, cache_dir: str, world: dict, train: list[str] | None,
                     val: list[str] | None, workers: int = 2, corpus: str = "auto",
                     ) -> tuple[Path, list[str], list[str]]:
    """Build/reuse the feature cache of the corpus (``corpus``: its layout, or ``"auto"``)
    and resolve the speaker split.

    Returns:
        ``(folder, train, val)``: the cache folder of this corpus alone (its ``index.csv``
        lists this corpus's utterances; files whose features failed are left out, each named
        in an EmovcWarning) and the speaker ids.
    """
    cfg = WorldConfig.from_dict(world)
    keep = None if train is None else list(train) + list(val or [])
    folder = build_cache(data_dir, cache_dir, cfg, speakers=keep, workers=workers,
                         corpus=corpus)
    if train is None:
        train, val = default_speakers(folder)
    return folder, list(train), list(val or [])


class _StepRange(torch.utils.data.Dataset):
    """Dummy dataset of step numbers; modules draw their batch from the global step."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


VAL_STEP = 10**9  # the "step" of validation batches: a stream no training step draws from


def step_rng(seed: int, step: int, rank: int = 0) -> np.random.Generator:
    """Batch generator of training step ``step`` on process ``rank``: a function of the three
    alone, so a run resumed from a checkpoint draws the batches an uninterrupted run draws,
    validation (which draws from ``step_rng(seed, VAL_STEP)``) does not shift them, and
    ``devices=N`` trains on N different batches per step (rank 0 draws what a one-device run
    draws)."""
    return np.random.default_rng([seed, step] if rank == 0 else [seed, step, rank])


def seed_torch(rng: np.random.Generator) -> None:
    """Seed torch's global generator (dropout masks) from a step's ``rng``: Lightning seeds it
    once per start and does not checkpoint it, so a resumed run drew other masks."""
    torch.manual_seed(int(rng.integers(2**62)))


class _Timer(Callback):
    """Accumulates training wall time into ``module.train_seconds`` (saved in checkpoints)."""

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        self._t = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        module.train_seconds += time.perf_counter() - self._t


MIN_SEGMENT = 16  # frames: the discriminator's and classifier's 3 stride-2 layers need > 8
WORLD_KEYS = WorldConfig().to_dict()  # the keys a --set world={...} may change
# minimum values of the settings every WORLD-feature GAN run has (StarGAN and CycleGAN)
RUN_RANGES = {"batch_size": 1, "segment": MIN_SEGMENT, "max_steps": 1, "val_every": 1,
              "ckpt_every": 1, "ckpt_minutes": 0, "devices": 1, "threads": 1, "workers": 1,
              "seed": 0, "model.width": 2, "model.n_blocks": 0, "model.n_down": 1,
              "model.d_width": 1, "model.c_width": 1}
LEARNING_RATES = ("lr_g", "lr_d", "lr_c")


def apply_run_settings(cfg: Any, overrides: dict | None, what: str, max_steps: int | None,
                       model_keys: dict) -> Any:
    """Apply ``--set`` ``overrides`` (and ``max_steps``) to a WORLD-feature GAN run config:
    ``model``/``world`` merged key by key into the preset's values (:func:`merge_nested`,
    ``model_keys`` = the model sizes that may change), speaker ids as text, the WORLD
    settings checked; returns ``cfg``.

    Raises:
        ConfigError: an unknown or ill-typed setting or key, or WORLD settings it refuses.
    """
    cfg = apply_nested_overrides(cfg, overrides, {"model": model_keys, "world": WORLD_KEYS},
                                 what, max_steps)
    cfg.train_speakers = speaker_ids(cfg.train_speakers, "train_speakers")
    cfg.val_speakers = speaker_ids(cfg.val_speakers, "val_speakers")
    WorldConfig.from_dict(cfg.world)  # its own checks (e.g. an unknown f0_method)
    return cfg


def merge_nested(cfg: Any, overrides: dict | None, nested: dict[str, dict], what: str,
                 ) -> dict | None:
    """``overrides`` with every dict-valued setting named in ``nested`` merged key by key
    into ``cfg``'s current value (a preset's model sizes, the WORLD settings), so
    ``model={width: 64}`` changes the width alone.

    Args:
        cfg: the config whose current values the overrides are merged into.
        overrides: ``{setting: value}`` (``--set``); ``None`` = nothing.
        nested: ``{setting: {key: default value}}``: the valid keys of each dict setting, and
            the kind each value must have (see :func:`emovc.config.same_kind`).
        what: name for error messages, e.g. ``"StarGAN training"``.

    Raises:
        ConfigError: a value that is not a mapping, or an unknown key (the valid ones listed).
    """
    if not overrides:
        return overrides
    out = dict(overrides)
    for name, valid in nested.items():
        if name in out:
            out[name] = merge_mapping(what, name, out[name], getattr(cfg, name), valid)
    return out


def merge_mapping(what: str, name: str, value: Any, current: dict,
                  valid: dict | None = None) -> dict:
    """``value`` (``--set name={...}``) merged key by key into the dict setting ``current``.

    Args:
        what: name for error messages, e.g. ``"StarGAN training"``.
        name: the setting's name.
        value: the override; must be a mapping.
        current: the setting's value now.
        valid: ``{key: default value}``: the valid keys and the kind each value must have
            (:func:`emovc.config.same_kind`); default ``current``.

    Raises:
        ConfigError: a value that is not a mapping, an unknown key (the valid ones listed), or
            a value of another kind.
    """
    valid = current if valid is None else valid
    if not isinstance(value, dict):
        raise ConfigError(f"{what} setting {name} must be a mapping such as "
                          f"{name}={{{next(iter(valid))}: ...}}, got {value!r}")
    for key in value:
        if key not in valid:
            raise ConfigError(f"unknown {what} setting {name}.{key}; valid keys: "
                              f"{', '.join(sorted(valid))}")
    merged = dict(current)
    for key, v in value.items():
        merged[key] = same_kind(f"{what} setting {name}.{key}", v, valid[key])
    return merged


def apply_nested_overrides(cfg: Any, overrides: dict | None, nested: dict[str, dict],
                           what: str, max_steps: int | None = None) -> Any:
    """:func:`~emovc.config.apply_overrides` of ``overrides`` (and ``max_steps``) to ``cfg``,
    the dict settings named in ``nested`` merged key by key into their current values first
    (:func:`merge_nested`); returns ``cfg``.

    Raises:
        ConfigError: an unknown or ill-typed setting or key.
    """
    return apply_overrides(cfg, merge_nested(cfg, overrides, nested, what), what, max_steps)


def check_ranges(cfg: Any, what: str, at_least: dict[str, float] | None = None,
                 positive: Iterable[str] = (), fractions: Iterable[str] = (),
                 at_most: dict[str, float] | None = None) -> None:
    """Check numeric settings of ``cfg`` (dotted names reach into dict settings, e.g.
    ``model.width``).

    Args:
        cfg: the config.
        what: name for error messages.
        at_least: ``{setting: minimum}``.
        positive: settings that must be above 0 (learning rates).
        fractions: settings within 0..1 (probabilities).
        at_most: ``{setting: maximum}``.

    Raises:
        ConfigError: one line naming the first setting out of its range, and the range.
    """
    def value(name: str):
        head, _, key = name.partition(".")
        v = getattr(cfg, head)
        return v.get(key) if key else v

    for name, low in (at_least or {}).items():
        v = value(name)
        if v is not None and v < low:
            raise ConfigError(f"{what} setting {name} must be at least {low}, got {v}")
    for name, high in (at_most or {}).items():
        v = value(name)
        if v is not None and v > high:
            raise ConfigError(f"{what} setting {name} must be at most {high}, got {v}")
    for name in positive:
        v = value(name)
        if not 0 < v < math.inf:  # NaN fails too
            finite = "" if math.isfinite(v) else " and finite"
            raise ConfigError(f"{what} setting {name} must be above 0{finite}, got {v}")
    for name in fractions:
        if not 0.0 <= value(name) <= 1.0:
            raise ConfigError(f"{what} setting {name} must be between 0 and 1, got "
                              f"{value(name)}")


def check_keys(cfg: Any, name: str, valid: dict, what: str, complete: bool = False) -> None:
    """Check the keys of the dict setting ``name`` of a config that may have been built by
    hand (without ``build_config``, which merges a partial dict into the defaults).

    Args:
        cfg: the config.
        name: the dict setting, e.g. ``"mel"``.
        valid: its valid keys (a dict of defaults).
        what: name for error messages.
        complete: every key of ``valid`` must be given (no defaults fill the gaps).

    Raises:
        ConfigError: not a mapping, an unknown key (the valid ones listed) or, with
            ``complete``, a missing one.
    """
    value = getattr(cfg, name)
    if not isinstance(value, dict):
        raise ConfigError(f"{what} setting {name} must be a mapping, got {value!r}")
    unknown = sorted(set(value) - set(valid))
    if unknown:
        raise ConfigError(f"unknown {what} setting {name}.{unknown[0]}; valid keys: "
                          f"{', '.join(sorted(valid))}")
    missing = [k for k in valid if k not in value] if complete else []
    if missing:
        raise ConfigError(f"{what} setting {name} lacks {', '.join(missing)}; give all of "
                          f"{', '.join(valid)} (build_config merges a partial {name} into the "
                          "defaults)")


def model_sizes(model_keys: dict, low: int = 1) -> dict[str, int]:
    """``{"model.KEY": low}`` for every integer setting of a model config (as a dict of its
    defaults): the layer sizes and counts, none of which may be 0 or negative (they failed
    with a traceback once the corpus was read)."""
    return {f"model.{k}": low for k, v in model_keys.items()
            if isinstance(v, int) and not isinstance(v, bool)}


def check_paths(cfg: Any, what: str, names: Iterable[str]) -> None:
    """The settings ``names`` of ``cfg`` are paths (text), ``None`` or ``""``.

    Raises:
        ConfigError: another kind of value (``cache_dir=[a, b]`` made a folder of that name).
    """
    for name in names:
        v = getattr(cfg, name)
        if v is not None and not isinstance(v, (str, os.PathLike)):
            raise ConfigError(f"{what} setting {name} must be a path, got {v!r}")


def check_mel_recipe(cfg: Any, what: str, model_keys: dict, mel: dict,
                     ranges: dict[str, float], tied: dict[str, str],
                     at_most: dict[str, float] | None = None) -> Any:
    """The checks of an SV2TTS recipe config with ``model`` and ``mel`` dict settings (also
    one built by hand): known ``model`` keys, all ``mel`` keys, counts in ``ranges`` (and
    ``at_most``), ``lr`` > 0, ``cache_dir`` a path, and ``model[k] == mel[k]`` for each
    ``k`` of ``tied`` (its value says why). Returns ``cfg``.

    Raises:
        ConfigError: one line naming the setting.
    """
    check_keys(cfg, "model", model_keys, what)
    check_keys(cfg, "mel", mel, what, complete=True)
    check_ranges(cfg, what, at_least=ranges, positive=("lr",), at_most=at_most)
    check_paths(cfg, what, ("cache_dir",))
    if cfg.mel["n_fft"] < cfg.mel["hop_length"]:
        raise ConfigError(f"{what} setting mel.n_fft ({cfg.mel['n_fft']}) must be at least "
                          f"mel.hop_length ({cfg.mel['hop_length']}): frames would skip samples")
    for key, why in tied.items():
        value = cfg.model.get(key, model_keys[key])
        if value != cfg.mel[key]:
            raise ConfigError(f"{what} setting model.{key} ({value}) must equal mel.{key} "
                              f"({cfg.mel[key]}): {why}")
    return cfg


def record_file_hash(data: dict, setting: str, sha256: str, resume: bool, cli: bool,
                     what: str, why: str) -> dict:
    """``data`` (a run's settings, as its ``config.yaml`` records them) with the sha256 of the
    file its setting ``setting`` names, as ``<setting>_sha256``: the file may be replaced
    under the same path (a speaker encoder retrained into its ``model.pt``), which the path
    alone does not show. A resumed run must find the file it started with.

    Args:
        data: the run's settings (``data["run_dir"]``: its folder; ``data[setting]``: the path).
        setting: ``"encoder"``, ``"gta"``.
        sha256: hex digest of the file now.
        resume: the run resumes what its folder holds (else nothing is compared).
        cli: the message names ``-o``/``--force`` (else ``run_dir``/``resume=False``).
        what: the file, for the message (``"the speaker encoder"``).
        why: what resuming would do (``"the synthesizer would go on learning another
            encoder's embeddings"``).

    Returns:
        ``data`` with the hash added; unchanged for a run folder whose ``config.yaml``, written
        by an earlier emovc, records no hash (resumed unchecked, as before).

    Raises:
        ConfigError: the folder's run names the same file, with another sha256 (one line
            saying what changed and that ``--force`` starts the run afresh).
    """
    from emovc.training.run_dir import FORCE_HINT, PYTHON_FORCE_HINT, saved_config

    key = f"{setting}_sha256"
    root = Path(str(data["run_dir"]))
    # none, or not a run's: the run folder checks say what it is
    old = saved_config(root) if resume else None
    if isinstance(old, dict) and "max_steps" in old and key not in old:
        return data  # a run of an earlier emovc
    if (isinstance(old, dict) and old.get(key) != sha256 and old.get(key) is not None
            and _same_path(old.get(setting), data.get(setting))):
        hint = FORCE_HINT if cli else PYTHON_FORCE_HINT
        raise ConfigError(f"run folder {root} was started with {what} {data[setting]} of "
                          f"sha256 {str(old[key])[:12]}, and that file has changed since "
                          f"(sha256 {sha256[:12]}): {why}; {hint}")
    return {**data, key: sha256}


def check_corpus(value: Any) -> None:
    """A ``corpus`` setting (an SV2TTS recipe's) is ``"auto"`` or a catalog name
    (:data:`~emovc.data.catalogs.CATALOGS`), checked before any corpus work.

    Raises:
        ConfigError: another value (the message lists the valid ones, as ``emovc catalog
            --corpus`` does).
    """
    from emovc.data.catalogs import CATALOGS
    from emovc.errors import choice_error

    if not isinstance(value, str) or value not in ("auto", *CATALOGS):
        raise choice_error("corpus", value, ["auto", *CATALOGS])


def record_corpus_layout(data: dict, resume: bool) -> dict:
    """``data`` (a run's settings) with its ``corpus`` setting as the layout the corpus is
    read with (:func:`~emovc.data.catalogs.corpus_layout`: ``auto`` resolved to the one
    detected), so that ``--corpus libritts`` and ``auto`` name one corpus on resume, and a
    layout other than the run's is refused (:func:`~emovc.training.run_dir.claim_run_dir`).
    A run folder of an earlier emovc, whose ``config.yaml`` records no layout (it always
    detected it), gets ``data`` without one when the layout is the detected one (resumed as
    before), and is refused naming ``corpus`` otherwise."""
    from emovc.data.catalogs import corpus_layout
    from emovc.training.run_dir import saved_config

    layout = corpus_layout(data["corpus"], data["data_dir"])
    old = saved_config(str(data["run_dir"])) if resume else None
    if (isinstance(old, dict) and "max_steps" in old and "corpus" not in old
            and layout == corpus_layout("auto", data["data_dir"])):
        return {k: v for k, v in data.items() if k != "corpus"}
    return {**data, "corpus": layout}


def _same_path(a: Any, b: Any) -> bool:
    """Whether two path settings name one file (both unset: the same too)."""
    if not a or not b:
        return not a and not b
    return Path(str(a)).resolve() == Path(str(b)).resolve()


def speaker_ids(value: Any, name: str) -> list[str] | None:
    """A ``train_speakers``/``val_speakers`` setting as a list of strings (``None`` kept; one
    id becomes a list of one): Python callers may give numbers; corpora spell ids as strings.

    Raises:
        ConfigError: not a list.
    """
    if value is None:
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{name} must be a list of speaker ids, e.g. [\"01\", \"02\"], "
                          f"got {value!r}")
    return [str(v) for v in value]


def check_keep_checkpoints(keep: int) -> int:
    """Validate a ``keep_checkpoints`` setting: -1 (all) or at least 1.

    Raises:
        ConfigError: ``keep`` is 0 or below -1.
    """
    if keep == 0 or keep < -1:
        raise ConfigError(f"keep_checkpoints must be -1 (all) or at least 1, got {keep}")
    return keep


# minutes of training after which checkpoints/last.ckpt is written again between the
# ckpt_every saves (a stopped run loses at most that much)
CKPT_MINUTES = 5.0


class SaveClock:
    """When a wall-clock save of ``checkpoints/last.ckpt`` is due: ``minutes`` after the last
    save (0: never). Asked between training steps only (``on_train_batch_end``), where the
    state is whole — the GANs take several optimiser steps per training step — so a run
    resumed from such a save continues exactly as from a ``ckpt_every`` one."""

    def __init__(self, minutes: float) -> None:
        self.seconds = 60.0 * minutes
        self.restart()

    def restart(self) -> None:
        """Count from now (a checkpoint was just written, or training starts)."""
        self.since = time.monotonic()

    def due(self, trainer: L.Trainer) -> bool:
        """Whether a save is due; the first process decides for all (saving is collective)."""
        if not self.seconds > 0:
            return False
        late = time.monotonic() - self.since >= self.seconds
        return bool(trainer.strategy.broadcast(late, src=0))


class _NewestCheckpoints(ModelCheckpoint):
    """Lightning's checkpoint callback, which keeps the ``save_top_k`` best by ``step``, i.e.
    the newest; on resume with a smaller ``keep_checkpoints`` it first drops the earlier
    files beyond the new limit (Lightning prunes only one file per save, and only once the
    count equals the limit, so the surplus would stay forever). Between its step saves it
    writes ``last.ckpt`` alone every ``minutes`` of training (:class:`SaveClock`; Lightning's
    own ``train_time_interval`` is not applied to manually optimised modules). No timed save
    is made while Lightning holds a step save back until validation ends (an automatically
    optimised module's last batch of an epoch): it would mark the step saved, and so
    swallow that save."""

    def __init__(self, *args: Any, minutes: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = SaveClock(minutes)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any,
                           ) -> None:
        super().on_train_batch_end(trainer, pl_module, *args)
        if self._last_global_step_saved == trainer.global_step:  # a step save just now
            self.clock.restart()
        elif not self._defer_save_until_validation and self.clock.due(trainer):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
            self.clock.restart()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        if self._last_global_step_saved == trainer.global_step:  # the deferred save, say
            self.clock.restart()

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        self.clock.restart()
        kept = self.best_k_models
        if self.save_top_k == -1 or len(kept) <= self.save_top_k:
            return
        for path in sorted(kept, key=kept.get)[:-self.save_top_k]:
            del kept[path]
            trainer.strategy.remove_checkpoint(path)
        self.kth_best_model_path = min(kept, key=kept.get)
        self.kth_value = kept[self.kth_best_model_path]


def checkpoint_callback(folder: Path, every: int, keep: int,
                        minutes: float = CKPT_MINUTES) -> ModelCheckpoint:
    """``stepNNNNNN.ckpt`` every ``every`` steps, the ``keep`` newest kept (-1: all), plus
    ``last.ckpt``, written with each of them and, in between, every ``minutes`` of training
    (0: only with them).

    The monitor is ``step`` whatever ``keep`` is: Lightning restores a checkpoint callback's
    state only into one with the same monitor and mode, so a run resumed with another
    ``keep_checkpoints`` still knows its earlier files. Files are overwritten, never
    versioned: a resumed run whose callback state was not restored (a run of an older emovc)
    used to write ``last-v1.ckpt`` and leave ``last.ckpt``, which the next resume reads, behind."""
    check_keep_checkpoints(keep)
    return _NewestCheckpoints(dirpath=folder, every_n_train_steps=every, save_last=True,
                              save_top_k=keep, monitor="step", mode="max",
                              filename="step{step:06d}", auto_insert_metric_name=False,
                              enable_version_counter=False, minutes=minutes)


def device_strategy(devices: int) -> str:
    """Lightning strategy for ``devices``: DDP that tolerates parameters a step does not use
    (each of the GAN's optimiser steps updates one network; the others get no gradient)."""
    return "ddp_find_unused_parameters_true" if devices > 1 else "auto"


def fit(module: L.LightningModule, config: Any, run_dir: str, max_steps: int, devices: int,
        ckpt_every: int, val_every: int, resume: bool, threads: int,
        keep_checkpoints: int = 5, cli: bool = True, clips: ClipList | None = None,
        ckpt_minutes: float = CKPT_MINUTES) -> Path:
    """Run Lightning training with exact resume from ``run_dir/checkpoints/last.ckpt``.

    Keeps the ``keep_checkpoints`` newest step-numbered checkpoints (-1: all) besides
    ``last.ckpt`` (a compact StarGAN checkpoint is ~29 MB, every 250 steps by default), which
    is also written every ``ckpt_minutes`` of training between them (0: only with them).
    ``cli`` false: run-folder messages name config fields, not command-line options
    (:func:`~emovc.training.run_dir.claim_run_dir`). ``clips``: the clips the run reads
    (:class:`~emovc.training.run_clips.ClipList`); a resumed run must read the
    ones it recorded (:func:`~emovc.training.run_dir.prepare_run_dir`). ``last.ckpt`` is read
    with ``weights_only=True`` whatever torch's default (False before torch 2.6), so a
    resume never unpickles arbitrary objects. The TensorBoard logs' ``hparams.yaml`` (and
    HPARAMS tab) hold ``config``, as ``config.yaml`` does.
    """
    root = prepare_run_dir(run_dir, config, resume, cli, clips)
    torch.set_num_threads(max(1, threads))
    ckpt = checkpoint_callback(root / "checkpoints", ckpt_every, keep_checkpoints, ckpt_minutes)
    bar = progress_callback(max_steps)
    with quiet_lightning():
        trainer = L.Trainer(
            max_steps=max_steps, accelerator="auto", devices=devices,
            strategy=device_strategy(devices),
            logger=TensorBoardLogger(str(root), name="tb", version=0),
            callbacks=[ckpt, _Timer(), bar],
            enable_progress_bar=uses_bar(bar),
            # a run shorter than val_every validates once, at its end (a 1-step run's 1 is
            # Lightning's "validation will run after every batch", quieted: progress.py)
            val_check_interval=min(val_every, max_steps),
            check_val_every_n_epoch=None, num_sanity_val_steps=0,
            log_every_n_steps=log_interval(max_steps, min(25, ckpt_every)),
            enable_model_summary=False, limit_val_batches=1,
        )
        trainer.logger.log_hyperparams(config_data(config))  # tb/version_0/hparams.yaml
        steps = DataLoader(_StepRange(max_steps), batch_size=None, shuffle=False)
        val = DataLoader(_StepRange(1), batch_size=None)
        last = last_checkpoint(root) if resume else None
        fit_or_interrupt(trainer, root, module, steps, val, ckpt_path=str(last) if last else None,
                         ckpt_every=ckpt_every, ckpt_minutes=ckpt_minutes,
                         weights_only=True)  # the trainers' checkpoints hold plain data only
    exit_if_worker(trainer)
    return root


def fit_or_interrupt(trainer: L.Trainer, run_dir: Path, *args,
                     ckpt_every: int | None = None, ckpt_minutes: float = 0.0,
                     steps_per_iteration: int = 1, **kwargs) -> None:
    """``trainer.fit(*args, **kwargs)``; a Ctrl-C (or SIGTERM) is re-raised as
    KeyboardInterrupt with a note on resuming, where Lightning, after its graceful shutdown,
    exits with status 1 as if the run had failed. ``ckpt_every`` (steps between checkpoints,
    ``checkpoints/last.ckpt`` one of them) and ``ckpt_minutes`` (minutes between the saves of
    ``last.ckpt`` in between): the note says the step the run resumes from, or that it has
    none yet and starts again (``steps_per_iteration``: Lightning steps per training step,
    2 for SpectroGAN)."""
    try:
        trainer.fit(*args, **kwargs)
    except SystemExit:
        if not trainer.interrupted:
            raise
        note = resume_note(run_dir, ckpt_every, ckpt_minutes, steps_per_iteration)
        # the run's own status line at Ctrl-C (the caller pressed it; KeyboardInterrupt
        # carries no text), as its progress lines: stays on stderr, not a warning
        print(f"training interrupted: {note}", file=sys.stderr)
        raise KeyboardInterrupt from None


def resume_note(run_dir: Path, ckpt_every: int | None, ckpt_minutes: float = 0.0,
                steps_per_iteration: int = 1) -> str:
    """What the same command does after an interrupt (see :func:`fit_or_interrupt`)."""
    from emovc.training.run_dir import checkpoint_step

    if ckpt_every is None:
        return f"the same command resumes {run_dir} from its last checkpoint"
    last = last_checkpoint(run_dir)
    if last is None:
        every = f" and every {ckpt_minutes:g} minutes" if ckpt_minutes > 0 else ""
        return (f"no checkpoint yet (one every {ckpt_every} steps{every}): the same command "
                f"starts {run_dir} again from step 0")
    step = checkpoint_step(last) // steps_per_iteration
    return f"the same command resumes {run_dir} from step {step}"


def exit_if_worker(trainer: L.Trainer) -> None:
    """End a ``--devices N`` worker process once training is done: the first process exports
    the model and reports (Lightning's launcher runs the whole command once per device)."""
    if trainer.global_rank != 0:
        raise SystemExit(0)


def to_tensor(a: np.ndarray, device: torch.device) -> torch.Tensor:
    """Float32/int64 numpy array -> tensor on ``device``."""
    t = torch.from_numpy(np.ascontiguousarray(a))
    return t.to(device)
