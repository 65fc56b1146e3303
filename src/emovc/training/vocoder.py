"""Training recipe of the WaveRNN vocoder (SV2TTS stage 3).

Examples are random ``seq_frames``-frame windows of (log-mel, waveform) pairs; the loss is the
cross-entropy of the next μ-law sample given the previous true sample (teacher forcing).
The log-mels are those of the audio (ground truth, the default), or — setting
``gta=SYNTH_RUN/model.pt``, as SV2TTS does — the ground-truth-aligned (GTA) mels a trained
synthesizer predicts teacher-forced for each transcribed utterance (:mod:`emovc.training.gta`),
so the vocoder learns to render the synthesizer's mels, errors included; ``model.pt`` then
records the synthesizer's sha256 (``extra["gta"]``). Each clip's pair is cached on disk and
batches read their windows from there (:mod:`emovc.training.vocoder_data`): memory does not
grow with the corpus. A few clips (``val_utterances``, at most a tenth, drawn with the seed)
are held out: ``val/nll`` is measured on windows of theirs, and every validation renders the
first seconds of one of them with the vocoder being trained
(:func:`~emovc.training.sv2tts_diagnostics.write_vocoder_sample`: TensorBoard and ``audio/``).

    cfg = build_config("/data/LibriTTS/train-clean-100", "runs/wavernn",
                       overrides={"gta": "runs/taco/model.pt"})
    train(cfg)    # → runs/wavernn/model.pt (kind "vocoder/wavernn")

The command line runs the same: ``emovc train-voice vocoder DATA_DIR -o RUN_DIR``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.nn import functional as F  # noqa: N812

from emovc.errors import EmovcError
from emovc.models.checkpoint import save_checkpoint_if_changed
from emovc.models.vocoder import WaveRNN, WaveRNNConfig, mulaw_encode
from emovc.training import gta
from emovc.training.common import (
    CKPT_MINUTES,
    VAL_STEP,
    apply_nested_overrides,
    check_corpus,
    check_mel_recipe,
    model_sizes,
    record_corpus_layout,
    record_file_hash,
    seed_torch,
    step_rng,
    use_threads,
)
from emovc.training.devices import check_run_devices
from emovc.training.run_clips import ClipList
from emovc.training.synthesizer import MEL, MEL_RANGES, log_mel
from emovc.training.vocoder_data import ClipWindows, Pair, PairWindows

KIND = "vocoder/wavernn"
#: what model.pt records of the run as it was typed (settings, the GTA synthesizer's path)
AS_TYPED = ("train", "gta.synthesizer")
WHAT = "vocoder training"
MODEL_KEYS = WaveRNNConfig().to_dict()  # the keys a model={...} override may set
#: model settings that must equal the mel setting of the same name, and why
TIED = {"n_mels": "the vocoder is conditioned on the mel settings' bands",
        "hop_length": "the vocoder upsamples each mel frame to hop_length samples"}
RANGES = {"batch_size": 1, "seq_frames": 1, "max_steps": 1, "max_utterances": 1, "seed": 0,
          "devices": 1, "threads": 1, "ckpt_every": 1, "ckpt_minutes": 0, "val_utterances": 0,
          "val_every": 1, "val_seconds": 0, **model_sizes(MODEL_KEYS), **MEL_RANGES}
# 2**bits output classes: 16 (65536) is already far beyond WaveRNN's 9 or 10; 30 asked for
# a 206 GB layer
AT_MOST = {"model.bits": 16}


@dataclass
class VocoderTrainConfig:
    """Vocoder training settings (``model`` = :class:`WaveRNNConfig` as a dict; ``gta``:
    ``None`` = ground-truth mels, or a trained synthesizer's ``model.pt`` with the same mel
    settings, whose GTA mels the vocoder trains on; ``cache_dir``: where those — and the
    synthesizer's inputs — are cached, ``""`` = ``$EMOVC_CACHE/sv2tts`` or
    ``~/.cache/emovc/sv2tts``)."""

    data_dir: str
    run_dir: str
    corpus: str = "auto"  # data_dir's layout (emovc.data.catalogs.CATALOGS); auto: detected
    model: dict = field(default_factory=lambda: WaveRNNConfig().to_dict())
    mel: dict = field(default_factory=lambda: dict(MEL))
    batch_size: int = 32
    seq_frames: int = 8
    lr: float = 1e-4
    max_steps: int = 500000
    # N utterances in all, a seeded sample spread over the speakers; None = all
    max_utterances: int | None = None
    val_utterances: int = 32  # clips held out (at most a tenth of the corpus)
    val_every: int = 1000  # steps between validations (val/nll, audio)
    val_seconds: float = 0.5  # validation audio the vocoder renders (0: none)
    seed: int = 0
    devices: int = 1
    accelerator: str = "auto"  # Lightning's: auto, cpu, gpu, cuda or mps (training.devices)
    threads: int = 2
    gta: str | None = None
    cache_dir: str = ""
    ckpt_every: int = 1000  # steps between checkpoints (what an interrupted run resumes from)
    ckpt_minutes: float = CKPT_MINUTES  # last.ckpt also every this many minutes (0: never)


class SegmentSampler:
    """Random aligned (mel window, waveform window) batches.

    Args:
        pairs: the training pairs: ``[(mel (T, M), wav (≥ T · hop,)), ...]`` in memory, or
            :class:`~emovc.training.vocoder_data.ClipWindows` of the cached clips (what
            :func:`load_corpus` returns), read window by window.
        only: the indices of the pairs to draw from (default: all; the others are held out).
        hop: samples per mel frame.
        seq_frames: frames per window.
        batch_size: windows per batch.
        seed: base seed of the per-step generators (:meth:`rng`).
    """

    def __init__(self, pairs: Sequence[Pair] | ClipWindows, hop: int, seq_frames: int,
                 batch_size: int, seed: int = 0, only: Sequence[int] | None = None) -> None:
        self.clips = pairs if isinstance(pairs, ClipWindows) else PairWindows(pairs)
        chosen = range(len(self.clips)) if only is None else sorted(only)
        self.keep = [i for i in chosen if self.clips.frames[i] >= seq_frames]
        if not self.keep:
            raise EmovcError(f"no utterance has {seq_frames} mel frames for vocoder training")
        self.hop, self.seq, self.batch, self.seed = hop, seq_frames, batch_size, seed

    def rng(self, step: int, rank: int = 0) -> np.random.Generator:
        """Generator of training step ``step`` on process ``rank`` (its own batches on each of
        ``devices=N``; :func:`~emovc.training.common.step_rng`)."""
        return step_rng(self.seed, step, rank)

    def sample(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mels (B, seq, M), wav (B, seq · hop + 1))`` drawn with ``rng`` — one extra
        sample for the shift (the one before the window; 0 before the first)."""
        mels, wavs = [], []
        for j in rng.integers(0, len(self.keep), self.batch):
            i = self.keep[j]
            a = int(rng.integers(0, self.clips.frames[i] - self.seq + 1))
            mel, wav = self.clips.window(i, a, self.seq, self.hop)
            mels.append(mel)
            wavs.append(wav)
        return torch.from_numpy(np.stack(mels)), torch.from_numpy(np.stack(wavs))


