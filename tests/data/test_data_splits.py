"""Speaker-independent splits: disjointness, RAVDESS defaults, seeded k-fold."""

from __future__ import annotations

import pytest

from emovc.data.manifest import Manifest, Utterance
from emovc.data.splits import (
    Split,
    assert_speaker_disjoint,
    kfold_by_speaker,
    ravdess_split,
    split_by_speaker,
)
from emovc.errors import EmovcError


def _ravdess(actors=range(1, 25), per=3) -> Manifest:
    return Manifest(
        Utterance(f"/r/{a:02d}_{i}.wav", "ravdess", f"{a:02d}", "M" if a % 2 else "F", "angry")
        for a in actors for i in range(per))


def test_split_by_speaker_parts_and_errors():
    m = _ravdess(range(1, 7))
    s = split_by_speaker(m, val_speakers=["05"], test_speakers=["06"])
    assert s.train.speakers() == ["01", "02", "03", "04"]
    assert s.val.speakers() == ["05"] and s.test.speakers() == ["06"]
    assert len(s.train) + len(s.val) + len(s.test) == len(m)
    with pytest.raises(EmovcError, match="both validation and test"):
        split_by_speaker(m, val_speakers=["05"], test_speakers=["05"])
    with pytest.raises(EmovcError, match="unknown validation speaker '99'"):
        split_by_speaker(m, val_speakers=["99"])
    with pytest.raises(EmovcError, match="both training and held out"):
        split_by_speaker(m, val_speakers=["05"], train_speakers=["01", "05"])
    only = split_by_speaker(m, val_speakers=["05"], train_speakers=["01"])
    assert only.train.speakers() == ["01"]  # 02-04, 06 left out


def test_split_rejects_overlapping_parts():
    m = _ravdess(range(1, 3))
    with pytest.raises(EmovcError, match="speaker '01'"):
        Split(m, m.filter(speakers=["01"]), Manifest())
    assert_speaker_disjoint(m.filter(speakers=["01"]), m.filter(speakers=["02"]))


def test_ravdess_default_split():
    s = ravdess_split(_ravdess())
    assert s.train.speakers() == [f"{i:02d}" for i in range(1, 17)]
    assert s.val.speakers() == ["17", "18", "19", "20"]
    assert s.test.speakers() == ["21", "22", "23", "24"]
    dev = ravdess_split(_ravdess(range(1, 21)))  # the dev copy has no 21-24
    assert len(dev.test) == 0 and len(dev.val) == 12


def test_kfold_disjoint_covering_seeded_and_balanced():
    m = _ravdess(range(1, 21))
    folds = kfold_by_speaker(m, k=5, seed=3)
    vals = [set(f.val.speakers()) for f in folds]
    assert set().union(*vals) == set(m.speakers())  # every speaker validated once
    assert sum(len(v) for v in vals) == 20
    for f in folds:
        assert not set(f.train.speakers()) & set(f.val.speakers())
        assert len(f.train) + len(f.val) == len(m)
        genders = [int(s) % 2 for s in f.val.speakers()]
        assert sorted(genders) == [0, 0, 1, 1]  # 10 M / 10 F dealt evenly over 5 folds
    assert [f.val.speakers() for f in kfold_by_speaker(m, 5, seed=3)] == \
        [f.val.speakers() for f in folds]
    assert [f.val.speakers() for f in kfold_by_speaker(m, 5, seed=4)] != \
        [f.val.speakers() for f in folds]
    with pytest.raises(EmovcError, match="k-fold"):
        kfold_by_speaker(m, k=21)
