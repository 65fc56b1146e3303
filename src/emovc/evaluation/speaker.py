"""Speaker similarity and speaker verification for the evaluation.

Embeddings come from :class:`emovc.pipelines.speaker.SpeakerEncoder` (re-exported here, so
``emovc evaluate``, ``emovc similarity``/``embed`` and the app score with one encoder and one
input contract): by default the GE2E weights shipped inside the ``resemblyzer`` wheel (no
download, CPU), or a speaker encoder trained with emovc (``EvalConfig.speaker_encoder``).

Input contract: mono audio at any rate (resampled to 16 kHz) with at least
:data:`~emovc.pipelines.speaker.MIN_SPEECH_S` (0.5 s) of audio that is not silence; shorter or
silent clips raise :class:`~emovc.errors.AudioError` (a 0.4 s clip scored 0.34 against its own
source, so a number would mislead). ``emovc evaluate`` leaves such a clip's similarity out
(NaN) with a note.

Loading the encoder takes a moment: pass one ``SpeakerEncoder`` around for repeated calls
(the module functions load the bundled one when none is given, fine for a single call).
"""

from __future__ import annotations

import numpy as np

from emovc.models.speaker_encoder.verification import (  # noqa: F401 — re-exported
    EERResult,
    equal_error_rate,
    trial_scores,
)
from emovc.pipelines.speaker import (  # noqa: F401 — re-exported
    MIN_SPEECH_S,
    SAMPLE_RATE,
    SpeakerEncoder,
)

ENCODER_SR = SAMPLE_RATE  # the encoder's rate in Hz (older name of SAMPLE_RATE)


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    """Cosine similarity of two vectors ``(D,)`` (0 when either is all zeros)."""
    den = float(np.linalg.norm(u) * np.linalg.norm(v))
    return float(np.dot(u, v) / den) if den > 0 else 0.0


def embed(wav: np.ndarray, sr: int, encoder: SpeakerEncoder | None = None) -> np.ndarray:
    """Speaker embedding ``(256,)`` float32 of a mono waveform ``(n,)`` at ``sr`` Hz (see
    :meth:`SpeakerEncoder.embed`; ``encoder`` None: the bundled one)."""
    return (encoder or SpeakerEncoder.from_pretrained()).embed(wav, sr)


def speaker_similarity(a: np.ndarray, b: np.ndarray, sr: int,
                       encoder: SpeakerEncoder | None = None) -> float:
    """Cosine similarity (−1..1, 1 = same voice) of the embeddings of two mono waveforms
    ``(n,)`` at ``sr`` Hz (``encoder`` None: the bundled one).

    Raises:
        AudioError: either clip is shorter than 0.5 s, silent, or not mono audio.
    """
    return (encoder or SpeakerEncoder.from_pretrained()).similarity(a, b, sr)
