"""Speaker similarity and speaker verification with resemblyzer's GE2E encoder.

The encoder weights ship inside the ``resemblyzer`` wheel (no download) and run on CPU.
:class:`SpeakerEncoder` loads them once per object; pass one encoder around for repeated calls
(the module functions build a fresh one when none is given — fine for a single call).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from emovc.audio.io import resample
from emovc.errors import EmovcError

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

    def embed(self, wav: np.ndarray, sr: int = 16000) -> np.ndarray:
        """Speaker embedding of a ``(n,)`` float waveform at ``sr`` Hz → ``(256,)`` float32, L2 = 1.

        The waveform is resampled to 16 kHz, loudness-normalised and silence-trimmed by
        ``resemblyzer.preprocess_wav``. Too little speech left raises :class:`EmovcError`.
        """
        from resemblyzer import preprocess_wav

        x = resample(np.asarray(wav, dtype=np.float32), sr, ENCODER_SR)
        pre = preprocess_wav(x, source_sr=ENCODER_SR)
        if pre.size < ENCODER_SR // 4:  # VAD kept < 0.25 s: fall back to the raw audio
            pre = x
        if pre.size < ENCODER_SR // 10:
            raise EmovcError("audio too short for a speaker embedding (need >= 0.1 s of speech)")
        return np.asarray(self.encoder.embed_utterance(pre), dtype=np.float32)

    def similarity(self, a: np.ndarray, b: np.ndarray, sr: int = 16000) -> float:
        """Cosine similarity of the embeddings of two waveforms (−1..1, 1 = same voice)."""
        return cosine(self.embed(a, sr), self.embed(b, sr))


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    """Cosine similarity of two vectors."""
    den = float(np.linalg.norm(u) * np.linalg.norm(v))
    return float(np.dot(u, v) / den) if den > 0 else 0.0


def embed(wav: np.ndarray, sr: int = 16000, encoder: SpeakerEncoder | None = None) -> np.ndarray:
    """Speaker embedding ``(256,)`` of a waveform (see :meth:`SpeakerEncoder.embed`)."""
    return (encoder or SpeakerEncoder()).embed(wav, sr)


def speaker_similarity(a: np.ndarray, b: np.ndarray, sr: int = 16000,
                       encoder: SpeakerEncoder | None = None) -> float:
    """Cosine similarity of resemblyzer embeddings of two waveforms at ``sr`` Hz."""
    return (encoder or SpeakerEncoder()).similarity(a, b, sr)


@dataclass(frozen=True)
class EERResult:
    """Equal error rate of a verification trial set.

    Attributes:
        eer: rate (0..1) where false acceptance equals false rejection.
        threshold: cosine score at that point.
        n_target: same-speaker trials.
        n_nontarget: different-speaker trials.
    """

    eer: float
    threshold: float
    n_target: int
    n_nontarget: int

    def to_dict(self) -> dict:
        """Plain-data copy."""
        return asdict(self)


def trial_scores(embeddings: np.ndarray, speaker_labels) -> tuple[np.ndarray, np.ndarray]:
    """Cosine scores and same-speaker flags of all ``N(N-1)/2`` pairs of ``(N, D)`` embeddings."""
    e = np.asarray(embeddings, dtype=np.float64)
    labels = np.asarray(list(speaker_labels))
    if e.ndim != 2 or e.shape[0] != labels.shape[0]:
        raise EmovcError(f"need (N, D) embeddings and N labels, got {e.shape} and {labels.shape}")
    e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    iu, ju = np.triu_indices(e.shape[0], k=1)
    scores = np.sum(e[iu] * e[ju], axis=1)
    return scores, labels[iu] == labels[ju]


def equal_error_rate(embeddings: np.ndarray, speaker_labels) -> EERResult:
    """EER over all trial pairs of ``(N, D)`` embeddings with ``N`` speaker labels.

    Scores are cosine similarities; the ROC comes from ``sklearn.metrics.roc_curve`` and the
    EER is read where FAR = FRR (linear interpolation between the two nearest ROC points).

    Raises:
        EmovcError: fewer than one target or one non-target trial.
    """
    from sklearn.metrics import roc_curve

    scores, same = trial_scores(embeddings, speaker_labels)
    n_t, n_n = int(same.sum()), int((~same).sum())
    if n_t == 0 or n_n == 0:
        raise EmovcError("EER needs at least two clips of one speaker and two speakers")
    fpr, tpr, thr = roc_curve(same.astype(int), scores)
    fnr = 1.0 - tpr
    k = int(np.nanargmin(np.abs(fnr - fpr)))
    # interpolate between neighbours k-1/k where (fnr - fpr) changes sign
    j = k - 1 if k > 0 and (fnr[k] - fpr[k]) * (fnr[k - 1] - fpr[k - 1]) <= 0 else k
    if j != k:
        d0, d1 = fnr[j] - fpr[j], fnr[k] - fpr[k]
        w = d0 / (d0 - d1) if d0 != d1 else 0.0
        eer = fpr[j] + w * (fpr[k] - fpr[j])
        threshold = thr[j] + w * (thr[k] - thr[j]) if np.isfinite(thr[j]) else thr[k]
    else:
        eer, threshold = (fpr[k] + fnr[k]) / 2, thr[k]
    return EERResult(float(eer), float(threshold), n_t, n_n)
