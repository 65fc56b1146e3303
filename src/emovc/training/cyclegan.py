"""Training of the pairwise CycleGAN-EmoVC converter (emotion ``a <-> b``, non-parallel).

Per step: random segments ``x_a`` of emotion ``a`` and ``x_b`` of emotion ``b`` (independent
utterances, no alignment: random pairing), then

- discriminators ``D_a``, ``D_b`` (least squares): real vs converted segments of their domain;
- emotion classifier ``C`` (a vs b) trained on natural speech only;
- generators: adversarial + ``w_cyc`` · cycle L1 + ``w_id`` · identity L1 (first ``id_steps``
  steps, as in CycleGAN-VC) + ``w_cls`` · CE(C(converted), target).

``energy_cwt`` adds the CWT of the frame log-energy (c0) as extra generated channels (see
:mod:`emovc.models.conversion.cyclegan`); the losses cover them like every other channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import lightning as L
import numpy as np
import torch

from emovc.data.emotions import EMOTIONS, check_emotion
from emovc.errors import ConfigError, choice_error
from emovc.features.world import WorldConfig
from emovc.models.checkpoint import save_checkpoint
from emovc.models.conversion.cyclegan import (
    F0_MODES,
    PRESETS,
    CycleGANModelConfig,
    cwt_layout,
    make_generator,
    standardize,
)
from emovc.models.conversion.networks import EmotionClassifier, ProjectionDiscriminator
from emovc.models.conversion.normalizer import speaker_centred_offsets
from emovc.training import losses
from emovc.training.common import (
    CKPT_MINUTES,
    LEARNING_RATES,
    RUN_RANGES,
    apply_run_settings,
    check_corpus,
    check_keep_checkpoints,
    check_ranges,
    default_cache,
    fit,
    prepare_features,
    record_corpus_layout,
    to_tensor,
)
from emovc.training.datamodule import ConversionData, SegmentSampler
from emovc.training.devices import check_run_devices
from emovc.training.run_clips import ClipList
from emovc.training.run_dir import FREE, SPEAKER_KEYS, claim_run_dir, config_data
from emovc.training.validation_audio import (
    warn_if_validating_on_training,
    write_validation_audio,
)

KIND = "emotion-converter/cyclegan"


@dataclass
class CycleGANTrainConfig:
    """Settings of a pairwise run (written to ``RUN_DIR/config.yaml``)."""

    data_dir: str
    run_dir: str
    corpus: str = "auto"  # data_dir's layout (emovc.data.catalogs.CATALOGS); auto: detected
    source: str = "calm"
    target: str = "angry"
    cache_dir: str = field(default_factory=default_cache)
    preset: str = "compact"
    train_speakers: list[str] | None = None
    val_speakers: list[str] | None = None
    world: dict = field(default_factory=lambda: WorldConfig().to_dict())
    model: dict = field(default_factory=dict)
    n_scales: int = 10
    f0_mode: str = "cwt"
    energy_cwt: bool = False
    segment: int = 128
    batch_size: int = 4
    lr_g: float = 2e-4
    lr_d: float = 1e-4
    lr_c: float = 2e-4
    w_adv: float = 1.0
    w_cyc: float = 10.0
    w_id: float = 5.0
    id_steps: int = 1000
    w_cls: float = 1.0
    max_steps: int = 3000
    val_every: int = 250
    ckpt_every: int = 250
    keep_checkpoints: int = 5  # newest step checkpoints kept (-1: all)
    ckpt_minutes: float = CKPT_MINUTES  # last.ckpt also every this many minutes (0: never)
    seed: int = 0
    devices: int = 1
    accelerator: str = "auto"  # Lightning's: auto, cpu, gpu, cuda or mps (training.devices)
    threads: int = 2
    workers: int = 2


def build_config(data_dir: str, run_dir: str, source: str | None = "calm",
                 target: str | None = "angry", preset: str = "compact",
                 max_steps: int | None = None, devices: int = 1,
                 overrides: dict | None = None) -> CycleGANTrainConfig:
    """Resolve a pairwise run config (``source``/``target`` default to calm/angry).

    ``model`` and ``world`` overrides are merged key by key into the preset's values.

    Raises:
        ConfigError: unknown preset, corpus layout, emotion or override key (also inside
            ``model``/``world``), the same emotion as source and target (also when set by an
            override), or a setting out of its range (e.g. ``batch_size`` 0).
    """
    if preset not in PRESETS:
        raise choice_error("preset", preset, PRESETS)
    cfg = CycleGANTrainConfig(data_dir=str(data_dir), run_dir=str(run_dir),
                              source=source or "calm", target=target or "angry",
                              preset=preset, model=dict(PRESETS[preset]), devices=devices)
    what = "CycleGAN training"
    apply_run_settings(cfg, overrides, what, max_steps, MODEL_KEYS)
    check_corpus(cfg.corpus)
    cfg.source = check_emotion(cfg.source, list(EMOTIONS), "source emotion")
    cfg.target = check_emotion(cfg.target, list(EMOTIONS), "target emotion")
    if cfg.source == cfg.target:
        raise ConfigError(f"source and target emotion must differ, got {cfg.source!r} twice")
    if cfg.f0_mode not in F0_MODES:
        raise choice_error("F0 mode", cfg.f0_mode, F0_MODES)
    check_ranges(cfg, what, at_least=RANGES, positive=LEARNING_RATES)
    check_keep_checkpoints(cfg.keep_checkpoints)
    return cfg


# sizes a --set model={...} may change (the others come from the data and top-level settings)
MODEL_KEYS = {f.name: f.default for f in fields(CycleGANModelConfig)
              if f.name not in ("n_mcep", "n_scales", "energy_cwt")}
RANGES = {**RUN_RANGES, "n_scales": 1, "id_steps": 0, "w_adv": 0, "w_cyc": 0, "w_id": 0,
          "w_cls": 0}


class CycleGANModule(L.LightningModule):
    """Two generators, two discriminators and an a-vs-b emotion classifier."""

    def __init__(self, cfg: CycleGANTrainConfig, data: ConversionData, cwt_std: np.ndarray):
        super().__init__()
        self.cfg, self.data, self.cwt_std = cfg, data, cwt_std
        # a property of the training data: measured once, stored with every checkpoint
        self.energy_off_lstd = energy_std_offsets(data) if cfg.energy_cwt else None
        torch.manual_seed(cfg.seed)
        self.model_cfg = CycleGANModelConfig(n_mcep=len(data.normalizer.mcep_std),
                                             n_scales=cfg.n_scales, energy_cwt=cfg.energy_cwt,
                                             **cfg.model)
        m = self.model_cfg
        self.g_ab, self.g_ba = make_generator(m), make_generator(m)
        self.d_a = ProjectionDiscriminator(m.n_out, 1, m.d_width)
        self.d_b = ProjectionDiscriminator(m.n_out, 1, m.d_width)
        self.C = EmotionClassifier(m.n_out, 2, m.c_width)
        self.sampler = SegmentSampler(data, cfg.segment, cfg.batch_size, cfg.seed)
        self.automatic_optimization = False
        self.train_seconds = 0.0

    def configure_optimizers(self):
        betas = (0.5, 0.999)
        g = list(self.g_ab.parameters()) + list(self.g_ba.parameters())
        d = list(self.d_a.parameters()) + list(self.d_b.parameters())
        return (torch.optim.Adam(g, self.cfg.lr_g, betas=betas),
                torch.optim.Adam(d, self.cfg.lr_d, betas=betas),
                torch.optim.Adam(self.C.parameters(), self.cfg.lr_c, betas=betas))

    def training_step(self, batch, batch_idx):
        opt_g, opt_d, opt_c = self.optimizers()
        rng = self.sampler.rng(self.global_step, self.global_rank)
        b = self.cfg.batch_size
        xa = to_tensor(self.sampler.real(np.zeros(b, np.int64), rng), self.device)
        xb = to_tensor(self.sampler.real(np.ones(b, np.int64), rng), self.device)
        n = self.model_cfg.n_out
        va, vb = xa[:, n:], xb[:, n:]
        fake_b, fake_a = self.g_ab(xa), self.g_ba(xb)
        d_loss = (losses.lsgan_d_loss(self.d_a(xa[:, :n]), self.d_a(fake_a.detach()))
                  + losses.lsgan_d_loss(self.d_b(xb[:, :n]), self.d_b(fake_b.detach())))
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.optimizer.step()  # raw step: global_step counts generator updates only
        labels = torch.cat([torch.zeros(b), torch.ones(b)]).long().to(self.device)
        logits = self.C(torch.cat([xa[:, :n], xb[:, :n]]))
        c_loss = losses.classification_loss(logits, labels)
        opt_c.zero_grad()
        self.manual_backward(c_loss)
        opt_c.optimizer.step()
        c = self.cfg
        adv = losses.lsgan_g_loss(self.d_b(fake_b)) + losses.lsgan_g_loss(self.d_a(fake_a))
        cyc = (losses.masked_l1(self.g_ba(torch.cat([fake_b, va], 1)), xa[:, :n])
               + losses.masked_l1(self.g_ab(torch.cat([fake_a, vb], 1)), xb[:, :n]))
        use_id = c.w_id > 0 and self.global_step < c.id_steps
        idt = torch.zeros((), device=self.device)
        if use_id:
            idt = (losses.masked_l1(self.g_ab(xb), xb[:, :n])
                   + losses.masked_l1(self.g_ba(xa), xa[:, :n]))
        cls = losses.classification_loss(self.C(torch.cat([fake_a, fake_b])), 1 - labels)
        g_loss = c.w_adv * adv + c.w_cyc * cyc + c.w_id * idt + c.w_cls * cls
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.log_dict({"loss/d": d_loss, "loss/c": c_loss, "loss/g_adv": adv, "loss/cyc": cyc,
                       "loss/id": idt, "loss/g_cls": cls,
                       "acc/c_real": losses.accuracy(logits, labels)}, batch_size=1)
        self.log_dict({"g": g_loss, "d": d_loss}, prog_bar=True, batch_size=1)  # progress lines

    @torch.no_grad()
    def validation_step(self, batch, batch_idx):
        if not self.trainer.is_global_zero:  # one process exports and renders (DDP: all run this)
            return
        model = export(self, Path(self.cfg.run_dir) / "model.pt")
        write_validation_audio(self, Path(self.cfg.run_dir) / "audio", model, max_targets=1,
                               targets=[self.cfg.source, self.cfg.target])  # the other one

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["train_seconds"] = self.train_seconds

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.train_seconds = float(checkpoint.get("train_seconds", 0.0))


def _checkpoint(module: CycleGANModule, half: bool = False) -> dict:
    state = {}
    for name in ("g_ab", "g_ba"):
        for k, v in getattr(module, name).state_dict().items():
            v = v.detach().cpu()
            state[f"{name}.{k}"] = v.half() if half and v.is_floating_point() else v
    cfg = module.cfg
    extra = {"world": cfg.world, "emotions": [cfg.source, cfg.target],
             "normalizer": module.data.normalizer.to_dict(), "cwt_std": module.cwt_std.tolist(),
             "f0_mode": cfg.f0_mode,
             "training": {"steps": int(module.global_step), "max_steps": int(cfg.max_steps),
                          "seconds": module.train_seconds,
                          "train_speakers": module.data.train_speakers,
                          "data_dir": cfg.data_dir, "preset": cfg.preset}}
    if cfg.energy_cwt:
        extra["energy_off_lstd"] = module.energy_off_lstd.tolist()
    return {"kind": KIND, "config": module.model_cfg.to_dict(), "extra": extra,
            "state_dict": state}


def export(module: CycleGANModule, path: Path) -> Path:
    """Write both generators + normaliser as an emovc checkpoint (float16 weights)."""
    ck = _checkpoint(module, half=True)
    return save_checkpoint(path, kind=KIND, config=ck["config"], state_dict=ck["state_dict"],
                           extra=ck["extra"])


def energy_std_offsets(data: ConversionData) -> np.ndarray:
    """``(n_emotions,)`` per-emotion offsets of the log voiced-frame std of c0 (speaker-centred,
    training utterances), the log-energy counterpart of the normaliser's ``off_lstd``."""
    log_std = [np.log(standardize(u.raw.mcep[:, 0].astype(np.float64), u.raw.vuv)[2])
               for u in data.train]
    return speaker_centred_offsets([u.row.speaker for u in data.train],
                                   [u.row.emotion for u in data.train], np.array(log_std),
                                   data.emotions)


