"""SER feature extraction in worker processes gives what one process gives, in order."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def test_worker_processes_match_one_process(ser_corpus: Path, tmp_path: Path) -> None:
    """workers > 1 (``emovc train ser --workers``): the same features for every clip, the
    clips in the order given, and an unusable clip's reason in its place."""
    from emovc.models.ser.cache import corpus_features
    from emovc.models.ser.features import SerFeatureConfig

    paths = sorted(ser_corpus.rglob("*.wav"))[:5]
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really")
    paths.insert(2, broken)
    cfg = SerFeatureConfig()
    one = corpus_features(paths, cfg, "original", tmp_path / "one", progress=False,
                          skip_errors=True)
    two = corpus_features(paths, cfg, "original", tmp_path / "two", workers=2,
                          progress=False, skip_errors=True)
    assert any((tmp_path / "two").rglob("*.npz")), "the workers did not fill their own cache"
    assert isinstance(one[2], str) and "broken.wav" in one[2]
    assert two[2] == one[2]
    for i in (0, 1, 3, 4, 5):
        assert one[i].keys() == two[i].keys() and one[i]
        for key in one[i]:
            np.testing.assert_array_equal(two[i][key], one[i][key], err_msg=f"{paths[i]} {key}")
    assert not np.array_equal(one[0]["mel"], one[1]["mel"][: len(one[0]["mel"])])
