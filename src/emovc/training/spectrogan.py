"""SpectroGAN training: a 2-D CycleGAN between two emotions on STFT log-magnitude images.

Losses (Zhu et al. 2017, as in the published SpectroGAN): least-squares adversarial on the
PatchGAN maps + ``lambda_cycle`` (10) × L1 cycle consistency + ``lambda_identity`` (5) × L1
identity. Adam (2e-4, β1 0.5), constant learning rate then linear decay to 0 over the last
``1 - decay_from`` of the run. Lightning drives the loop (manual optimisation: one generator
and one discriminator step per batch); batches are drawn from in-memory image banks by a
generator seeded with the iteration number, so ``train(cfg, resume=True)`` continues a run
exactly (weights, optimiser moments, iteration, data order).

Optional paired warm start (``paired_steps > 0``, experimental): RAVDESS is parallel, so for the
first ``paired_steps`` iterations each generator is trained by L1 regression onto the
DTW-aligned take of the other emotion (same actor, sentence, intensity, repetition) before the
CycleGAN losses take over.

Settings (:class:`TrainConfig`, presets, :func:`build_config`) live in
:mod:`emovc.training.spectrogan_config` and are re-exported here; the many-to-many module is
:mod:`emovc.training.spectrogan_m2m`; the run's clips, validation clips and its callback
(:class:`~emovc.training.spectrogan_run.RunCallback`: checkpoints, export, validation audio) are
in :mod:`emovc.training.spectrogan_run`, and ``RunCallback`` is importable from here as before.

Run directory layout::

    run_dir/config.yaml                 resolved TrainConfig
    run_dir/clips.json                  the clips the run reads (a resume must read the same)
    run_dir/checkpoints/last.ckpt       Lightning state (atomic replace), for resuming
    run_dir/model.pt                    emovc checkpoint (generators + stats), for inference
    run_dir/tb/                         tensorboard logs (losses, validation audio)
    run_dir/val_audio/step_XXXXXX/      converted validation clips (wav, as emovc convert)
    run_dir/val_audio/source_NAME.wav   the validation clips unconverted (written once)
"""

from __future__ import annotations

import time
from pathlib import Path

import lightning as L
import torch
import yaml
from torch.nn import functional as F

from emovc.features.stats import FeatureStats
from emovc.fileio import write_atomic
from emovc.models.checkpoint import save_checkpoint
from emovc.models.spectrogan.networks import (
    DiscriminatorConfig,
    Generator,
    GeneratorConfig,
    PatchDiscriminator,
)
from emovc.models.spectrogan.representation import Normalizer, SpecConfig
from emovc.pipelines.spectrogan import KIND, InferenceConfig, SpectroGANConverter
from emovc.training import spectrogan_data as data
from emovc.training.common import (
    device_strategy,
    exit_if_worker,
    fit_or_interrupt,
    say_device,
)
from emovc.training.devices import check_run_devices
from emovc.training.progress import (
    log_interval,
    progress_callback,
    quiet_lightning,
    uses_bar,
)
from emovc.training.run_clips import keep_clips
from emovc.training.run_dir import (
    FORCE_HINT,
    PYTHON_FORCE_HINT,
    claim_run_dir,
    clear_run_outputs,
)
from emovc.training.spectrogan_config import (
    PRESETS,
    TrainConfig,
    build_config,
    check_schedule,
    resume_free,
    scheduled_lr,
)
from emovc.training.spectrogan_run import RunCallback, clip_list, val_wavs

__all__ = ["PRESETS", "TrainConfig", "build_config", "train"]


