"""Run folders of the conversion trainers.

Layout of ``RUN_DIR``::

    config.yaml            resolved training config (plain data)
    checkpoints/last.ckpt  Lightning checkpoint for exact resume (+ the newest step-numbered ones)
    tb/                    TensorBoard logs
    audio/                 periodic validation conversions (WAV)
    model.pt               final emovc checkpoint (loadable by EmotionConverter)
"""

from __future__ import annotations

import os
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import yaml

from emovc.errors import ConfigError
from emovc.fileio import write_atomic


def prepare_run_dir(run_dir: str | os.PathLike, config: Any, resume: bool) -> Path:
    """Create ``run_dir`` and write ``config.yaml``; refuse to mix runs of different configs.

    Raises:
        ConfigError: ``run_dir`` holds a run with a different config and ``resume`` is true
            (start a new folder or pass ``resume=False`` to overwrite it).
    """
    root = Path(run_dir)
    (root / "checkpoints").mkdir(parents=True, exist_ok=True)
    (root / "audio").mkdir(exist_ok=True)
    data = asdict(config) if is_dataclass(config) else dict(config)
    cfg_file = root / "config.yaml"
    if resume and cfg_file.exists() and last_checkpoint(root) is not None:
        old = yaml.safe_load(cfg_file.read_text())
        free = ("max_steps", "devices", "threads", "workers", "keep_checkpoints")
        diff = sorted(k for k in data if k not in free and old.get(k) != data[k])
        if diff:
            raise ConfigError(f"run folder {root} holds a run with different settings {diff}; "
                              "use another folder")
    write_text_atomic(cfg_file, yaml.safe_dump(data, sort_keys=False))
    return root


def last_checkpoint(run_dir: str | os.PathLike) -> Path | None:
    """``checkpoints/last.ckpt`` if present."""
    p = Path(run_dir) / "checkpoints" / "last.ckpt"
    return p if p.is_file() else None


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file + rename."""
    write_atomic(path, text)
