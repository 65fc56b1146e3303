"""Which clips ``emovc augment --balance`` / ``--per-class N`` converts.

Converting every clip into every target emotion makes the converted clips outnumber the real
ones and leaves the manifest as unbalanced as the corpus was. Balancing converts only what each
target emotion lacks: ``goal - real`` clips, where ``goal`` is the real clips of the
manifest's largest labelled class (``--balance``) or ``N`` (``--per-class N``).

The clips converted into a target are the first ones of :func:`source_order`: a seeded order
of the clips that may be converted into it (every clip selected to convert, except those
already in that emotion) that takes the speakers in turn and, within a speaker's turn, the
source emotion taken least often from that speaker, then from all. It depends only on the
corpus, the selection, the target and the seed — not on the other targets, the goal or the
output folder — so a rerun of the same command picks the same clips (and converts only the
missing ones), adding a target leaves the others' choice alone, and a larger goal extends the
earlier choice. A clip is
converted into an emotion at most once: when fewer clips can be converted into a target than
it lacks, it gets all of them and one :class:`~emovc.errors.EmovcWarning` says by how much it
falls short (the same clip converted twice the same way would add a copy, not a clip). A
conversion that fails is replaced by the next clip of the order. Used by
:mod:`emovc.pipelines.augment`.
"""

from __future__ import annotations

import heapq
import random
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

from emovc.data.emotions import EMOTIONS
from emovc.data.manifest import Manifest, Utterance
from emovc.errors import ConfigError, EmovcWarning


@dataclass(frozen=True)
class Balance:
    """What a balanced run aimed at, per target emotion.

    Attributes:
        goal: clips (real + synthetic) wanted per target emotion.
        basis: where ``goal`` comes from (``"the largest class, calm"``, ``"--per-class"``).
        real: the target's real clips in the manifest before the run.
        need: conversions wanted (``max(0, goal - real)``).
        available: distinct clips that may be converted into the target.
    """

    goal: int
    basis: str
    real: dict[str, int]
    need: dict[str, int]
    available: dict[str, int]

    def line(self, counts: dict[str, tuple[int, int]]) -> str:
        """One summary line: the goal, then which targets reached it, which had enough real
        clips already, and by how much the others are short or over, from the manifest's
        ``counts`` ``{emotion: (real, synthetic)}``."""
        groups: dict[str, dict[str, str]] = {"reached": {}, "enough": {}, "short": {},
                                             "over": {}}
        for t, need in self.need.items():
            real, synth = counts.get(t, (0, 0))
            total = real + synth
            if need == 0 and synth == 0:
                groups["enough"][t] = f"({real})"
            elif total < self.goal:
                groups["short"][t] = (f"by {self.goal - total} " + (
                    f"(only {self.available[t]} clip(s) to convert from)"
                    if self.available[t] < need else "(conversions failed: failures.csv)"))
            elif total > self.goal:
                groups["over"][t] = f"by {total - self.goal}"
            else:
                groups["reached"][t] = ""
        line = f"balance: {self.goal} clips per target emotion ({self.basis})"
        texts = {"reached": "reached: {}",
                 "enough": "real clips enough already, none converted: {}",
                 "short": "short: {}",
                 "over": "over: {} (outputs of earlier runs into this folder, with other "
                         "options, are listed too; a new --out folder holds only this run's)"}
        return "; ".join([line] + [texts[k].format(grouped(v)) for k, v in groups.items()
                                   if v])


def grouped(texts: dict[str, str]) -> str:
    """``{emotion: text}`` as ``"happy, sad by 4 (...), neutral by 6 (...)"``: the emotions
    with the same text named together, in order of first appearance."""
    by_text: dict[str, list[str]] = {}
    for emotion, text in texts.items():
        by_text.setdefault(text, []).append(emotion)
    return ", ".join(f"{', '.join(emotions)} {text}".strip() for text, emotions in by_text.items())


def check_balance_options(balance: bool, per_class: int | None, seed: int | None) -> int:
    """The seed to choose clips with (0 unless given), after checking the options.

    Raises:
        ConfigError: ``per_class`` not a whole number of at least 1, or ``seed`` given
            without ``balance`` or ``per_class``.
    """
    if per_class is not None and (isinstance(per_class, bool) or not isinstance(per_class, int)
                                  or per_class < 1):
        raise ConfigError(f"--per-class must be a whole number of clips of at least 1 per "
                          f"target emotion, got {per_class!r}")
    if seed is not None and not (balance or per_class is not None):
        raise ConfigError("--seed chooses the clips --balance or --per-class converts; give "
                          "one of them (without them every selected clip is converted)")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ConfigError(f"--seed must be a whole number, got {seed!r}")
    return 0 if seed is None else seed


