"""The synthesizer's corpus preprocessing: per transcribed utterance, espeak-ng phoneme ids,
a speaker embedding and the log-mel target, cached per clip (:mod:`~emovc.training.clip_cache`).

:func:`preprocess_utterances` serves the synthesizer recipe (:func:`emovc.training.
synthesizer.load_corpus`) and the vocoder's ground-truth-aligned mels
(:mod:`emovc.training.gta`), which run a trained synthesizer on exactly what it was trained
on (:func:`utterance_inputs`, one clip at a time). :func:`speech_16k` is the audio those
arrays are computed from.
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
    """One training example: ``ids`` phoneme ids, ``speaker`` (D,) embedding, ``mel`` (T, M)."""

    ids: list[int]
    speaker: np.ndarray
    mel: np.ndarray


def log_mel(wav: np.ndarray, mel: dict) -> np.ndarray:
    """Training-target log-mel ``(T, n_mels)`` of a waveform at ``mel["sr"]`` Hz."""
    from emovc.features.spectral import mel_spectrogram

    return mel_spectrogram(wav, sr=mel["sr"], n_mels=mel["n_mels"], n_fft=mel["n_fft"],
                           hop_length=mel["hop_length"]).T.astype(np.float32)


def speech_16k(path: str) -> np.ndarray:
    """A clip as the synthesizer sees it: float32 ``(n,)`` at 16 kHz, VAD-trimmed and
    loudness-normalised (its mel target is :func:`log_mel` of this, resampled to the mel
    settings' rate).

    Raises:
        AudioError, OSError: unreadable, silent or too short audio.
    """
    from emovc.audio import load_audio, normalize_loudness, trim_silence

    return normalize_loudness(trim_silence(load_audio(path), 16000, method="vad"), 16000)


def cache_settings(mel: dict, encoder: EncoderChoice) -> dict:
    """What an utterance's cached arrays depend on besides its audio and text: the mel
    settings, the trimming, the speaker encoder (:attr:`EncoderChoice.identity`), the phoneme
    front-end and symbol table."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        espeak = version("espeakng-loader")
    except PackageNotFoundError:  # pragma: no cover - a dependency of emovc
        espeak = ""
    return {"mel": dict(mel), "trim": "vad", "loudness": "normalize_loudness",
            "encoder": encoder.identity, "frontend": asdict(FRONTEND), "espeak": espeak,
            "symbols": hashlib.sha1("\n".join(SYMBOLS).encode()).hexdigest()[:12],
            "version": CACHE_VERSION}


def stamp(utt: CorpusUtterance) -> str:
    """An utterance's cache stamp: its audio file and its transcript."""
    from emovc.training.clip_cache import file_stamp

    return f"{file_stamp(utt)}|text {hashlib.sha1(utt.text.encode()).hexdigest()[:12]}"


class Tools:
    """The speaker encoder and the espeak-ng front-end, loaded for the first clip that is
    not cached (a run whose corpus is cached loads neither), and the clip's audio
    (:meth:`speech`), decoded once for whoever asks for it."""

    def __init__(self, encoder: EncoderChoice) -> None:
        self.choice = encoder
        self._loaded: tuple | None = None
        self._speech: tuple[str, np.ndarray] | None = None

    def get(self) -> tuple:
        """``(SpeakerEncoder, EspeakFrontend)``."""
        if self._loaded is None:
            from emovc.pipelines.frontend import EspeakFrontend

            self._loaded = (self.choice.load(), EspeakFrontend(FRONTEND))
        return self._loaded

    def speech(self, path: str) -> np.ndarray:
        """:func:`speech_16k` of ``path``, decoded and trimmed once: the last clip's is kept
        (the GTA mels need a clip's audio besides the synthesizer's inputs computed from it).

        Raises:
            AudioError, OSError: as :func:`speech_16k`.
        """
        if self._speech is None or self._speech[0] != path:
            self._speech = (path, speech_16k(path))
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
    of them, naming ``what``.

    Returns:
        ``[(corpus utterance, Utterance), ...]`` in the order of ``utts``.

    Raises:
        EmovcError: ``utts`` is not empty but none of them can be used.
    """
    from emovc.training.clip_cache import load_clips, warn_left_out

    folder = inputs_folder(cache_dir, data_dir, mel, encoder)
    tools = Tools(encoder)
    got, left_out = load_clips(utts, lambda u: _preprocess(u, mel, tools),
                               ("ids", "speaker", "mel"), folder, what, progress, stamp)
    warn_left_out(left_out, what)
    return [(u, Utterance(a["ids"].tolist(), a["speaker"], a["mel"])) for u, a in got]


def _preprocess(utt: CorpusUtterance, mel: dict, tools: Tools) -> dict[str, np.ndarray]:
    """``{"ids": (L,) int64, "speaker": (D,) float32, "mel": (T, n_mels) float32}`` of one
    utterance: :func:`speech_16k` (:meth:`Tools.speech`) → espeak-ng phoneme ids of its
    transcript, the encoder's embedding (at 16 kHz) and the log-mel at ``mel["sr"]``."""
    from emovc.audio.io import resample

    encoder, frontend = tools.get()
    wav = tools.speech(utt.path)
    ids = phonemes_to_ids(frontend.phonemes(utt.text))
    return {"ids": np.asarray(ids, dtype=np.int64),
            "speaker": np.asarray(encoder.embed(wav, 16000, name=utt.path), dtype=np.float32),
            "mel": log_mel(resample(wav, 16000, mel["sr"]), mel)}
