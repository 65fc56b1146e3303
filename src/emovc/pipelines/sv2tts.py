"""Neural SV2TTS cloning (Jia et al., 2018): GE2E embedding → Tacotron 2 → WaveRNN.

Needs a synthesizer and a vocoder trained with :mod:`emovc.training.synthesizer` and
:mod:`emovc.training.vocoder` (GPU + a multi-speaker transcribed corpus; see
``docs/cloning.md``). Load a folder holding ``synthesizer.pt`` and ``vocoder.pt``::

    cloner = NeuralCloner.from_folder("runs/sv2tts")          # device="auto": a GPU if any
    wav, sr = cloner.clone([(ref_wav, 16000)], "Hello there. How are you?")

The two checkpoints must share their mel settings (sample rate, FFT size, hop, bands);
the audio comes out at that sample rate (``NeuralCloner.sample_rate``). The references are
embedded with the speaker encoder the synthesizer was trained on, which ``synthesizer.pt``
keeps (:mod:`emovc.pipelines.sv2tts_encoder`; the bundled encoder when it records none), and
the text is phonemised with the espeak-ng voice its transcripts were (:func:`recorded_frontend`).
Text is spoken sentence by sentence (:func:`~emovc.pipelines.sentences.split_sentences`);
the decoder may run for a time that follows each sentence's length (:class:`DecodeLimit`),
and a sentence it does not end by itself within that time is cut there with a warning.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from emovc.errors import ConfigError, EmovcError, EmovcWarning, warn_every_time
from emovc.models.checkpoint import load_checkpoint
from emovc.models.device import resolve_device
from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
from emovc.models.synthesizer.text import phonemes_to_ids
from emovc.models.vocoder import WaveRNN, WaveRNNConfig
from emovc.pipelines.frontend import EspeakFrontend, FrontendConfig
from emovc.pipelines.sentences import join_with_pauses, text_sentences
from emovc.pipelines.speaker import SpeakerEncoder
from emovc.pipelines.sv2tts_encoder import recorded_encoder

SYNTH_KIND, VOCODER_KIND = "synthesizer/tacotron", "vocoder/wavernn"
#: mel settings both checkpoints record (``extra["mel"]``) and must agree on
MEL_KEYS = ("sr", "n_fft", "hop_length", "n_mels")


@dataclass(frozen=True)
class DecodeLimit:
    """How long the synthesizer may speak one sentence before it is cut (when its stop token
    has not ended the sentence by then): ``max(min_seconds, seconds_per_symbol · symbols)``.

    Symbols are what the synthesizer reads: the sentence's IPA phoneme characters, stress
    and length marks, word spaces, clause breaks and the end symbol. Read English takes
    about 0.06–0.07 s per symbol (a Harvard sentence: 43 symbols, 2.5–3 s), so the defaults
    allow about four times that, for slow speech and pauses.

    Attributes:
        seconds_per_symbol: the most audio per symbol, seconds.
        min_seconds: the limit of a short sentence, seconds.
    """

    seconds_per_symbol: float = 0.25
    min_seconds: float = 2.0

    def __post_init__(self) -> None:
        for name in ("seconds_per_symbol", "min_seconds"):
            value = getattr(self, name)
            if not _is_seconds(value) or value == 0:
                raise ConfigError(f"DecodeLimit.{name} must be a number of seconds > 0, "
                                  f"got {value!r}")

    def seconds(self, n_symbols: int) -> float:
        """The limit, seconds, of a sentence of ``n_symbols`` symbols."""
        return max(self.min_seconds, self.seconds_per_symbol * n_symbols)

    def frames(self, n_symbols: int, sample_rate: int, hop_length: int) -> int:
        """The limit in mel frames (``hop_length`` samples each at ``sample_rate`` Hz), ≥ 1."""
        return max(1, int(self.seconds(n_symbols) * sample_rate / hop_length))


class NeuralCloner:
    """Speaker-conditioned Tacotron 2 + WaveRNN inference; audio at ``sample_rate`` Hz.

    Args:
        synthesizer, vocoder: the models (moved to ``device``).
        symbols: the synthesizer's phoneme symbol table.
        encoder: speaker encoder (default: the bundled GE2E); it must be the one the
            synthesizer was trained on, and stays on the CPU (0.14 s for 10 s of reference
            on one core).
        sample_rate: the models' mel settings' rate, Hz.
        device: where the synthesizer and vocoder run: ``"auto"`` (a CUDA GPU when torch
            sees one, else the CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``
            (:func:`~emovc.models.device.resolve_device`). Audio comes back as numpy.
        limit: how long one sentence may last (:class:`DecodeLimit`).
        pause_s: silence between sentences, seconds.
        frontend: the espeak-ng settings the synthesizer's training transcripts were
            phonemised with (default: ``FrontendConfig()``, voice ``en-us``); the text is
            read with the same voice.
        progress: a bar of each sentence's vocoder samples on stderr when it is a terminal
            (:meth:`~emovc.models.vocoder.WaveRNN.generate`; ``emovc clone`` shows it); off
            by default, so that a library or a server (the app, whose requests run on
            threads) writes nothing. The attribute of that name may be set later.

    Raises:
        ConfigError: the models' band counts differ, an unknown or unavailable device, or
            a ``limit``, ``pause_s`` or ``frontend`` of the wrong kind.
    """

    def __init__(self, synthesizer: Tacotron, vocoder: WaveRNN, symbols: list[str],
                 encoder: SpeakerEncoder | None = None, sample_rate: int = 16000, *,
                 device: str | torch.device = "auto", limit: DecodeLimit | None = None,
                 pause_s: float = 0.25, frontend: FrontendConfig | None = None,
                 progress: bool = False) -> None:
        if synthesizer.cfg.n_mels != vocoder.cfg.n_mels:
            raise ConfigError(f"synthesizer makes {synthesizer.cfg.n_mels} mel bands but the "
                              f"vocoder expects {vocoder.cfg.n_mels}")
        if limit is not None and not isinstance(limit, DecodeLimit):
            raise ConfigError(f"limit must be a DecodeLimit, got {type(limit).__name__}")
        if not _is_seconds(pause_s):
            raise ConfigError(f"pause_s must be a number of seconds ≥ 0, got {pause_s!r}")
        if frontend is not None and not isinstance(frontend, FrontendConfig):
            raise ConfigError(f"frontend must be a FrontendConfig, got {type(frontend).__name__}")
        self.device = resolve_device(device)
        self.synthesizer = synthesizer.to(self.device).eval()
        self.vocoder = vocoder.to(self.device).eval()
        self.symbols, self.sample_rate = symbols, sample_rate
        self.limit, self.pause_s = limit or DecodeLimit(), pause_s
        self.encoder = encoder or SpeakerEncoder.from_pretrained()
        self.frontend = EspeakFrontend(frontend)
        self.progress = bool(progress)

    @classmethod
    def from_folder(cls, folder: str | os.PathLike, device: str | torch.device = "auto",
                    **kwargs) -> NeuralCloner:
        """Load ``synthesizer.pt`` and ``vocoder.pt`` from ``folder`` onto ``device`` (see
        the class; ``kwargs``: its ``limit``, ``pause_s`` and ``progress``), with the speaker
        encoder ``synthesizer.pt`` records
        (:func:`~emovc.pipelines.sv2tts_encoder.recorded_encoder`: a retrained one's weights,
        or none — the bundled encoder) and its front-end (:func:`recorded_frontend`).

        Raises:
            ConfigError: an unknown or unavailable device (before anything is read), the
                checkpoints' mel settings differ (:func:`check_mel_settings`), the models
                disagree with them, the synthesizer's ``speaker_dim`` is not its encoder's
                embedding size, or its front-end record is not one.
        """
        device = resolve_device(device)
        root = Path(folder)
        syn = load_checkpoint(root / "synthesizer.pt", SYNTH_KIND)
        voc = load_checkpoint(root / "vocoder.pt", VOCODER_KIND)
        mel = check_mel_settings(syn["extra"].get("mel"), voc["extra"].get("mel"))
        taco = Tacotron(TacotronConfig(**syn["config"]))
        taco.load_state_dict(syn["state_dict"])
        wavernn = WaveRNN(WaveRNNConfig(**voc["config"]))
        wavernn.load_state_dict(voc["state_dict"])
        _check_models(taco, wavernn, mel)
        choice = recorded_encoder(syn["extra"], str(root / "synthesizer.pt"))
        if taco.cfg.speaker_dim != choice.embedding:
            raise ConfigError(f"synthesizer reads {taco.cfg.speaker_dim}-d speaker embeddings "
                              f"but {choice.describe()} it records makes {choice.embedding}-d "
                              "ones")
        frontend = recorded_frontend(syn["extra"], str(root / "synthesizer.pt"))
        return cls(taco, wavernn, list(syn["extra"]["symbols"]), choice.load(),
                   sample_rate=int(mel["sr"]), device=device, frontend=frontend, **kwargs)

    def embed(self, references: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
        """Speaker embedding ``(D,)`` of ``(wav (n,), sr)`` references (one speaker; ``D``
        the encoder's size, 256 for the bundled one)."""
        if not references:
            raise EmovcError("no reference audio given")
        return self.encoder.embed_speaker([w for w, _ in references], references[0][1])

    def synthesize_sentence(self, speaker: np.ndarray, sentence: str) -> tuple[np.ndarray, int]:
        """Speak one sentence with a ``(D,)`` speaker embedding (:meth:`embed`); returns
        ``(float32 (n,), sample_rate)``. Decoding stops at the stop token or at the
        sentence's :class:`DecodeLimit`, which warns (one :class:`EmovcWarning` naming the
        sentence) that the audio was cut."""
        return self.synthesize_sentences(speaker, [sentence])[0], self.sample_rate

    def synthesize_sentences(self, speaker: np.ndarray, sentences: Sequence[str],
                             checked: bool = False) -> list[np.ndarray]:
        """Speak each sentence (as :meth:`synthesize_sentence`): float32 ``(n_i,)`` at
        ``sample_rate`` each. The sentences cut at their limit give one warning between them
        (an undertrained synthesizer that never stops gave a line per sentence), on every call
        that cuts one (:func:`~emovc.errors.warn_every_time`). ``checked``: the caller has
        passed their text through ``frontend.check_text`` already (one warning per text).

        Raises:
            EmovcError: nothing in the sentences that the front-end can pronounce (checked
                for them all before the first is spoken, with one warning naming letters of
                other scripts).
        """
        if sentences and not checked:
            self.frontend.check_text(" ".join(sentences))
        out, cut = [], []
        for sentence in sentences:
            wav, limit = self._decode(speaker, sentence)
            out.append(wav)
            if limit:
                cut.append(f"{_quote(sentence)} ({limit})")
        # on every call (Python's default filter showed a repeated text's warning once)
        if len(cut) == 1:
            warn_every_time(f"sentence {cut[0]} did not end within its limit: the synthesizer "
                            "gave no stop token, so it is cut there", EmovcWarning, stacklevel=3)
        elif cut:
            warn_every_time(f"{len(cut)} of {len(out)} sentences did not end within their "
                            f"limits, e.g. {cut[0]}: the synthesizer gave no stop token, so they "
                            "are cut there", EmovcWarning, stacklevel=3)
        return out

    def _decode(self, speaker: np.ndarray, sentence: str) -> tuple[np.ndarray, str]:
        """One sentence's float32 audio, and its limit (``"2 s, 5 phoneme symbols"``) when
        decoding reached it without a stop token (``""`` otherwise)."""
        ids = phonemes_to_ids(self.frontend.phonemes(sentence, checked=True), self.symbols)
        hop = self.vocoder.cfg.hop_length
        max_frames = self.limit.frames(len(ids), self.sample_rate, hop)
        mel, stopped = self.synthesizer.infer_until_stop(
            torch.tensor(ids, device=self.device),
            torch.as_tensor(speaker, dtype=torch.float32, device=self.device),
            max_frames=max_frames)
        limit = "" if stopped else (f"{round(self.limit.seconds(len(ids)), 2):g} s, "
                                    f"{len(ids)} phoneme symbols")
        wav = self.vocoder.generate(mel, progress=self.progress)
        return wav.cpu().numpy().astype(np.float32), limit

    def synthesize(self, speaker: np.ndarray, text: str) -> tuple[np.ndarray, int]:
        """Speak ``text`` sentence by sentence (:meth:`synthesize_sentence`), joined with
        ``pause_s`` of silence, with a ``(D,)`` speaker embedding; returns
        ``(float32 (n,), sample_rate)``.

        Raises:
            EmovcError: text that is not a string, or has no words.
        """
        sentences = text_sentences(text)
        return (join_with_pauses(self.synthesize_sentences(speaker, sentences), self.pause_s,
                                 self.sample_rate), self.sample_rate)

    def clone(self, references: Sequence[tuple[np.ndarray, int]], text: str,
              ) -> tuple[np.ndarray, int]:
        """Speak ``text`` with the voice of ``(wav, sr)`` references (as :meth:`synthesize`);
        returns ``(float32 (n,), sample_rate)``."""
        return self.synthesize(self.embed(references), text)


def recorded_frontend(extra: dict, where: str = "synthesizer.pt") -> FrontendConfig:
    """The espeak-ng settings a synthesizer checkpoint's ``extra["frontend"]`` records (its
    training transcripts' phonemes); a checkpoint of an earlier emovc, which records none,
    was trained on ``FrontendConfig()`` (voice ``en-us``), as every one was.

    Raises:
        ConfigError: a record that is not ``FrontendConfig`` settings (one line).
    """
    rec = extra.get("frontend")
    if rec is None:
        return FrontendConfig()
    try:
        return FrontendConfig(**rec)
    except TypeError:
        raise ConfigError(f"{where} records its espeak-ng front-end as {rec!r}, not "
                          "FrontendConfig settings; train the synthesizer again with emovc"
                          ) from None


def same_voice(a: FrontendConfig, b: FrontendConfig) -> bool:
    """Whether two front-ends give the same phonemes: the same espeak-ng voice, a variant
    (``en-us+f3``) aside, whatever their speaking rate and pitch."""
    return a.voice.split("+")[0].lower() == b.voice.split("+")[0].lower()


def _is_seconds(value: object) -> bool:
    """Whether ``value`` is a finite real number ≥ 0 (not a bool)."""
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, bool) and math.isfinite(value) and value >= 0)


