"""A local listening test: MOS (naturalness, emotion strength) and blind A/B preference.

``serve_listening_test`` serves one page on ``127.0.0.1`` (stdlib ``http.server``, no external
assets); every answer is appended to a ratings CSV (:mod:`emovc.evaluation.listening_ratings`,
whose ``summarize_ratings`` turns it into MOS with 95 % intervals over listeners and items
and A/B preference shares with intervals over listeners and pairs). This module builds
the trials.

Trials are built from a manifest / conversion run (:func:`build_trials`): for a random sample
of items, MOS trials of the converted clip, the unconverted source and the real reference (an
anchor pair for the scale), and an A/B trial "which sounds more <emotion>?" between the
converted clip and the source — or, with a second run, between the two systems' outputs.
Each listener hears the trials in an order and with A/B sides of their own, drawn from the
seed and their name (:func:`listener_trials`). System names never reach the browser.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from emovc.errors import EmovcError
from emovc.evaluation.manifest import EvalItem
from emovc.fileio import relative_inside


@dataclass(frozen=True)
class Trial:
    """One screen of the test. ``kind`` is ``"mos"`` (``audio``/``system``) or ``"ab"``
    (``system_a``/``audio_a`` as built: the system under test; each listener hears the
    sides of their own, :func:`listener_trials`)."""

    trial_id: str
    kind: str
    item_id: str
    target_emotion: str
    text: str = ""
    system: str = ""
    audio: str = ""
    system_a: str = ""
    audio_a: str = ""
    system_b: str = ""
    audio_b: str = ""
    stimulus: str = ""  # MOS: id of the file played (one file asked about twice: one id)

    def public(self) -> dict:
        """What the browser may see (no system names, no file paths)."""
        return {"trial_id": self.trial_id, "kind": self.kind, "emotion": self.target_emotion,
                "text": self.text}

    def audio_path(self, slot: str) -> str:
        """File behind slot ``"x"`` (MOS) or ``"a"``/``"b"`` (A/B); '' if none."""
        return {"x": self.audio, "a": self.audio_a, "b": self.audio_b}.get(slot, "")

    def swapped(self) -> Trial:
        """This A/B trial with its sides exchanged."""
        return replace(self, system_a=self.system_b, audio_a=self.audio_b,
                       system_b=self.system_a, audio_b=self.audio_a)


def build_trials(items: list[EvalItem], other: list[EvalItem] | None = None,
                 names: tuple[str, str] = ("converted", "other"), max_items: int = 20,
                 seed: int = 0, anchors: bool = True, base: Path | None = None) -> list[Trial]:
    """MOS + A/B trials for up to ``max_items`` randomly chosen items, item by item; every
    listener hears them in an order and with A/B sides of their own
    (:func:`listener_trials`).

    The items are the first ``max_items`` of the manifest shuffled with ``seed``, so a
    larger ``max_items`` with the same seed adds items to the same test. Trial ids hash what
    a trial plays and asks, not the seed or an order: the systems, the audio files (those
    under ``base``, the run folder, relative to it, so a moved run folder keeps its ids and
    its ratings file) and the target emotion (one source converted to four emotions gives
    four source anchors, one per question). So the item set identifies a test and its
    ratings file (:func:`check_same_test`); ratings files of earlier versions resume through
    :func:`earlier_trials`.

    Args:
        items: conversions of the system under test.
        other: conversions of a second system; A/B then compares the two (items matched by
            source file and target emotion), else converted vs unconverted source.
        names: system names of ``items`` / ``other`` in the ratings file.
        max_items: items sampled (bounds the test length: ≤ 4 trials per item).
        seed: the sampling seed, and with the listener the seed of each listener's order.
        anchors: add MOS trials of the source and the reference.
        base: the run folder (``None``: every path as it is).
    """
    matched = {(o.source, o.target_emotion): o for o in (other or [])}
    pool = _pool(items, other, matched)
    shuffled = list(pool)
    random.Random(seed).shuffle(shuffled)

    def ident(kind: str, played: list[tuple[str, str]], emotion: str) -> str:
        return _hash(kind, *[x for system, audio in played
                             for x in (system, _where(audio, base))], emotion)

    trials = [t for it in shuffled[:max_items]
              for t in _item_trials(it, matched, other is not None, names, anchors, ident,
                                    base)]
    # one source (or reference) shared by items of one emotion is one anchor trial
    return list({t.trial_id: t for t in trials}.values())


def earlier_trials(items: list[EvalItem], other: list[EvalItem] | None = None,
                   names: tuple[str, str] = ("converted", "other"), max_items: int = 20,
                   seed: int = 0, anchors: bool = True,
                   base: Path | None = None) -> list[list[Trial]]:
    """The test :func:`build_trials` made before per-listener orders, under the two id
    schemes it had, for resuming a ratings file written then (:func:`match_ratings_file`):
    its sample (``random.sample`` of ``max_items``) and A/B sides (one seeded draw per item),
    with ids hashing the seed and the sides; first the ids of 2026-12 (paths relative to
    ``base``, the emotion included), then those before (absolute paths, no emotion)."""
    matched = {(o.source, o.target_emotion): o for o in (other or [])}
    pool = _pool(items, other, matched)
    rng = random.Random(seed)

    def ident(kind: str, played: list[tuple[str, str]], emotion: str) -> str:
        return _hash(str(seed), kind, *[x for system, audio in played
                                        for x in (system, _where(audio, base))], emotion)

    def first_id(t: Trial) -> str:
        played = [t.system, t.audio] if t.kind == "mos" else [t.system_a, t.audio_a,
                                                               t.system_b, t.audio_b]
        return _hash(str(seed), t.kind, *played)

    trials = [t for it in rng.sample(pool, min(max_items, len(pool)))
              for t in _item_trials(it, matched, other is not None, names, anchors, ident,
                                    base, sides=rng.shuffle)]
    trials = list({t.trial_id: t for t in trials}.values())
    rng.shuffle(trials)  # as those versions did: it decides which duplicate the first ids keep
    first = {first_id(t): replace(t, trial_id=first_id(t)) for t in trials}
    return [trials, list(first.values())]


def _pool(items: list[EvalItem], other: list[EvalItem] | None, matched: dict) -> list[EvalItem]:
    """The items a test can be built from (with ``other``: those it has a conversion of).

    Raises:
        EmovcError: there are none.
    """
    pool = [it for it in items if other is None or (it.source, it.target_emotion) in matched]
    if not pool:
        raise EmovcError("no items to build a listening test from (no matching conversions)")
    return pool


def _where(audio: str, base: Path | None) -> str:
    """``audio`` relative to ``base`` when it lies under it, else as it is."""
    # ``base`` as given only (the resolved run folder, as read_manifest resolves the paths):
    # trial and stimulus ids hash this, and ratings files of earlier runs are matched by them
    rel = relative_inside(audio, base) if base else None
    return audio if rel is None else rel.as_posix()


def _item_trials(it: EvalItem, matched: dict, compare: bool, names: tuple[str, str],
                 anchors: bool, ident, base: Path | None, sides=None) -> list[Trial]:
    """The MOS trials and the A/B trial of one item; ``ident(kind, [(system, audio)],
    emotion)`` names them, ``sides`` (e.g. ``rng.shuffle``) reorders the A/B pair; a MOS
    trial's stimulus id hashes its file (relative to ``base`` when under it)."""
    info = {"item_id": it.item_id, "target_emotion": it.target_emotion, "text": it.text}
    partner = (names[1], matched[(it.source, it.target_emotion)].converted) if compare else (
        "source", it.source)
    mos = [(names[0], it.converted)] + ([partner] if compare else [])
    if anchors:
        mos.append(("source", it.source))
        if it.reference:
            mos.append(("reference", it.reference))
    trials = [Trial(ident("mos", [(system, audio)], it.target_emotion), "mos", system=system,
                    audio=audio, stimulus=_hash("stimulus", _where(audio, base)), **info)
              for system, audio in mos]
    pair = [(names[0], it.converted), partner]
    if sides is not None:
        sides(pair)
    (sys_a, audio_a), (sys_b, audio_b) = pair
    trials.append(Trial(ident("ab", pair, it.target_emotion), "ab", system_a=sys_a,
                        audio_a=audio_a, system_b=sys_b, audio_b=audio_b, **info))
    return trials


