"""Speaker similarity and speaker verification with resemblyzer's GE2E encoder.

The encoder weights ship inside the ``resemblyzer`` wheel (no download) and run on CPU.
:class:`SpeakerEncoder` loads them once per object; pass one encoder around for repeated calls
(the module functions build a fresh one when none is given — fine for a single call).
"""

from __future__ import annotations

import numpy as np

from emovc.audio import check_speech
from emovc.audio.io import resample
from emovc.models.speaker_encoder.verification import (  # noqa: F401 — re-exported
    EERResult,
    equal_error_rate,
    trial_scores,
)

ENCODER_SR = 16000  # resemblyzer's sampling rate


class SpeakerEncoder:
    """Lazily loaded resemblyzer ``VoiceEncoder`` producing unit-norm 256-dim d-vectors."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._encoder = None

    @property
    def encoder(self):
        """The underlying ``resemblyzer.VoiceEncoder`` (loaded on first use)."""
        if self._encoder is None:
            from resemblyzer import VoiceEncoder

            self._encoder = VoiceEncoder(device=self.device, verbose=False)
        return self._encoder

    def embed(self, wav: np.ndarray, sr: int) -> np.ndarray:
        """Speaker embedding of a ``(n,)`` float waveform at ``sr`` Hz → ``(256,)`` float32, L2 = 1.

        The waveform is resampled to 16 kHz, loudness-normalised and silence-trimmed by
        ``resemblyzer.preprocess_wav``. Silent audio, or too little speech left, raises
        :class:`EmovcError`.
        """
        from resemblyzer import preprocess_wav

        x = resample(np.asarray(wav, dtype=np.float32), sr, ENCODER_SR)
        check_speech(x, ENCODER_SR, min_duration=0.1, name="audio for a speaker embedding")
        pre = preprocess_wav(x, source_sr=ENCODER_SR)
        if pre.size < ENCODER_SR // 4:  # VAD kept < 0.25 s: fall back to the raw audio
            pre = x
        return np.asarray(self.encoder.embed_utterance(pre), dtype=np.float32)

    def similarity(self, a: np.ndarray, b: np.ndarray, sr: int) -> float:
        """Cosine similarity of the embeddings of two waveforms (−1..1, 1 = same voice)."""
        return cosine(self.embed(a, sr), self.embed(b, sr))


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    """Cosine similarity of two vectors."""
    den = float(np.linalg.norm(u) * np.linalg.norm(v))
    return float(np.dot(u, v) / den) if den > 0 else 0.0


def embed(wav: np.ndarray, sr: int, encoder: SpeakerEncoder | None = None) -> np.ndarray:
    """Speaker embedding ``(256,)`` of a waveform (see :meth:`SpeakerEncoder.embed`)."""
    return (encoder or SpeakerEncoder()).embed(wav, sr)


def speaker_similarity(a: np.ndarray, b: np.ndarray, sr: int,
                       encoder: SpeakerEncoder | None = None) -> float:
    """Cosine similarity of resemblyzer embeddings of two waveforms at ``sr`` Hz."""
    return (encoder or SpeakerEncoder()).similarity(a, b, sr)


