import numpy as np
import pytest

from emovc.audio import overlap_add, process_in_windows, split_windows


@pytest.mark.parametrize(("n", "size", "overlap"), [(10, 20, 5), (100, 20, 5), (1003, 128, 32)])
def test_windows_cover_everything(n: int, size: int, overlap: int) -> None:
    bounds = split_windows(n, size, overlap)
    covered = np.zeros(n, bool)
    for s, e in bounds:
        assert 0 <= s < e <= n and e - s <= size
        covered[s:e] = True
    assert covered.all()


@pytest.mark.parametrize(("n", "size", "overlap"), [(21, 20, 1), (60, 20, 1), (1003, 128, 32),
                                                    (336000, 320000, 16000)])
def test_windows_share_equal_lengths_and_the_requested_overlap(n, size, overlap) -> None:
    """No window is shifted to fit: every overlap is ``overlap`` long (a 21 s input in 20 s
    windows used to share 19 s between its two windows)."""
    bounds = split_windows(n, size, overlap)
    lengths = [e - s for s, e in bounds]
    assert max(lengths) - min(lengths) <= 1 and max(lengths) <= size
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(abs(a[1] - b[0] - overlap) <= 1 for a, b in zip(bounds, bounds[1:], strict=False))
    assert len(bounds) == -(-(n - overlap) // (size - overlap))  # the fewest that fit


def test_identity_reconstructs_exactly() -> None:
    x = np.random.default_rng(0).standard_normal((1003, 3))
    y = process_in_windows(x, lambda w: w, size=128, overlap=32)
    np.testing.assert_allclose(y, x, atol=1e-12)


def test_crossfade_blends_windows() -> None:
    bounds = split_windows(300, 200, 100)
    pieces = [np.full(e - s, float(i)) for i, (s, e) in enumerate(bounds)]
    y = overlap_add(pieces, bounds, 300)
    assert y[0] == 0.0 and y[-1] == 1.0
    assert np.all(np.diff(y) >= -1e-12)  # a smooth monotone cross-fade over the overlap


def test_bad_window_arguments() -> None:
    with pytest.raises(ValueError):
        split_windows(10, 4, 4)
    with pytest.raises(ValueError, match="changed length"):
        process_in_windows(np.zeros(50), lambda w: w[:-1], size=20, overlap=5)


def test_tempo_windows_place_each_output_at_its_scaled_position():
    from emovc.audio.chunking import process_in_tempo_windows

    x = np.random.default_rng(0).standard_normal(3500).astype(np.float32)
    slow = process_in_tempo_windows(x, lambda w: np.repeat(w, 2), 1000, 100)
    np.testing.assert_allclose(slow, np.repeat(x, 2), atol=1e-5)
    short = process_in_tempo_windows(x[:900], lambda w: w[::2], 1000, 100)
    np.testing.assert_array_equal(short, x[:900:2])  # within one window: called once


def test_tempo_windows_join_by_a_short_fade_at_the_quietest_point():
    """Independently converted windows are not blended over the whole overlap but joined by
    a ``fade``-long cross-fade where the input is quietest inside the overlap."""
    from emovc.audio.chunking import process_in_tempo_windows

    rng = np.random.default_rng(1)
    x = rng.standard_normal(4000).astype(np.float32)
    x[1250:1300] *= 1e-3  # a pause inside the first overlap (windows (0,1400), (1200,2700), ...)
    calls = []

    def fn(w):  # each window's output is recognisable by its value; tempo 2
        calls.append(len(w))
        return np.full(2 * len(w), float(len(calls)), np.float32)

    y = process_in_tempo_windows(x, fn, 1500, 200, fade=20)
    assert len(y) == 2 * len(x)
    blend = np.flatnonzero((y > 1.0001) & (y < 1.9999))
    assert 0 < len(blend) <= 2 * 20 + 2  # the fade, at tempo 2
    assert 2 * 1250 <= blend[0] and blend[-1] < 2 * 1300  # inside the pause
    whole = process_in_tempo_windows(x, lambda w: np.repeat(w, 2), 1500, 200, fade=20)
    np.testing.assert_allclose(whole, np.repeat(x, 2), atol=1e-5)  # same pieces: exact
