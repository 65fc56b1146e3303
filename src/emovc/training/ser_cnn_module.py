"""The Lightning module of the SER CNN fit (:func:`~emovc.training.ser_cnn.train_cnn`).

Every batch comes from one numpy Generator, drawn in the order the fit has always drawn it
(the shipped ``ser-ravdess`` model was trained so; tests/ser/test_ser_cnn_lightning.py keeps
the two bit-identical on the CPU): each epoch a permutation of the clips; per batch of
``batch_size`` of them, for each clip whether its WORLD copy is used, then the random crops,
the SpecAugment masks, the mixup weight and pairing. The generator's state (and torch's, for
the dropout masks: the CPU's and that of the fit's CUDA or MPS device) is saved in the
Lightning checkpoint and restored from it, so a resumed fit trains what an uninterrupted one
does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F

from emovc.models.ser.cnn import EmotionCNN

if TYPE_CHECKING:
    from emovc.training.ser_cnn import CnnTrainConfig


def crop_batch(mels: list[np.ndarray], crop: int, rng: np.random.Generator
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ``crop``-frame crops of normalised log-mels ``(n_mels, T_i)`` (a shorter one
    whole), zero-padded: ``(B, n_mels, T)`` and the valid frames ``(B,)``."""
    crops = []
    for m in mels:
        start = int(rng.integers(0, m.shape[1] - crop + 1)) if m.shape[1] > crop else 0
        crops.append(m[:, start:start + crop])
    t = max(c.shape[1] for c in crops)
    x = np.zeros((len(crops), crops[0].shape[0], t), np.float32)
    for i, c in enumerate(crops):
        x[i, :, :c.shape[1]] = c
    return torch.from_numpy(x), torch.tensor([c.shape[1] for c in crops])


def spec_augment(x: torch.Tensor, cfg: CnnTrainConfig, rng: np.random.Generator) -> None:
    """In-place frequency/time masking (to 0 = the band mean) of ``x (B, n_mels, T)``."""
    b, f, t = x.shape
    for i in range(b):
        for _ in range(cfg.freq_masks):
            w = int(rng.integers(0, cfg.freq_mask_width + 1))
            f0 = int(rng.integers(0, max(1, f - w)))
            x[i, f0:f0 + w] = 0.0
        for _ in range(cfg.time_masks):
            w = int(rng.integers(0, cfg.time_mask_width + 1))
            t0 = int(rng.integers(0, max(1, t - w)))
            x[i, :, t0:t0 + w] = 0.0


