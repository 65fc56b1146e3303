"""Zero-shot voice cloning: say new text in the voice of a few seconds of reference speech.

What runs offline now (no trained synthesizer needed, 2 CPU cores)::

    text ──espeak-ng──▶ front-end speech ──unit selection──▶ speech in the reference voice
                         (EspeakFrontend)   (reference frames chosen by speaker-normalised
                                             content features; reference waveform segments
                                             joined with cross-fades)

with a similarity ↔ intelligibility trade-off chosen by :data:`STYLES` (``voice``, ``balanced``,
``clear``; :meth:`CloneConfig.for_style`), optionally followed by emotion conversion
(``emotion=``). The SV2TTS neural path (GE2E
embedding → Tacotron-2 → WaveRNN) is available for users who train it
(:mod:`emovc.training.synthesizer`, :mod:`emovc.training.vocoder`); see ``docs/cloning.md``.

References are preprocessed like every emovc input: resampled to 16 kHz, optionally denoised
(spectral gating with ``noisereduce``), VAD-trimmed and loudness-normalised. Cloning a voice
requires the speaker's consent; every file written carries a provenance tag.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from emovc.audio import check_speech, load_audio, normalize_loudness, save_audio, trim_silence
from emovc.audio.processing import as_mono, check_sample_rate
from emovc.data.emotions import normalize_emotion
from emovc.errors import AudioError, ConfigError, EmovcError, choice_error
from emovc.features.world import WorldConfig
from emovc.models.synthesizer import unit_selection as us
from emovc.pipelines.frontend import EspeakFrontend, FrontendConfig

SR = 16000
METHODS = ("unit-selection",)
#: similarity ↔ intelligibility trade-off of the offline path (measured in docs/cloning.md):
#: "voice" = the reference's own units (most like the speaker, often hard to understand),
#: "clear" = the front-end re-synthesised in the speaker's F0/envelope statistics (every phone
#: kept, less like the speaker), "balanced" = reference units where they match the text's
#: phones well, statistics-mapped front-end frames elsewhere.
STYLES = {
    "voice": {"phone_weight": 2.0, "fallback_cost": None},
    "balanced": {"phone_weight": 4.0, "fallback_cost": 3.5},
    "clear": {"phone_weight": 0.0, "fallback_cost": 0.0},
}
Reference = str | os.PathLike | tuple[np.ndarray, int]


@dataclass(frozen=True)
class CloneConfig:
    """Settings of the offline cloning path.

    Attributes:
        frontend: espeak-ng voice settings.
        units: unit-selection settings.
        min_reference_s: total reference speech required after trimming, seconds.
        max_reference_s: reference speech used at most (longer input is cut), seconds.
        denoise: spectral-gating noise reduction of the references (``noisereduce``).
        target_dbfs: output/reference active speech level.
        pause_s: silence inserted between sentences.
    """

    frontend: FrontendConfig = field(default_factory=FrontendConfig)
    units: us.UnitSelectionConfig = field(default_factory=us.UnitSelectionConfig)
    min_reference_s: float = 2.0
    max_reference_s: float = 60.0
    denoise: bool = False
    target_dbfs: float = -23.0
    pause_s: float = 0.25

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def for_style(cls, style: str = "voice", **kwargs) -> CloneConfig:
        """Config of one :data:`STYLES` preset (other ``CloneConfig`` fields as ``kwargs``)."""
        if style not in STYLES:
            raise choice_error("cloning style", style, tuple(STYLES))
        units = replace(us.UnitSelectionConfig(), **STYLES[style])
        return cls(units=units, **kwargs)


def prepare_reference(wav: np.ndarray, sr: int, denoise: bool = False,
                      target_dbfs: float = -23.0, name: str = "reference") -> np.ndarray:
    """Resample to 16 kHz, (denoise), VAD-trim and loudness-normalise one reference clip.

    Args:
        wav: mono float samples ``(n,)`` at ``sr`` Hz; channels-last ``(n, channels)`` is
            mixed down (:func:`~emovc.audio.processing.as_mono`).

    Returns:
        float32 ``(m,)`` at 16 kHz.

    Raises:
        AudioError: silent, non-finite, integer PCM, of another shape, a bad ``sr``, or
            shorter than 0.5 s of speech.
    """
    from emovc.audio.io import resample

    x = resample(as_mono(wav, name), check_sample_rate(sr, f"sample rate of {name}"), SR)
    check_speech(x, SR, name=name)
    if denoise:
        x = denoise_wav(x, SR)
    x = trim_silence(x, SR, method="vad")
    check_speech(x, SR, name=name)
    return normalize_loudness(x, SR, target_dbfs)


def denoise_wav(wav: np.ndarray, sr: int) -> np.ndarray:
    """Stationary spectral-gating noise reduction (``noisereduce``, Sainburg et al. 2020)."""
    try:
        import noisereduce
    except ImportError:
        raise ConfigError("denoising needs noisereduce: pip install noisereduce") from None
    return noisereduce.reduce_noise(y=wav, sr=sr, stationary=True, n_jobs=1).astype(np.float32)


def reference_list(references) -> list[Reference]:
    """``references`` as a list: a single path or a single ``(wav, sr)`` pair is one reference;
    a list/tuple of paths and pairs is returned as a list.

    Raises:
        AudioError: a bare waveform without its sample rate, or an item that is neither a
            path nor a ``(wav, sr)`` pair.
    """
    if isinstance(references, (str, os.PathLike)) or _is_pair(references):
        return [references]
    if isinstance(references, np.ndarray):
        raise AudioError("a reference waveform needs its sample rate: pass (wav, sr) or a "
                         "list of them, or file paths")
    refs = list(references or [])
    for i, ref in enumerate(refs):
        if not (isinstance(ref, (str, os.PathLike)) or _is_pair(ref)):
            raise AudioError(f"reference {i + 1} must be a file path or a (wav, sr) pair, "
                             f"got {type(ref).__name__}")
    return refs


def _is_pair(ref) -> bool:
    """Whether ``ref`` is a ``(waveform, sample_rate)`` tuple (not a tuple of two paths)."""
    return (isinstance(ref, tuple) and len(ref) == 2
            and not isinstance(ref[0], (str, os.PathLike)) and np.ndim(ref[0]) >= 1
            and np.ndim(ref[1]) == 0)


def split_sentences(text: str) -> list[str]:
    """Split text at sentence punctuation so each part is synthesised separately."""
    parts = [p.strip() for p in re.split(r"(?<=[.!?;])\s+", text.strip())]
    return [p for p in parts if re.search(r"\w", p)]


class VoiceCloner:
    """Text + reference recordings → speech in the reference voice (16 kHz float32)."""

    def __init__(self, config: CloneConfig | None = None) -> None:
        self.config = config or CloneConfig()
        self.frontend = EspeakFrontend(self.config.frontend)
        self.world = WorldConfig()
        self.neural = None  # NeuralCloner when loaded from trained SV2TTS models

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike = "default") -> VoiceCloner:
        """``"default"``/``"unit-selection"``: the offline cloner (no weights needed); a folder
        with ``synthesizer.pt`` + ``vocoder.pt``: the trained neural SV2TTS path."""
        if str(name_or_path) in ("default", *METHODS):
            return cls()
        folder = Path(name_or_path)
        if (folder / "synthesizer.pt").is_file() and (folder / "vocoder.pt").is_file():
            from emovc.pipelines.sv2tts import NeuralCloner

            cloner = cls()
            cloner.neural = NeuralCloner.from_folder(folder)
            return cloner
        raise ConfigError(f"unknown cloner {str(name_or_path)!r}; valid choices: default, "
                          f"{', '.join(METHODS)}, or a folder with synthesizer.pt + vocoder.pt")

    def load_references(self, references: Sequence[Reference] | Reference) -> list[np.ndarray]:
        """Load and preprocess references (paths or ``(wav, sr)`` pairs, or one of them;
        see :func:`reference_list` and :func:`prepare_reference`).

        Returns:
            float32 ``(m_i,)`` clips at 16 kHz.

        Raises:
            AudioError: no reference, a silent/unreadable one, or less than
                ``min_reference_s`` of speech in total.
        """
        references = reference_list(references)
        if not references:
            raise AudioError("no reference audio given; pass at least one --reference file")
        cfg = self.config
        wavs = []
        for i, ref in enumerate(references):
            if isinstance(ref, tuple):
                wav, sr, name = ref[0], ref[1], f"reference {i + 1}"
            else:
                wav, sr, name = load_audio(ref, sr=SR), SR, f"reference {Path(ref).name}"
            wavs.append(prepare_reference(wav, sr, cfg.denoise, cfg.target_dbfs, name))
        total = sum(len(w) for w in wavs) / SR
        if total < cfg.min_reference_s:
            raise AudioError(f"reference speech too short: {total:.2f} s after trimming "
                             f"(need at least {cfg.min_reference_s:g} s)")
        return _cap(wavs, int(cfg.max_reference_s * SR))

    def clone(self, references: Sequence[Reference] | Reference, text: str,
              emotion: str | None = None) -> tuple[np.ndarray, int]:
        """Speak ``text`` in the references' voice.

        Args:
            references: file paths or ``(wav, sr)`` pairs of the target speaker (a list, or a
                single path or pair); ``wav`` mono float ``(n,)`` or channels-last
                ``(n, channels)`` (mixed down) at ``sr`` Hz.
            text: the words to say (English by default; see ``FrontendConfig.voice``).
            emotion: optional target emotion, applied by the bundled emotion converter.

        Returns:
            ``(wav (n,) float32, 16000)``.

        Repeated calls with the same references, text and config give the same audio: the
        espeak-ng front-end is reloaded for every sentence and the phone recogniser's feature
        normalisation is reset for every utterance, so that no state carries over
        (:mod:`emovc.pipelines.frontend`, :mod:`emovc.features.phones`).
        """
        sentences = split_sentences(text or "")
        if not sentences:
            raise EmovcError("text is empty; give the words to speak, e.g. --text \"Hello.\"")
        if emotion:
            emotion = normalize_emotion(emotion)  # unknown names fail before any work
        refs = self.load_references(references)
        if self.neural is not None:
            wav = np.concatenate([self.neural.clone([(r, SR) for r in refs], s)[0]
                                  for s in sentences])
            return self._finish(wav, emotion)
        units = us.analyse_reference(refs, self.config.units, self.world)
        pause = np.zeros(int(self.config.pause_s * SR), dtype=np.float32)
        pieces = []
        for sentence in sentences:
            src, _, phones = self.frontend.synthesize_with_phones(sentence)
            pieces += [us.convert(src, units, self.config.units, self.world, phones), pause]
        return self._finish(np.concatenate(pieces[:-1]), emotion)

    def _finish(self, wav: np.ndarray, emotion: str | None) -> tuple[np.ndarray, int]:
        wav = normalize_loudness(wav, SR, self.config.target_dbfs)
        if emotion:
            wav = apply_emotion(wav, SR, emotion)
        return wav, SR

    def clone_to_file(self, references: Sequence[Reference] | Reference, text: str,
                      out: str | os.PathLike, *, consent: bool, emotion: str | None = None,
                      force: bool = False) -> Path:
        """Clone and write ``out`` with a provenance tag; requires ``consent=True``.

        Raises:
            EmovcError: no consent, or any input problem of :meth:`clone`.
        """
        require_consent(consent)
        references = reference_list(references)
        out = Path(out)
        if out.exists() and not force:
            raise EmovcError(f"{out} exists; pass --force to overwrite")
        refs = [Path(r) for r in references if not isinstance(r, tuple)]
        if any(out.resolve() == r.resolve() for r in refs):
            raise EmovcError(f"output {out} would overwrite a reference file")
        wav, sr = self.clone(references, text, emotion=emotion)
        return save_audio(out, wav, sr, force=force, comment=provenance_tag(refs, emotion))


def require_consent(consent: bool) -> None:
    """Refuse to clone without the reference speaker's consent."""
    if not consent:
        raise EmovcError("cloning a voice needs the speaker's consent: confirm with --consent "
                         "that the reference speaker agreed to have their voice cloned")


