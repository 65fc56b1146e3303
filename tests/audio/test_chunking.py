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