def _hash(*content: str) -> str:
    """Trial id: a hash of what the trial plays, so ids reveal neither the build order nor
    the system to listeners, stay the same when the same test is served again (its ratings
    file is resumed) and differ between tests (whose answers must not share a ratings
    file)."""
    return hashlib.sha1("\0".join(content).encode()).hexdigest()[:10]


def listener_trials(trials: list[Trial], seed: int, listener: str) -> list[Trial]:
    """The test as ``listener``
    (a :func:`~emovc.evaluation.listening_ratings.listener_key`) hears it: ``trials`` in an
    order of their own, and A/B trials with sides of their own, both drawn from (``seed``,
    ``listener``). Every listener gets another order and side assignment, so order and
    side effects average out over listeners, and the same one on every visit, so a listener
    resumes where they left off. Half the A/B trials (one more or less) are exchanged, so
    each listener hears the system under test as often on A as on B."""
    rng = random.Random(f"emovc listen\0{seed}\0{listener}")  # seeded via SHA-512
    ab = [t.trial_id for t in trials if t.kind == "ab"]
    flips = [k < len(ab) // 2 for k in range(len(ab))]
    if len(ab) % 2 and rng.random() < 0.5:
        flips[-1] = True
    rng.shuffle(flips)
    swap = {t for t, flip in zip(ab, flips, strict=True) if flip}
    heard = [t.swapped() if t.trial_id in swap else t for t in trials]
    rng.shuffle(heard)
    return heard


def trials_to_dicts(trials: list[Trial]) -> list[dict]:
    """Full trial descriptions (with systems and paths) for saving next to the ratings."""
    return [asdict(t) for t in trials]
