"""EmotionRecognizer input layouts: mono, one channel, channels-last and channels-first."""

from __future__ import annotations

import numpy as np
import pytest

from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import AudioError
from emovc.pipelines.recognition import EmotionRecognizer


@pytest.fixture(scope="module")
def rec() -> EmotionRecognizer:
    return EmotionRecognizer.from_pretrained("default")


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return synthesize(EMOTION_VOICES["calm"], duration=1.5, seed=7)


def test_one_channel_and_channels_last_give_the_mono_result(rec, clip) -> None:
    mono = rec.predict(clip, 16000)
    for wav in (clip[None], clip[:, None], np.stack([clip, clip], 1)):
        assert rec.predict(wav, 16000) == pytest.approx(mono, abs=1e-6)


def test_channels_first_is_refused_clearly(rec, clip) -> None:
    with pytest.raises(AudioError, match=r"clip 0 has shape \(2, 24000\), which looks "
                                         "channels-first"):
        rec.predict(np.stack([clip, clip]), 16000)


def test_bad_rate_integer_pcm_and_a_bare_waveform_are_refused(rec, clip) -> None:
    with pytest.raises(AudioError, match="sample rate must be a positive integer"):
        rec.predict(clip, 0)
    with pytest.raises(AudioError, match="integer samples"):
        rec.predict((clip * 32767).astype(np.int16), 16000)
    with pytest.raises(AudioError, match="takes a list of clips"):
        rec.predict_batch(clip, 16000)
