"""Long inputs: converted window by window and streamed to the file, memory flat."""

import tracemalloc

import numpy as np
import pytest

from emovc.audio import load_audio, save_audio
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import AudioError
from emovc.pipelines.conversion import EmotionConverter
from emovc.pipelines.source_choice import recognise_long


def _speech(seconds: float) -> np.ndarray:
    one = synthesize(EMOTION_VOICES["calm"], duration=2.0, seed=5)
    pause = np.zeros(4000, np.float32)
    unit = np.concatenate([one, pause])
    return np.resize(unit, int(seconds * 16000)).astype(np.float32)


@pytest.fixture()
def windowed(stargan_run):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    conv.window_s, conv.overlap_s = 2.0, 0.5  # long inputs in the small
    return conv


def test_file_conversion_streams_the_same_samples_as_the_array_api(windowed, tmp_path):
    x = _speech(9.0)
    save_audio(tmp_path / "in.wav", x)
    x = load_audio(tmp_path / "in.wav")
    for tgt in ("sad", "angry"):  # slower and faster than the input
        windowed.convert_file(tmp_path / "in.wav", tmp_path / f"{tgt}.wav", tgt, source="calm")
        save_audio(tmp_path / f"ref_{tgt}.wav", windowed.convert(x, 16000, tgt, source="calm"))
        np.testing.assert_array_equal(load_audio(tmp_path / f"{tgt}.wav"),
                                      load_audio(tmp_path / f"ref_{tgt}.wav"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "angry.wav", "in.wav", "ref_angry.wav", "ref_sad.wav", "sad.wav"]  # no leftovers


def _peak_bytes(conv, path, out):
    tracemalloc.start()
    try:
        conv.convert_file(path, out, "sad", source="calm", force=True)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_grows_by_little_more_than_the_input(windowed, tmp_path):
    """Four times the input costs about the extra input samples (float32), not copies of
    the output at every stage (the whole-array pipeline: about ten times that)."""
    short, long = _speech(8.0), _speech(32.0)
    save_audio(tmp_path / "short.wav", short)
    save_audio(tmp_path / "long.wav", long)
    _peak_bytes(windowed, tmp_path / "short.wav", tmp_path / "o.wav")  # warm caches
    growth = (_peak_bytes(windowed, tmp_path / "long.wav", tmp_path / "o.wav")
              - _peak_bytes(windowed, tmp_path / "short.wav", tmp_path / "o.wav"))
    extra_input = 4 * (len(long) - len(short))
    assert growth < 3 * extra_input, (growth, extra_input)


class _Recogniser:
    """Calls predict on windows; a window's answer is its loudness class."""

    def __init__(self):
        self.lengths = []

    def predict(self, wav, sr):
        self.lengths.append(len(wav))
        level = float(np.abs(wav).max())
        if level < 1e-6:
            raise AudioError("silent")
        return {"angry": 1.0, "calm": 0.0} if level > 0.5 else {"angry": 0.0, "calm": 1.0}


def test_long_inputs_are_recognised_in_windows_and_silence_skipped():
    rec = _Recogniser()
    x = np.concatenate([np.full(30 * 1000, 0.9), np.zeros(30 * 1000), np.full(60 * 1000, 0.1)])
    probs = recognise_long(rec, x.astype(np.float32), 1000, window_s=30.0)
    assert probs == pytest.approx({"angry": 1 / 3, "calm": 2 / 3})  # by length, silence out
    assert rec.lengths == [30000] * 4
    assert recognise_long(rec, x[:20000].astype(np.float32), 1000, window_s=30.0) == {
        "angry": 1.0, "calm": 0.0}  # short: one call on the whole input
    with pytest.raises(AudioError, match="silent"):
        recognise_long(rec, np.zeros(100000, np.float32), 1000, window_s=30.0)

