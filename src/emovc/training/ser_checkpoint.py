"""Checkpoints of the SER CNN fit, so that an interrupted ``emovc ser train`` resumes exactly.

The CNN fit (:func:`~emovc.training.ser_cnn.train_cnn`) writes ``RUN_DIR/checkpoints/cnn.ckpt``
after every epoch (atomically): the network, optimiser, schedule and random-generator states,
the epochs done, the seconds the run has trained (a resumed run's ``train_seconds`` counts
every session), and what the fit depends on — the run's settings (less those that do not
change what is learned: :data:`FREE`) and a fingerprint of its training clips' features.
Re-running the same command resumes from it and trains the model an uninterrupted run trains;
a checkpoint of other settings or other clips is refused (``--force`` starts afresh). The
final ``config.yaml``, ``metrics.json`` and ``model.pt`` are still written only at the end;
the checkpoint is removed once they are.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from emovc.data.catalogs import corpus_layout
from emovc.errors import ConfigError
from emovc.fileio import atomic_output
from emovc.training.run_dir import changed_settings

CHECKPOINT = Path("checkpoints") / "cnn.ckpt"
# settings a resumed run may change: where the run and cache live, processes and threads
# (another thread count trains a slightly different model: torch sums in another order)
FREE = ("run_dir", "cache_dir", "workers", "cnn.threads",
        # the linear heads' settings: the checkpoint holds the CNN fit alone (the heads of an
        # ensemble are fitted again after it), so they may change too
        "feature_set", "c_utterance", "c_speaker", "cnn_weight", "speaker_cnn_weight")
FORCE_HINT = "choose another --out, or pass --force to start the run afresh there"


@dataclass(frozen=True)
class CnnCheckpoint:
    """Where and for what a CNN fit saves its state.

    Attributes:
        path: the checkpoint file (``RUN_DIR/checkpoints/cnn.ckpt``).
        settings: what the fit depends on besides its data (:func:`run_settings`); a
            checkpoint of other settings is refused.
        resume: continue from ``path`` when it exists (false: start afresh, overwriting it).
        hint: how to get past a refusal (the command line's options by default).
        started: when the run's training began, as :func:`time.time` counts (this session's
            start less the seconds earlier sessions trained): each saved state records the
            seconds since as ``train_seconds`` (``None``: not recorded).
    """

    path: Path
    settings: dict
    resume: bool = True
    hint: str = FORCE_HINT
    started: float | None = None


def checkpoint_path(run_dir: str | os.PathLike) -> Path:
    """``RUN_DIR/checkpoints/cnn.ckpt``."""
    return Path(run_dir) / CHECKPOINT


def run_settings(config: dict) -> dict:
    """A run's settings as its checkpoint compares them: flattened to dotted names (``cnn.lr``),
    without :data:`FREE`, with ``data_dir`` resolved (a relative and an absolute spelling of
    one corpus are one corpus)."""
    flat = _flatten(config)
    if isinstance(flat.get("data_dir"), str):
        flat["data_dir"] = str(Path(flat["data_dir"]).resolve())
    return {k: v for k, v in flat.items() if k not in FREE}


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = list(v) if isinstance(v, tuple) else v
    return out


def data_fingerprint(labels: np.ndarray, *mel_sets: Sequence[np.ndarray] | None) -> str:
    """SHA-1 of the class labels and of every log-mel (shape, dtype and values) of the given
    sets (``None`` counts as an empty set)."""
    h = hashlib.sha1(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    for mels in mel_sets:
        h.update(b"|set|")
        for m in mels or ():
            m = np.ascontiguousarray(m)
            h.update(f"{m.shape}{m.dtype}".encode())
            h.update(m.tobytes())
    return h.hexdigest()


def read_state(ckpt: CnnCheckpoint) -> dict | None:
    """The saved state of ``ckpt`` (``None``: none there, or ``ckpt.resume`` is false).

    Raises:
        ConfigError: the file cannot be read as a CNN checkpoint (one line, with the hint).
    """
    if not ckpt.resume or not ckpt.path.is_file():
        return None
    try:
        state = torch.load(ckpt.path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, not a torch file, another pickle
        raise ConfigError(f"cannot resume from {ckpt.path} ({type(exc).__name__}); "
                          f"{ckpt.hint}") from None
    if not isinstance(state, dict) or "identity" not in state or "epoch" not in state:
        raise ConfigError(f"{ckpt.path} is not the checkpoint of an emovc CNN fit; {ckpt.hint}")
    return state


def check_identity(ckpt: CnnCheckpoint, saved: dict, current: dict) -> None:
    """Refuse to resume from a checkpoint of another fit. ``saved`` and ``current`` are
    identities: ``{"settings": {...}, "data": fingerprint}``; the settings are compared as a
    run folder's are (:func:`~emovc.training.run_dir.changed_settings`), the data only when
    ``current`` has it (the early check has no ``"data"`` yet).

    Raises:
        ConfigError: one line naming the settings that differ, or saying the clips differ.
    """
    names = changed_settings(_resolved(saved.get("settings", {})), current.get("settings", {}),
                             free=())
    where = f"{ckpt.path.parent.parent} holds an interrupted CNN fit of other"
    if names:
        shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        raise ConfigError(f"{where} settings ({shown}); {ckpt.hint}")
    if "data" in current and saved.get("data") != current["data"]:
        raise ConfigError(f"{where} training clips (the corpus or its features changed "
                          f"since); {ckpt.hint}")


def _resolved(settings: dict) -> dict:
    """Saved ``settings`` with ``corpus: auto`` resolved to the layout found in their
    ``data_dir``, as a run's own are now (:func:`~emovc.data.catalogs.corpus_layout`): a
    checkpoint of an earlier emovc stored ``auto`` as written."""
    if settings.get("corpus") != "auto" or not isinstance(settings.get("data_dir"), str):
        return settings
    return {**settings, "corpus": corpus_layout("auto", settings["data_dir"])}


def check_resumable(ckpt: CnnCheckpoint) -> dict | None:
    """The early check of a run folder (before any feature is computed): a checkpoint there
    must be of ``ckpt.settings`` (nothing to check when ``ckpt.resume`` is false). Returns
    the state it holds (``None``: none to resume from)."""
    state = read_state(ckpt)
    if state is not None:
        check_identity(ckpt, state["identity"], {"settings": ckpt.settings})
    return state


def trained_seconds(state: dict | None) -> float:
    """The seconds of training a saved state records (earlier sessions of a resumed run;
    0 for none, or a checkpoint of an emovc that did not record them)."""
    seconds = (state or {}).get("train_seconds", 0.0)
    return float(seconds) if isinstance(seconds, (int, float)) else 0.0


def save_state(ckpt: CnnCheckpoint, state: dict) -> None:
    """Write ``state`` to ``ckpt.path`` atomically (a stopped write leaves the earlier one),
    with the seconds the run has trained so far when ``ckpt.started`` is set."""
    if ckpt.started is not None:
        state = {**state, "train_seconds": time.time() - ckpt.started}
    with atomic_output(ckpt.path) as tmp:
        torch.save(state, tmp)


def remove(ckpt: CnnCheckpoint) -> None:
    """Delete the checkpoint (the run is finished), and its folder when that is left empty."""
    ckpt.path.unlink(missing_ok=True)
    try:
        ckpt.path.parent.rmdir()
    except OSError:  # other files there, or already gone
        pass
