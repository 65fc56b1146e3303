"""Feature normalisation statistics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emovc.errors import ConfigError
from emovc.features.stats import FeatureStats, compute_group_stats, compute_stats


@pytest.fixture(scope="module")
def arrays() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    scale = np.array([1.0, 10.0, 0.01])
    return [rng.normal(1000.0, 1.0, (n, 3)) * scale for n in (50, 120, 7)]


def test_compute_stats_matches_numpy(arrays):
    st = compute_stats(arrays)
    allf = np.concatenate(arrays)
    assert np.allclose(st.mean, allf.mean(axis=0), rtol=1e-12)
    assert np.allclose(st.std, allf.std(axis=0), rtol=1e-7)  # large mean, small std: stable
    assert st.dim == 3


def test_normalize_round_trip(arrays):
    st = compute_stats(arrays)
    z = st.normalize(np.concatenate(arrays))
    assert np.allclose(z.mean(axis=0), 0, atol=1e-8) and np.allclose(z.std(axis=0), 1, atol=1e-8)
    x = arrays[0].astype(np.float32)
    back = st.denormalize(st.normalize(x))
    assert back.dtype == np.float32 and np.allclose(back, x, rtol=1e-5)
    assert st.normalize(np.zeros((4, 5, 3))).shape == (4, 5, 3)  # any leading shape


def test_dict_round_trip_through_json(arrays):
    st = compute_stats(arrays)
    again = FeatureStats.from_dict(json.loads(json.dumps(st.to_dict())))
    assert np.array_equal(again.mean, st.mean) and np.array_equal(again.std, st.std)
    with pytest.raises(ConfigError):
        FeatureStats.from_dict({"mean": [0.0]})


def test_constant_dimension_is_floored():
    st = compute_stats([np.ones((10, 2))], min_std=1e-3)
    assert np.allclose(st.std, 1e-3)


def test_group_stats(arrays):
    groups = compute_group_stats(arrays, ["a", "b", "a"])
    assert set(groups) == {"a", "b"}
    assert np.allclose(groups["a"].mean, np.concatenate([arrays[0], arrays[2]]).mean(axis=0))
    with pytest.raises(ConfigError):
        compute_group_stats(arrays, ["a"])


def test_bad_input(arrays):
    st = compute_stats(arrays)
    with pytest.raises(ConfigError, match="features have 2 dims, statistics have 3"):
        st.normalize(np.zeros((5, 2)))
    with pytest.raises(ConfigError):
        compute_stats([np.zeros((3, 2)), np.zeros((3, 4))])
    with pytest.raises(ConfigError, match="zero frames"):
        compute_stats([])
    with pytest.raises(ConfigError):
        FeatureStats(mean=np.zeros(2), std=np.zeros(2))
