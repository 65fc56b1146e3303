"""What a training run's folder holds, read without claiming it: its settings
(:func:`saved_config`), the kind of its ``model.pt`` (:func:`model_kind`), its last checkpoint and
that checkpoint's step; whether it is an emovc training run at all (:func:`is_run`) or holds
files of something else (:func:`foreign_outputs`); and the removal of a run's outputs for a
fresh start (:func:`clear_run_outputs`). Whether a run may use a folder is decided in
:mod:`emovc.training.run_dir`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch
import yaml

from emovc.errors import ConfigError
from emovc.training.run_clips import CLIPS_FILE
from emovc.training.run_models import MODELS_FILE


def model_kind(path: Path) -> str | None:
    """The ``kind`` of an emovc checkpoint at ``path`` (``None``: none there, or not one)."""
    from emovc.models.checkpoint import checkpoint_kind

    return checkpoint_kind(path)


def saved_config(run_dir: str | os.PathLike) -> dict | None:
    """The settings of the run ``run_dir`` holds (its ``config.yaml``); ``None`` when there is
    none or it cannot be read as a mapping."""
    try:
        data = yaml.safe_load((Path(run_dir) / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def saved_max_steps(run_dir: str | os.PathLike) -> int | None:
    """``max_steps`` of the run ``run_dir`` holds (its ``config.yaml``); ``None`` when there is
    none or it cannot be read (the run folder checks then say why)."""
    steps = (saved_config(run_dir) or {}).get("max_steps")
    return steps if isinstance(steps, int) and not isinstance(steps, bool) else None


def checkpoint_step(path: Path) -> int:
    """Lightning ``global_step`` of a checkpoint (0 if it has none)."""
    state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    return int(state.get("global_step", 0))


def last_checkpoint(run_dir: str | os.PathLike) -> Path | None:
    """``checkpoints/last.ckpt`` if present."""
    p = Path(run_dir) / "checkpoints" / "last.ckpt"
    return p if p.is_file() else None


# what the trainers write into a run folder (files, folders, and the folders that hold them);
# RUN_ONLY: removed only from a folder that is recognisably a training run (:func:`is_run`)
RUN_ONLY = ("config.yaml", "metrics.json", CLIPS_FILE, MODELS_FILE)
RUN_FILES = ("model.pt", *RUN_ONLY, "checkpoints/*.ckpt", "checkpoints/.*.ckpt.*",
             "audio/step*.wav", "audio/source_*.wav", "audio/target_*.wav",
             "val_audio/source_*.wav")
RUN_FOLDERS = ("tb/version_0", "val_audio/step_*")
RUN_PARENTS = ("checkpoints", "audio", "val_audio", "tb")
# settings that make a config.yaml a trainer's: the Lightning trainers' or a recogniser's
RUN_CONFIG_KEYS = ({"max_steps"}, {"method", "feature_set"})


def is_run(root: Path) -> bool:
    """``root`` holds (or held, interrupted) an emovc training run: a ``model.pt`` of a known
    kind, a checkpoint in ``checkpoints/`` (a Lightning trainer's, the recogniser's CNN's),
    or a ``config.yaml`` of a trainer's settings (:data:`RUN_CONFIG_KEYS`)."""
    if model_kind(root / "model.pt") or any((root / "checkpoints").glob("*.ckpt")):
        return True
    old = saved_config(root)
    return old is not None and any(keys <= old.keys() for keys in RUN_CONFIG_KEYS)


def foreign_outputs(root: Path) -> str | None:
    """What ``root`` holds when it has files named like a run's that are not a training run's
    (``None`` otherwise): an ``emovc evaluate`` report, or a ``config.yaml`` of other
    settings — files a fresh start must not delete."""
    if not root.is_dir() or (root / "model.pt").exists() or is_run(root):
        return None  # a run's, or a model.pt the run folder checks refuse (unknown model)
    if (root / "report.html").is_file() and (root / "metrics.json").is_file():
        return "an emovc evaluate report (report.html and metrics.json), not a training run"
    if (root / "config.yaml").is_file():
        return ("a config.yaml that is not a training run's (no max_steps setting, no model.pt "
                "or checkpoints)")
    return None


def check_not_foreign(root: Path, cli: bool = True) -> None:
    """Refuse a run folder that holds files a training would overwrite or a fresh start would
    delete but that are not a run's (:func:`foreign_outputs`), also with ``--force``.

    Raises:
        ConfigError: naming what the folder looks like.
    """
    what = foreign_outputs(root)
    if what:
        opt = ("-o (--force does not delete them)" if cli else
               "run_dir (resume=False does not delete them)")
        raise ConfigError(f"run folder {root} holds {what}; choose another {opt}")


def clear_run_outputs(root: Path) -> None:
    """Remove what any emovc trainer writes into ``root`` (a fresh start: ``--force``), so
    that the new run inherits nothing of the earlier one, whichever trainer's it was: its
    ``model.pt``, ``config.yaml``, ``clips.json``, ``metrics.json`` and
    ``model_sha256.json``, checkpoints, TensorBoard log and validation audio, and those
    folders when that leaves them empty (:data:`RUN_ONLY` only when the folder is a training
    run's, :func:`is_run`). Other files stay, and nothing outside ``root`` is touched (a link
    is removed, not what it points to)."""
    root = Path(root)
    inside = root.resolve()
    run = is_run(root)  # else its config.yaml, clips.json, metrics.json are not a run's

    def within(p: Path) -> bool:  # not reached through a link to a folder elsewhere
        return p.parent.resolve().is_relative_to(inside)

    for pattern in RUN_FILES:
        if pattern in RUN_ONLY and not run:
            continue
        for p in root.glob(pattern):
            if within(p) and (p.is_symlink() or p.is_file()):
                p.unlink(missing_ok=True)
    for pattern in RUN_FOLDERS:
        for folder in root.glob(pattern):
            if within(folder) and folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder)
    for name in RUN_PARENTS:
        folder = root / name
        if folder.is_dir() and not folder.is_symlink():
            try:
                folder.rmdir()
            except OSError:  # other files there
                pass