@dataclass
class ValidationClip:
    """The clip a vocoder run renders at each validation: its ``name``, ``mel``
    ``(T, n_mels)`` and ``wav`` at ``sr`` Hz, the first ``seconds`` of it; the WAV files go to
    ``folder`` (``None``: TensorBoard only; ``written``: its target file once written by
    this training call, which writes it at its first validation: a resume may change
    ``val_seconds``)."""

    name: str
    mel: np.ndarray
    wav: np.ndarray
    sr: int
    folder: Path | None = None
    seconds: float = 0.5
    written: set[Path] = field(default_factory=set)


class VocoderModule(L.LightningModule):
    """Teacher-forced WaveRNN training on sampled segments (each step's batch comes from
    ``(seed, global step, rank)`` alone, so a resumed run trains on what an uninterrupted one
    does, and each of ``devices=N`` processes on its own batch).

    ``val``: windows of the held-out clips, ``val/nll``'s (``None``: no ``val/nll``);
    ``clip``: the clip rendered at each validation (``None``: none)."""

    def __init__(self, model: WaveRNN, sampler: SegmentSampler, lr: float,
                 val: SegmentSampler | None = None, clip: ValidationClip | None = None) -> None:
        super().__init__()
        self.model, self.sampler, self.lr = model, sampler, lr
        self.val, self.clip = val, clip
        self.train_seconds = 0.0

    def _nll(self, mels: torch.Tensor, wav: torch.Tensor) -> torch.Tensor:
        """Mean next-sample cross-entropy (nats) of ``mels (B, seq, M)``, ``wav (B, seq·hop+1)``."""
        mels, wav = mels.to(self.device), wav.to(self.device)
        logits = self.model(mels, wav[:, :-1])
        target = mulaw_encode(wav[:, 1:], self.model.cfg.bits)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))

    def training_step(self, batch, batch_idx):
        rng = self.sampler.rng(self.global_step, self.global_rank)
        seed_torch(rng)
        loss = self._nll(*self.sampler.sample(rng))
        self.log("train/nll", loss, prog_bar=True, batch_size=1)
        return loss

    @torch.no_grad()
    def validation_step(self, batch, batch_idx):
        """Eval-mode NLL of a fixed batch of windows of the held-out clips (``val/nll``;
        none when none is held out), drawn from a generator of their own; then (first
        process) the held-out clip rendered
        (:func:`~emovc.training.sv2tts_diagnostics.write_vocoder_sample`)."""
        from emovc.training.sv2tts_diagnostics import write_vocoder_sample

        if self.val is not None:
            self.log("val/nll", self._nll(*self.val.sample(self.val.rng(VAL_STEP))),
                     batch_size=1)
        if self.clip is not None and self.global_rank == 0:
            c = self.clip
            write_vocoder_sample(self, c.folder, c.name, c.mel, c.wav, c.sr, c.seconds,
                                 c.written)

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None,
                                    gradient_clip_algorithm=None):
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 4.0)

    def configure_optimizers(self):
        return torch.optim.Adam(self.model.parameters(), lr=self.lr)