def _quote(sentence: str, width: int = 60) -> str:
    """``sentence`` in quotes, shortened to about ``width`` characters."""
    text = " ".join(sentence.split())
    return f'"{text if len(text) <= width else text[:width - 1].rstrip() + "…"}"'


def mel_differences(a: dict | None, b: dict | None) -> list[str]:
    """The mel settings (:data:`MEL_KEYS`, in that order) on which two ``mel`` dicts (of
    checkpoints, runs or configs) differ; one that either lacks differs."""
    a, b = dict(a or {}), dict(b or {})
    return [k for k in MEL_KEYS if k not in a or k not in b or a[k] != b[k]]


def mel_values(mel: dict, keys: Sequence[str], names: bool = True, prefix: str = "") -> str:
    """``keys`` of ``mel`` for a message: ``"n_fft = 160 and hop_length = 40"``, without
    ``names`` ``"160 and 40"``; ``prefix`` goes before each name (``"mel."``)."""
    return _and([f"{prefix}{k} = {mel.get(k)}" if names else str(mel.get(k)) for k in keys])


def mel_names(keys: Sequence[str], prefix: str = "") -> str:
    """``"n_fft and hop_length"`` (``prefix`` before each: ``"mel.n_fft and mel.hop_length"``)."""
    return _and([f"{prefix}{k}" for k in keys])


