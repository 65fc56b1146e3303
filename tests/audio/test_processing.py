import numpy as np
import pytest

from emovc.audio import check_speech, normalize_loudness, trim_silence
from emovc.audio.finishing import keep_edge_pauses
from emovc.audio.processing import active_rms_dbfs, keep_unvoiced_source, speech_bounds
from emovc.errors import AudioError


def test_normalize_loudness_reaches_target(speech: np.ndarray) -> None:
    quiet = speech * 0.01  # like RAVDESS's near -40 dBFS takes
    out = normalize_loudness(quiet, 16000, target_dbfs=-23.0)
    assert abs(active_rms_dbfs(out, 16000) - (-23.0)) < 0.5
    assert np.max(np.abs(out)) <= 0.99


def test_normalize_limits_peaks(speech: np.ndarray) -> None:
    out = normalize_loudness(speech, 16000, target_dbfs=0.0)
    assert np.max(np.abs(out)) <= 0.99 + 1e-6


def test_normalize_leaves_digital_silence_alone() -> None:
    silent = np.zeros(16000, dtype=np.float32)
    assert np.array_equal(normalize_loudness(silent, 16000), silent)


@pytest.mark.parametrize("method", ["energy", "vad"])
def test_trim_silence_removes_padding(speech: np.ndarray, method: str) -> None:
    pad = np.zeros(16000, dtype=np.float32)
    padded = np.concatenate([pad, speech, pad])
    trimmed = trim_silence(padded, 16000, method=method)
    assert len(speech) * 0.6 < len(trimmed) < len(padded) - 16000


def test_trim_unknown_method(speech: np.ndarray) -> None:
    with pytest.raises(AudioError, match="valid choices: energy, vad"):
        trim_silence(speech, 16000, method="magic")


def test_check_speech_errors(speech: np.ndarray) -> None:
    check_speech(speech, 16000)
    with pytest.raises(AudioError, match="too short"):
        check_speech(speech[:1600], 16000)
    with pytest.raises(AudioError, match="silent"):
        check_speech(np.zeros(16000, dtype=np.float32), 16000)
    pcm = np.round(speech / np.abs(speech).max() * 20000).astype(np.int16)
    with pytest.raises(AudioError, match="expected float samples in"):
        check_speech(pcm.astype(np.float32), 16000)
    check_speech(speech / np.abs(speech).max() * 1.2, 16000)  # a little over full scale: fine


def test_soft_limit_passes_small_samples_and_bounds_peaks():
    from emovc.audio.processing import soft_limit

    x = np.linspace(-3.0, 3.0, 6001, dtype=np.float32)
    y = soft_limit(x, ceiling=0.977, knee=0.6)
    small = np.abs(x) <= 0.6
    np.testing.assert_array_equal(y[small], x[small])
    assert np.abs(y).max() < 0.977
    assert np.all(np.diff(y) >= 0)  # monotone: no fold-over distortion
    below = np.linspace(-0.95, 0.95, 101, dtype=np.float32)  # peaks under the ceiling
    np.testing.assert_array_equal(soft_limit(below), below)  # pass unchanged


