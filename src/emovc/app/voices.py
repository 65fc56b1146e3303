"""Speaker embeddings for the clone tab: a small set of known voices and a 2-D map of them.

Known voices are synthetic talkers (emovc.data.synthetic; no recorded data needed), computed once
and shared by every browser session, plus the references one browser session uploaded earlier
(:class:`UploadedVoices`, kept per session by :class:`emovc.app.session.Sessions`). The map
projects the embeddings to 2-D as ``emovc embed-map`` does
(:func:`emovc.pipelines.speaker.project`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from emovc.data.synthetic import SyntheticVoice, synthesize

Embedder = Callable[[np.ndarray, int], np.ndarray]  # (wav (n,), sr) -> (D,) unit vector

SYNTHETIC_VOICES: dict[str, SyntheticVoice] = {
    "synth low male": SyntheticVoice(f0_mean=95.0, formant_scale=0.92, tilt=0.8),
    "synth male": SyntheticVoice(f0_mean=125.0),
    "synth bright male": SyntheticVoice(f0_mean=140.0, tilt=0.5, formant_scale=1.03),
    "synth female": SyntheticVoice(f0_mean=210.0, formant_scale=1.15),
    "synth low female": SyntheticVoice(f0_mean=180.0, formant_scale=1.1, tilt=0.85),
    "synth child": SyntheticVoice(f0_mean=270.0, formant_scale=1.3, rate=3.5),
}
"""Known voices of the embedding map (caricatures, not real speakers)."""


@dataclass(frozen=True)
class Voice:
    """One point of the map: display name, kind ("known"/"upload") and embedding ``(D,)``."""

    name: str
    kind: str
    embedding: np.ndarray


class KnownVoices:
    """Embeddings of the synthetic voices: computed on first use, then shared by every session
    (thread-safe).

    Args:
        embed: speaker-embedding function ``(wav, sr) -> (D,)``.
    """

    def __init__(self, embed: Embedder) -> None:
        self._embed = embed
        self._known: list[Voice] | None = None
        self._lock = threading.Lock()

    def voices(self) -> list[Voice]:
        """The synthetic voices, in :data:`SYNTHETIC_VOICES` order."""
        with self._lock:
            if self._known is None:
                self._known = [Voice(name, "known", self._embed(synthesize(v, 2.5, seed=i), 16000))
                               for i, (name, v) in enumerate(SYNTHETIC_VOICES.items())]
            return list(self._known)


class UploadedVoices:
    """The reference voices one browser session uploaded, for its later maps (thread-safe).

    Args:
        max_uploads: keep at most this many voices (oldest dropped first).
    """

    def __init__(self, max_uploads: int = 20) -> None:
        self._max_uploads = max_uploads
        self._uploads: list[Voice] = []
        self._lock = threading.Lock()

    def voices(self) -> list[Voice]:
        """The uploads in upload order (a re-upload of a name counts as its newest)."""
        with self._lock:
            return list(self._uploads)

    def add(self, name: str, embedding: np.ndarray) -> None:
        """Remember a reference voice (replacing an earlier one of the same name)."""
        with self._lock:
            self._uploads = [v for v in self._uploads if v.name != name]
            self._uploads.append(Voice(name, "upload", np.asarray(embedding, dtype=np.float32)))
            del self._uploads[:-self._max_uploads]