def mel_setting(mel: dict, keys: Sequence[str] = MEL_KEYS) -> str:
    """``keys`` of ``mel`` as a ``--set`` value: ``"{sr: 16000, n_fft: 160}"``."""
    return "{" + ", ".join(f"{k}: {mel.get(k)}" for k in keys) + "}"


def _and(items: Sequence[str]) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def check_mel_settings(synth: dict | None, vocoder: dict | None) -> dict:
    """The shared mel settings of a synthesizer and a vocoder checkpoint.

    Args:
        synth, vocoder: the checkpoints' ``extra["mel"]`` dicts (``sr`` Hz, ``n_fft`` and
            ``hop_length`` in samples, ``n_mels``).

    Raises:
        ConfigError: settings of :data:`MEL_KEYS` missing or different (one line naming
            them, with both values).
    """
    synth, vocoder = dict(synth or {}), dict(vocoder or {})
    differ = mel_differences(synth, vocoder)
    for name, mel in (("synthesizer.pt", synth), ("vocoder.pt", vocoder)):
        missing = [k for k in differ if k not in mel]
        if missing:
            raise ConfigError(f"{name} does not record its mel setting"
                              f"{'s' if len(missing) > 1 else ''} "
                              f"{_and([repr(k) for k in missing])}; export it with emovc's "
                              "synthesizer/vocoder training")
    if differ:
        raise ConfigError(f"synthesizer and vocoder use different mel settings: "
                          f"{mel_values(synth, differ)} in synthesizer.pt but "
                          f"{mel_values(vocoder, differ, names=False)} in vocoder.pt; train "
                          "them with the same mel settings")
    return synth


def _check_models(synthesizer: Tacotron, vocoder: WaveRNN, mel: dict) -> None:
    """The models' band count and the vocoder's upsampling must match ``mel``."""
    if synthesizer.cfg.n_mels != mel["n_mels"]:
        raise ConfigError(f"synthesizer makes {synthesizer.cfg.n_mels} mel bands but its mel "
                          f"settings say n_mels = {mel['n_mels']}")
    if vocoder.cfg.hop_length != mel["hop_length"]:
        raise ConfigError(f"vocoder upsamples by hop_length {vocoder.cfg.hop_length} but the "
                          f"mel settings say hop_length = {mel['hop_length']}")