def source_order(candidates: Iterable[Utterance], target: str, seed: int) -> Iterator[Utterance]:
    """``candidates`` in the order a balanced run converts them into ``target``.

    Speakers take turns (a speaker with fewer clips taken first, ties in a seeded order), and
    each turn takes, among the source emotions (``""``: unlabelled) the speaker has clips of
    left, the one taken least often from that speaker, then over all speakers (ties in a
    seeded order), and of its clips of that emotion the next in a seeded order. The first
    ``k`` clips are thus spread over speakers, and over the source emotions of each speaker
    and of all, as evenly as the corpus allows, for any ``k``.

    The order depends on ``seed``, ``target`` and the candidates' ``utt_id``, ``speaker`` and
    ``emotion`` only (not on their order or paths): a rerun, or a moved corpus, gets the same.
    """
    rng = random.Random(f"emovc-augment-balance:{seed}:{target}")  # str seed: hashed stably
    cells: dict[str, dict[str, list[Utterance]]] = {}
    for u in sorted(candidates, key=lambda u: u.utt_id):
        cells.setdefault(u.speaker, {}).setdefault(u.emotion, []).append(u)
    speakers = sorted(cells)
    rng.shuffle(speakers)
    emotions = sorted({e for by_emotion in cells.values() for e in by_emotion})
    rng.shuffle(emotions)
    emotion_rank = {e: i for i, e in enumerate(emotions)}
    for spk in sorted(cells):
        for e in sorted(cells[spk]):
            rng.shuffle(cells[spk][e])
            cells[spk][e].reverse()  # taken with pop(): the shuffled order from its start
    turns = [(0, rank, spk) for rank, spk in enumerate(speakers)]  # (taken, rank, speaker)
    taken: Counter[str] = Counter()  # per emotion, over all speakers
    own: Counter[tuple[str, str]] = Counter()  # per (speaker, emotion)
    while turns:
        n, rank, spk = heapq.heappop(turns)
        left = cells[spk]
        emotion = min(left, key=lambda e: (own[spk, e], taken[e], emotion_rank[e]))
        yield left[emotion].pop()
        taken[emotion] += 1
        own[spk, emotion] += 1
        if not left[emotion]:
            del left[emotion]
        if left:
            heapq.heappush(turns, (n + 1, rank, spk))


@dataclass
class SourcePicker:
    """The clips a balanced run converts: :meth:`first` for each target's shortfall, then
    :meth:`replace` for the conversions that failed (the next clips of the order)."""

    balance: Balance
    orders: dict[str, Iterator[Utterance]] = field(default_factory=dict)

    def first(self) -> list[tuple[Utterance, str]]:
        """``(clip, target)`` of the conversions to run: each target's first ``need``."""
        return [(u, t) for t, need in self.balance.need.items()
                for u in islice(self.orders[t], need)]

    def replace(self, failed: Iterable[str]) -> list[tuple[Utterance, str]]:
        """``(clip, target)`` of the next clips of the targets of ``failed`` conversions
        (one target per failure; none once a target's clips are all taken)."""
        return [(u, t) for t, n in Counter(failed).items() for u in islice(self.orders[t], n)]


def plan_balance(manifest: Manifest, convert: Sequence[Utterance], targets: Sequence[str],
                 per_class: int | None, seed: int) -> SourcePicker:
    """The conversions of a balanced run into ``targets`` (canonical emotions).

    Args:
        manifest: the corpus's clips (those the manifest lists as real), labelled.
        convert: the clips that may be converted (the selection, of emotions the model
            converts from).
        targets: target emotions.
        per_class: clips per target (real + synthetic); ``None``: the real clips of the
            manifest's largest labelled class.
        seed: seed of :func:`source_order`.

    Raises:
        ConfigError: no labelled clip to take the largest class from (``per_class``
            ``None``), or a target lacking clips has none to convert from.
    """
    real = {e: n for e, n in manifest.counts("emotion").items() if e}
    if per_class is not None:
        goal, basis = per_class, "--per-class"
    elif real:
        largest = max(real, key=lambda e: (real[e], -_rank(e)))
        goal, basis = real[largest], f"the largest class, {largest}"
    else:
        raise ConfigError("--balance: no clip of the corpus has an emotion label, so there is "
                          "no largest class to reach; pass --from EMOTION (what the clips "
                          "are) or --per-class N")
    candidates = {t: [u for u in convert if u.emotion != t] for t in targets}
    need = {t: max(0, goal - real.get(t, 0)) for t in targets}
    for t in targets:
        if need[t] and not candidates[t]:
            have = Counter(u.emotion or "(unlabelled)" for u in convert)
            shown = ", ".join(f"{e} {n}" for e, n in have.items()) or "none"
            raise ConfigError(f"cannot balance {t}: it lacks {need[t]} of {goal} clips and "
                              f"no clip to convert is of another emotion (clips to convert: "
                              f"{shown}); widen --only-from/--speakers or leave {t} out of --to")
    balance = Balance(goal, basis, {t: real.get(t, 0) for t in targets}, need,
                      {t: len(c) for t, c in candidates.items()})
    short = {t: f"by {need[t] - len(candidates[t])} (only {len(candidates[t])} clip(s) to "
                "convert from)" for t in targets if len(candidates[t]) < need[t]}
    if short:
        warnings.warn(f"too few clips to convert to reach {goal} clips per target emotion, "
                      f"short: {grouped(short)}; each clip is converted into an emotion once: "
                      "widen --only-from/--speakers, or oversample when training",
                      EmovcWarning, stacklevel=4)  # the caller of augment_corpus
    return SourcePicker(balance, {t: source_order(c, t, seed) for t, c in candidates.items()})


def _rank(emotion: str) -> int:
    """Canonical position of ``emotion`` (ties of the largest class go to the first)."""
    return EMOTIONS.index(emotion) if emotion in EMOTIONS else len(EMOTIONS)
