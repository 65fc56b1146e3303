"""Speaker-independent data splits: no speaker ever appears in two parts of a split.

>>> from emovc.data.manifest import Manifest, Utterance
>>> m = Manifest(Utterance(f"/{s}{i}.wav", "demo", s) for s in "abcd" for i in range(2))
>>> s = split_by_speaker(m, val_speakers=["c"], test_speakers=["d"])
>>> s.train.speakers(), s.val.speakers(), s.test.speakers()
(['a', 'b'], ['c'], ['d'])
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from emovc.data.catalogs.ravdess import TEST_ACTORS, TRAIN_ACTORS, VALIDATION_ACTORS
from emovc.data.manifest import Manifest
from emovc.errors import EmovcError


@dataclass(frozen=True)
class Split:
    """Train/validation/test manifests with pairwise disjoint speaker sets."""

    train: Manifest
    val: Manifest
    test: Manifest

    def __post_init__(self) -> None:
        assert_speaker_disjoint(self.train, self.val, self.test)

    def summary(self) -> str:
        return ", ".join(f"{name}: {len(m)} utts / {len(m.speakers())} spk"
                         for name, m in (("train", self.train), ("val", self.val),
                                         ("test", self.test)))


def assert_speaker_disjoint(*parts: Manifest) -> None:
    """Raise EmovcError if any speaker occurs in more than one of ``parts``."""
    owner: dict[str, int] = {}
    for i, part in enumerate(parts):
        for spk in part.speakers():
            if owner.setdefault(spk, i) != i:
                raise EmovcError(f"speaker {spk!r} is in split parts {owner[spk]} and {i}")


def _known(manifest: Manifest, speakers: Iterable[str], role: str) -> set[str]:
    wanted = {str(s) for s in speakers}
    unknown = sorted(wanted - set(manifest.speakers()))
    if unknown:
        raise EmovcError(f"unknown {role} speaker {unknown[0]!r}; "
                         f"speakers in the manifest: {', '.join(manifest.speakers())}")
    return wanted


def split_by_speaker(manifest: Manifest, val_speakers: Iterable[str] = (),
                     test_speakers: Iterable[str] = (),
                     train_speakers: Iterable[str] | None = None) -> Split:
    """Split ``manifest`` by speaker.

    Args:
        manifest: utterances to split.
        val_speakers: speakers of the validation part.
        test_speakers: speakers of the test part.
        train_speakers: speakers of the training part; default = all others. Speakers in
            none of the lists are then left out.

    Raises:
        EmovcError: a speaker is unknown or listed in two parts.
    """
    val = _known(manifest, val_speakers, "validation")
    test = _known(manifest, test_speakers, "test")
    if val & test:
        raise EmovcError(f"speaker {sorted(val & test)[0]!r} is both validation and test")
    if train_speakers is None:
        train = set(manifest.speakers()) - val - test
    else:
        train = _known(manifest, train_speakers, "training")
        both = train & (val | test)
        if both:
            raise EmovcError(f"speaker {sorted(both)[0]!r} is both training and held out")
    return Split(manifest.filter(speakers=train), manifest.filter(speakers=val),
                 manifest.filter(speakers=test))


def ravdess_split(manifest: Manifest) -> Split:
    """emovc's standard RAVDESS split: train actors 01-16, validation 17-20, test 21-24.

    Actors absent from ``manifest`` are ignored (the dev copy has no 21-24), so the test part
    may be empty. Non-RAVDESS speakers are ignored too.
    """
    present = set(manifest.speakers())

    def pick(actors: tuple[str, ...]) -> list[str]:
        return [a for a in actors if a in present]

    m = manifest.filter(corpus="ravdess")
    return split_by_speaker(m, val_speakers=pick(VALIDATION_ACTORS),
                            test_speakers=pick(TEST_ACTORS), train_speakers=pick(TRAIN_ACTORS))


def kfold_by_speaker(manifest: Manifest, k: int, seed: int = 0,
                     balance_gender: bool = True) -> list[Split]:
    """Seeded k-fold cross-validation over speakers (``test`` parts are empty).

    Speakers are shuffled with ``seed`` and dealt round-robin into ``k`` folds; with
    ``balance_gender`` they are dealt per gender so each fold gets a similar M/F mix.
    Fold ``i`` validates on fold ``i``'s speakers and trains on all the others.

    Raises:
        EmovcError: ``k < 2`` or more folds than speakers.
    """
    speakers = manifest.speakers()
    if k < 2 or k > len(speakers):
        raise EmovcError(f"k-fold needs 2 <= k <= number of speakers ({len(speakers)}), got {k}")
    rng = random.Random(seed)
    gender = {u.speaker: u.gender for u in manifest} if balance_gender else {}
    groups: dict[str, list[str]] = {}
    for spk in speakers:
        groups.setdefault(gender.get(spk, ""), []).append(spk)
    folds: list[list[str]] = [[] for _ in range(k)]
    slot = 0
    for key in sorted(groups):
        members = groups[key]
        rng.shuffle(members)
        for spk in members:  # continue dealing where the previous group stopped
            folds[slot % k].append(spk)
            slot += 1
    return [split_by_speaker(manifest, val_speakers=fold) for fold in folds]
