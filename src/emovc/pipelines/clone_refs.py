"""Reference recordings of a voice clone: accepted forms, checks and preparation.

A reference is a file path or a ``(wav, sr)`` pair; each is resampled to 16 kHz, optionally
denoised, VAD-trimmed, checked to hold voiced speech and loudness-normalised
(:func:`prepare_reference`). The prepared references of one speaker, with what cloning derives
from them, make a :class:`Voice`. Used by :class:`emovc.pipelines.cloning.VoiceCloner`.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emovc.audio import (
    audio_info,
    check_speech,
    check_voiced_speech,
    load_audio,
    normalize_loudness,
    trim_silence,
)
from emovc.audio.bandwidth import FULL_BAND_RATE  # noqa: F401 — re-exported
from emovc.audio.bandwidth import band_limit_note as band_limit_note_of
from emovc.audio.clipping import clipped_share, clipping_note, file_clipped_share
from emovc.audio.io import resample
from emovc.audio.noise import estimate_snr, low_snr_note
from emovc.audio.processing import MIN_DURATION_S, as_mono, check_sample_rate
from emovc.audio.voicing import MIN_PERIODIC_SHARE
from emovc.errors import AudioError, ConfigError
from emovc.pipelines.clone_speakers import speaker_mismatch  # noqa: F401 — re-exported

SR = 16000  # rate of prepared references, in Hz
Reference = str | os.PathLike | tuple[np.ndarray, int]
#: share of a reference's active frames that must be voiced: the conversion's check
#: (:func:`emovc.audio.check_voiced_speech`, measured there). It replaced pyin with a Harvest
#: second opinion, which let a quarter of white-noise clips through (3 of 12 seeds of 4 s).
MIN_VOICED_SHARE = MIN_PERIODIC_SHARE




@dataclass(frozen=True)
class ReadReference:
    """A reference as read, before :func:`prepare_reference`: mono float32 ``wav`` ``(n,)``
    at ``sr`` Hz, how messages call it, the rate it was recorded at (a file's own rate,
    a pair's ``sr``; ``None``: unknown), and the share of its samples in full-scale runs as
    recorded (:func:`~emovc.audio.clipping.clipped_share`, channel by channel)."""

    wav: np.ndarray
    sr: int
    name: str
    rate: int | None
    clipped: float = 0.0

    def digest(self) -> bytes:
        """A hash of the samples and the rate: equal for the same recording."""
        return hashlib.blake2b(np.ascontiguousarray(self.wav).tobytes(),
                               key=str(self.sr).encode()).digest()


def read_reference(ref: Reference, index: int) -> ReadReference:
    """Read reference number ``index`` (from 0): a file at 16 kHz, or a ``(wav, sr)`` pair
    mixed to mono at its own rate. The clipping is measured on the file as recorded, or on a
    pair's samples as given (``load_audio``'s samples of a clipped file, freed of DC and
    resampled, no longer sit at full scale: give such a file by its path).

    Raises:
        AudioError: an unreadable file, a bad ``sr`` (one in kHz included) or samples that
            are not float mono or channels-last audio.
    """
    if isinstance(ref, tuple):
        name = f"reference {index + 1}"
        sr = check_sample_rate(ref[1], f"sample rate of {name}")
        mono = as_mono(ref[0], name)  # refuses integer samples and other layouts first
        raw = np.asarray(ref[0])
        channels = raw.reshape(-1, 1) if raw.ndim == 1 or 1 in raw.shape else raw
        return ReadReference(mono, sr, name, sr, clipped_share(channels))
    try:
        rate = audio_info(ref).sample_rate
    except AudioError:  # e.g. an mp3 libsndfile cannot open: load_audio decodes it otherwise
        rate = None
    wav = load_audio(ref, sr=SR)  # as emovc convert reads its input, with its checks
    return ReadReference(wav, SR, f"reference {Path(ref).name}", rate, file_clipped_share(ref))


@dataclass(frozen=True, eq=False)
class Voice:
    """Reference recordings of one speaker, read, checked and prepared once
    (:meth:`emovc.pipelines.cloning.VoiceCloner.prepare_voice`): give it to ``clone`` or
    ``clone_to_file`` in place of the references, and every text costs synthesis only.

    What cloning derives from the prepared clips (unit selection's WORLD analysis and phone
    labels, a neural synthesizer's speaker embedding) is computed on first use and kept here,
    one per set of analysis settings (:meth:`analysis`), so a voice serves cloners of every
    style.

    Attributes:
        wavs: the prepared clips, float32 ``(m_i,)`` at 16 kHz (resampled, VAD-trimmed,
            loudness-normalised, cut at ``CloneConfig.max_reference_s``).
        names: how messages call each clip kept (``"reference a.wav"``, ``"reference 2"``).
        files: the reference files given (paths; none for ``(wav, sr)`` pairs), for the
            provenance tag.
        notes: the warnings the references gave when they were prepared, one line each.
        preparation: the ``CloneConfig`` settings the clips were prepared with
            (:data:`PREPARATION`, in that order).
    """

    wavs: tuple[np.ndarray, ...]
    names: tuple[str, ...]
    files: tuple[Path, ...]
    notes: tuple[str, ...]
    preparation: tuple
    _analyses: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def seconds(self) -> float:
        """Reference speech used, seconds."""
        return sum(len(w) for w in self.wavs) / SR

    def analysis(self, key: Hashable, make: Callable[[], object]) -> object:
        """What ``make()`` derives from :attr:`wavs` under the settings ``key``: computed on the
        first call with that key, then kept (thread-safe; one computation per key)."""
        with self._lock:
            if key not in self._analyses:
                self._analyses[key] = make()
            return self._analyses[key]


#: the CloneConfig fields a Voice is prepared with (:attr:`Voice.preparation`)
PREPARATION = ("denoise", "target_dbfs", "min_reference_s", "max_reference_s")


def drop_repeats(refs: list[ReadReference]) -> tuple[list[ReadReference], str]:
    """``refs`` with each recording once (a file given twice, or a copy: the same samples at
    the same rate), and a one-line warning naming the repeats (``""`` when none): a repeat
    would count twice toward the minimum of reference speech and in the same-speaker check."""
    kept: list[ReadReference] = []
    first: dict[bytes, int] = {}
    repeats: dict[int, list[str]] = {}
    for ref in refs:
        digest = ref.digest()
        if digest in first:
            repeats.setdefault(first[digest], []).append(ref.name)
        else:
            first[digest] = len(kept)
            kept.append(ref)
    items = []
    for i, names in repeats.items():
        same = names.count(kept[i].name)
        items += [f"{kept[i].name} given {same + 1} times"] if same else []
        items += [f"{n} repeats {kept[i].name}" for n in names if n != kept[i].name]
    return kept, (f"{'; '.join(items)}: each recording is used once" if items else "")


def band_limit_note(ref: ReadReference) -> str:
    """A one-line warning when ``ref`` is band-limited (:func:`emovc.audio.bandwidth.band_limit_hz`:
    recorded below :data:`FULL_BAND_RATE`, e.g. telephone audio at 8 kHz, or such audio
    resampled), else ``""``: the clone is made of its sounds, so it has no sound above that
    band either, and it matches the speaker less well (a VCTK speaker's clone from an 8 kHz
    copy of a reference: similarity 0.58 to another of their clips, against 0.73 from the
    16 kHz one)."""
    return band_limit_note_of(
        ref.name, ref.wav, ref.sr, "the clone will sound band-limited (like a phone call) and "
        "match the speaker less well; use a recording of 16 kHz or more if you have one",
        ref.rate)


def clip_note(ref: ReadReference) -> str:
    """A one-line warning when ``ref`` is clipped (flat tops at full scale in at least
    :data:`~emovc.audio.clipping.MIN_CLIPPED_SHARE` of its samples), else ``""``: the warning
    ``emovc convert`` gives for a clipped input (:func:`~emovc.audio.clipping.clipping_note`)."""
    return clipping_note(ref.name, ref.clipped)


def noise_note(ref: ReadReference, denoise: bool) -> str:
    """A one-line warning when ``ref`` is noisy (an estimated SNR below
    :data:`~emovc.audio.noise.LOW_SNR_DB`, as read: before any denoising), else ``""``: the
    clone is made of its sounds, and the speaker encoder hears noise as voice (a RAVDESS take
    with white noise at 20 dB: similarity 0.85 to the clean take;
    docs/conversion.md, "Noisy input")."""
    fix = ("it is denoised first (--denoise), which takes out steady noise only" if denoise
           else "use a quieter recording, or --denoise (Python: CloneConfig(denoise=True))")
    return low_snr_note(ref.name, estimate_snr(ref.wav, ref.sr, ref.name),
                        f"the clone is made of its sounds and matches the voice less well; {fix}")


def prepare_reference(wav: np.ndarray, sr: int, denoise: bool = False,
                      target_dbfs: float = -23.0, name: str = "reference") -> np.ndarray:
    """Resample to 16 kHz, (denoise), VAD-trim and loudness-normalise one reference clip.

    Args:
        wav: mono float samples ``(n,)`` at ``sr`` Hz; channels-last ``(n, channels)`` is
            mixed down (:func:`~emovc.audio.processing.as_mono`).

    Returns:
        float32 ``(m,)`` at 16 kHz.

    Raises:
        AudioError: silent, non-finite, integer PCM, of another shape, a bad ``sr``,
            shorter than 0.5 s of speech, or without voiced speech (:func:`check_voiced`).
    """
    x = resample(as_mono(wav, name), check_sample_rate(sr, f"sample rate of {name}"), SR)
    check_speech(x, SR, name=name)
    if denoise:
        x = denoise_wav(x, SR)
    x = trim_silence(x, SR, method="vad")
    if len(x) < MIN_DURATION_S * SR:  # "too short" would puzzle for a 3 s file of noise
        raise AudioError(f"{name} holds only {len(x) / SR:.2f} s of speech once silence is "
                         f"trimmed (need at least {MIN_DURATION_S:g} s)")
    check_speech(x, SR, name=name)
    check_voiced(x, name)
    return normalize_loudness(x, SR, target_dbfs)


def check_voiced(wav: np.ndarray, name: str = "reference") -> None:
    """Refuse a reference without voiced speech (noise, hum, clicks, a whisper): ``wav`` is
    mono float32 ``(n,)`` at 16 kHz (:func:`emovc.audio.check_voiced_speech`).

    Raises:
        AudioError: too few voiced frames (one line naming the reference).
    """
    check_voiced_speech(wav, SR, name=name)


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
        AudioError: a bare waveform without its sample rate, a container other than a
            list/tuple (``dict``, ``bytes``, ...), or an item that is neither a path nor a
            ``(wav, sr)`` pair.
    """
    if isinstance(references, (str, os.PathLike)) or _is_pair(references):
        return [references]
    if isinstance(references, np.ndarray):
        raise AudioError("a reference waveform needs its sample rate: pass (wav, sr) or a "
                         "list of them, or file paths")
    if references is not None and not isinstance(references, (list, tuple)):
        raise AudioError("references must be a file path, a (wav, sr) pair or a list of them, "
                         f"got {type(references).__name__}")
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


def cap_note(wavs: Sequence[np.ndarray], names: Sequence[str], max_samples: int) -> str:
    """One line telling that :func:`cap_total` cuts the ``(m_i,)`` 16 kHz references
    ``wavs`` (called ``names``) to ``max_samples`` samples, naming what was cut and how much
    was used; ``""`` when nothing is cut."""
    total = sum(len(w) for w in wavs)
    if total <= max_samples:
        return ""
    used, cuts = 0, []
    for w, name in zip(wavs, names, strict=True):
        keep = min(len(w), max(max_samples - used, 0))
        used += keep
        if keep == 0:
            cuts.append(f"{name} not used")
        elif keep < len(w):
            cuts.append(f"{name} cut to its first {keep / SR:.1f} s of {len(w) / SR:.1f} s")
    return (f"only the first {max_samples / SR:g} s of reference speech are used (of "
            f"{total / SR:.1f} s after trimming silence; CloneConfig.max_reference_s): "
            + "; ".join(cuts))


def cap_total(wavs: list[np.ndarray], max_samples: int) -> list[np.ndarray]:
    """The first ``max_samples`` samples of ``wavs`` taken in order (later clips cut or
    dropped)."""
    out, used = [], 0
    for w in wavs:
        if used >= max_samples:
            break
        out.append(w[: max_samples - used])
        used += len(out[-1])
    return out