def test_limit_bursts_brings_a_burst_down_and_leaves_the_rest():
    from emovc.audio.finishing import limit_bursts

    rng = np.random.default_rng(0)
    x = (0.05 * rng.standard_normal(16000)).astype(np.float32)
    y = x.copy()
    y[8000:8480] *= 20.0  # +26 dB for 30 ms, like a generator's onset burst
    out = limit_bursts(y, x, 16000)
    frame_db = lambda w: 10 * np.log10((w[: len(w) // 80 * 80].reshape(-1, 80) ** 2).mean(1))  # noqa: E731
    assert frame_db(out).max() <= frame_db(x).max() + 6.0 + 0.5
    np.testing.assert_array_equal(out[:7000], y[:7000])  # far from the burst: untouched
    np.testing.assert_array_equal(out[9500:], y[9500:])
    assert np.abs(np.diff(out)).max() < 2 * np.abs(np.diff(y[8000:8480])).max()  # no click
    assert limit_bursts(x, x, 16000) is x  # nothing over the bound: the input itself


def _padded_tone(lead_s: float, tone_s: float, trail_s: float, sr: int = 16000) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(tone_s * sr)) / sr
    tone = 0.5 * np.sin(2 * np.pi * 220 * t) * np.hanning(len(t)) ** 0.1
    noise = lambda s: 1e-4 * rng.standard_normal(int(s * sr))  # noqa: E731
    return np.r_[noise(lead_s), tone, noise(trail_s)].astype(np.float32)


@pytest.mark.parametrize("tempo", [0.8, 1.25])
def test_keep_edge_pauses_scales_only_the_speech(tempo: float) -> None:
    x = _padded_tone(0.5, 1.0, 0.3)
    # a uniformly time-scaled copy of x, as a tempo change makes it
    y = np.interp(np.arange(int(round(len(x) * tempo))) / tempo, np.arange(len(x)), x)
    out = keep_edge_pauses(y, x)
    start, end = speech_bounds(x)
    o_start, o_end = speech_bounds(out)
    assert abs(o_start - start) <= 256 and abs((len(out) - o_end) - (len(x) - end)) <= 256
    assert (o_end - o_start) / (end - start) == pytest.approx(tempo, abs=0.02)
    assert len(out) == pytest.approx(len(x) + (end - start) * (tempo - 1), abs=2)
    assert np.abs(np.diff(out[: o_start])).max() < 1e-3  # the extended pause has no clicks
    np.testing.assert_array_equal(keep_edge_pauses(x, x), x)  # no tempo change: unchanged
    loud = _padded_tone(0.0, 1.0, 0.0)  # no pause to keep: plain time scaling stays
    assert len(keep_edge_pauses(loud[::2], loud)) == pytest.approx(len(loud) // 2, abs=160)


HOP = 80  # 5 ms frames at 16 kHz


def _voicing(pattern: list[tuple[bool, int]]) -> np.ndarray:
    """Frame voicing from ``[(voiced, n_frames), ...]``."""
    return np.concatenate([np.full(n, v) for v, n in pattern])


def test_keep_unvoiced_source_takes_the_source_inside_unvoiced_runs() -> None:
    rng = np.random.default_rng(0)
    voiced = _voicing([(True, 40), (False, 30), (True, 40)])  # frames 40-69 unvoiced
    x = rng.standard_normal(len(voiced) * HOP).astype(np.float32)
    y = rng.standard_normal(len(x)).astype(np.float32)
    out = keep_unvoiced_source(y, x, voiced, HOP, margin=2, ramp=40)
    a, b = 42 * HOP, 68 * HOP  # the run without its 2-frame margins
    np.testing.assert_array_equal(out[a + 40: b - 40], x[a + 40: b - 40])  # inside: source
    np.testing.assert_array_equal(out[:a], y[:a])  # voiced and margins: rendering
    np.testing.assert_array_equal(out[b:], y[b:])
    ramp = out[a: a + 40]  # cross-fade: between the two, moving from y towards x
    assert np.all(np.minimum(x[a: a + 40], y[a: a + 40]) <= ramp + 1e-6)
    assert np.all(ramp <= np.maximum(x[a: a + 40], y[a: a + 40]) + 1e-6)
    assert out.dtype == np.float32 and len(out) == len(y)
    assert not np.shares_memory(out, y)


def test_keep_unvoiced_source_leaves_voiced_and_short_runs_alone() -> None:
    rng = np.random.default_rng(1)
    y = rng.standard_normal(100 * HOP).astype(np.float32)
    x = rng.standard_normal(len(y)).astype(np.float32)
    np.testing.assert_array_equal(keep_unvoiced_source(y, x, np.ones(100, bool), HOP), y)
    short = _voicing([(True, 45), (False, 7), (True, 48)])  # 7 - 2 margins < 4 frames
    np.testing.assert_array_equal(keep_unvoiced_source(y, x, short, HOP), y)
    # an unvoiced run at an edge has no voiced neighbour there: no margin, no fade
    edge = _voicing([(False, 20), (True, 80)])
    out = keep_unvoiced_source(y, x, edge, HOP)
    np.testing.assert_array_equal(out[: 18 * HOP - 40], x[: 18 * HOP - 40])


@pytest.mark.parametrize("tempo", [0.8, 1.25])
def test_keep_unvoiced_source_follows_the_tempo(tempo: float) -> None:
    voiced = _voicing([(True, 40), (False, 40), (True, 40)])
    x = np.sin(np.arange(len(voiced) * HOP) * 0.05).astype(np.float32)
    y = np.zeros(int(round(len(x) * tempo)), np.float32)
    out = keep_unvoiced_source(y, x, voiced, HOP, tempo=tempo, ramp=40)
    o0, o1 = int(round(42 * HOP * tempo)), int(round(78 * HOP * tempo))  # output of frames 42-77
    inner = out[o0 + 40: o1 - 40]
    assert np.all(out[: o0] == 0) and np.all(out[o1:] == 0)
    if tempo < 1:  # shortened: the centre of the source stretch, contiguous
        s = x[42 * HOP: 78 * HOP]
        start = (len(s) - (o1 - o0)) // 2
        np.testing.assert_array_equal(inner, s[start + 40: start + (o1 - o0) - 40])
    else:  # lengthened: the whole source stretch first, then its mirror image
        np.testing.assert_array_equal(out[o0 + 40: o0 + 36 * HOP], x[42 * HOP + 40: 78 * HOP])
        np.testing.assert_array_equal(out[o0 + 36 * HOP: o0 + 36 * HOP + 100],
                                      x[78 * HOP - 100: 78 * HOP][::-1])


def test_keep_unvoiced_source_edge_pauses_stay_next_to_the_speech() -> None:
    voiced = _voicing([(False, 40), (True, 40), (False, 40)])
    x = np.arange(len(voiced) * HOP, dtype=np.float32)
    y = np.zeros(int(round(len(x) * 0.8)), np.float32)
    out = keep_unvoiced_source(y, x, voiced, HOP, tempo=0.8, ramp=40)
    head = int(round(38 * HOP * 0.8))  # output of frames 0-37 (2-frame margin at the speech)
    np.testing.assert_array_equal(out[: head - 40], x[38 * HOP - head: 38 * HOP - 40])
    tail = int(round(82 * HOP * 0.8))  # output of frames 82-119 starts with source frame 82
    np.testing.assert_array_equal(out[tail + 40: tail + 1000], x[82 * HOP + 40: 82 * HOP + 1000])
