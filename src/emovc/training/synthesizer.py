"""Training recipe of the speaker-conditioned Tacotron 2 synthesizer (SV2TTS stage 2).

Data: a transcribed multi-speaker corpus (LibriSpeech/LibriTTS/VCTK layouts via
:func:`emovc.data.catalogs.catalog_corpus`; setting ``corpus`` names the layout where
detection gets it wrong). Each utterance gives espeak-ng phoneme ids, the
GE2E embedding of the utterance and its log-mel target (80 bands, 50 ms window, 12.5 ms hop
at 16 kHz — :data:`MEL`). The embeddings come from the bundled encoder, or from a retrained
one (setting ``encoder``: the ``model.pt`` of :mod:`emovc.training.speaker_encoder`), which
``model.pt`` then keeps (:mod:`emovc.pipelines.sv2tts_encoder`) so that cloning embeds the
references with it too. Training is teacher-forced with
masked L1+L2 mel loss and stop-token BCE (:func:`tacotron_loss`), Adam, gradient clipping 1,
and the learning rate held at ``lr`` for ``lr_decay_start`` steps, then decayed exponentially
(:class:`LRSchedule`). Utterances longer than ``max_seconds`` of speech are left out.

A few utterances (``val_utterances``, at most a tenth of the corpus) spread over the speakers
are held out: the ``val/`` losses are theirs, and every validation shows one of them — its
attention alignment, predicted and target mel, and audio — in TensorBoard and the run
folder's ``audio/`` (:mod:`emovc.training.sv2tts_diagnostics`).

    cfg = build_config("/data/LibriTTS/train-clean-100", "runs/taco", devices=1)
    train(cfg)    # → runs/taco/model.pt (kind "synthesizer/tacotron")

The command line runs the same: ``emovc train-voice synthesizer DATA_DIR -o RUN_DIR``. The
corpus preprocessing is cached per utterance (:mod:`emovc.training.clip_cache`; setting
``cache_dir``), so a resumed run or another run with the same mel settings and encoder
reads it back.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import lightning as L

from emovc.data.manifest import Utterance as CorpusUtterance
from emovc.errors import ConfigError, EmovcError
from emovc.models.checkpoint import save_checkpoint_if_changed
from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
from emovc.models.synthesizer.text import SYMBOLS
from emovc.pipelines.sv2tts_encoder import EncoderChoice, choose_encoder
from emovc.training.common import (
    CKPT_MINUTES,
    apply_nested_overrides,
    check_corpus,
    check_mel_recipe,
    check_ranges,
    model_sizes,
    record_corpus_layout,
    record_file_hash,
    use_threads,
)
from emovc.training.devices import check_run_devices
from emovc.training.run_clips import ClipList
from emovc.training.sv2tts_diagnostics import SynthesizerDiagnostics
from emovc.training.synthesizer_data import FRONTEND, Utterance, log_mel
from emovc.training.synthesizer_module import LRSchedule, SynthesizerModule

__all__ = ["Utterance", "log_mel"]  # their home is emovc.training.synthesizer_data

KIND = "synthesizer/tacotron"
#: what model.pt records of the run as it was typed (settings, the encoder's path): not the
#: model, so a finished run exported again keeps the file (save_checkpoint_if_changed)
AS_TYPED = ("train", "encoder.name")
MEL = {"sr": 16000, "n_mels": 80, "n_fft": 800, "hop_length": 200}
MEL_RANGES = {f"mel.{k}": 1 for k in MEL}  # every mel setting is a positive integer
WHAT = "synthesizer training"
MODEL_KEYS = TacotronConfig().to_dict()  # the keys a model={...} override may set
#: model settings that must equal the mel setting of the same name, and why
TIED = {"n_mels": "the model predicts the mel settings' bands"}
RANGES = {"batch_size": 1, "max_steps": 1, "max_utterances": 1, "seed": 0, "devices": 1,
          "threads": 1, "ckpt_every": 1, "ckpt_minutes": 0, "lr_decay_start": 0,
          "lr_decay_steps": 1, "max_seconds": 0, "val_utterances": 0, "val_every": 1,
          "val_seconds": 0,
          **model_sizes(MODEL_KEYS), "model.n_symbols": len(SYMBOLS), **MEL_RANGES}


@dataclass
class SynthesizerTrainConfig:
    """Synthesizer training settings (``model`` = :class:`TacotronConfig` as a dict;
    ``encoder``: ``None`` = the bundled speaker encoder, or the path of a retrained one's
    ``model.pt``, whose embedding size ``model.speaker_dim`` must be)."""

    data_dir: str
    run_dir: str
    corpus: str = "auto"  # data_dir's layout (emovc.data.catalogs.CATALOGS); auto: detected
    model: dict = field(default_factory=lambda: TacotronConfig().to_dict())
    mel: dict = field(default_factory=lambda: dict(MEL))
    batch_size: int = 32
    lr: float = 1e-3  # Adam's learning rate until lr_decay_start (LRSchedule)
    lr_decay_start: int = 40000  # steps at lr before the decay begins
    lr_decay_steps: int = 40000  # then the rate is multiplied by lr_decay_rate every this many
    lr_decay_rate: float = 0.4  # 1: a constant lr
    lr_min: float = 1e-5  # the decay stops here
    max_steps: int = 200000
    # N transcribed utterances in all, a seeded sample spread over the speakers; None = all
    max_utterances: int | None = None
    max_seconds: float = 12.0  # longest utterance trained on (trimmed speech); 0: no cap
    val_utterances: int = 32  # held out (at most a tenth of the corpus), spread over speakers
    val_every: int = 1000  # steps between validations (val/ losses, images, audio)
    val_vocoder: str | None = None  # a vocoder model.pt that also renders validation audio
    val_seconds: float = 0.5  # of it (0: none)
    seed: int = 0
    devices: int = 1
    accelerator: str = "auto"  # Lightning's: auto, cpu, gpu, cuda or mps (training.devices)
    threads: int = 2
    cache_dir: str = ""  # preprocessed corpus; "" = $EMOVC_CACHE/sv2tts or ~/.cache/emovc/sv2tts
    encoder: str | None = None  # None = the bundled speaker encoder
    ckpt_every: int = 1000  # steps between checkpoints (what an interrupted run resumes from)
    ckpt_minutes: float = CKPT_MINUTES  # last.ckpt also every this many minutes (0: never)


def build_config(data_dir: str, run_dir: str, max_steps: int | None = None, devices: int = 1,
                 overrides: dict | None = None) -> SynthesizerTrainConfig:
    """Resolved training config: ``overrides`` replace any field, ``model``/``mel`` merged key
    by key into the defaults (``mel={"sr": 22050}`` changes the rate alone).

    Raises:
        ConfigError: an unknown setting or key, or a setting out of its range
            (:func:`check_config`).
    """
    from emovc.pipelines.sv2tts_encoder import BUNDLED_NAMES

    cfg = SynthesizerTrainConfig(data_dir=data_dir, run_dir=run_dir, devices=devices)
    cfg = apply_nested_overrides(cfg, overrides, {"model": MODEL_KEYS, "mel": MEL}, WHAT,
                                 max_steps)
    if cfg.encoder in BUNDLED_NAMES:  # one spelling: a name, not a path compared on resume
        cfg.encoder = None
    return check_config(cfg)


def check_config(cfg: SynthesizerTrainConfig) -> SynthesizerTrainConfig:
    """Check a config (also one built by hand) before any corpus work; returns it.

    Raises:
        ConfigError: one line naming the setting: an unknown ``model``/``mel`` key, a ``mel``
            without all of sr/n_mels/n_fft/hop_length, a count below its minimum (e.g.
            ``batch_size`` 0, ``max_steps`` 0, a model size of 0, a ``max_seconds`` other
            than 0 under 1), ``lr`` or ``lr_min`` <= 0, ``lr_min`` above ``lr``, a
            ``model.dropout`` or ``lr_decay_rate`` outside 0..1 (the rate above 0), a
            ``cache_dir`` that is not a path, an unknown ``corpus`` layout, ``model.n_mels``
            other than ``mel.n_mels``, an ``encoder`` that is not a
            speaker encoder's model.pt (:func:`~emovc.pipelines.sv2tts_encoder.choose_encoder`),
            or a ``val_vocoder`` that is not a vocoder's model.pt with these mel settings
            (:func:`val_vocoder`).
    """
    check_mel_recipe(cfg, WHAT, MODEL_KEYS, MEL, RANGES, TIED)
    check_corpus(cfg.corpus)
    check_ranges(cfg, WHAT, positive=("lr_min", "lr_decay_rate"),
                 fractions=("model.dropout", "lr_decay_rate"))
    if 0 < cfg.max_seconds < 1:
        raise ConfigError(f"{WHAT} setting max_seconds must be 0 (no cap) or at least 1, got "
                          f"{cfg.max_seconds:g}")
    if cfg.lr_min > cfg.lr:
        raise ConfigError(f"{WHAT} setting lr_min ({cfg.lr_min:g}) must be at most lr "
                          f"({cfg.lr:g}): the decay goes down to it")
    choose_encoder(cfg.encoder, WHAT)
    val_vocoder(cfg)
    return cfg


def schedule(cfg: SynthesizerTrainConfig) -> LRSchedule:
    """The learning rate schedule of a config's ``lr*`` settings."""
    return LRSchedule(lr=cfg.lr, decay_start=cfg.lr_decay_start, decay_steps=cfg.lr_decay_steps,
                      rate=cfg.lr_decay_rate, minimum=cfg.lr_min)


