"""Training of the many-to-many (StarGAN-VC2-style) emotion converter.

Per step (batch of ``B`` segments of ``segment`` frames, features normalised per utterance):

- source segments ``x`` with emotions ``s`` and targets ``t`` drawn at random; on parallel
  corpora ``x`` and the real target take ``y`` of the same speaker/sentence/intensity/repetition
  are drawn together and ``y`` is warped onto ``x`` by DTW;
- discriminator (conditional projection, least squares): real segments of emotion ``t`` vs
  ``G(x, t)``; classifier: cross entropy on real segments only (natural speech);
- generator: adversarial + ``w_cls`` · CE(C(G(x, t)), t) + ``w_cyc`` · |G(G(x, t), s) - x|
  + ``w_id`` · |G(x, s) - x| + ``w_pair`` · |G(x, t) - y| (the aligned loss exploits the parallel
  recordings; set ``w_pair = 0`` for a purely non-parallel StarGAN-VC). With ``same_prob`` of
  the pairs drawn with ``t = s`` (``y = x``) the aligned loss already contains the identity
  loss, so the separate identity pass is off by default (``w_id = 0``) to save compute.

``w_gv`` · GV adds a global-variance loss: the spread over voiced frames of each of the first
``gv_channels`` channels of ``G(x, t)`` (0 = all) must match the aligned real take's. A
classifier on the c0-c4 trajectory (below) otherwise exaggerates the energy and tilt swings
(m2m-ravdess fine-tuned on it: c0 spread 3.1 where real disgust takes have 2.2), which costs
speaker similarity. Off by default: no weight tried moved every benchmark target the right way
(docs/conversion-experiments.md, "Where the speaker goes, and a global-variance constraint").

``w_spk`` · SPK adds a speaker-consistency loss: ``1 - cos`` between GE2E (resemblyzer)
embeddings of ``G(x, t)`` and ``x``, through a differentiable proxy of their mel spectrograms
(:mod:`emovc.training.speaker_loss`). Off by default.

``cls_channels`` (0 = all) restricts the classifier to the first N feature channels. With 5 it
judges only the frame-by-frame trajectory of c0-c4 (energy and coarse spectral tilt), which
carries emotions like disgust that the aligned L1 loss averages away
(docs/conversion-experiments.md, "Why disgust stayed at 0 %").

Fine-tuning one emotion (``focus_emotion``, with ``init_from``): a share ``focus_prob`` of the
pairs is drawn with that emotion as the target; with ``distill_others`` the pairs aimed at any
other emotion are pulled to the *initial* generator's output (a frozen copy, the teacher)
instead of the real take, and the classification loss covers the focus pairs only — the other
emotions stay close to what they were while the focus emotion learns. ``m2m-ravdess`` was
fine-tuned so for disgust, which the aligned loss alone never learned
(docs/conversion-experiments.md, "Fine-tunes aimed at disgust").

Merging such fine-tunes (``teachers``, ``{emotion: model}``): the pairs aimed at each listed
emotion are pulled to that model's output (a frozen generator of the same architecture, e.g.
a run fine-tuned for that emotion) instead of the real take, and left out of the
classification loss; with ``distill_others`` the remaining emotions are pulled to the initial
generator. One generator then carries what several single-emotion fine-tunes learned, each of
which drifts on the emotions it did not focus on (docs/conversion-experiments.md, "One
fine-tune per emotion, merged into one generator").
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import torch

from emovc.data.emotions import emotion_list
from emovc.errors import ConfigError
from emovc.features.world import WorldConfig
from emovc.models.conversion.networks import EmotionClassifier, ProjectionDiscriminator
from emovc.models.conversion.stargan import StarGANGenerator, StarGANModelConfig
from emovc.training import losses
from emovc.training.common import (
    fit,
    prepare_features,
    record_corpus_layout,
    to_tensor,
)
from emovc.training.datamodule import ConversionData, SegmentSampler
from emovc.training.devices import check_run_devices
from emovc.training.run_clips import ClipList
from emovc.training.run_dir import FREE, SPEAKER_KEYS, claim_run_dir, last_checkpoint
from emovc.training.speaker_loss import SpeakerProxy
from emovc.training.stargan_config import StarGANTrainConfig, build_config, config_dict
from emovc.training.stargan_weights import (
    KIND,
    export,
    init_weights,
    load_generator,
)
from emovc.training.validation_audio import (
    warn_if_validating_on_training,
    write_validation_audio,
)

__all__ = ["StarGANModule", "StarGANTrainConfig", "build_config", "config_dict", "init_weights",
           "load_generator", "train"]


def _leading_channels(name: str, value: int, n_out: int) -> int:
    """How many leading feature channels a ``*_channels`` setting selects (0 = all ``n_out``).

    Checked when the module is built, because ``n_out`` comes from the data.

    Raises:
        ConfigError: ``value`` outside 0..n_out.
    """
    if not 0 <= value <= n_out:
        raise ConfigError(f"{name} must be 0 (all) to {n_out}, got {value}")
    return value or n_out


class StarGANModule(L.LightningModule):
    """Generator + projection discriminator + emotion classifier, manual optimisation."""

    def __init__(self, cfg: StarGANTrainConfig, data: ConversionData):
        super().__init__()
        self.cfg, self.data = cfg, data
        torch.manual_seed(cfg.seed)
        self.model_cfg = StarGANModelConfig(n_feat=data.n_channels, n_emotions=len(cfg.emotions),
                                            **cfg.model)
        m = self.model_cfg
        self.G = StarGANGenerator(m)
        self.G.emo_mean.copy_(torch.from_numpy(data.emotion_means(m.n_out)))
        self.D = ProjectionDiscriminator(m.n_out, m.n_emotions, m.d_width)
        self.n_cls = _leading_channels("cls_channels", cfg.cls_channels, m.n_out)
        self.n_gv = _leading_channels("gv_channels", cfg.gv_channels, m.n_out)
        self.C = EmotionClassifier(self.n_cls, m.n_emotions, m.c_width)
        self.spk = speaker_proxy(data, cfg.world, m.n_out - 1) if cfg.w_spk else None
        self.sampler = SegmentSampler(data, cfg.segment, cfg.batch_size, cfg.seed)
        self.focus = cfg.emotions.index(cfg.focus_emotion) if cfg.focus_emotion else None
        # frozen copy of the initial generator (filled by train() after init_weights, restored
        # from checkpoints on resume); never optimised, never exported
        self.teacher = StarGANGenerator(m).requires_grad_(False) if cfg.distill_others else None
        # frozen per-emotion teachers (filled by train(), checkpointed, never exported)
        self.teachers = torch.nn.ModuleDict(
            {e: StarGANGenerator(m).requires_grad_(False) for e in cfg.teachers})
        self.automatic_optimization = False
        self.train_seconds = 0.0

    def configure_optimizers(self):
        betas = (0.5, 0.999)
        return (torch.optim.Adam(self.G.parameters(), self.cfg.lr_g, betas=betas),
                torch.optim.Adam(self.D.parameters(), self.cfg.lr_d, betas=betas),
                torch.optim.Adam(self.C.parameters(), self.cfg.lr_c, betas=betas))

    def _batch(self, step: int, split: str = "train"):
        rng = self.sampler.rng(step, self.global_rank)
        x, y, s, t = self.sampler.pairs(rng, self.cfg.same_prob, focus=self.focus,
                                        focus_prob=self.cfg.focus_prob)
        real = self.sampler.real(t, rng)
        dev = self.device
        return (to_tensor(x, dev), to_tensor(y, dev), to_tensor(s, dev), to_tensor(t, dev),
                to_tensor(real, dev))

    def training_step(self, batch, batch_idx):
        opt_g, opt_d, opt_c = self.optimizers()
        x, y, s, t, real = self._batch(self.global_step)
        n = self.model_cfg.n_out
        vuv = x[:, n:]
        fake = self.G(x, t, s)
        # discriminator and classifier (natural speech only)
        d_loss = losses.lsgan_d_loss(self.D(real[:, :n], t), self.D(fake.detach(), t))
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.optimizer.step()  # raw step: global_step counts generator updates only
        logits = self.C(real[:, : self.n_cls])
        c_loss = losses.classification_loss(logits, t)
        opt_c.zero_grad()
        self.manual_backward(c_loss)
        opt_c.optimizer.step()
        # generator
        adv = losses.lsgan_g_loss(self.D(fake, t))
        goal, kept = self._goal(x, y[:, :n], s, t)
        cls = losses.classification_loss(self.C(fake[:, : self.n_cls]), t,
                                         None if kept is None else ~kept)
        c = self.cfg
        cyc = losses.masked_l1(self.G(torch.cat([fake, vuv], 1), s, t), x[:, :n])
        idt = losses.masked_l1(self.G(x, s, s), x[:, :n]) if c.w_id else torch.zeros(())
        pair = losses.masked_l1(fake, goal)
        gv = (losses.global_variance_loss(fake[:, : self.n_gv], y[:, : self.n_gv],
                                          vuv * y[:, n:]) if c.w_gv else torch.zeros(()))
        spk = self.spk.loss(fake, x[:, :n], x[:, n]) if self.spk is not None else torch.zeros(())
        g_loss = (c.w_adv * adv + c.w_cls * cls + c.w_cyc * cyc + c.w_id * idt
                  + c.w_pair * pair + c.w_gv * gv + c.w_spk * spk)
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.log_dict({"loss/d": d_loss, "loss/c": c_loss, "loss/g_adv": adv, "loss/g_cls": cls,
                       "loss/cyc": cyc, "loss/id": idt, "loss/pair": pair, "loss/gv": gv,
                       "loss/spk": spk, "acc/c_real": losses.accuracy(logits, t)}, batch_size=1)
        self.log_dict({"g": g_loss, "d": d_loss}, prog_bar=True, batch_size=1)  # progress lines
        return g_loss

    @torch.no_grad()
    def _goal(self, x, y, s, t) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Aligned-loss target ``(B, n_out, T)`` and the ``(B,)`` bool mask of pairs pulled to
        a teacher instead of the real take ``y`` (``None`` when no teacher is set).

        A pair aimed at an emotion in ``teachers`` gets that teacher's output; with
        ``distill_others`` a pair aimed at any other emotion except the focus one gets the
        initial generator's. Each teacher runs on the whole batch and its rows are selected
        afterwards: a forward pass over a sub-batch rounds differently, and the shipped
        ``m2m-ravdess`` is reproduced bit for bit only this way."""
        if self.teacher is None and not len(self.teachers):
            return y, None
        goal, kept = y, torch.zeros_like(t, dtype=torch.bool)
        for emotion, teacher in self.teachers.items():
            rows = t == self.cfg.emotions.index(emotion)
            if rows.any():
                goal = torch.where(rows[:, None, None], teacher(x, t, s), goal)
                kept |= rows
        if self.teacher is not None:
            rest = ~kept if self.focus is None else ~kept & (t != self.focus)
            if rest.any():
                goal = torch.where(rest[:, None, None], self.teacher(x, t, s), goal)
                kept |= rest
        return goal, kept

    @torch.no_grad()
    def validation_step(self, batch, batch_idx):
        if self.data.val_groups:
            rng = np.random.default_rng([self.cfg.seed, 10**9])
            x, y, s, t = self.sampler.pairs(rng, 0.0, groups=self.data.val_groups)
            x, y, s, t = (to_tensor(a, self.device) for a in (x, y, s, t))
            n = self.model_cfg.n_out
            fake = self.G(x, t, s)
            self.log("val/pair_l1", losses.masked_l1(fake, y[:, :n]), batch_size=1)
            self.log("val/source_l1", losses.masked_l1(x[:, :n], y[:, :n]), batch_size=1)
            self.log("val/cls_acc", losses.accuracy(self.C(fake[:, : self.n_cls]), t),
                     batch_size=1)
        if self.trainer.is_global_zero:  # one process exports and renders (DDP: all validate)
            model = export(self, Path(self.cfg.run_dir) / "model.pt")
            write_validation_audio(self, Path(self.cfg.run_dir) / "audio", model)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["train_seconds"] = self.train_seconds
        checkpoint["emotions"] = list(self.cfg.emotions)  # read by another run's init_from

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.train_seconds = float(checkpoint.get("train_seconds", 0.0))