def build_config(data_dir: str, run_dir: str, max_steps: int | None = None, devices: int = 1,
                 overrides: dict | None = None) -> VocoderTrainConfig:
    """Resolved training config: ``overrides`` replace any field, ``model``/``mel`` merged key
    by key into the defaults (``mel={"sr": 22050}`` changes the rate alone).

    Raises:
        ConfigError: an unknown setting or key, or a setting out of its range
            (:func:`check_config`).
    """
    cfg = VocoderTrainConfig(data_dir=data_dir, run_dir=run_dir, devices=devices)
    return check_config(apply_nested_overrides(cfg, overrides, {"model": MODEL_KEYS, "mel": MEL},
                                               WHAT, max_steps))


def check_config(cfg: VocoderTrainConfig) -> VocoderTrainConfig:
    """Check a config (also one built by hand) before any corpus work; returns it.

    Raises:
        ConfigError: one line naming the setting: an unknown ``model``/``mel`` key, a ``mel``
            without all of sr/n_mels/n_fft/hop_length, a count below its minimum (e.g.
            ``seq_frames`` 0, a model size of 0, ``model.bits`` above 16), ``lr`` <= 0, a
            ``cache_dir`` that is not a path, ``model.n_mels``/``model.hop_length`` other
            than the mel settings', an unknown ``corpus`` layout, or a ``gta`` that is not a
            synthesizer's model.pt with these mel settings
            (:func:`~emovc.training.gta.gta_source`).
    """
    check_mel_recipe(cfg, WHAT, MODEL_KEYS, MEL, RANGES, TIED, AT_MOST)
    check_corpus(cfg.corpus)
    if cfg.gta is not None:
        gta.gta_source(cfg.gta, cfg.mel, WHAT)
    return cfg


def corpus_utterances(cfg: VocoderTrainConfig) -> list:
    """The utterances of the corpus the run trains on, as catalogued: ``max_utterances`` of
    them, a seeded sample spread over the speakers
    (:func:`~emovc.training.sv2tts_sample.corpus_sample`); with ``gta``, of the
    transcribed ones (:func:`emovc.training.gta.corpus_utterances`).

    Raises:
        EmovcError: with ``gta``, no transcribed utterance.
    """
    if cfg.gta is not None:
        return gta.corpus_utterances(cfg)
    from emovc.training.sv2tts_sample import corpus_sample

    return corpus_sample(cfg.data_dir, cfg.corpus, cfg.max_utterances, cfg.seed)[0]


