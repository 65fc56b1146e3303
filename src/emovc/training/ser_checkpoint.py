"""Checkpoints of the SER CNN fit, so that an interrupted ``emovc ser train`` resumes exactly.

The CNN fit (:func:`~emovc.training.ser_cnn.train_cnn`, a Lightning fit) writes
``RUN_DIR/checkpoints/cnn.ckpt`` after every epoch (:class:`EpochCheckpoint`; atomically:
:class:`AtomicCheckpointIO`): Lightning's checkpoint (network, optimiser, schedule, loop
state) with the fit's random-generator states, the epochs done (``epochs_done``), the seconds
the run has trained (a resumed run's ``train_seconds`` counts every session), and what the fit
depends on (``identity``) — the run's settings (less those that do not change what is learned:
:data:`FREE`) and a fingerprint of its training clips' features. Re-running the same command
resumes from it and trains the model an uninterrupted run trains; a checkpoint of other
settings or other clips is refused (``--force`` starts afresh), and so is one of an emovc from
before the Lightning fit (its state cannot be handed to Lightning). The final ``config.yaml``,
``metrics.json`` and ``model.pt`` are still written only at the end; the checkpoint is removed
once they are.
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
from lightning.pytorch.callbacks import Checkpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

from emovc.data.catalogs import corpus_layout
from emovc.errors import ConfigError
from emovc.fileio import atomic_output
from emovc.training.progress import untimed
from emovc.training.run_dir import changed_settings

CHECKPOINT = Path("checkpoints") / "cnn.ckpt"
# settings a resumed run may change: where the run and cache live, processes, threads and
# devices (another thread count or device trains a slightly different model: torch sums in
# another order)
FREE = ("run_dir", "cache_dir", "workers", "cnn.threads", "cnn.devices", "cnn.accelerator",
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
    if not isinstance(state, dict) or "identity" not in state:
        raise ConfigError(f"{ckpt.path} is not the checkpoint of an emovc CNN fit; {ckpt.hint}")
    return state


def check_lightning(ckpt: CnnCheckpoint, state: dict) -> None:
    """Refuse the checkpoint of an emovc whose CNN fit was a loop of its own (before Lightning):
    its state has no Lightning loop state to resume from.

    Raises:
        ConfigError: one line, with the hint.
    """
    if "loops" not in state or "epochs_done" not in state:
        raise ConfigError(f"{ckpt.path} is the checkpoint of an earlier emovc's CNN fit, which "
                          f"this version cannot resume; {ckpt.hint}")


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
    must be of ``ckpt.settings``, and of this emovc's fit (nothing to check when
    ``ckpt.resume`` is false). Returns the state it holds (``None``: none to resume from)."""
    state = read_state(ckpt)
    if state is not None:
        check_identity(ckpt, state["identity"], {"settings": ckpt.settings})
        check_lightning(ckpt, state)
    return state


def epochs_done(state: dict) -> int:
    """The epochs a saved state of the fit has finished."""
    return int(state["epochs_done"])


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


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer for the fit: :func:`save_state` (atomic, with the
    seconds trained) to ``ckpt.path`` whatever path Lightning names (the fit saves there
    alone: :class:`EpochCheckpoint`)."""

    def __init__(self, ckpt: CnnCheckpoint) -> None:
        super().__init__()
        self.ckpt = ckpt

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        save_state(self.ckpt, checkpoint)


class EpochCheckpoint(Checkpoint):
    """Save the fit's Lightning checkpoint to ``path`` after every ``every``-th training step
    (the last batch of each of the fit's epochs; a resume continues with the next step)."""

    def __init__(self, path: Path, every: int) -> None:
        self.path, self.every = path, every

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step % self.every == 0:
            with untimed(trainer):  # not a training step's time on the progress lines
                trainer.save_checkpoint(self.path, weights_only=False)
