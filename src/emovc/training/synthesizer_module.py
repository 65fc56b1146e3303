"""The synthesizer's Lightning training module: batches of in-memory utterances
(:func:`collate`), the learning-rate schedule (:class:`LRSchedule`) and teacher-forced Tacotron
training with held-out validation (:class:`SynthesizerModule`); used by
:mod:`emovc.training.synthesizer`."""

from __future__ import annotations

from dataclasses import dataclass

import lightning as L
import numpy as np
import torch

from emovc.errors import EmovcError
from emovc.models.synthesizer.tacotron import Tacotron, tacotron_loss
from emovc.training.common import VAL_STEP, seed_torch, step_rng
from emovc.training.sv2tts_diagnostics import SynthesizerDiagnostics
from emovc.training.sv2tts_sample import typical
from emovc.training.synthesizer_data import Utterance


def collate(items: list[Utterance], reduction: int) -> dict[str, torch.Tensor]:
    """Pad a list of utterances into batch tensors (mel length rounded up to ``reduction``)."""
    n_ids = max(len(u.ids) for u in items)
    n_mel = max(len(u.mel) for u in items)
    n_mel += (-n_mel) % reduction
    m = items[0].mel.shape[1]
    ids = torch.zeros(len(items), n_ids, dtype=torch.long)
    mels = torch.zeros(len(items), n_mel, m)
    for i, u in enumerate(items):
        ids[i, : len(u.ids)] = torch.tensor(u.ids)
        mels[i, : len(u.mel)] = torch.from_numpy(u.mel)
        mels[i, len(u.mel):] = float(u.mel.min())  # pad with silence
    return {"ids": ids, "id_lengths": torch.tensor([len(u.ids) for u in items]),
            "speaker": torch.from_numpy(np.stack([u.speaker for u in items]).astype(np.float32)),
            "mels": mels, "mel_lengths": torch.tensor([len(u.mel) for u in items])}


@dataclass(frozen=True)
class LRSchedule:
    """The synthesizer's learning rate at a step: ``lr`` for the first ``decay_start``
    steps, then ``lr · rate ** ((step - decay_start) / decay_steps)``, never below ``minimum``
    — the exponential decay of the open Tacotron 2 recipes (Rayhane Mamah's, which
    Real-Time-Voice-Cloning's synthesizer started from, with these defaults: 1e-3 until step
    40 k, × 0.4 every 40 k steps, down to 1e-5; about 2.6e-5 at step 200 k)."""

    lr: float = 1e-3
    decay_start: int = 40000
    decay_steps: int = 40000
    rate: float = 0.4
    minimum: float = 1e-5

    def factor(self, step: int) -> float:
        """The learning rate at ``step`` over ``lr``."""
        if step <= self.decay_start:
            return 1.0
        decayed = self.rate ** ((step - self.decay_start) / self.decay_steps)
        return max(decayed, min(1.0, self.minimum / self.lr))

    def at(self, step: int) -> float:
        """The learning rate at ``step``."""
        return self.lr * self.factor(step)


