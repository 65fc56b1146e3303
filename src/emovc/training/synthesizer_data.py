"""The synthesizer's corpus preprocessing: per transcribed utterance, espeak-ng phoneme ids,
a speaker embedding and the log-mel target, cached per clip (:mod:`~emovc.training.clip_cache`).

:func:`preprocess_utterances` serves the synthesizer recipe (:func:`emovc.training.
synthesizer.load_corpus`) and the vocoder's ground-truth-aligned mels
(:mod:`emovc.training.gta`), which run a trained synthesizer on exactly what it was trained
on (:func:`utterance_inputs`, one clip at a time). :func:`clip_speech` is the audio those
arrays are computed from: at 16 kHz for the VAD trim and the speaker embedding, and at the mel
settings' rate for the log-mel — decoded at that rate from the file when it is above 16 kHz
(upsampled 16 kHz audio leaves the bands above 8 kHz empty).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from emovc.data.manifest import Utterance as CorpusUtterance
from emovc.models.synthesizer.text import SYMBOLS, phonemes_to_ids
from emovc.pipelines.frontend import FrontendConfig
from emovc.pipelines.sv2tts_encoder import EncoderChoice

CACHE_VERSION = 1  # bump when _preprocess changes what it computes for the same settings
#: the espeak-ng settings the transcripts are phonemised with; ``synthesizer.pt`` records
#: them (``extra["frontend"]``), and cloning reads text with the same voice
FRONTEND = FrontendConfig()


@dataclass
class Utterance:
    """One training example: ``ids`` phoneme ids, ``speaker`` (D,) embedding, ``mel`` (T, M);
    ``utt_id`` and ``speaker_id``: the corpus's names of it and its speaker (``""``: unknown)."""

    ids: list[int]
    speaker: np.ndarray
    mel: np.ndarray
    utt_id: str = ""
    speaker_id: str = ""


def log_mel(wav: np.ndarray, mel: dict) -> np.ndarray:
    """Training-target log-mel ``(T, n_mels)`` of a waveform at ``mel["sr"]`` Hz."""
    from emovc.features.spectral import mel_spectrogram

    return mel_spectrogram(wav, sr=mel["sr"], n_mels=mel["n_mels"], n_fft=mel["n_fft"],
                           hop_length=mel["hop_length"]).T.astype(np.float32)


SR = 16000  # the VAD trim's and the speaker encoder's rate, Hz


def speech_16k(path: str) -> np.ndarray:
    """A clip as the speaker encoder sees it: float32 ``(n,)`` at 16 kHz, VAD-trimmed and
    loudness-normalised (at a mel rate of 16 kHz or less, its mel target is :func:`log_mel`
    of this, resampled to that rate; :func:`clip_speech`).

    Raises:
        AudioError, OSError: unreadable, silent or too short audio.
    """
    from emovc.audio import load_audio, normalize_loudness, trim_silence

    return normalize_loudness(trim_silence(load_audio(path), SR, method="vad"), SR)