class GANModule(L.LightningModule):
    """Shared parts of the SpectroGAN modules: iteration count, learning-rate schedule,
    least-squares loss and tensorboard scalars."""

    cfg: TrainConfig

    @property
    def iteration(self) -> int:
        """Completed training iterations (Lightning counts each of the 2 optimiser steps)."""
        return self.trainer.global_step // 2

    def _lr(self, it: int) -> float:
        return scheduled_lr(it, self.cfg.lr, self.cfg.decay_from, self.cfg.max_steps)

    def _set_lr(self, it: int):
        """Both optimisers at the scheduled rate of iteration ``it``; returns them."""
        opts = self.optimizers()
        for opt in opts:
            for group in opt.param_groups:
                group["lr"] = self._lr(it)
        return opts

    @staticmethod
    def _ls(scores: torch.Tensor, real: bool) -> torch.Tensor:
        return F.mse_loss(scores, torch.full_like(scores, 1.0 if real else 0.0))

    def _log(self, it: int, values: dict, shown: dict) -> None:
        """``shown`` (e.g. ``{"g": ..., "d": ...}``) to the progress bar and progress lines;
        ``values`` and the learning rate to TensorBoard every ``log_every`` iterations, or
        more often in a short run (:func:`~emovc.training.progress.log_interval`)."""
        self.log_dict(shown, prog_bar=True, logger=False, batch_size=1)
        tb = getattr(self.logger, "experiment", None)
        every = log_interval(self.cfg.max_steps, self.cfg.log_every)
        if it % every or not self.trainer.is_global_zero or not hasattr(tb, "add_scalar"):
            return
        for key, val in {**values, "lr": self._lr(it)}.items():  # x axis = iterations
            tb.add_scalar(key, float(val.detach()) if torch.is_tensor(val) else val, it)