def val_vocoder(cfg: SynthesizerTrainConfig):
    """The :class:`~emovc.models.vocoder.WaveRNN` of the ``val_vocoder`` setting (a
    ``vocoder/wavernn`` checkpoint: a vocoder run's ``model.pt`` or a voice folder's
    ``vocoder.pt``), on the CPU, or ``None`` when it is not set.

    Raises:
        ConfigError: one line: not a path, no such file, another kind of checkpoint, or mel
            settings other than the config's (both values named).
    """
    if cfg.val_vocoder is None:
        return None
    import os

    from emovc.models.vocoder import WaveRNN, WaveRNNConfig
    from emovc.pipelines.sv2tts import VOCODER_KIND, mel_differences, mel_values
    from emovc.pipelines.sv2tts_encoder import read_checkpoint

    name, hint = f"{WHAT} setting val_vocoder", "give the model.pt of emovc train-voice vocoder"
    if not isinstance(cfg.val_vocoder, (str, os.PathLike)) or not str(cfg.val_vocoder):
        raise ConfigError(f"{name} must be the path of a vocoder's model.pt, got "
                          f"{cfg.val_vocoder!r}; {hint}")
    try:
        ckpt, _ = read_checkpoint(cfg.val_vocoder, VOCODER_KIND)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}; {hint}") from None
    theirs = dict(ckpt["extra"].get("mel") or {})
    differ = mel_differences(theirs, cfg.mel)
    if differ:
        raise ConfigError(f"{name}: vocoder {cfg.val_vocoder} was trained with mel "
                          f"{mel_values(theirs, differ)}, this synthesizer's are "
                          f"{mel_values(cfg.mel, differ, names=False)}; give a vocoder "
                          "trained with the same mel settings, or leave val_vocoder out "
                          "(Griffin-Lim renders the validation audio)")
    model = WaveRNN(WaveRNNConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["state_dict"])
    return model.eval()