class SynthesizerModule(L.LightningModule):
    """Teacher-forced Tacotron training on random batches of in-memory utterances.

    The batch of each step (and its dropout masks) comes from ``(seed, global step, rank)``
    alone (:meth:`rng`): a resumed run trains on exactly what an uninterrupted one does, and
    each of ``devices=N`` processes on its own batch.

    Args:
        model: the synthesizer.
        data: the training utterances.
        batch_size: utterances per step (at most ``len(data)``).
        lr: Adam's learning rate (constant unless ``schedule`` is given).
        seed: base seed of the batches.
        val: held-out utterances: the ``val/`` losses are theirs (none: no ``val/`` loss).
        schedule: the learning rate per step (its ``lr`` replaces ``lr``).
        diagnostics: the images and audio of one held-out utterance (else the first
            training one) at each validation; ``None``: none.
    """

    def __init__(self, model: Tacotron, data: list[Utterance], batch_size: int, lr: float,
                 seed: int = 0, val: list[Utterance] | None = None,
                 schedule: LRSchedule | None = None,
                 diagnostics: SynthesizerDiagnostics | None = None) -> None:
        super().__init__()
        if not data:
            raise EmovcError("no training utterances for the synthesizer")
        self.model, self.data, self.val = model, data, list(val or [])
        self.schedule = schedule or LRSchedule(lr=lr, rate=1.0)
        self.lr = self.schedule.lr
        self.batch_size = min(batch_size, len(data))
        self.seed = seed
        self.diagnostics = diagnostics
        self.train_seconds = 0.0

    def shown(self) -> tuple[str, Utterance]:
        """``(name, utterance)`` the diagnostics show: the held-out utterance whose length is
        nearest the held-out median (a typical one, not a one-word clip), else the first
        training utterance."""
        pool = self.val or self.data[:1]
        i = typical([len(u.mel) for u in pool])
        u = pool[i]
        kind = "val" if self.val else "train"
        return (u.utt_id or f"{kind}{i}"), u

    def rng(self, step: int, rank: int = 0) -> np.random.Generator:
        """Generator of training step ``step`` on process ``rank``
        (:func:`~emovc.training.common.step_rng`)."""
        return step_rng(self.seed, step, rank)

    def _batch(self, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """``batch_size`` distinct utterances drawn with ``rng``, collated on the device."""
        pick = rng.choice(len(self.data), self.batch_size, replace=False)
        b = collate([self.data[i] for i in pick], self.model.cfg.reduction)
        return {k: v.to(self.device) for k, v in b.items()}

    def _loss(self, b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Teacher-forced loss of batch ``b`` and its parts (``mel``, ``stop``)."""
        out = self.model(b["ids"], b["id_lengths"], b["speaker"], b["mels"])
        return tacotron_loss(out, b["mels"], b["mel_lengths"])

    def training_step(self, batch, batch_idx):
        rng = self.rng(self.global_step, self.global_rank)
        seed_torch(rng)
        loss, parts = self._loss(self._batch(rng))
        self.log("train/loss", loss, prog_bar=True, batch_size=1)
        self.log_dict({f"train/{k}": v for k, v in parts.items()}, batch_size=1)
        self.log("train/lr", self.schedule.at(self.global_step), batch_size=1)
        return loss

    @torch.no_grad()
    def validation_step(self, batch, batch_idx):
        """Eval-mode teacher-forced losses of the held-out utterances (``val/loss``,
        ``val/mel``, ``val/stop``: their mean over all of them, in batches of ``batch_size``;
        the pre-net's dropout, on also at inference, seeded the same each time; the global
        generator is left as it was), then (first process) the diagnostics."""
        if self.val:
            with torch.random.fork_rng(devices=self._cuda()):
                seed_torch(self.rng(VAL_STEP))
                totals, n = {"loss": 0.0, "mel": 0.0, "stop": 0.0}, len(self.val)
                for a in range(0, n, self.batch_size):
                    chunk = self.val[a: a + self.batch_size]
                    b = {k: v.to(self.device) for k, v in
                         collate(chunk, self.model.cfg.reduction).items()}
                    loss, parts = self._loss(b)
                    for key, value in (("loss", float(loss)), *parts.items()):
                        totals[key] += value * len(chunk) / n
            self.log("val/loss", totals["loss"], batch_size=1)
            self.log_dict({"val/mel": totals["mel"], "val/stop": totals["stop"]}, batch_size=1)
        if self.diagnostics is not None and self.global_rank == 0:
            self.show()

    def _cuda(self) -> list[int]:
        """The CUDA device whose generator a forked RNG must keep (none on a CPU)."""
        return [self.device.index or 0] if self.device.type == "cuda" else []

    @torch.no_grad()
    def show(self) -> list:
        """Write the diagnostics of the shown utterance (:meth:`shown`): teacher-forced, with
        the pre-net's dropout seeded, the global generator left as it was. Returns the WAV
        files written."""
        name, u = self.shown()
        vocoder = self.diagnostics.vocoder
        if vocoder is not None and next(vocoder.parameters()).device != self.device:
            self.diagnostics.vocoder = vocoder.to(self.device).eval()
        with torch.random.fork_rng(devices=self._cuda()):
            seed_torch(self.rng(VAL_STEP))
            b = {k: v.to(self.device) for k, v in collate([u], self.model.cfg.reduction).items()}
            out = self.model(b["ids"], b["id_lengths"], b["speaker"], b["mels"])
        return self.diagnostics.write(self, name, out, u.mel)

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None,
                                    gradient_clip_algorithm=None):
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.model.parameters(), lr=self.schedule.lr, eps=1e-6,
                               weight_decay=1e-6)
        # a plain function: LambdaLR checkpoints nothing of it (the schedule is the config's)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: self.schedule.factor(step))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