def clip_speech(path: str, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """A clip as the synthesizer sees it: ``(at 16 kHz, at sr Hz)``, float32 ``(n,)`` each,
    VAD-trimmed (the bounds found at 16 kHz) and loudness-normalised. At ``sr`` ≤ 16 kHz the
    second is the first (:func:`speech_16k`) resampled; above, it is decoded from the file at
    ``sr`` (the file's own bands up to ``sr / 2``), and the first resampled from the same
    decoding.

    Raises:
        AudioError, OSError: unreadable, silent or too short audio.
    """
    from emovc.audio import load_audio_with_rate, normalize_loudness
    from emovc.audio.io import resample
    from emovc.audio.processing import trim_bounds

    if sr <= SR:
        wav = speech_16k(path)
        return wav, resample(wav, SR, sr)
    raw, native = load_audio_with_rate(path)
    low = resample(raw, native, SR)
    start, end = trim_bounds(low, SR, method="vad")
    high = resample(raw, native, sr)
    top = min(len(high), -(-end * sr // SR))  # the 16 kHz bounds, in samples at sr
    return (normalize_loudness(low[start:end], SR),
            normalize_loudness(high[start * sr // SR: top], sr))


def check_rates(utts: Sequence[CorpusUtterance], sr: int, what: str) -> None:
    """One :class:`~emovc.errors.EmovcWarning` when clips of ``utts`` are recorded below the
    mel settings' rate ``sr`` (read from their headers): resampled up, they have nothing above
    half their own rate, so the model learns band-limited speech at ``sr``. Files whose
    header cannot be read are left to the preprocessing, which leaves them out."""
    import warnings

    from emovc.audio.io import audio_info
    from emovc.errors import AudioError, EmovcWarning

    below: dict[str, int] = {}
    for utt in utts:
        try:
            rate = audio_info(utt.path).sample_rate
        except AudioError:
            continue
        if rate < sr:
            below[utt.path] = rate
    if not below:
        return
    rates = sorted(set(below.values()))
    shown = " and ".join(map(str, rates)) if len(rates) <= 3 else f"{rates[0]} to {rates[-1]}"
    warnings.warn(f"{len(below)} of the {len(utts)} clips of the {what} are recorded below the "
                  f"mel settings' rate mel.sr = {sr} Hz (at {shown} Hz, e.g. "
                  f"{next(iter(below))}): resampled up, they leave the mel bands above "
                  f"{rates[0] // 2} Hz empty, and the model learns band-limited speech; train "
                  f"at mel.sr {rates[-1]} (--set 'mel={{sr: {rates[-1]}}}') or on audio "
                  f"recorded at {sr} Hz or more", EmovcWarning, stacklevel=3)


def cache_settings(mel: dict, encoder: EncoderChoice) -> dict:
    """What an utterance's cached arrays depend on besides its audio and text: the mel
    settings, the trimming, the speaker encoder (:attr:`EncoderChoice.identity`), the phoneme
    front-end and symbol table; above 16 kHz, that the mel's audio is decoded at its rate
    (:func:`clip_speech`; a key those of 16 kHz and below lack, whose arrays did not
    change)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        espeak = version("espeakng-loader")
    except PackageNotFoundError:  # pragma: no cover - a dependency of emovc
        espeak = ""
    settings = {"mel": dict(mel), "trim": "vad", "loudness": "normalize_loudness",
                "encoder": encoder.identity, "frontend": asdict(FRONTEND), "espeak": espeak,
                "symbols": hashlib.sha1("\n".join(SYMBOLS).encode()).hexdigest()[:12],
                "version": CACHE_VERSION}
    if mel["sr"] > SR:  # before: upsampled from 16 kHz, nothing above 8 kHz
        settings["mel_audio"] = "decoded at mel.sr"
    return settings


def stamp(utt: CorpusUtterance) -> str:
    """An utterance's cache stamp: its audio file and its transcript."""
    from emovc.training.clip_cache import file_stamp

    return f"{file_stamp(utt)}|text {hashlib.sha1(utt.text.encode()).hexdigest()[:12]}"


class Tools:
    """The speaker encoder and the espeak-ng front-end, loaded for the first clip that is
    not cached (a run whose corpus is cached loads neither), and the clip's audio
    (:meth:`speech`, at 16 kHz and at the mel rate ``sr``), decoded once for whoever asks
    for it."""

    def __init__(self, encoder: EncoderChoice, sr: int = SR) -> None:
        self.choice, self.sr = encoder, sr
        self._loaded: tuple | None = None
        self._speech: tuple[str, tuple[np.ndarray, np.ndarray]] | None = None

    def get(self) -> tuple:
        """``(SpeakerEncoder, EspeakFrontend)``."""
        if self._loaded is None:
            from emovc.pipelines.frontend import EspeakFrontend

            self._loaded = (self.choice.load(), EspeakFrontend(FRONTEND))
        return self._loaded

    def speech(self, path: str) -> tuple[np.ndarray, np.ndarray]:
        """:func:`clip_speech` of ``path`` at the mel rate: ``(at 16 kHz, at sr)``, decoded
        and trimmed once: the last clip's is kept (the GTA mels need a clip's audio besides
        the synthesizer's inputs computed from it).

        Raises:
            AudioError, OSError: as :func:`clip_speech`.
        """
        if self._speech is None or self._speech[0] != path:
            self._speech = (path, clip_speech(path, self.sr))
        return self._speech[1]


def inputs_folder(cache_dir: str, data_dir: str, mel: dict, encoder: EncoderChoice):
    """The cache folder of a corpus's synthesizer inputs (``synthesizer-<key>``,
    :func:`cache_settings`)."""
    from emovc.training.clip_cache import clip_folder

    return clip_folder(cache_dir, data_dir, "synthesizer", cache_settings(mel, encoder))


def utterance_inputs(utt: CorpusUtterance, mel: dict, tools: Tools, folder) -> Utterance:
    """One utterance's synthesizer inputs: read from ``folder`` (:func:`inputs_folder`) when
    current, else computed (:func:`_preprocess`, its audio from ``tools``) and stored.

    Raises:
        AudioError, OSError: its audio cannot be used.
        CacheWriteError: the cache cannot be written.
    """
    from emovc.training.clip_cache import cached_arrays

    a = cached_arrays(utt, lambda u: _preprocess(u, mel, tools), ("ids", "speaker", "mel"),
                      folder, stamp)
    return Utterance(a["ids"].tolist(), a["speaker"], a["mel"])


def preprocess_utterances(utts: Sequence[CorpusUtterance], data_dir: str, mel: dict,
                          encoder: EncoderChoice, cache_dir: str, what: str,
                          progress: bool = True) -> list[tuple[CorpusUtterance, Utterance]]:
    """Phoneme ids, embeddings and log-mels of transcribed utterances of the corpus at
    ``data_dir``, each computed once (:func:`_preprocess`) and then read from the cache
    (folder ``synthesizer-<key>`` under ``cache_dir``, :func:`cache_settings`). A clip whose
    audio cannot be used (unreadable, silent, too short) is left out with one warning for all
    of them, naming ``what``; clips recorded below ``mel["sr"]`` get one warning for all
    (:func:`check_rates`).

    Returns:
        ``[(corpus utterance, Utterance), ...]`` in the order of ``utts``.

    Raises:
        EmovcError: ``utts`` is not empty but none of them can be used.
    """
    from emovc.training.clip_cache import load_clips, warn_left_out

    check_rates(utts, mel["sr"], what)
    folder = inputs_folder(cache_dir, data_dir, mel, encoder)
    tools = Tools(encoder, mel["sr"])
    got, left_out = load_clips(utts, lambda u: _preprocess(u, mel, tools),
                               ("ids", "speaker", "mel"), folder, what, progress, stamp)
    warn_left_out(left_out, what)
    return [(u, Utterance(a["ids"].tolist(), a["speaker"], a["mel"])) for u, a in got]


def _preprocess(utt: CorpusUtterance, mel: dict, tools: Tools) -> dict[str, np.ndarray]:
    """``{"ids": (L,) int64, "speaker": (D,) float32, "mel": (T, n_mels) float32}`` of one
    utterance: :func:`clip_speech` (:meth:`Tools.speech`) → espeak-ng phoneme ids of its
    transcript, the encoder's embedding (at 16 kHz) and the log-mel at ``mel["sr"]`` (of the
    audio at that rate)."""
    encoder, frontend = tools.get()
    low, high = tools.speech(utt.path)
    ids = phonemes_to_ids(frontend.phonemes(utt.text))
    return {"ids": np.asarray(ids, dtype=np.int64),
            "speaker": np.asarray(encoder.embed(low, SR, name=utt.path), dtype=np.float32),
            "mel": log_mel(high, mel)}
