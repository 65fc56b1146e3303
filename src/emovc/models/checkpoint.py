"""Self-describing checkpoints.

A checkpoint is one ``torch.save`` file holding only plain data — so it loads with
``torch.load(weights_only=True)`` — laid out as::

    {"format_version": 1, "kind": "emotion-converter/m2m", "config": {...},
     "extra": {...  feature settings, normalisation statistics, label set ...},
     "state_dict": {name: tensor}}

Writes are atomic (temporary file + rename).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from emovc.errors import ConfigError
from emovc.fileio import atomic_output

FORMAT_VERSION = 1


def save_checkpoint(path: str | os.PathLike, *, kind: str, config: dict[str, Any],
                    state_dict: dict[str, torch.Tensor], extra: dict[str, Any] | None = None
                    ) -> Path:
    """Atomically write a checkpoint; ``config``/``extra`` must be plain Python data."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "config": config,
        "extra": extra or {},
        "state_dict": {k: v.detach().cpu() for k, v in state_dict.items()},
    }
    with atomic_output(p) as tmp:
        torch.save(payload, tmp)
    return p


def checkpoint_file(path: str | os.PathLike) -> Path:
    """``path`` as a checkpoint file: a run folder stands for the ``model.pt`` it holds.

    Raises:
        ConfigError: a folder without a ``model.pt``.
    """
    p = Path(path)
    if not p.is_dir():
        return p
    if not (p / "model.pt").is_file():
        raise ConfigError(f"{p} is a folder without a model.pt; give a checkpoint file (.pt) "
                          "or a run folder that holds its model.pt")
    return p / "model.pt"


def load_checkpoint(path: str | os.PathLike, kind: str | None = None) -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only=True``) and check its kind and version.
    ``path``: the checkpoint file, or a run folder holding it as ``model.pt`` (as ``emovc ser
    predict -m RUN_DIR`` takes one).

    Raises:
        ConfigError: missing file, a folder without a model.pt, not an emovc checkpoint, wrong
            kind or newer format.
    """
    p = checkpoint_file(path)
    if not p.is_file():
        raise ConfigError(f"checkpoint not found: {p}")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ConfigError(f"not a readable emovc checkpoint: {p} ({type(exc).__name__})") from None
    if not isinstance(ckpt, dict) or "format_version" not in ckpt:
        raise ConfigError(f"not an emovc checkpoint: {p}")
    if ckpt["format_version"] > FORMAT_VERSION:
        raise ConfigError(
            f"checkpoint {p} has format {ckpt['format_version']}, this emovc reads "
            f"≤ {FORMAT_VERSION}; upgrade emovc"
        )
    if kind is not None and ckpt.get("kind") != kind:
        raise ConfigError(f"checkpoint {p} is a {ckpt.get('kind')!r} model, expected {kind!r}")
    return ckpt


def checkpoint_kind(path: str | os.PathLike) -> str | None:
    """The ``kind`` of an emovc checkpoint at ``path`` (``"synthesizer/tacotron"``), read
    without loading its tensors; ``None``: no file there, or not an emovc checkpoint."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # noqa: BLE001 - not a readable checkpoint: the callers say what to do
        return None
    kind = ckpt.get("kind") if isinstance(ckpt, dict) else None
    return kind if isinstance(kind, str) else None


def float_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Float32 copy of a stored state dict: bundled models keep their weights in float16;
    integer buffers are returned as they are."""
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
