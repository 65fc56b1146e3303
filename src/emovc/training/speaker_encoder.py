"""GE2E speaker-encoder training (Wan et al., 2018) with PyTorch Lightning.

Every step draws ``speakers`` × ``utterances`` random 1.6 s partials (160 mel frames) and
minimises the GE2E softmax loss with learnable similarity scale/offset ``w, b`` (their
gradients scaled by 0.01 and the global gradient norm clipped at 3, as in the paper).
Validation reports the speaker-verification EER on held-out speakers.

For users with GPUs and corpora (LibriSpeech, VoxCeleb, VCTK layouts via emovc.data catalogs)::

    cfg = build_config("/data/LibriSpeech/train-other-500", "runs/ge2e", init="resemblyzer")
    train(cfg)   # → runs/ge2e/model.pt (kind "speaker-encoder/ge2e")

The command line runs the same: ``emovc train-voice encoder DATA_DIR -o RUN_DIR``.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lightning as L
import numpy as np
import torch

from emovc.errors import ConfigError, EmovcError, EmovcWarning
from emovc.models.checkpoint import save_checkpoint_if_changed
from emovc.models.speaker_encoder import GE2E, GE2EConfig, ge2e_loss, mel_frames
from emovc.training.common import (
    CKPT_MINUTES,
    apply_nested_overrides,
    check_corpus,
    check_keys,
    check_paths,
    check_ranges,
    model_sizes,
    record_corpus_layout,
    seed_torch,
    step_rng,
)

KIND = "speaker-encoder/ge2e"
WHAT = "speaker-encoder training"
MODEL_KEYS = GE2EConfig().to_dict()  # the keys a model={...} override may set
RANGES = {"speakers": 2, "utterances": 2, "max_steps": 1, "val_speakers": 0,
          "max_utterances_per_speaker": 1, "seed": 0, "devices": 1, "threads": 1,
          "ckpt_every": 1, "ckpt_minutes": 0, **model_sizes(MODEL_KEYS)}


@dataclass
class GE2ETrainConfig:
    """Speaker-encoder training settings.

    Attributes:
        data_dir: corpus folder (any layout :func:`emovc.data.catalogs.catalog_corpus` knows).
        run_dir: output folder (config.yaml, checkpoints/, tb/, model.pt).
        corpus: the layout of ``data_dir`` (a name of :data:`emovc.data.catalogs.CATALOGS`),
            or ``"auto"``: detected.
        model: architecture (:class:`GE2EConfig` as a dict).
        speakers: speakers per batch (64 in the paper).
        utterances: utterances per speaker per batch (10).
        lr: Adam learning rate.
        max_steps: optimisation steps.
        val_speakers: speakers held out for the EER check: the last ones by name of those
            with at least 2 clips (the EER compares clips of one speaker), leaving 2 speakers
            to train on; fewer than 2 such speakers: no validation (:func:`split_speakers`).
        init: ``"resemblyzer"`` to fine-tune the bundled weights, ``None`` = from scratch.
        max_utterances_per_speaker: utterances per speaker loaded at most (the first ones
            by path). Not ``max_utterances``, which the synthesizer and the vocoder count in
            total, and which this recipe refuses (:data:`RENAMED`).
        seed: sampling seed.
        devices: Lightning devices.
        threads: torch CPU threads.
        cache_dir: root of the preprocessed-clip cache (:mod:`~emovc.training.clip_cache`;
            ``""`` = ``$EMOVC_CACHE/sv2tts`` or ``~/.cache/emovc/sv2tts``).
        ckpt_every: steps between checkpoints (an interrupted run resumes from the last).
        ckpt_minutes: minutes of training between the saves of ``last.ckpt`` alone in
            between (0: none).
    """

    data_dir: str
    run_dir: str
    corpus: str = "auto"
    model: dict = field(default_factory=lambda: GE2EConfig().to_dict())
    speakers: int = 64
    utterances: int = 10
    lr: float = 1e-4
    max_steps: int = 100000
    val_speakers: int = 20
    init: str | None = None
    max_utterances_per_speaker: int = 40
    seed: int = 0
    devices: int = 1
    threads: int = 2
    cache_dir: str = ""
    ckpt_every: int = 1000  # steps between checkpoints (what an interrupted run resumes from)
    ckpt_minutes: float = CKPT_MINUTES  # last.ckpt also every this many minutes (0: never)


#: settings of an earlier emovc → their names now (``max_utterances`` counted per speaker here,
#: in total in the other recipes)
RENAMED = {"max_utterances": "max_utterances_per_speaker"}


#: settings only this recipe's config.yaml has (a folder without them is not its run)
ENCODER_KEYS = {"speakers", "utterances"}


def check_renamed(run_dir: Path, cli: bool = True) -> None:
    """A speaker-encoder run folder of an earlier emovc, whose ``config.yaml`` names a setting
    of :data:`RENAMED`, is refused in one line saying how to resume it (rather than as
    "another kind of run"). Another recipe's folder (no :data:`ENCODER_KEYS` in its config,
    or a ``model.pt`` of another kind) is left to the usual run folder checks.

    Raises:
        ConfigError: its ``config.yaml`` has an old name and not the new one.
    """
    import yaml

    try:
        old = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return  # none, or not a run's: the run folder checks say what it is
    if not isinstance(old, dict) or not ENCODER_KEYS <= old.keys():
        return  # another recipe's (the synthesizer's, the vocoder's max_utterances is theirs)
    from emovc.training.run_dir import model_kind

    if model_kind(run_dir / "model.pt") not in (None, KIND):
        return  # another run's model: the run folder checks name it
    for name, new in RENAMED.items():
        if name in old and new not in old:
            again = ("--force starts this run afresh there" if cli else
                     "resume=False starts this run afresh there")
            raise ConfigError(f"run folder {run_dir} holds a {KIND} run of an earlier emovc, "
                              f"whose setting {name} is now {new}: rename it so in "
                              f"{run_dir / 'config.yaml'} to resume the run, or {again}")


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


def build_config(data_dir: str, run_dir: str, max_steps: int | None = None, devices: int = 1,
                 init: str | None = None, overrides: dict | None = None) -> GE2ETrainConfig:
    """Resolved training config: ``overrides`` replace any field, ``model`` merged key by
    key into the defaults.

    Raises:
        ConfigError: an unknown setting or key, or a setting out of its range
            (:func:`check_config`).
    """
    cfg = GE2ETrainConfig(data_dir=data_dir, run_dir=run_dir, devices=devices, init=init)
    for old, new in RENAMED.items():
        if old in (overrides or {}):
            raise ConfigError(f"{WHAT} setting {old} is now {new}: it counted utterances per "
                              f"speaker here but in total for the synthesizer and the vocoder; "
                              f"--set {new}=N (Python: overrides={{'{new}': N}})")
    return check_config(apply_nested_overrides(cfg, overrides, {"model": MODEL_KEYS}, WHAT,
                                               max_steps))


def check_config(cfg: GE2ETrainConfig) -> GE2ETrainConfig:
    """Check a config (also one built by hand) before any corpus work; returns it.

    Raises:
        ConfigError: one line naming the setting: an unknown ``model`` key, a count below its
            minimum (e.g. ``speakers`` 1, ``max_steps`` 0, a model size of 0), ``lr`` or a
            mel window/hop <= 0, an ``init`` that is not a name or path, a ``cache_dir``
            that is not a path, or an unknown ``corpus`` layout.
    """
    check_keys(cfg, "model", MODEL_KEYS, WHAT)
    check_corpus(cfg.corpus)
    check_ranges(cfg, WHAT, at_least=RANGES,
                 positive=("lr", *(f"model.{k}" for k in ("window_ms", "hop_ms")
                                   if k in cfg.model)))
    check_paths(cfg, WHAT, ("cache_dir",))
    if cfg.init is not None and not isinstance(cfg.init, str):
        raise ConfigError(f"{WHAT} setting init must be resemblyzer (fine-tune the bundled "
                          f"encoder), the path of a speaker encoder's model.pt, or null, got "
                          f"{cfg.init!r}")
    return cfg


CACHE_VERSION = 1  # bump when load_corpus changes what it computes for the same settings
VAL_CLIPS = 5  # clips per validation speaker embedded for the EER


def split_speakers(counts: dict[str, int], val_speakers: int) -> tuple[list[str], list[str]]:
    """``(training speakers, validation speakers)`` of a corpus whose speakers have
    ``counts`` clips: the validation speakers are the last ``val_speakers`` (by name) of those
    with 2 clips or more, as many as leave 2 speakers to train on, and none when that is
    fewer than 2 (the EER needs a pair of clips of one speaker and two speakers). Warns (one
    :class:`~emovc.errors.EmovcWarning` each) when validation is asked for (``val_speakers``
    above 0) and there is none because ``val_speakers`` is 1 or the corpus has only 2 or 3
    speakers, when speakers with one clip take validation speakers away, and when training
    speakers have one clip."""
    names = sorted(counts)
    several = [n for n in names if counts[n] >= 2]
    wanted = min(val_speakers, max(0, len(names) - 2))  # all but 2 at most, as before
    n_val = min(wanted, len(several))
    n_val = n_val if n_val >= 2 else 0
    val = several[len(several) - n_val:] if n_val else []
    train = [n for n in names if n not in set(val)]
    why = _no_validation(val_speakers, len(names)) if wanted < 2 else ""
    if why:
        warnings.warn(f"{WHAT} logs no validation EER (setting val_speakers {val_speakers}): "
                      f"{why}", EmovcWarning, stacklevel=3)
    elif n_val < wanted:
        done = f"validates on {n_val} speakers, not {wanted}" if n_val else \
            "logs no validation EER"
        warnings.warn(f"{WHAT} {done} (setting val_speakers {val_speakers}): {len(several)} of "
                      f"the {len(names)} speakers have 2 clips or more, and the EER needs 2 "
                      "clips each of 2 speakers", EmovcWarning, stacklevel=3)
    single = [n for n in train if counts[n] < 2]
    if single:
        warnings.warn(f"{len(single)} of the {len(train)} training speakers have one clip (e.g. "
                      f"{single[0]}): GE2E learns from several clips per speaker, and all the "
                      "crops of such a speaker come from one recording, so it learns to tell "
                      "recordings apart rather than voices; give each speaker several clips",
                      EmovcWarning, stacklevel=3)
    return train, val


def _no_validation(val_speakers: int, n_speakers: int) -> str:
    """Why :func:`split_speakers` can hold out fewer than the 2 speakers an EER needs, when
    the clip counts are not the cause: ``val_speakers`` 1, or a corpus of 2 or 3 speakers
    (2 always train); ``""`` when validation was not asked for (``val_speakers`` 0) or the
    corpus has one speaker (the training refuses it)."""
    if val_speakers == 0 or n_speakers < 2:
        return ""
    if val_speakers == 1:
        return ("the EER needs 2 validation speakers; set val_speakers 2 or more, or 0 for "
                "no validation")
    return (f"a corpus of {n_speakers} speakers leaves fewer than 2 to validate on after the "
            "2 that train; give it 4 speakers or more, or set val_speakers 0 for no validation")


def validation_set(wavs: list[np.ndarray], labels: list[str],
                   ) -> tuple[list[np.ndarray], list[str]] | None:
    """The validation clips an EER can be computed on: those of the speakers with 2 clips or
    more (some may have been left out as unusable), if 2 such speakers are left; else
    ``None`` (no validation), with one :class:`~emovc.errors.EmovcWarning` when clips were
    given."""
    from collections import Counter

    counts = Counter(labels)
    keep = [i for i, label in enumerate(labels) if counts[label] >= 2]
    if len({labels[i] for i in keep}) >= 2:
        return [wavs[i] for i in keep], [labels[i] for i in keep]
    if labels:
        warnings.warn(f"{WHAT} logs no validation EER: its {len(labels)} validation clips "
                      f"(of {len(counts)} speakers) do not hold 2 clips each of 2 speakers",
                      EmovcWarning, stacklevel=3)
    return None


def cache_settings(cfg: GE2ETrainConfig) -> dict:
    """What a clip's cached mel depends on besides its audio: the encoder's mel settings and
    the (resemblyzer) preprocessing."""
    keys = ("sample_rate", "n_mels", "window_ms", "hop_ms")
    return {"mel": {k: GE2EConfig(**cfg.model).to_dict()[k] for k in keys},
            "preprocess": "resemblyzer", "version": CACHE_VERSION}


def corpus_split(cfg: GE2ETrainConfig) -> tuple[list, list]:
    """``(training clips, validation clips)`` of the corpus, as catalogued: each speaker's
    first ``max_utterances_per_speaker`` clips by path, the speakers split by
    :func:`split_speakers` (which warns of speakers with one clip), the validation speakers'
    first :data:`VAL_CLIPS` clips."""
    from emovc.data.catalogs import catalog_corpus

    per: dict[str, list] = {}
    for utt in sorted(catalog_corpus(cfg.data_dir, cfg.corpus), key=lambda u: u.path):
        if len(per.setdefault(utt.speaker, [])) < cfg.max_utterances_per_speaker:
            per[utt.speaker].append(utt)
    train_names, val_names = split_speakers({s: len(u) for s, u in per.items()},
                                            cfg.val_speakers)
    return ([u for s in train_names for u in per[s]],
            [u for s in val_names for u in per[s][:VAL_CLIPS]])


def load_corpus(cfg: GE2ETrainConfig, progress: bool = True,
                split: tuple[list, list] | None = None,
                ) -> tuple[dict[str, list[np.ndarray]], list, list]:
    """Mels ``(frames, n_mels)`` of the training speakers' clips (cached per clip,
    :mod:`~emovc.training.clip_cache`) and (16 kHz waveforms, speaker labels) of the
    validation speakers' first :data:`VAL_CLIPS` clips (``split``: :func:`corpus_split`,
    which warns of speakers with one clip before any clip is read; catalogued here when not
    given). A clip that cannot be used (unreadable, silent, under 0.5 s) is left out with one
    warning for all of them.

    Raises:
        EmovcError: no clip of the training speakers can be used.
    """
    from emovc.audio import load_audio
    from emovc.pipelines.speaker import preprocess
    from emovc.training.clip_cache import clip_folder, load_clips, warn_left_out

    train_clips, val_clips = corpus_split(cfg) if split is None else split
    gcfg = GE2EConfig(**cfg.model)

    def wav(utt) -> np.ndarray:
        return preprocess(load_audio(utt.path), 16000, name=utt.path)

    folder = clip_folder(cfg.cache_dir, cfg.data_dir, "speaker-encoder", cache_settings(cfg))
    got, left_out = load_clips(train_clips, lambda u: {"mel": mel_frames(wav(u), gcfg)},
                               ("mel",), folder, "speaker-encoder corpus", progress)
    mels: dict[str, list[np.ndarray]] = {}
    for utt, a in got:
        mels.setdefault(utt.speaker, []).append(a["mel"])
    val, val_out = ([], {}) if not val_clips else load_clips(
        val_clips, lambda u: {"wav": wav(u)}, ("wav",), None,
        "speaker-encoder validation clips", progress)
    warn_left_out({**left_out, **val_out}, "speaker-encoder corpus")
    return mels, [a["wav"] for _, a in val], [u.speaker for u, _ in val]


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
    if resume:
        check_renamed(Path(cfg.run_dir), cli)
    # early: a folder that cannot take this run fails before the corpus is preprocessed
    settings = record_corpus_layout(asdict(cfg), resume)  # auto: the layout detected
    claim_run_dir(cfg.run_dir, settings, resume, clear=False, cli=cli, kind=KIND)
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
               ckpt_minutes=cfg.ckpt_minutes, clips=clips)
    # a finished run exported again keeps its model.pt: its SHA-256 names it to the
    # synthesizer runs trained on it (encoder_sha256)
    return save_checkpoint_if_changed(root / "model.pt", kind=KIND, config=model.cfg.to_dict(),
                                      state_dict=model.state_dict(),
                                      extra={"train": asdict(cfg), "steps": cfg.max_steps},
                                      ignore=("train",))