class SpectroGANModule(GANModule):
    """Two generators and two PatchGAN discriminators trained with manual optimisation."""

    def __init__(self, cfg: TrainConfig, banks: tuple[data.ImageBank, data.ImageBank],
                 pairs: tuple[data.PairBank, data.PairBank] | None = None) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.cfg = cfg
        self.banks = banks
        self.pairs = pairs
        torch.manual_seed(cfg.seed)
        gcfg, dcfg = GeneratorConfig.from_dict(cfg.generator), DiscriminatorConfig.from_dict(
            cfg.discriminator)
        self.g_ab, self.g_ba = Generator(gcfg), Generator(gcfg)
        self.d_a, self.d_b = PatchDiscriminator(dcfg), PatchDiscriminator(dcfg)

    def configure_optimizers(self):
        betas = (self.cfg.beta1, 0.999)
        g_params = list(self.g_ab.parameters()) + list(self.g_ba.parameters())
        d_params = list(self.d_a.parameters()) + list(self.d_b.parameters())
        return (torch.optim.Adam(g_params, lr=self.cfg.lr, betas=betas),
                torch.optim.Adam(d_params, lr=self.cfg.lr, betas=betas))

    def _batch(self, it: int) -> list[torch.Tensor]:
        """``[crops_a, pos_a, crops_b, pos_b]`` of iteration ``it`` (see ImageBank.crops)."""
        rng = data.batch_rng(self.cfg.seed, it, self.global_rank)
        c = self.cfg
        arrays = [x for bank in self.banks
                  for x in bank.crops(rng, c.batch_size, c.crop_frames, c.crop_rows)]
        return [torch.from_numpy(x).to(self.device) for x in arrays]

    def training_step(self, batch, batch_idx):
        it = self.iteration
        opt_g, opt_d = self._set_lr(it)
        cfg = self.cfg
        if it < cfg.paired_steps and self.pairs is not None:
            self._paired_step(it, opt_g, opt_d)
            return
        real_a, pa, real_b, pb = self._batch(it)
        # generators (pa/pb: frequency positions of the crops)
        fake_b, fake_a = self.g_ab(real_a, pa), self.g_ba(real_b, pb)
        adv = self._ls(self.d_b(fake_b, pa), True) + self._ls(self.d_a(fake_a, pb), True)
        cyc = F.l1_loss(self.g_ba(fake_b, pa), real_a) + F.l1_loss(self.g_ab(fake_a, pb), real_b)
        idt = F.l1_loss(self.g_ab(real_b, pb), real_b) + F.l1_loss(self.g_ba(real_a, pa), real_a)
        loss_g = adv + cfg.lambda_cycle * cyc + cfg.lambda_identity * idt
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(loss_g)
        opt_g.step()
        # discriminators
        fake_a, fake_b = fake_a.detach(), fake_b.detach()
        ls = self._ls
        loss_d = 0.5 * (ls(self.d_a(real_a, pa), True) + ls(self.d_a(fake_a, pb), False)
                        + ls(self.d_b(real_b, pb), True) + ls(self.d_b(fake_b, pa), False))
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(loss_d)
        opt_d.step()
        self._log(it, {"loss/g_adv": adv, "loss/cycle": cyc, "loss/identity": idt,
                       "loss/d": loss_d}, {"g": loss_g, "d": loss_d})

    def _paired_step(self, it: int, opt_g, opt_d) -> None:
        """Warm start: L1 regression of each generator onto DTW-aligned parallel takes."""
        rng = data.batch_rng(self.cfg.seed, it, self.global_rank)
        c = self.cfg
        loss = 0.0
        for gen, bank in ((self.g_ab, self.pairs[0]), (self.g_ba, self.pairs[1])):
            x, y, pos = (torch.from_numpy(v).to(self.device)
                         for v in bank.crops(rng, c.batch_size, c.crop_frames, c.crop_rows))
            loss = loss + F.l1_loss(gen(x, pos), y)
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        opt_g.step()
        opt_d.zero_grad(set_to_none=True)
        opt_d.step()  # no gradients: keeps Lightning's two-steps-per-iteration count
        self._log(it, {"loss/paired_l1": loss}, {"g": loss})

    def export(self, stats: FeatureStats, path: Path, extra: dict | None = None) -> Path:
        """Write the inference checkpoint (generators, settings, statistics) atomically."""
        state = {f"g_ab.{k}": v for k, v in self.g_ab.state_dict().items()}
        state.update({f"g_ba.{k}": v for k, v in self.g_ba.state_dict().items()})
        config = {"emotions": [self.cfg.source, self.cfg.target], "spec": self.cfg.spec,
                  "generator": self.cfg.generator, "preset": self.cfg.preset}
        info = {"stats": stats.to_dict(), "inference": self.cfg.inference,
                "iterations": self.iteration, "train": self.cfg.to_dict(), **(extra or {})}
        return save_checkpoint(path, kind=KIND, config=config, state_dict=state, extra=info)

    def converter(self, stats: FeatureStats) -> SpectroGANConverter:
        """Inference view of the current generators (validation audio)."""
        c = self.cfg
        return SpectroGANConverter((c.source, c.target), self.g_ab, self.g_ba,
                                   SpecConfig.from_dict(c.spec), stats,
                                   InferenceConfig(**c.inference))

    def val_targets(self) -> list[str]:
        """Emotions the validation clips (``cfg.source``) are converted to."""
        return [self.cfg.target]


