"""The SER log-mel CNN fit (CPU-friendly: minutes for RAVDESS), run by Lightning.

Regularisation for a small corpus: random crops, SpecAugment (frequency and time masks),
mixup, label smoothing, and optional WORLD-resynthesised copies of each training clip
(drawn instead of the original with probability ``world_prob``) so that vocoder artefacts
carry no emotion. The batches and the optimisation are those of the hand-written loop that
trained the shipped ``ser-ravdess`` model, and on the CPU the fit trains its weights bit for
bit (:mod:`emovc.training.ser_cnn_module`). With a
:class:`~emovc.training.ser_checkpoint.CnnCheckpoint` the fit saves its state after every
epoch and resumes from it exactly; with ``log_dir``, TensorBoard gets its loss and learning
rate.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only
from torch.utils.data import DataLoader

from emovc.models.ser.cnn import CnnConfig, EmotionCNN
from emovc.models.ser.model import MelCnn
from emovc.training.common import _StepRange, exit_if_worker
from emovc.training.devices import ACCELERATORS, check_devices, device_text  # noqa: F401
from emovc.training.progress import progress_callback, quiet_lightning, uses_bar
from emovc.training.ser_checkpoint import (
    AtomicCheckpointIO,
    CnnCheckpoint,
    EpochCheckpoint,
    check_identity,
    check_lightning,
    data_fingerprint,
    epochs_done,
    read_state,
)
from emovc.training.ser_cnn_module import CnnFit


@dataclass(frozen=True)
class CnnTrainConfig:
    """Optimisation settings of the CNN.

    Attributes:
        epochs: passes over the training clips.
        batch_size: clips per step.
        lr: peak AdamW learning rate (one-cycle schedule).
        weight_decay: AdamW weight decay.
        crop_frames: random crop length in frames (10 ms each).
        freq_masks: SpecAugment frequency masks per clip (width ≤ ``freq_mask_width``).
        freq_mask_width: widest frequency mask, mel bands.
        time_masks: SpecAugment time masks per clip (width ≤ ``time_mask_width``).
        time_mask_width: widest time mask, frames.
        mixup_alpha: Beta(α, α) mixup parameter (0 disables mixup).
        label_smoothing: cross-entropy label smoothing.
        world_prob: probability of using a clip's WORLD resynthesis instead of the original.
        threads: torch CPU threads.
        seed: random seed.
        devices: processes the fit runs on (GPUs; without one, CPU processes): each draws
            every batch and trains on its share of the rows (Lightning's DDP).
        accelerator: Lightning's ``"auto"`` (a TPU, else Apple's GPU (``"mps"``), else a
            CUDA GPU torch sees, else the CPU), ``"cpu"``, ``"gpu"``, ``"cuda"`` or
            ``"mps"``; the shipped model's bit-exact recipe is the CPU's.
    """

    epochs: int = 20
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-2
    crop_frames: int = 200
    freq_masks: int = 2
    freq_mask_width: int = 8
    time_masks: int = 2
    time_mask_width: int = 25
    mixup_alpha: float = 0.3
    label_smoothing: float = 0.05
    world_prob: float = 0.5
    threads: int = 2
    seed: int = 0
    devices: int = 1
    accelerator: str = "auto"


RESOURCES = ("threads", "devices", "accelerator")  # how, not what, the fit trains
#: how a user keeps the fit on the CPU (the messages of an accelerator the machine lacks)
CPU_HINT = "--accelerator cpu (Python: cnn.accelerator='cpu') trains on the CPU"


def mel_stats(mels: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-band mean and std ``(n_mels,)`` over all frames of ``(n_mels, T_i)`` log-mels."""
    cat = np.concatenate([np.asarray(m, np.float32) for m in mels], axis=1)
    return cat.mean(axis=1), np.maximum(cat.std(axis=1), 1e-3)


