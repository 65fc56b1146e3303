"""The bundled recogniser (functionals + CNN ensemble) labels a clip the same alone, in a
batch, and at another sample rate."""

from __future__ import annotations

import numpy as np
import pytest

from emovc.data.synthetic import EMOTION_VOICES, synthesize


@pytest.fixture(scope="module")
def recognizer():
    from emovc.pipelines.recognition import EmotionRecognizer

    return EmotionRecognizer.from_pretrained("ser-ravdess")


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    """Three clips of different lengths (the CNN sees mel spectrograms of different widths)."""
    return [synthesize(EMOTION_VOICES[e], duration=d, seed=s)
            for e, d, s in (("angry", 1.5, 1), ("sad", 2.3, 2), ("calm", 1.0, 3))]


def test_a_batch_row_is_the_clip_alone(recognizer, clips):
    """predict_batch promises each clip's probabilities do not depend on the others in the
    batch (no padding to the longest clip, no batch statistics)."""
    batch = recognizer.predict_batch(clips, 16000)
    assert batch.shape == (3, len(recognizer.labels))
    for row, wav in zip(batch, clips, strict=True):
        alone = recognizer.predict(wav, 16000)
        np.testing.assert_allclose(row, [alone[lab] for lab in recognizer.labels], rtol=0,
                                   atol=1e-9)
    reordered = recognizer.predict_batch(clips[::-1], 16000)
    np.testing.assert_allclose(reordered, batch[::-1], rtol=0, atol=1e-9)
    assert np.ptp(batch, axis=0).max() > 0.05  # the clips are told apart at all


def test_audio_at_22050_hz_is_resampled_to_about_the_same_labels(recognizer, clips):
    """predict(wav, 22050) resamples to the model's 16 kHz: close to the 16 kHz clip's
    probabilities (not equal: the resampled audio differs slightly; measured up to 0.044)."""
    import soxr

    for wav in clips:
        at16 = recognizer.predict(wav, 16000)
        at22 = recognizer.predict(soxr.resample(wav, 16000, 22050).astype(np.float32), 22050)
        assert at22.keys() == at16.keys()
        assert max(abs(at22[k] - at16[k]) for k in at16) < 0.1
