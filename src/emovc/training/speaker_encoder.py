"""GE2E speaker-encoder training (Wan et al., 2018) with PyTorch Lightning.

Every step draws ``speakers`` × ``utterances`` random 1.6 s partials (160 mel frames) and
minimises the GE2E softmax loss with learnable similarity scale/offset ``w, b`` (their
gradients scaled by 0.01 and the global gradient norm clipped at 3, as in the paper).
Validation reports the speaker-verification EER on held-out speakers.

For users with GPUs and corpora (LibriSpeech, VoxCeleb, VCTK layouts via emovc.data catalogs)::

    cfg = build_config("/data/LibriSpeech/train-other-500", "runs/ge2e", init="resemblyzer")
    train(cfg)   # → runs/ge2e/model.pt (kind "speaker-encoder/ge2e")

The command line runs the same: ``emovc train-voice encoder DATA_DIR -o RUN_DIR``.

The settings (:class:`GE2ETrainConfig`, :func:`build_config`, :func:`check_config`) are in
:mod:`~emovc.training.speaker_encoder_config`, the corpus (the speaker split, validation clips
and cached mels: :func:`load_corpus`) in :mod:`~emovc.training.speaker_encoder_data`; both are
importable from here. This module draws the batches (:class:`PartialSampler`), steps the
loss (:class:`GE2EModule`) and runs the training (:func:`train`).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import lightning as L
import numpy as np
import torch

from emovc.errors import EmovcError
from emovc.models.checkpoint import save_checkpoint_if_changed
from emovc.models.speaker_encoder import GE2E, GE2EConfig, ge2e_loss
from emovc.training.common import record_corpus_layout, seed_torch, step_rng, use_threads
from emovc.training.devices import check_run_devices
from emovc.training.speaker_encoder_config import (  # noqa: F401 — re-exported
    ENCODER_KEYS,
    KIND,
    MODEL_KEYS,
    RANGES,
    RENAMED,
    WHAT,
    GE2ETrainConfig,
    build_config,
    check_config,
    check_renamed,
)
from emovc.training.speaker_encoder_data import (  # noqa: F401 — re-exported
    CACHE_VERSION,
    VAL_CLIPS,
    cache_settings,
    corpus_split,
    load_corpus,
    split_speakers,
    validation_set,
)


class PartialSampler:
    """Draws ``(speakers · utterances, frames, n_mels)`` batches of random mel crops.

    Args:
        mels: speaker → list of ``(T_i, n_mels)`` mel arrays (``T_i >= frames`` preferred;
            shorter ones are zero-padded).
        speakers: speakers per batch (≤ number of speakers).
        utterances: crops per speaker (drawn with replacement when a speaker has fewer clips).
        frames: crop length in frames.
        seed: base seed of the per-step generators (:meth:`rng`).
    """

    def __init__(self, mels: dict[str, list[np.ndarray]], speakers: int, utterances: int,
                 frames: int, seed: int = 0) -> None:
        if len(mels) < 2 or speakers < 2 or utterances < 2:
            raise EmovcError("GE2E training needs >= 2 speakers and >= 2 utterances per batch")
        self.mels, self.frames = mels, frames
        self.names = sorted(mels)
        self.speakers, self.utterances = min(speakers, len(self.names)), utterances
        self.seed = seed

    def rng(self, step: int, rank: int = 0) -> np.random.Generator:
        """Generator of training step ``step`` on process ``rank`` (its own batches on each of
        ``devices=N``; :func:`~emovc.training.common.step_rng`)."""
        return step_rng(self.seed, step, rank)

    def _crop(self, m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if len(m) < self.frames:
            return np.pad(m, ((0, self.frames - len(m)), (0, 0)))
        a = int(rng.integers(0, len(m) - self.frames + 1))
        return m[a: a + self.frames]

    def sample(self, rng: np.random.Generator) -> torch.Tensor:
        """One batch drawn with ``rng``: speaker by speaker, ``utterances`` crops each."""
        chosen = rng.choice(len(self.names), self.speakers, replace=False)
        crops = []
        for i in chosen:
            clips = self.mels[self.names[i]]
            picks = rng.choice(len(clips), self.utterances, replace=len(clips) < self.utterances)
            crops += [self._crop(clips[j], rng) for j in picks]
        return torch.from_numpy(np.stack(crops).astype(np.float32))


class GE2EModule(L.LightningModule):
    """Lightning wrapper: GE2E loss on sampler batches (each step's from ``(seed, global
    step, rank)`` alone: a resumed run trains on what an uninterrupted one does, each of
    ``devices=N`` processes on its own batch), EER on validation utterances."""

    def __init__(self, model: GE2E, sampler: PartialSampler, lr: float,
                 val: tuple[list[np.ndarray], list[str]] | None = None) -> None:
        super().__init__()
        self.model, self.sampler, self.lr, self.val = model, sampler, lr, val
        self.train_seconds = 0.0

    def training_step(self, batch, batch_idx):
        rng = self.sampler.rng(self.global_step, self.global_rank)
        seed_torch(rng)
        x = self.sampler.sample(rng).to(self.device)
        s, u = self.sampler.speakers, self.sampler.utterances
        emb = self.model(x).view(s, u, -1)
        loss = ge2e_loss(emb, self.model.similarity_weight, self.model.similarity_bias)
        self.log("train/ge2e", loss, prog_bar=True, batch_size=1)
        return loss

    def on_after_backward(self) -> None:
        for p in (self.model.similarity_weight, self.model.similarity_bias):
            if p.grad is not None:
                p.grad *= 0.01

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None,
                                    gradient_clip_algorithm=None):
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 3.0)

    def validation_step(self, batch, batch_idx):
        if not self.val:
            return
        from emovc.models.speaker_encoder import embed_utterance
        from emovc.models.speaker_encoder.verification import equal_error_rate

        wavs, labels = self.val
        emb = np.stack([embed_utterance(self.model, w) for w in wavs])
        self.log("val/eer", equal_error_rate(emb, labels).eer, prog_bar=True, batch_size=1)

    def configure_optimizers(self):
        return torch.optim.Adam(self.model.parameters(), lr=self.lr)


def train(cfg: GE2ETrainConfig, resume: bool = True,
          data: tuple[dict[str, list[np.ndarray]], list, list] | None = None,
          cli: bool = False) -> Path:
    """Train and export ``run_dir/model.pt``; returns its path. ``data`` (what
    :func:`load_corpus` returns) skips corpus loading (tests); ``cli``: run-folder messages
    name the command line's options (``emovc train-voice``).

    Raises:
        ConfigError: a setting out of its range (:func:`check_config`), an unknown ``init``,
            or a ``run_dir`` that cannot take this run (another run's, or one that has
            trained more than ``max_steps``; :func:`~emovc.training.run_dir.claim_run_dir`),
            all found before any corpus work; a run resumed from its checkpoint on other
            clips than it recorded in ``clips.json`` (:func:`~emovc.training.run_dir.
            check_resumed_clips`), before the corpus is preprocessed.
    """
    from emovc.pipelines.speaker import SpeakerEncoder
    from emovc.training.common import fit
    from emovc.training.run_clips import ClipList
    from emovc.training.run_dir import check_resumed_clips, claim_run_dir

    check_config(cfg)
    check_run_devices(cfg, cli)  # before any work
    if resume:
        check_renamed(Path(cfg.run_dir), cli)
    # early: a folder that cannot take this run fails before the corpus is preprocessed
    settings = record_corpus_layout(asdict(cfg), resume)  # auto: the layout detected
    claim_run_dir(cfg.run_dir, settings, resume, clear=False, cli=cli, kind=KIND)
    use_threads(cfg.threads)  # the corpus preprocessing's torch too, not only the fit's
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    model = (SpeakerEncoder.from_pretrained(cfg.init).model if cfg.init
             else GE2E(GE2EConfig(**cfg.model)))
    clips = None
    if data is None:  # the batches index these lists: a resumed run must read the same clips
        split = corpus_split(cfg)
        clips = ClipList(cfg.data_dir, {name: [u.path for u in utts]
                                        for name, utts in zip(("train", "val"), split,
                                                              strict=True)})
        check_resumed_clips(cfg.run_dir, clips, resume, cli)
        data = load_corpus(cfg, split=split)
    mels, val_wavs, val_labels = data
    sampler = PartialSampler(mels, cfg.speakers, cfg.utterances, model.cfg.partial_frames,
                             cfg.seed)
    module = GE2EModule(model.train(), sampler, cfg.lr, validation_set(val_wavs, val_labels))
    root = fit(module, settings, cfg.run_dir, cfg.max_steps, cfg.devices, ckpt_every=cfg.ckpt_every,
               val_every=1000, resume=resume, threads=cfg.threads, cli=cli,
               ckpt_minutes=cfg.ckpt_minutes, clips=clips, accelerator=cfg.accelerator)
    # a finished run exported again keeps its model.pt: its SHA-256 names it to the
    # synthesizer runs trained on it (encoder_sha256)
    return save_checkpoint_if_changed(root / "model.pt", kind=KIND, config=model.cfg.to_dict(),
                                      state_dict=model.state_dict(),
                                      extra={"train": asdict(cfg), "steps": cfg.max_steps},
                                      ignore=("train",))
