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
    with pytest.raises(AudioError, match=r"^audio has shape \(2, 24000\), which looks "
                                         "channels-first"):  # one clip: not "clip 0"
        rec.predict(np.stack([clip, clip]), 16000)
    with pytest.raises(AudioError, match=r"clip 1 has shape \(2, 24000\)"):
        rec.predict_batch([clip, np.stack([clip, clip])], 16000)


def test_speaker_norm_of_one_clip_and_a_bad_k_are_refused(rec, clip) -> None:
    from emovc.errors import ConfigError

    with pytest.raises(ConfigError, match="needs at least 2 clips of the speaker"):
        rec.predict_batch([clip], 16000, speaker_norm=True)  # its features would all be 0
    assert rec.predict_batch([clip, clip[::-1].copy()], 16000, speaker_norm=True).shape[0] == 2
    for k in (0, -1, 1.5):
        with pytest.raises(ConfigError, match="k must be a whole number"):
            rec.top_k(clip, 16000, k=k)


def test_bad_rate_integer_pcm_and_a_bare_waveform_are_refused(rec, clip) -> None:
    with pytest.raises(AudioError, match="sample rate must be a positive integer"):
        rec.predict(clip, 0)
    with pytest.raises(AudioError, match="integer samples"):
        rec.predict((clip * 32767).astype(np.int16), 16000)
    with pytest.raises(AudioError, match="takes a list of clips"):
        rec.predict_batch(clip, 16000)


def test_the_sample_rate_must_be_given(rec, clip) -> None:
    # a default of 16000 classified a 44.1 kHz angry take as calm without a word
    for call in (lambda: rec.predict(clip), lambda: rec.top_k(clip),
                 lambda: rec.predict_batch([clip])):
        with pytest.raises(TypeError, match="sr"):
            call()
    assert rec.top_k(clip, 16000, k=1)[0][0] == max(rec.predict(clip, 16000).items(),
                                                    key=lambda kv: kv[1])[0]


def _noise() -> np.ndarray:
    return (0.1 * np.random.default_rng(0).standard_normal(48000)).astype(np.float32)


def test_arrays_that_may_not_be_speech_are_labelled_with_a_warning_at_the_callers_line(
        rec, clip) -> None:
    from emovc.errors import EmovcWarning

    dc = np.full(32000, 0.3, np.float32)  # measures as voiced unless its offset is removed
    for wav in (_noise(), dc):
        with pytest.warns(EmovcWarning, match="audio may not be speech.*a guess") as got:
            probs = rec.predict(wav, 16000)
        assert sum(probs.values()) == pytest.approx(1.0)  # labelled, not refused
        assert got[0].filename == __file__
        with pytest.warns(EmovcWarning, match="audio may not be speech") as got:
            rec.top_k(wav, 16000)
        assert got[0].filename == __file__
    with pytest.warns(EmovcWarning) as got:
        rec.predict_batch([clip, _noise()], 16000)
    assert [str(w.message).split()[:2] for w in got] == [["clip", "1"]]
    assert got[0].filename == __file__


def test_speech_and_speech_warning_false_give_no_warning(rec, clip) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec.predict(clip, 16000)
        rec.predict(_noise(), 16000, speech_warning=False)
        rec.predict_batch([clip, _noise()], 16000, speech_warning=False)


def test_predict_files_warning_points_at_the_callers_line(rec, tmp_path) -> None:
    from emovc.audio import save_audio
    from emovc.errors import EmovcWarning

    path = save_audio(tmp_path / "noise.wav", _noise())
    with pytest.warns(EmovcWarning, match="noise.wav may not be speech") as got:
        rec.predict_file(path)
    assert got[0].filename == __file__


def test_none_for_the_model_or_the_clips_is_a_one_line_emovc_error(rec) -> None:
    from emovc.errors import ConfigError

    for bad in (None, 3):  # TypeError: expected str, bytes or os.PathLike object
        with pytest.raises(ConfigError, match=r"^recogniser must be a bundled model name "
                                              r"\(default, ser-ravdess\) or a model.pt path, "
                                              f"got {type(bad).__name__}$"):
            EmotionRecognizer.from_pretrained(bad)
    for bad in (None, 3, "clip.wav"):  # TypeError: 'NoneType' object is not iterable
        with pytest.raises(AudioError, match=r"^predict_batch takes a list of clips \(mono "
                                             f"float arrays\\), got {type(bad).__name__}$"):
            rec.predict_batch(bad, 16000)
    assert rec.predict_batch((), 16000).shape == (0, len(rec.labels))


def test_a_bad_k_is_refused_before_the_clip_is_analysed(rec, clip, monkeypatch) -> None:
    """``top_k`` checks ``k`` first: a typo costs no feature extraction."""
    from emovc.errors import ConfigError

    def analysed(*args, **kwargs):
        raise AssertionError("the clip was analysed before k was checked")

    monkeypatch.setattr(rec, "_one", analysed)
    with pytest.raises(ConfigError, match="k must be a whole number"):
        rec.top_k(clip, 16000, k=0)