def train_cnn(mels: list[np.ndarray], labels: np.ndarray, n_classes: int,
              world_mels: list[np.ndarray] | None = None,
              net_cfg: CnnConfig | None = None, cfg: CnnTrainConfig = CnnTrainConfig(),
              progress: bool = True, checkpoint: CnnCheckpoint | None = None,
              log_dir: str | Path | None = None, hparams: dict | None = None,
              say_device: bool | None = None) -> MelCnn:
    """Train an :class:`EmotionCNN` on log-mels (a Lightning fit of
    :class:`~emovc.training.ser_cnn_module.CnnFit`), saying on stderr, in one line, where it
    trains (:func:`device_line`) unless told not to.

    Args:
        mels: training log-mels ``(n_mels, T_i)``.
        labels: class indices ``(N,)``.
        n_classes: size of the label set.
        world_mels: log-mels of the WORLD-resynthesised clips, parallel to ``mels``
            (``None`` disables vocoder augmentation).
        net_cfg: architecture (``n_classes``/``n_mels`` are filled in).
        cfg: optimisation settings.
        progress: a live bar on a terminal, progress lines otherwise.
        say_device: print where it trains (``None``: with ``progress``; ``emovc ser train``
            says it also with ``--quiet``, since a fit off the CPU is not the CPU's bit for
            bit).
        checkpoint: save the fit's state there after every epoch and, when
            ``checkpoint.resume``, continue from a state saved there: the result is the
            model of an uninterrupted fit (``None``: no checkpoints).
        log_dir: TensorBoard logs (loss, learning rate, ``hparams.yaml``) go to
            ``log_dir/tb/version_0``, begun afresh when the fit starts from its first epoch
            (``None``: no logs).
        hparams: the settings ``hparams.yaml`` records (a run's resolved config).

    Returns:
        the trained network (on the CPU, in eval mode) with its input statistics.

    Raises:
        ConfigError: an accelerator or device count this machine lacks
            (:func:`~emovc.training.devices.check_devices`); the checkpoint to resume from
            is of another fit (other settings or other clips), of an emovc from before the
            Lightning fit, or cannot be read.
    """
    check_devices(cfg.accelerator, cfg.devices, "CNN devices", CPU_HINT)
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    mean, std = mel_stats(mels)
    norm = [(np.asarray(m, np.float32) - mean[:, None]) / std[:, None] for m in mels]
    wnorm = None if world_mels is None else [
        (np.asarray(m, np.float32) - mean[:, None]) / std[:, None] for m in world_mels]
    base = net_cfg or CnnConfig()
    net_config = CnnConfig.from_dict({**base.to_dict(), "n_classes": n_classes,
                                      "n_mels": mels[0].shape[0]})
    net = EmotionCNN(net_config)
    identity, state = None, None
    if checkpoint is not None:
        identity = {"settings": fit_settings(net_config, cfg, checkpoint.settings),
                    "data": data_fingerprint(labels, mels, world_mels)}
        state = read_state(checkpoint)
        if state is not None:
            check_identity(checkpoint, state["identity"], identity)
            check_lightning(checkpoint, state)
    module = CnnFit(net, norm, wnorm, labels, n_classes, cfg, identity)
    first = rank_zero_only.rank == 0  # DDP's other processes run this command too
    if state is not None and progress and first:
        print(f"resuming the CNN fit after epoch {epochs_done(state)}/{cfg.epochs} "
              f"({checkpoint.path})", file=sys.stderr)
    logs = Path(log_dir) / "tb" / "version_0" if log_dir is not None else None
    if logs is not None and state is None and first:
        shutil.rmtree(logs, ignore_errors=True)  # an earlier fit's, or one stopped in epoch 1
    with quiet_lightning():
        trainer = _trainer(cfg, module.batches, progress, checkpoint, log_dir)
        if first and (progress if say_device is None else say_device):
            print(device_line(trainer), file=sys.stderr)
        if trainer.logger is not None and hparams is not None:
            trainer.logger.log_hyperparams(hparams)
        # step numbers (the module draws each step's batch); the loader's seed is drawn from
        # a generator of its own, not the global one of the dropout masks
        steps = DataLoader(_StepRange(cfg.epochs * module.batches), batch_size=None,
                           generator=torch.Generator())
        try:
            trainer.fit(module, steps, ckpt_path=None if state is None else checkpoint.path,
                        weights_only=True)
        except SystemExit:  # Lightning's exit after a Ctrl-C; the caller says what to do
            if not trainer.interrupted:
                raise
            raise KeyboardInterrupt from None
    exit_if_worker(trainer)
    return MelCnn(net.cpu().eval(), mean, std)


def _trainer(cfg: CnnTrainConfig, batches: int, progress: bool,
             checkpoint: CnnCheckpoint | None, log_dir: str | Path | None) -> L.Trainer:
    """The fit's Trainer: ``cfg.epochs`` epochs of ``batches`` steps on ``cfg.devices``
    (DDP beyond one), every step on every process (no distributed sampler); a checkpoint
    after every epoch (with ``checkpoint``), TensorBoard logs (with ``log_dir``), a progress
    bar on a terminal or progress lines (with ``progress``)."""
    steps = cfg.epochs * batches
    bar = progress_callback(steps) if progress else None
    callbacks: list = [] if bar is None else [bar]
    if checkpoint is not None:
        callbacks.append(EpochCheckpoint(checkpoint.path, batches))
    logger = (TensorBoardLogger(str(log_dir), name="tb", version=0) if log_dir is not None
              else False)
    return L.Trainer(
        max_steps=steps, accelerator=cfg.accelerator,
        devices=cfg.devices, strategy="ddp" if cfg.devices > 1 else "auto",
        use_distributed_sampler=False, logger=logger, callbacks=callbacks,
        plugins=[AtomicCheckpointIO(checkpoint)] if checkpoint is not None else None,
        enable_checkpointing=checkpoint is not None,
        enable_progress_bar=bar is not None and uses_bar(bar),
        enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0,
        log_every_n_steps=1, default_root_dir=log_dir)  # ~600 steps: each one


def device_line(trainer: L.Trainer) -> str:
    """The line that says where the fit trains; off the CPU it adds how to stay on it."""
    where = device_text(trainer)
    if where.startswith("the CPU"):
        return f"training the CNN on {where}"
    return (f"training the CNN on {where}, not bit for bit the CPU's fit (--accelerator cpu, "
            f"in Python cnn.accelerator='cpu', trains on the CPU)")


def fit_settings(net: CnnConfig, cfg: CnnTrainConfig, settings: dict) -> dict:
    """The settings a checkpoint of this fit is identified by: ``settings`` (a run's,
    :func:`~emovc.training.ser_checkpoint.run_settings`, which hold its ``net.*`` and
    ``cnn.*`` settings), completed by the fit's own architecture and optimisation settings
    where they lack them (a fit used by itself) — less ``cnn.threads``, ``cnn.devices`` and
    ``cnn.accelerator``, which a resumed fit may change, and ``n_classes``/``n_mels``, which
    the data's fingerprint covers."""
    own = {f"net.{k}": v for k, v in net.to_dict().items() if k not in ("n_classes", "n_mels")}
    own.update({f"cnn.{k}": v for k, v in asdict(cfg).items() if k not in RESOURCES})
    return {**own, **settings}