def load_data(cfg: CycleGANTrainConfig) -> tuple[ConversionData, np.ndarray]:
    """Features of the two emotions in the CycleGAN channel layout + per-row CWT std."""
    folder, tr, va = prepare_features(cfg.data_dir, cfg.cache_dir, cfg.world, cfg.train_speakers,
                                      cfg.val_speakers, cfg.workers, cfg.corpus)
    cfg.train_speakers, cfg.val_speakers = tr, va
    warn_if_validating_on_training(tr, va, "train_speakers", "val_speakers", stacklevel=2)
    emotions = [cfg.source, cfg.target]

    def layout(x, vuv):
        return cwt_layout(x, vuv, cfg.n_scales, energy=cfg.energy_cwt)

    data = ConversionData(folder, emotions, tr, va, cfg.world["frame_period"], layout=layout)
    rows = slice(data.n_channels - 1 - cfg.n_scales * (1 + int(cfg.energy_cwt)), -1)
    cwt_std = np.maximum(np.concatenate([u.x[rows] for u in data.train], 1).std(1), 1e-3)
    for u in data.train + data.val:
        u.x[rows] /= cwt_std[:, None].astype(np.float32)
    return data, cwt_std.astype(np.float64)


def train(cfg: CycleGANTrainConfig, resume: bool = True, cli: bool = False) -> Path:
    """Train (or resume) and return the final ``RUN_DIR/model.pt``.

    ``resume=False`` starts afresh, removing an earlier run's outputs from ``cfg.run_dir``.
    ``cli`` false (Python callers): run-folder refusals name ``run_dir`` and ``resume=False``;
    ``emovc train`` passes true: they name ``-o`` and ``--force``
    (:func:`~emovc.training.run_dir.claim_run_dir`).

    Raises:
        ConfigError: ``cfg.run_dir`` holds another run and ``resume`` is true (see
            :func:`~emovc.training.run_dir.claim_run_dir`), or a run trained on other clips
            than the corpus holds now (:func:`~emovc.training.run_clips.check_clips`).
    """
    check_run_devices(cfg, cli)  # before any work
    settings = record_corpus_layout(config_data(cfg), resume)  # auto: the layout detected
    claim_run_dir(cfg.run_dir, settings, resume, (*FREE, *SPEAKER_KEYS),
                  clear=False, cli=cli, kind=KIND)  # early: fail fast, clear once data is read
    data, cwt_std = load_data(cfg)
    module = CycleGANModule(cfg, data, cwt_std)
    settings = {**settings, "train_speakers": cfg.train_speakers,
                "val_speakers": cfg.val_speakers}  # as load_data resolved them
    fit(module, settings, cfg.run_dir, cfg.max_steps, cfg.devices, cfg.ckpt_every, cfg.val_every,
        resume, cfg.threads, cfg.keep_checkpoints, cli=cli, accelerator=cfg.accelerator,
        clips=ClipList(cfg.data_dir, data.clip_paths()), ckpt_minutes=cfg.ckpt_minutes)
    return export(module, Path(cfg.run_dir) / "model.pt")