def load_corpus(cfg: VocoderTrainConfig, progress: bool = True,
                utts: list | None = None) -> ClipWindows:
    """The (log-mel ``(T, n_mels)``, waveform ``(n,)``) pairs of the corpus utterances, at
    the mel settings' rate, loudness-normalised, each computed once and cached on disk
    (folder ``vocoder-<key>`` under ``cache_dir``,
    :func:`~emovc.training.vocoder_data.cache_settings`); what comes back reads them window by
    window (:class:`~emovc.training.vocoder_data.ClipWindows`: memory does not grow with the
    corpus). A clip that cannot be used (unreadable, silent, under 0.5 s:
    :func:`~emovc.audio.check_speech`, as for the synthesizer) is left out with one warning
    for all of them, and clips recorded below the mel rate get one warning for all
    (:func:`~emovc.training.synthesizer_data.check_rates`). With ``gta`` set, the GTA mels of
    the transcribed utterances instead (:func:`emovc.training.gta.load_corpus`, cached the
    same way).

    The cache holds the waveforms themselves (float32 at the mel rate: 230 MB per hour of
    audio at 16 kHz, besides 25 KB per second for the mel). ``utts``: the utterances
    (:func:`corpus_utterances`, catalogued already).

    Raises:
        EmovcError: the corpus has utterances but none that can be used.
        CacheWriteError: the cache cannot be written.
    """
    if cfg.gta is not None:
        return gta.load_corpus(cfg, progress, utts)
    from emovc.audio import check_speech, load_audio, normalize_loudness
    from emovc.training.clip_cache import cache_clips, clip_folder, warn_left_out
    from emovc.training.synthesizer_data import check_rates
    from emovc.training.vocoder_data import cache_settings, stored_pair

    utts = corpus_utterances(cfg) if utts is None else utts
    sr = cfg.mel["sr"]
    check_rates(utts, sr, "vocoder corpus")

    def pair(utt) -> dict[str, np.ndarray]:
        wav = normalize_loudness(check_speech(load_audio(utt.path, sr), sr, name=utt.path), sr)
        return {"mel": log_mel(wav, cfg.mel), "wav": wav}

    folder = clip_folder(cfg.cache_dir, cfg.data_dir, "vocoder", cache_settings(cfg.mel))
    got, left_out = cache_clips(utts, lambda u: stored_pair(pair(u)), ("mel", "wav"), folder,
                                "vocoder corpus", progress)
    warn_left_out(left_out, "vocoder corpus")
    return ClipWindows([path for _, path in got])


