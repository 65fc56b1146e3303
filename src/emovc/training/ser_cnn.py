"""Training loop of the SER log-mel CNN (CPU-friendly: minutes for RAVDESS).

Regularisation for a small corpus: random crops, SpecAugment (frequency and time masks),
mixup, label smoothing, and optional WORLD-resynthesised copies of each training clip
(drawn instead of the original with probability ``world_prob``) so that vocoder artefacts
carry no emotion. With a :class:`~emovc.training.ser_checkpoint.CnnCheckpoint` the fit saves
its state after every epoch and resumes from it exactly.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from emovc.models.ser.cnn import CnnConfig, EmotionCNN
from emovc.models.ser.model import MelCnn
from emovc.training.ser_checkpoint import (
    CnnCheckpoint,
    check_identity,
    data_fingerprint,
    read_state,
    save_state,
)


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


def mel_stats(mels: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-band mean and std ``(n_mels,)`` over all frames of ``(n_mels, T_i)`` log-mels."""
    cat = np.concatenate([np.asarray(m, np.float32) for m in mels], axis=1)
    return cat.mean(axis=1), np.maximum(cat.std(axis=1), 1e-3)


def _batch(mels: list[np.ndarray], crop: int, rng: np.random.Generator
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Random crops of normalised log-mels, zero-padded: ``(B, n_mels, T)``, lengths ``(B,)``."""
    crops = []
    for m in mels:
        start = int(rng.integers(0, m.shape[1] - crop + 1)) if m.shape[1] > crop else 0
        crops.append(m[:, start:start + crop])
    t = max(c.shape[1] for c in crops)
    x = np.zeros((len(crops), crops[0].shape[0], t), np.float32)
    for i, c in enumerate(crops):
        x[i, :, :c.shape[1]] = c
    return torch.from_numpy(x), torch.tensor([c.shape[1] for c in crops])


def _spec_augment(x: torch.Tensor, cfg: CnnTrainConfig, rng: np.random.Generator) -> None:
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


def train_cnn(mels: list[np.ndarray], labels: np.ndarray, n_classes: int,
              world_mels: list[np.ndarray] | None = None,
              net_cfg: CnnConfig | None = None, cfg: CnnTrainConfig = CnnTrainConfig(),
              progress: bool = True, checkpoint: CnnCheckpoint | None = None) -> MelCnn:
    """Train an :class:`EmotionCNN` on log-mels.

    Args:
        mels: training log-mels ``(n_mels, T_i)``.
        labels: class indices ``(N,)``.
        n_classes: size of the label set.
        world_mels: log-mels of the WORLD-resynthesised clips, parallel to ``mels``
            (``None`` disables vocoder augmentation).
        net_cfg: architecture (``n_classes``/``n_mels`` are filled in).
        cfg: optimisation settings.
        progress: show a tqdm bar over epochs.
        checkpoint: save the fit's state there after every epoch and, when
            ``checkpoint.resume``, continue from a state saved there: the result is the
            model of an uninterrupted fit (``None``: no checkpoints).

    Raises:
        ConfigError: the checkpoint to resume from is of another fit (other settings or
            other clips) or cannot be read.
    """
    from tqdm import tqdm

    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    mean, std = mel_stats(mels)
    norm = [(np.asarray(m, np.float32) - mean[:, None]) / std[:, None] for m in mels]
    wnorm = None if world_mels is None else [
        (np.asarray(m, np.float32) - mean[:, None]) / std[:, None] for m in world_mels]
    base = net_cfg or CnnConfig()
    net_config = CnnConfig.from_dict({**base.to_dict(), "n_classes": n_classes,
                                      "n_mels": mels[0].shape[0]})
    net = EmotionCNN(net_config)
    steps = cfg.epochs * int(np.ceil(len(norm) / cfg.batch_size))
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
    identity, start = None, 0
    if checkpoint is not None:
        identity = {"settings": fit_settings(net_config, cfg, checkpoint.settings),
                    "data": data_fingerprint(labels, mels, world_mels)}
        state = read_state(checkpoint)
        if state is not None:
            check_identity(checkpoint, state["identity"], identity)
            start = _restore(state, net, opt, sched, rng)
            if progress:
                tqdm.write(f"resuming the CNN fit after epoch {start}/{cfg.epochs} "
                           f"({checkpoint.path})", file=sys.stderr)
    y_all = torch.as_tensor(labels, dtype=torch.long)
    bar = tqdm(range(start, cfg.epochs), desc="cnn", unit="epoch", disable=not progress,
               initial=start, total=cfg.epochs)
    for epoch in bar:
        net.train()
        order, losses = rng.permutation(len(norm)), []
        for s in range(0, len(order), cfg.batch_size):
            idx = order[s:s + cfg.batch_size]
            use_w = wnorm is not None and cfg.world_prob > 0
            src = [wnorm[i] if use_w and rng.random() < cfg.world_prob else norm[i] for i in idx]
            x, lengths = _batch(src, cfg.crop_frames, rng)
            _spec_augment(x, cfg, rng)
            target = F.one_hot(y_all[idx], n_classes).float()
            target = target * (1 - cfg.label_smoothing) + cfg.label_smoothing / n_classes
            if cfg.mixup_alpha > 0:
                lam = float(rng.beta(cfg.mixup_alpha, cfg.mixup_alpha))
                perm = torch.from_numpy(rng.permutation(len(idx)))
                x = lam * x + (1 - lam) * x[perm]
                target = lam * target + (1 - lam) * target[perm]
                lengths = torch.maximum(lengths, lengths[perm])
            loss = torch.sum(-target * F.log_softmax(net(x, lengths), -1), -1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
        bar.set_postfix(loss=f"{np.mean(losses):.3f}")
        if checkpoint is not None:
            save_state(checkpoint, {
                "identity": identity, "epoch": epoch + 1, "net": net.state_dict(),
                "opt": opt.state_dict(), "sched": sched.state_dict(),
                "numpy_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state()})
    net.eval()
    return MelCnn(net, mean, std)


def fit_settings(net: CnnConfig, cfg: CnnTrainConfig, settings: dict) -> dict:
    """The settings a checkpoint of this fit is identified by: ``settings`` (a run's,
    :func:`~emovc.training.ser_checkpoint.run_settings`, which hold its ``net.*`` and
    ``cnn.*`` settings), completed by the fit's own architecture and optimisation settings
    where they lack them (a fit used by itself) — less ``cnn.threads``, which does not
    change what is learned, and ``n_classes``/``n_mels``, which the data's fingerprint
    covers."""
    own = {f"net.{k}": v for k, v in net.to_dict().items() if k not in ("n_classes", "n_mels")}
    own.update({f"cnn.{k}": v for k, v in asdict(cfg).items() if k != "threads"})
    return {**own, **settings}


def _restore(state: dict, net: EmotionCNN, opt: torch.optim.Optimizer,
             sched: torch.optim.lr_scheduler.LRScheduler, rng: np.random.Generator) -> int:
    """Load a checkpoint's states into the fit's objects; returns the epochs it had done."""
    net.load_state_dict(state["net"])
    opt.load_state_dict(state["opt"])
    sched.load_state_dict(state["sched"])
    rng.bit_generator.state = state["numpy_rng"]
    torch.set_rng_state(state["torch_rng"])
    return int(state["epoch"])