def check_speaker_dim(cfg: SynthesizerTrainConfig, data: list[Utterance] | None,
                      encoder: EncoderChoice | None = None) -> None:
    """``model.speaker_dim`` must be the embedding size of the speaker vectors: those of
    ``data``, else that of the ``encoder`` setting's encoder (the bundled one: 256), which
    :func:`load_corpus` embeds with (``encoder``: that setting's, already chosen).

    Raises:
        ConfigError: another size (e.g. :meth:`TacotronConfig.tiny`'s 16).
    """
    if data is not None and not data:
        return  # SynthesizerModule says there is nothing to train on
    dim = cfg.model.get("speaker_dim", MODEL_KEYS["speaker_dim"])
    encoder = encoder or choose_encoder(cfg.encoder, WHAT)
    want = len(data[0].speaker) if data else encoder.embedding
    if dim != want:
        source = "the training data's speaker vectors" if data else encoder.describe()
        raise ConfigError(f"{WHAT} setting model.speaker_dim must be {want} (the embedding "
                          f"size of {source}), got {dim}")


def corpus_utterances(cfg: SynthesizerTrainConfig) -> list[CorpusUtterance]:
    """The transcribed utterances of the corpus the run trains on (``max_utterances``: that
    many, a seeded sample spread over the speakers:
    :func:`~emovc.training.sv2tts_sample.corpus_sample`, as a ``gta`` vocoder draws them), as
    catalogued.

    Raises:
        EmovcError: none.
    """
    from emovc.training.sv2tts_sample import corpus_sample

    utts, _ = corpus_sample(cfg.data_dir, cfg.corpus, cfg.max_utterances, cfg.seed,
                            transcribed=True)
    if not utts:
        raise EmovcError(f"no transcribed utterances under {cfg.data_dir}")
    return utts