def speaker_proxy(data: ConversionData, world: dict, dim: int) -> SpeakerProxy:
    """Speaker-consistency proxy for features of ``data``: the bundled GE2E weights, decoded
    around the average training speaker (mean envelope and log-F0 statistics)."""
    from emovc.pipelines.speaker import SpeakerEncoder

    norm = data.normalizer
    spk = [norm.speaker_stats(u.stats, u.row.emotion) for u in data.train]
    ref = np.mean([s.mcep_mean[:dim] for s in spk], 0)
    lf0 = (float(np.mean([s.lf0_mean for s in spk])), float(np.mean([s.lf0_std for s in spk])))
    return SpeakerProxy(SpeakerEncoder.from_pretrained().model, WorldConfig.from_dict(world),
                        norm.mcep_std[:dim], ref, lf0)


def train(cfg: StarGANTrainConfig, resume: bool = True, cli: bool = False) -> Path:
    """Train (or resume) and return the final ``RUN_DIR/model.pt``.

    ``resume=False`` starts afresh, removing an earlier run's outputs from ``cfg.run_dir``.
    ``cli`` false (Python callers): run-folder refusals name ``run_dir`` and ``resume=False``;
    ``emovc train`` passes true: they name ``-o`` and ``--force``
    (:func:`~emovc.training.run_dir.claim_run_dir`).

    Raises:
        ConfigError: ``cfg.emotions`` is not a list of 2 or more distinct emotions
            (:func:`~emovc.data.emotions.emotion_list`; a config built without
            :func:`build_config`), ``cfg.run_dir`` holds another run and ``resume`` is true
            (see :func:`~emovc.training.run_dir.claim_run_dir`), or a run trained on other
            clips than the corpus holds now (:func:`~emovc.training.run_clips.check_clips`).
    """
    check_run_devices(cfg, cli)  # before any work
    cfg.emotions = emotion_list(cfg.emotions)  # also for a config made in Python
    settings = record_corpus_layout(config_dict(cfg), resume)  # auto: the layout detected
    claim_run_dir(cfg.run_dir, settings, resume, (*FREE, *SPEAKER_KEYS),
                  clear=False, cli=cli, kind=KIND)  # early: fail fast, clear once data is read
    folder, tr, va = prepare_features(cfg.data_dir, cfg.cache_dir, cfg.world, cfg.train_speakers,
                                      cfg.val_speakers, cfg.workers, cfg.corpus)
    cfg.train_speakers, cfg.val_speakers = tr, va
    warn_if_validating_on_training(tr, va, "train_speakers", "val_speakers", stacklevel=2)
    settings = {**settings, "train_speakers": tr, "val_speakers": va}
    data = ConversionData(folder, cfg.emotions, tr, va, cfg.world["frame_period"])
    module = StarGANModule(cfg, data)
    if not resume or last_checkpoint(cfg.run_dir) is None:  # a resumed run restores them
        for emotion, path in cfg.teachers.items():
            load_generator(module.teachers[emotion], path, cfg.emotions)
        if cfg.init_from:
            init_weights(module, cfg.init_from)
            if module.teacher is not None:
                module.teacher.load_state_dict(module.G.state_dict())
    fit(module, settings, cfg.run_dir, cfg.max_steps, cfg.devices, cfg.ckpt_every, cfg.val_every,
        resume, cfg.threads, cfg.keep_checkpoints, cli=cli, accelerator=cfg.accelerator,
        clips=ClipList(cfg.data_dir, data.clip_paths()), ckpt_minutes=cfg.ckpt_minutes)
    return export(module, Path(cfg.run_dir) / "model.pt")