def train(cfg: VocoderTrainConfig, resume: bool = True,
          data: Sequence[Pair] | ClipWindows | None = None, cli: bool = False) -> Path:
    """Train and export ``run_dir/model.pt`` (its SHA-256 added to the run folder's record,
    :mod:`~emovc.training.run_models`); ``data`` skips corpus loading (tests); ``cli``:
    run-folder messages name the command line's options (``emovc train-voice``).

    ``model.pt`` records under ``extra["gta"]`` the synthesizer of the ``gta`` setting
    (``{"synthesizer": path, "sha256": hex}``; ``None`` for ground-truth mels) — with
    ``data`` too: the caller vouches that its mels are that synthesizer's.

    Raises:
        ConfigError: a setting out of its range (:func:`check_config`), found before any
            corpus work; a ``run_dir`` that cannot take this run (another run's, one that
            has trained more than ``max_steps``: :func:`~emovc.training.run_dir.
            claim_run_dir`; or a run started with another version of the ``gta`` file:
            :func:`~emovc.training.common.record_file_hash`), also before the corpus; a run
            resumed from its checkpoint on other clips than it recorded in ``clips.json``
            (:func:`~emovc.training.run_dir.check_resumed_clips`), before the corpus is
            preprocessed.
    """
    from emovc.training.common import fit
    from emovc.training.run_dir import check_resumed_clips, claim_run_dir
    from emovc.training.run_models import record_model

    check_config(cfg)
    check_run_devices(cfg, cli)  # before any work
    source = None if cfg.gta is None else gta.gta_source(cfg.gta, cfg.mel, WHAT)
    # the run records its GTA synthesizer file's hash: one retrained in place is not resumed on
    settings = record_file_hash(asdict(cfg), "gta", "" if source is None else source.sha256,
                                resume, cli, "the GTA synthesizer", "the vocoder would go on "
                                "learning the GTA mels of another synthesizer")
    settings = record_corpus_layout(settings, resume)  # auto: the layout detected
    # early: a folder that cannot take this run fails before the corpus is preprocessed
    claim_run_dir(cfg.run_dir, settings, resume, clear=False, cli=cli, kind=KIND)
    use_threads(cfg.threads)  # the corpus preprocessing's torch too, not only the fit's
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    model = WaveRNN(WaveRNNConfig(**cfg.model))
    pairs, clips = data, None
    if pairs is None:  # the batches index this list: a resumed run must read the same clips
        utts = corpus_utterances(cfg)
        # GTA mels are the synthesizer's of each clip's transcript: the record holds them
        clips = ClipList(cfg.data_dir, {"train": [u.path for u in utts]},
                         texts=None if cfg.gta is None else {u.path: u.text for u in utts})
        check_resumed_clips(cfg.run_dir, clips, resume, cli)
        pairs = load_corpus(cfg, utts=utts)
    module = _module(cfg, model, pairs)
    root = fit(module, settings, cfg.run_dir, cfg.max_steps, cfg.devices, ckpt_every=cfg.ckpt_every,
               val_every=cfg.val_every, resume=resume, threads=cfg.threads, cli=cli,
               ckpt_minutes=cfg.ckpt_minutes, clips=clips, accelerator=cfg.accelerator)
    path = save_checkpoint_if_changed(  # kept when a finished run is exported again
        root / "model.pt", kind=KIND, config=model.cfg.to_dict(), state_dict=model.state_dict(),
        extra={"mel": cfg.mel, "train": asdict(cfg),
               "gta": None if source is None else source.record()},
        ignore=AS_TYPED)
    return record_model(path)  # its hash: an export of it is this run's (own_export)


def _module(cfg: VocoderTrainConfig, model: WaveRNN,
            pairs: Sequence[Pair] | ClipWindows) -> VocoderModule:
    """The training module of a run on ``pairs``: ``val_utterances`` of them (at most a tenth,
    drawn with the seed; :func:`~emovc.training.sv2tts_sample.hold_out`) held out for
    ``val/nll`` and the validation audio (the held-out clip of median length; none held out:
    the first training clip), the rest trained on; one line on stderr with the counts."""
    from emovc.training.sv2tts_sample import hold_out, say, typical

    n = len(pairs)
    train_idx, val_idx = hold_out(range(n), [str(i) for i in range(n)], cfg.val_utterances,
                                  cfg.seed)
    hop, seq = model.cfg.hop_length, cfg.seq_frames
    sampler = SegmentSampler(pairs, hop, seq, cfg.batch_size, cfg.seed, only=train_idx)
    frames = sampler.clips.frames
    val = (SegmentSampler(pairs, hop, seq, cfg.batch_size, cfg.seed, only=val_idx)
           if any(frames[i] >= seq for i in val_idx) else None)
    # the held-out clip of median length (none held out: the first training clip)
    pool, clip = val_idx or train_idx[:1], None
    if cfg.val_seconds > 0:
        i = pool[typical([frames[i] for i in pool])]
        mel, wav = pairs[i]
        name = (Path(pairs.files[i]).stem if isinstance(pairs, ClipWindows)
                else f"{'val' if val_idx else 'train'}{i}")
        clip = ValidationClip(name, np.asarray(mel), np.asarray(wav), int(cfg.mel["sr"]),
                              Path(cfg.run_dir) / "audio", cfg.val_seconds)
    held = (f"validating on {len(val_idx)} held-out one(s)" if val_idx else
            "none held out (fewer than 10, or val_utterances=0): no val/nll")
    say(f"vocoder: training on {n - len(val_idx)} clip(s), {held}")
    return VocoderModule(model, sampler, cfg.lr, val=val, clip=clip)