def provenance_tag(references: Sequence[Path], emotion: str | None) -> str:
    """Metadata comment marking a file as synthetic (written into every cloned file)."""
    from emovc import __version__

    names = ", ".join(p.name for p in references) or "in-memory audio"
    extra = f", emotion {emotion}" if emotion else ""
    return (f"emovc {__version__}: cloned voice (synthetic speech from reference {names}"
            f"{extra}; speaker consent confirmed)")


def apply_emotion(wav: np.ndarray, sr: int, emotion: str) -> np.ndarray:
    """Convert cloned speech to ``emotion`` with the bundled emotion converter."""
    try:
        from emovc.pipelines.conversion import EmotionConverter
    except ImportError as exc:
        msg = f"--emotion needs the emotion converter, which is unavailable ({exc})"
        raise EmovcError(msg) from None
    converter = EmotionConverter.from_pretrained()  # the bundled default converter
    # cloned read speech is neutral; fall back to automatic source detection otherwise
    source = "neutral" if "neutral" in converter.source_emotions else None
    out = converter.convert(wav, sr, target=emotion, source=source)
    return np.asarray(out, dtype=np.float32)


def _cap(wavs: list[np.ndarray], max_samples: int) -> list[np.ndarray]:
    out, used = [], 0
    for w in wavs:
        if used >= max_samples:
            break
        out.append(w[: max_samples - used])
        used += len(out[-1])
    return out