def load_corpus(cfg: SynthesizerTrainConfig, progress: bool = True,
                utts: list[CorpusUtterance] | None = None) -> list[Utterance]:
    """Phonemes, speaker embeddings and log-mels of every transcribed utterance of the
    corpus (``utts``: :func:`corpus_utterances`, catalogued already: ``max_utterances`` of
    them, a seeded sample spread over the speakers), each computed once and then read from the
    cache (:func:`~emovc.training.synthesizer_data.preprocess_utterances`), with their
    ``utt_id`` and ``speaker_id``.

    Per utterance: VAD trim and loudness normalisation at 16 kHz → espeak-ng phoneme ids,
    the ``encoder`` setting's ``(D,)`` embedding (the bundled encoder: 256) and the log-mel
    ``(T, n_mels)`` at ``mel["sr"]`` (:func:`log_mel` of the audio at that rate, decoded at
    it above 16 kHz: :func:`~emovc.training.synthesizer_data.clip_speech`). An utterance
    whose audio cannot be used (unreadable, silent, too short) is left out with one warning
    for all of them, and clips recorded below ``mel["sr"]`` get one warning for all.

    Raises:
        ConfigError: an ``encoder`` setting that is not a speaker encoder's model.pt.
        EmovcError: no transcribed utterance, or none that can be used.
    """
    from emovc.training.synthesizer_data import preprocess_utterances

    encoder = choose_encoder(cfg.encoder, WHAT)
    utts = corpus_utterances(cfg) if utts is None else utts
    return [replace(x, utt_id=u.utt_id, speaker_id=u.speaker) for u, x in
            preprocess_utterances(utts, cfg.data_dir, cfg.mel, encoder, cfg.cache_dir,
                                  "synthesizer corpus", progress)]


def split_corpus(cfg: SynthesizerTrainConfig, data: list[Utterance], say: bool = True,
                 ) -> tuple[list[Utterance], list[Utterance]]:
    """``(train, held out)`` of the utterances ``data``: those longer than ``max_seconds``
    left out (one warning: :func:`~emovc.training.sv2tts_sample.cap_length`), then
    ``val_utterances`` held out, at most a tenth, spread over the speakers
    (:func:`~emovc.training.sv2tts_sample.hold_out`; utterances without a ``speaker_id``
    count as speakers of their own); ``say``: one line on stderr with the counts.

    Raises:
        EmovcError: every utterance is longer than ``max_seconds``.
    """
    from emovc.training.sv2tts_sample import cap_length, hold_out
    from emovc.training.sv2tts_sample import say as say_line

    hop_s = cfg.mel["hop_length"] / cfg.mel["sr"]
    cap = math.ceil(cfg.max_seconds / hop_s - 1e-9) if cfg.max_seconds else None
    data = cap_length(data, [len(u.mel) for u in data], cap, hop_s, "synthesizer corpus")
    speakers = [u.speaker_id or f"#{i}" for i, u in enumerate(data)]
    train_set, val_set = hold_out(data, speakers, cfg.val_utterances, cfg.seed)
    if say:
        held = (f"validating on {len(val_set)} held-out one(s){_of_speakers(val_set)}"
                if val_set else "none held out (fewer than 10, or val_utterances=0): no val/ "
                "losses")
        say_line(f"synthesizer: training on {len(train_set)} utterance(s)"
                 f"{_of_speakers(train_set)}, {held}")
    return train_set, val_set


def _of_speakers(utts: list[Utterance]) -> str:
    """``" of N speaker(s)"`` for utterances with known speakers, else ``""``."""
    known = {u.speaker_id for u in utts if u.speaker_id}
    return f" of {len(known)} speaker(s)" if known else ""


