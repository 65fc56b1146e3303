"""Many-to-many SpectroGAN: one target-conditioned generator for all emotions of a corpus.

StarGAN-style version of the SpectroGAN CycleGAN (beyond the published system), trained by
:func:`emovc.training.spectrogan.train` when ``TrainConfig.emotions`` is set (preset ``m2m``).
Per iteration, for a batch of random (source, target) emotion pairs:

- generator: least-squares adversarial loss on the discriminator map of the target emotion,
  ``lambda_cycle`` × L1 cycle (convert to the target and back with the source condition),
  ``lambda_identity`` × L1 identity (convert to the clip's own emotion), and optionally
  ``lambda_paired`` × L1 between the conversion and the DTW-aligned real take of the target
  emotion (RAVDESS is parallel), both average-pooled over ``paired_pool`` frequency bins, so
  the parallel take guides the spectral envelope but not the harmonics;
- discriminator: one PatchGAN map per emotion; real takes of the target emotion → 1,
  conversions → 0 and, with ``lambda_mismatch``, real takes of *another* emotion → 0 on that
  map, so every map has to judge the emotion and not only the realism.

The prosody stage (:mod:`emovc.models.spectrogan.prosody`) is fitted on the same training
clips and stored in the checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from emovc.errors import ConfigError
from emovc.features.stats import FeatureStats
from emovc.features.world import WorldConfig
from emovc.models.checkpoint import save_checkpoint
from emovc.models.spectrogan.networks import (
    DiscriminatorConfig,
    Generator,
    GeneratorConfig,
    PatchDiscriminator,
)
from emovc.models.spectrogan.prosody import ProsodyShift, fit_prosody
from emovc.models.spectrogan.representation import Normalizer, SpecConfig, active_mean
from emovc.pipelines.spectrogan import (
    KIND,
    InferenceConfig,
    SpectroGANConverter,
    average_spectrum_shift,
    with_f0_model,
)
from emovc.training import spectrogan_data as data
from emovc.training.spectrogan import GANModule
from emovc.training.spectrogan_config import TrainConfig


def load_m2m_data(cfg: TrainConfig) -> tuple[data.MultiBank, FeatureStats, ProsodyShift | None]:
    """Images of every emotion (training actors), pooled statistics, DTW maps between parallel
    takes (with ``lambda_paired``) and the fitted prosody stage (with ``prosody``), of the
    takes that can be used (:func:`~emovc.training.spectrogan_data.load_emotions`)."""
    spec, world = SpecConfig.from_dict(cfg.spec), WorldConfig()
    loaded = data.load_emotions(cfg.data_dir, cfg.emotions, cfg.train_actors, spec.sample_rate,
                                lambda wav: data.clip_features(wav, spec, world))
    files = [list(got) for got in loaded]
    clips = [list(got.values()) for got in loaded]
    stats = data.pooled_stats(*[[c[0] for c in cs] for cs in clips])
    norm = Normalizer(spec, stats)
    images = [[norm.to_image(c[0]) for c in cs] for cs in clips]
    groups = [[data.ravdess_group(p) for p in fs] for fs in files]
    bank = data.MultiBank(images, groups, paired=cfg.lambda_paired > 0)
    prosody = None
    if cfg.prosody:
        rows = [(data.ravdess_actor(p), e, c[1], c[2], active_mean(c[0]))
                for e, fs, cs in zip(cfg.emotions, files, clips, strict=True)
                for p, c in zip(fs, cs, strict=True)]
        prosody = ProsodyShift(fit_prosody(rows, cfg.emotions, world.frame_period), world)
    return bank, stats, prosody


class M2MSpectroGANModule(GANModule):
    """One conditional generator ``g`` and one per-emotion PatchGAN ``d`` (manual optimisation).

    Args:
        cfg: run settings (``cfg.emotions`` = condition order).
        bank: training images per emotion (+ parallel maps).
        stats: per-bin log-magnitude statistics of the images.
        prosody: fitted prosody stage exported with the model (or ``None``).
    """

    def __init__(self, cfg: TrainConfig, bank: data.MultiBank, stats: FeatureStats,
                 prosody: ProsodyShift | None) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.cfg, self.bank, self.stats, self.prosody = cfg, bank, stats, prosody
        torch.manual_seed(cfg.seed)
        self.g = Generator(GeneratorConfig.from_dict(cfg.generator))
        self.d = PatchDiscriminator(DiscriminatorConfig.from_dict(cfg.discriminator))
        self.norm = Normalizer(SpecConfig.from_dict(cfg.spec), stats)
        self.inference = {**cfg.inference, "shift_input": bool(cfg.input_shift)}
        self.offsets = self._image_offsets() if cfg.input_shift else None
        # the prosody stage the converter uses (learned F0 model loaded once, checked up front)
        inf = InferenceConfig(**self.inference)
        self._prosody_view = with_f0_model(prosody, inf.f0_model, inf.f0_model_envelope,
                                           inf.f0_model_envelope_strength)

    def _image_offsets(self) -> torch.Tensor:
        """``(E, E, F)`` average-spectrum change from emotion ``s`` to ``t`` in image units
        (``input_shift``; the change the converter adds to its input at conversion time)."""
        cfg, inf = self.cfg, InferenceConfig(**self.cfg.inference)
        if cfg.crop_rows is not None:
            raise ConfigError("input_shift needs full-height crops (crop_rows: null)")
        emos = cfg.emotions
        rows = [[average_spectrum_shift(self.prosody, s, t, inf.spectrum_shift,
                                        inf.spectrum_lifter) for t in emos] for s in emos]
        if rows[0][0] is None:
            raise ConfigError("input_shift needs the prosody stage's spectrum offsets "
                              "(prosody: true)")
        return torch.from_numpy(np.stack([[self.norm.image_offset(d) for d in r]
                                          for r in rows]))

    def _moved(self, x: torch.Tensor, s: torch.Tensor, t: torch.Tensor,
               weights: torch.Tensor | None) -> torch.Tensor:
        """``x`` (``(B, 1, F, T)`` images of emotion ``s``) moved towards emotion ``t`` on the
        speech frames (``weights`` ``(B, T)``); unchanged without ``input_shift``."""
        if self.offsets is None:
            return x
        d = self.offsets.to(x.device)[s, t]  # (B, F)
        return x + d[:, None, :, None] * weights[:, None, None, :]

    def _weights(self, x: np.ndarray) -> torch.Tensor | None:
        """``(B, T)`` speech weights of ``(B, 1, F, T)`` image crops, on the module's device
        (``input_shift`` only)."""
        if self.offsets is None:
            return None
        w = np.stack([self.norm.image_activity(img[0]) for img in x]).astype(np.float32)
        return self._tensors(w)[0]

    def configure_optimizers(self):
        betas = (self.cfg.beta1, 0.999)
        return (torch.optim.Adam(self.g.parameters(), lr=self.cfg.lr, betas=betas),
                torch.optim.Adam(self.d.parameters(), lr=self.cfg.lr, betas=betas))

    def _tensors(self, *arrays: np.ndarray) -> list[torch.Tensor]:
        return [torch.from_numpy(a).to(self.device) for a in arrays]

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        k = max(1, int(self.cfg.paired_pool))
        return F.avg_pool2d(x, (k, 1), stride=(1, 1), padding=(k // 2, 0),
                            count_include_pad=False)

    def training_step(self, batch, batch_idx):
        it = self.iteration
        opt_g, opt_d = self._set_lr(it)
        cfg, n = self.cfg, len(self.cfg.emotions)
        rng = data.batch_rng(cfg.seed, it, self.global_rank)
        b = cfg.batch_size
        s = rng.integers(n, size=b)
        t = (s + 1 + rng.integers(n - 1, size=b)) % n
        x, px = self.bank.crops(rng, s, cfg.crop_frames, cfg.crop_rows)
        y, py = self.bank.crops(rng, t, cfg.crop_frames, cfg.crop_rows)
        w = self._weights(x)
        x, px, y, py, s, t = self._tensors(x, px, y, py, s, t)
        g, d, ls = self.g, self.d, self._ls
        fake = g(self._moved(x, s, t, w), px, t)
        adv = ls(d(fake, px, t), True)
        cyc = F.l1_loss(g(self._moved(fake, t, s, w), px, s), x)
        idt = F.l1_loss(g(x, px, s), x)
        loss_g = adv + cfg.lambda_cycle * cyc + cfg.lambda_identity * idt
        values = {"loss/g_adv": adv, "loss/cycle": cyc, "loss/identity": idt}
        if cfg.lambda_paired > 0 and self.bank.pairs:
            xp, yp, sp_, tp = self.bank.paired_crops(rng, b, cfg.crop_frames)
            wp = self._weights(xp)
            xp, yp, sp_, tp = self._tensors(xp, yp, sp_, tp)
            paired = F.l1_loss(self._pool(g(self._moved(xp, sp_, tp, wp), None, tp)),
                               self._pool(yp))
            loss_g = loss_g + cfg.lambda_paired * paired
            values["loss/paired"] = paired
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(loss_g)
        self._clip(self.g)
        opt_g.step()
        loss_d = 0.5 * (ls(d(y, py, t), True) + ls(d(fake.detach(), px, t), False))
        if cfg.lambda_mismatch > 0:  # a real take of the source emotion is not a target take
            loss_d = loss_d + 0.5 * cfg.lambda_mismatch * ls(d(x, px, t), False)
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(loss_d)
        self._clip(self.d)
        opt_d.step()
        self._log(it, {**values, "loss/d": loss_d}, {"g": loss_g, "d": loss_d})

    def _clip(self, net: torch.nn.Module) -> None:
        """Clip the gradient norm (``grad_clip > 0``): at lr 1e-3 one discriminator spike
        (loss 0.3 -> 17) threw the generator into high-band artefacts (MCD 13.7 dB)."""
        if self.cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(net.parameters(), self.cfg.grad_clip)

    def converter(self, stats: FeatureStats) -> SpectroGANConverter:
        """Inference view of the current generator (validation audio)."""
        c = self.cfg
        return SpectroGANConverter(tuple(c.emotions), self.g, None, SpecConfig.from_dict(c.spec),
                                   stats, InferenceConfig(**self.inference), self._prosody_view)

    def val_targets(self) -> list[str]:
        """Every emotion but the validation clips' own."""
        return [e for e in self.cfg.emotions if e != self.cfg.source]

    def export(self, stats: FeatureStats, path: Path, extra: dict | None = None) -> Path:
        """Write the inference checkpoint (generator, settings, statistics) atomically."""
        state = {f"g.{k}": v for k, v in self.g.state_dict().items()}
        config = {"emotions": list(self.cfg.emotions), "spec": self.cfg.spec,
                  "generator": self.cfg.generator, "preset": self.cfg.preset}
        info = {"stats": stats.to_dict(), "inference": self.inference,
                "iterations": self.iteration, "train": self.cfg.to_dict(), **(extra or {})}
        if self.prosody is not None:
            info["prosody"] = {"normalizer": self.prosody.normalizer.to_dict(),
                               "world": self.prosody.world.to_dict()}
        return save_checkpoint(path, kind=KIND, config=config, state_dict=state, extra=info)