def draw_batch(idx: np.ndarray, norm: list[np.ndarray], wnorm: list[np.ndarray] | None,
               labels: torch.Tensor, n_classes: int, cfg: CnnTrainConfig,
               rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The training batch of clips ``idx (B,)``: each clip's WORLD copy (``wnorm``) drawn
    with probability ``world_prob``, random crops, SpecAugment, label-smoothed one-hot
    targets, mixup. Returns log-mels ``(B, n_mels, T)``, valid frames ``(B,)`` and soft
    targets ``(B, n_classes)``, on the CPU."""
    use_w = wnorm is not None and cfg.world_prob > 0
    src = [wnorm[i] if use_w and rng.random() < cfg.world_prob else norm[i] for i in idx]
    x, lengths = crop_batch(src, cfg.crop_frames, rng)
    spec_augment(x, cfg, rng)
    target = F.one_hot(labels[idx], n_classes).float()
    target = target * (1 - cfg.label_smoothing) + cfg.label_smoothing / n_classes
    if cfg.mixup_alpha > 0:
        lam = float(rng.beta(cfg.mixup_alpha, cfg.mixup_alpha))
        perm = torch.from_numpy(rng.permutation(len(idx)))
        x = lam * x + (1 - lam) * x[perm]
        target = lam * target + (1 - lam) * target[perm]
        lengths = torch.maximum(lengths, lengths[perm])
    return x, lengths, target


def shard(rows: int, world: int, rank: int) -> tuple[np.ndarray | slice, float | None]:
    """The rows of a ``rows``-clip batch process ``rank`` of ``world`` trains on, and the
    weight of their summed loss (``None``: one process, which takes the batch's mean loss).
    DDP averages the processes' gradients, so with ``world / rows`` each the average is the
    gradient of the whole batch's mean loss *for the outputs each process computed* — its
    BatchNorm layers normalise with its own rows' statistics, so the model is not the
    one-device one; a process left without rows (a batch smaller than ``world``) runs the
    whole batch with weight 0. (The conversion trainers' ``--devices N`` instead gives each
    process a batch of its own: N times the batch.)"""
    if world == 1:
        return slice(None), None
    part = np.array_split(np.arange(rows), world)[rank]
    return (part, world / rows) if len(part) else (np.arange(rows), 0.0)


class CnnFit(L.LightningModule):
    """The CNN fit: label-smoothed soft cross-entropy with mixup, AdamW and a one-cycle
    learning rate stepped per batch.

    As the other trainers' modules, it draws its batch from the global step: Lightning runs
    one "epoch" of ``epochs * batches`` steps, and step ``s`` is batch ``i = s % batches``
    of the fit's epoch ``s // batches``; its batch 0 draws the epoch's permutation ``order``
    of the clips, and batch ``i`` is clips ``order[i * batch_size:][:batch_size]``, drawn by
    :func:`draw_batch`. A checkpoint is saved after the last batch of each epoch
    (:class:`~emovc.training.ser_checkpoint.EpochCheckpoint`), the step Lightning's resume
    continues from. With ``devices=N`` every process draws every batch (one generator state
    for all) and trains on its share of the rows (:func:`shard`).

    Args:
        net: the network (initialised).
        norm: normalised training log-mels ``(n_mels, T_i)``.
        wnorm: those of their WORLD copies, or ``None``.
        labels: class indices ``(N,)``.
        n_classes: size of the label set.
        cfg: optimisation settings.
        identity: what a checkpoint of this fit is identified by (saved in it).
    """

    def __init__(self, net: EmotionCNN, norm: list[np.ndarray],
                 wnorm: list[np.ndarray] | None, labels: np.ndarray, n_classes: int,
                 cfg: CnnTrainConfig, identity: dict | None = None) -> None:
        super().__init__()
        self.net, self.norm, self.wnorm, self.cfg = net, norm, wnorm, cfg
        self.labels = torch.as_tensor(labels, dtype=torch.long)
        self.n_classes, self.identity = n_classes, identity
        self.rng = np.random.default_rng(cfg.seed)
        self.batches = int(np.ceil(len(norm) / cfg.batch_size))  # per epoch
        self.order = np.arange(len(norm))
        self._device_rng: dict[str, torch.Tensor] = {}  # a resumed fit's, by device type
        self._losses: list[float] = []  # the step losses of the epoch so far

    def on_fit_start(self) -> None:
        """The fit's CPU threads, and a resumed fit's CUDA or MPS generator (once on its
        device; a checkpoint of another device type has none for it)."""
        torch.set_num_threads(self.cfg.threads)  # DDP's processes set their own share
        state = self._device_rng.get(self.device.type)
        if state is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state(state, self.device)
        elif state is not None and self.device.type == "mps":
            torch.mps.set_rng_state(state)

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        """The loss of the global step's batch (``batch``, the loader's step number, is not
        used: a resumed run's loader starts again from 0)."""
        number = self.global_step % self.batches  # the batch's number in its epoch
        if number == 0:
            self.order = self.rng.permutation(len(self.norm))
        start = number * self.cfg.batch_size
        idx = self.order[start:start + self.cfg.batch_size]
        x, lengths, target = draw_batch(idx, self.norm, self.wnorm, self.labels,
                                        self.n_classes, self.cfg, self.rng)
        rows, weight = shard(len(idx), self.trainer.world_size, self.global_rank)
        logits = self.net(x[rows].to(self.device), lengths[rows].to(self.device))
        per_clip = torch.sum(-target[rows].to(self.device) * F.log_softmax(logits, -1), -1)
        loss = per_clip.mean() if weight is None else per_clip.sum() * weight
        self._log(per_clip.detach().mean(), number)
        return loss

    def _log(self, loss: torch.Tensor, number: int) -> None:
        """Log the step's loss (of this process's rows) and learning rate, the fit's epoch
        (``epoch``, from 0: Lightning's own would stay 0) and, after its last batch, the
        epoch's mean step loss (``train/epoch_loss``)."""
        self._losses.append(float(loss))
        self.log("train/loss", loss, prog_bar=True, batch_size=1)
        self.log("train/lr", self.trainer.optimizers[0].param_groups[0]["lr"], batch_size=1)
        self.log("epoch", float(self.global_step // self.batches), batch_size=1)
        if number == self.batches - 1:
            mean, self._losses = float(np.mean(self._losses)), []
            # the bar keeps it; the logger gets it once (self.log would repeat it every step)
            self.log("train/epoch_loss", mean, prog_bar=True, logger=False, batch_size=1)
            if self.logger is not None:
                self.logger.log_metrics({"train/epoch_loss": mean}, step=self.global_step)

    def configure_optimizers(self) -> dict:
        opt = torch.optim.AdamW(self.net.parameters(), lr=self.cfg.lr,
                                weight_decay=self.cfg.weight_decay)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=self.cfg.lr, total_steps=self.cfg.epochs * self.batches)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Add the fit's identity, its finished epochs and the generators' states."""
        checkpoint.update(identity=self.identity, epochs_done=self.global_step // self.batches,
                          numpy_rng=self.rng.bit_generator.state,
                          torch_rng=torch.get_rng_state())
        if self.device.type == "cuda":
            checkpoint["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        elif self.device.type == "mps":  # Lightning saves neither
            checkpoint["mps_rng"] = torch.mps.get_rng_state()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        """Restore the generators' states a checkpoint saved."""
        self.rng.bit_generator.state = checkpoint["numpy_rng"]
        torch.set_rng_state(checkpoint["torch_rng"])
        # set once the module is on its device (on_fit_start)
        self._device_rng = {kind: checkpoint[f"{kind}_rng"] for kind in ("cuda", "mps")
                            if f"{kind}_rng" in checkpoint}