def train(cfg: SynthesizerTrainConfig, resume: bool = True,
          data: list[Utterance] | None = None, cli: bool = False) -> Path:
    """Train and export ``run_dir/model.pt`` (its SHA-256 added to the run folder's record,
    :mod:`~emovc.training.run_models`); ``data`` skips corpus loading (tests); ``cli``:
    run-folder messages name the command line's options (``emovc train-voice``).

    ``model.pt`` records the speaker encoder of the ``encoder`` setting (with ``data`` too:
    the caller vouches that its speaker vectors are that encoder's) under
    ``extra["encoder"]`` (:meth:`~emovc.pipelines.sv2tts_encoder.EncoderChoice.record`), and
    the espeak-ng settings of its phonemes under ``extra["frontend"]``
    (:data:`~emovc.training.synthesizer_data.FRONTEND`, as a dict).

    Raises:
        ConfigError: a setting out of its range (:func:`check_config`,
            :func:`check_speaker_dim`), found before any corpus work; a ``run_dir`` that
            cannot take this run (another run's, one that has trained more than
            ``max_steps``: :func:`~emovc.training.run_dir.claim_run_dir`; or a run started
            with another version of the ``encoder`` file: :func:`~emovc.training.common.
            record_file_hash`), also before the corpus; a run resumed from its checkpoint on
            other clips than it recorded in ``clips.json`` (added, removed or edited:
            :func:`~emovc.training.run_dir.check_resumed_clips`), before the corpus is
            preprocessed.
    """
    from emovc.training.common import fit
    from emovc.training.run_dir import check_resumed_clips, claim_run_dir
    from emovc.training.run_models import record_model

    check_config(cfg)
    check_run_devices(cfg, cli)  # before any work
    encoder = choose_encoder(cfg.encoder, WHAT)  # recorded as it was when training began
    check_speaker_dim(cfg, data, encoder)
    # the run records its encoder file's hash: one retrained in place is not resumed on
    settings = record_file_hash(asdict(cfg), "encoder", encoder.sha256, resume, cli,
                                "the speaker encoder", "the synthesizer would go on learning "
                                "the embeddings of another encoder")
    settings = record_corpus_layout(settings, resume)  # auto: the layout detected
    # early: a folder that cannot take this run fails before the corpus is preprocessed
    claim_run_dir(cfg.run_dir, settings, resume, clear=False, cli=cli, kind=KIND)
    use_threads(cfg.threads)  # the corpus preprocessing's torch too, not only the fit's
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    clips = None
    if data is None:  # the batches index this list: a resumed run must read the same clips
        utts = corpus_utterances(cfg)
        clips = ClipList(cfg.data_dir, {"train": [u.path for u in utts]},
                         texts={u.path: u.text for u in utts})  # what it learns to say
        check_resumed_clips(cfg.run_dir, clips, resume, cli)
        data = load_corpus(cfg, utts=utts)
    train_set, val_set = split_corpus(cfg, data)
    model = Tacotron(TacotronConfig(**cfg.model))
    shows = SynthesizerDiagnostics(cfg.mel, Path(cfg.run_dir) / "audio", val_vocoder(cfg),
                                   cfg.val_seconds)
    module = SynthesizerModule(model, train_set, cfg.batch_size, cfg.lr, cfg.seed, val=val_set,
                               schedule=schedule(cfg), diagnostics=shows)
    root = fit(module, settings, cfg.run_dir, cfg.max_steps, cfg.devices, ckpt_every=cfg.ckpt_every,
               val_every=cfg.val_every, resume=resume, threads=cfg.threads, cli=cli,
               ckpt_minutes=cfg.ckpt_minutes, clips=clips, accelerator=cfg.accelerator)
    # a finished run exported again (from anywhere, with other free settings) keeps its
    # model.pt: its SHA-256 names it to the GTA vocoder trained on it
    path = save_checkpoint_if_changed(
        root / "model.pt", kind=KIND, config=model.cfg.to_dict(), state_dict=model.state_dict(),
        extra={"mel": cfg.mel, "symbols": SYMBOLS, "train": asdict(cfg),
               "encoder": encoder.record(), "frontend": asdict(FRONTEND)},
        # a model.pt of an earlier emovc, without the front-end record, was made with it
        ignore=AS_TYPED, assumed={"frontend": asdict(FRONTEND)})
    return record_model(path)  # its hash: an export of it is this run's (own_export)