class _Steps(torch.utils.data.Dataset):
    """Placeholder loader items: batches are drawn inside the module from the iteration."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


def _load_banks(cfg: TrainConfig):
    """Image banks of both emotions, statistics and (with ``paired_steps``) parallel pairs,
    of the takes that can be used (:func:`~emovc.training.spectrogan_data.load_emotions`)."""
    spec = SpecConfig.from_dict(cfg.spec)
    mags = data.load_emotions(cfg.data_dir, (cfg.source, cfg.target), cfg.train_actors,
                              spec.sample_rate, lambda wav: data.log_magnitude(wav, spec))
    stats = data.pooled_stats(*[list(m.values()) for m in mags])
    norm = Normalizer(spec, stats)
    images = [{p: norm.to_image(m) for p, m in ms.items()} for ms in mags]
    banks = (data.ImageBank(list(images[0].values())), data.ImageBank(list(images[1].values())))
    pairs = None
    if cfg.paired_steps > 0:
        ab = [(images[0][s], images[1][t])
              for s, t in data.parallel_pairs(cfg.data_dir, cfg.source, cfg.target,
                                              cfg.train_actors)
              if s in images[0] and t in images[1]]
        pairs = (data.PairBank([(x, data.aligned_target(x, y)) for x, y in ab]),
                 data.PairBank([(y, data.aligned_target(y, x)) for x, y in ab]))
    return banks, stats, pairs


def train(cfg: TrainConfig, resume: bool = True, cli: bool = False) -> Path:
    """Train (or resume) a SpectroGAN run; returns ``run_dir/model.pt``.

    ``resume=False`` starts afresh, removing an earlier run's outputs from ``cfg.run_dir``.
    ``cli`` false (Python callers): run-folder refusals name ``run_dir`` and ``resume=False``;
    ``emovc train`` passes true: they name ``-o`` and ``--force``
    (:func:`~emovc.training.run_dir.claim_run_dir`).

    Raises:
        ConfigError: missing data, a run folder holding another run (a different
            configuration, or an unknown ``model.pt``), a ``max_steps`` that changes the
            learning rate of iterations already trained (:func:`check_schedule`), or a run
            trained on other clips than the corpus holds now
            (:func:`~emovc.training.run_clips.check_clips`).
    """
    check_run_devices(cfg, cli)  # before any work
    run = Path(cfg.run_dir)
    cfg_file = run / "config.yaml"
    ckpt = run / "checkpoints" / "last.ckpt"
    done = claim_run_dir(run, cfg.to_dict(), resume, resume_free(cfg), steps_per_iteration=2,
                         clear=False, cli=cli, kind=KIND)
    if done:
        check_schedule(cfg, yaml.safe_load(cfg_file.read_text(encoding="utf-8")), done)
    torch.set_num_threads(cfg.num_threads)
    if cfg.emotions:
        from emovc.training.spectrogan_m2m import M2MSpectroGANModule, load_m2m_data
        module = M2MSpectroGANModule(cfg, *load_m2m_data(cfg))
        stats = module.stats
    else:
        banks, stats, pairs = _load_banks(cfg)
        module = SpectroGANModule(cfg, banks, pairs)
    clips = clip_list(cfg)
    # only now that the data is read: a command failing on its data leaves the folder as it was
    if not resume:
        clear_run_outputs(run)
    keep_clips(run, clips, resume and ckpt.is_file(), FORCE_HINT if cli else PYTHON_FORCE_HINT)
    run.mkdir(parents=True, exist_ok=True)
    write_atomic(cfg_file, yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    ckpt_path = str(ckpt) if resume and ckpt.is_file() else None
    elapsed0 = 0.0
    if ckpt_path:
        state = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        elapsed0 = float(state.get("emovc_train_seconds", 0.0))
    callback = RunCallback(cfg, stats, val_wavs(cfg), time.time(), elapsed0)
    bar = progress_callback(cfg.max_steps, optimizer_steps=2)  # G and D steps count apart
    with quiet_lightning():
        trainer = L.Trainer(
            max_steps=2 * cfg.max_steps, accelerator=cfg.accelerator, devices=cfg.devices,
            strategy=device_strategy(cfg.devices),
            logger=L.pytorch.loggers.TensorBoardLogger(str(run), name="tb", version=0),
            callbacks=[callback, bar], enable_checkpointing=False,
            enable_progress_bar=uses_bar(bar),
            enable_model_summary=False, num_sanity_val_steps=0, log_every_n_steps=1,
            max_epochs=-1, deterministic=False,
        )
        say_device(trainer, cli)
        loader = torch.utils.data.DataLoader(_Steps(max(1, cfg.max_steps)), batch_size=None)
        fit_or_interrupt(trainer, run, module, train_dataloaders=loader, ckpt_path=ckpt_path,
                         ckpt_every=cfg.ckpt_every, ckpt_minutes=cfg.ckpt_minutes,
                         steps_per_iteration=2,
                         weights_only=True)  # its checkpoints hold plain data (see above)
    callback.save(trainer, module)  # every process: saving a Lightning checkpoint is collective
    exit_if_worker(trainer)
    return run / "model.pt"
