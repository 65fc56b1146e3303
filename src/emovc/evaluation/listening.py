"""A local listening test: MOS (naturalness, emotion strength) and blind A/B preference.

``serve_listening_test`` serves one page on ``127.0.0.1`` (stdlib ``http.server``, no external
assets); every answer is appended to a ratings CSV. ``summarize_ratings`` turns that CSV into
MOS with 95 % Student-t intervals and A/B preference shares with exact binomial intervals.

Trials are built from a manifest / conversion run (:func:`build_trials`): for a random sample
of items, MOS trials of the converted clip, the unconverted source and the real reference (an
anchor pair for the scale), and an A/B trial "which sounds more <emotion>?" between the
converted clip and the source — or, with a second run, between the two systems' outputs.
System names never reach the browser.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from emovc.errors import EmovcError
from emovc.evaluation.manifest import EvalItem
from emovc.evaluation.stats import binomial_ci, binomial_p_value, mean_ci

RATING_FIELDS = ["time", "listener", "trial_id", "kind", "item_id", "target_emotion", "system",
                 "naturalness", "emotion_strength", "system_a", "system_b", "choice",
                 "preferred"]
CHOICES = ("A", "B", "same")


@dataclass(frozen=True)
class Trial:
    """One screen of the test. ``kind`` is ``"mos"`` (``audio``/``system``) or ``"ab"``."""

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
    legacy_id: str = ""  # the id emovc gave this trial before 2026-12-01 (see build_trials)

    def public(self) -> dict:
        """What the browser may see (no system names, no file paths)."""
        return {"trial_id": self.trial_id, "kind": self.kind, "emotion": self.target_emotion,
                "text": self.text}

    def audio_path(self, slot: str) -> str:
        """File behind slot ``"x"`` (MOS) or ``"a"``/``"b"`` (A/B); '' if none."""
        return {"x": self.audio, "a": self.audio_a, "b": self.audio_b}.get(slot, "")


def build_trials(items: list[EvalItem], other: list[EvalItem] | None = None,
                 names: tuple[str, str] = ("converted", "other"), max_items: int = 20,
                 seed: int = 0, anchors: bool = True, base: Path | None = None) -> list[Trial]:
    """Shuffled MOS + A/B trials for up to ``max_items`` randomly chosen items.

    Trial ids hash what a trial plays and asks: the seed, the systems, the audio files (those
    under ``base``, the run folder, relative to it, so a moved run folder keeps its ids and
    its ratings file) and the target emotion (one source converted to four emotions gives
    four source anchors, one per question). A trial's ``legacy_id`` is the id earlier
    versions gave it, so their ratings files still resume (:func:`match_ratings_file`).

    Args:
        items: conversions of the system under test.
        other: conversions of a second system; A/B then compares the two (items matched by
            source file and target emotion), else converted vs unconverted source.
        names: system names of ``items`` / ``other`` in the ratings file.
        max_items: items sampled (bounds the test length: ≤ 4 trials per item).
        seed: sampling and ordering seed (A/B sides are randomised too).
        anchors: add MOS trials of the source and the reference.
        base: the run folder (``None``: every path as it is).
    """
    def where(audio: str) -> str:
        p = Path(audio)
        return p.relative_to(base).as_posix() if base and p.is_relative_to(base) else audio

    rng = random.Random(seed)
    matched = {(o.source, o.target_emotion): o for o in (other or [])}
    pool = [it for it in items if other is None or (it.source, it.target_emotion) in matched]
    if not pool:
        raise EmovcError("no items to build a listening test from (no matching conversions)")
    chosen = rng.sample(pool, min(max_items, len(pool)))
    trials: list[Trial] = []
    for it in chosen:
        info = {"item_id": it.item_id, "target_emotion": it.target_emotion, "text": it.text}
        mos = [(names[0], it.converted)]
        if other is not None:
            mos.append((names[1], matched[(it.source, it.target_emotion)].converted))
        if anchors:
            mos.append(("source", it.source))
            if it.reference:
                mos.append(("reference", it.reference))
        for system, audio in mos:  # the emotion is part of the question, so of the id
            trials.append(Trial(
                _opaque_id(seed, "mos", system, where(audio), it.target_emotion), "mos",
                system=system, audio=audio, legacy_id=_opaque_id(seed, "mos", system, audio),
                **info))
        pair = [(names[0], it.converted)]
        pair.append((names[1], matched[(it.source, it.target_emotion)].converted)
                    if other is not None else ("source", it.source))
        rng.shuffle(pair)
        (sys_a, audio_a), (sys_b, audio_b) = pair
        trials.append(Trial(
            _opaque_id(seed, "ab", sys_a, where(audio_a), sys_b, where(audio_b),
                       it.target_emotion), "ab",
            system_a=sys_a, audio_a=audio_a, system_b=sys_b, audio_b=audio_b,
            legacy_id=_opaque_id(seed, "ab", sys_a, audio_a, sys_b, audio_b), **info))
    # one source (or reference) shared by items of one emotion is one anchor trial
    trials = list({t.trial_id: t for t in trials}.values())
    rng.shuffle(trials)
    return trials


def _opaque_id(seed: int, *content: str) -> str:
    """Trial id: a hash of the seed and what the trial plays, so ids reveal neither the
    build order nor the system to listeners, stay the same when the same test is served
    again (its ratings file is resumed) and differ between tests (whose answers must not
    share a ratings file)."""
    return hashlib.sha1("\0".join((str(seed), *content)).encode()).hexdigest()[:10]


#: first characters a spreadsheet reads as a formula (CSV injection): refused in names
FORMULA_STARTS = ("=", "+", "-", "@")
MAX_NAME = 64


def listener_key(name: object) -> str:
    """A listener's identity, as the ratings file stores it: the name with runs of white
    space made one space, stripped and casefolded, so ``"Alice"``, ``" alice "`` and
    ``"ALICE"`` are one listener (and resume each other's test).

    Raises:
        EmovcError: empty or over 64 characters, a comma, quote or control character, or a
            first character that makes a spreadsheet read the cell as a formula (= + - @).
    """
    key = " ".join(str(name).split()).casefold()
    if not key or len(key) > MAX_NAME or not key.isprintable() or any(c in key for c in ",\"'"):
        raise EmovcError(f"listener name must be 1-{MAX_NAME} characters without commas, "
                         "quotes or control characters")
    if key.startswith(FORMULA_STARTS):
        raise EmovcError(f"listener name must not start with {' '.join(FORMULA_STARTS)} "
                         "(a spreadsheet opening the ratings would read it as a formula)")
    return key


def _same_listener(name: str) -> str:
    """The identity of a name read from a ratings file (older files hold names as typed:
    ``Alice`` and ``alice`` are one listener there too); no validation."""
    return " ".join(name.split()).casefold()


def rating_row(trial: Trial, answer: dict, when: str) -> dict:
    """Validate a browser answer for ``trial`` and turn it into a ratings-CSV row; the
    listener is stored as :func:`listener_key`.

    Raises:
        EmovcError: scores outside 1..5, unknown A/B choice, bad listener name.
    """
    listener = listener_key(answer.get("listener", ""))
    row = {k: "" for k in RATING_FIELDS}
    row.update(time=when, listener=listener, trial_id=trial.trial_id, kind=trial.kind,
               item_id=trial.item_id, target_emotion=trial.target_emotion)
    if trial.kind == "mos":
        scores = [answer.get("naturalness"), answer.get("emotion_strength")]
        if not all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= 5
                   for s in scores):
            raise EmovcError("MOS scores must be integers 1..5")
        row.update(system=trial.system, naturalness=scores[0], emotion_strength=scores[1])
    else:
        choice = answer.get("choice")
        if choice not in CHOICES:
            raise EmovcError(f"A/B choice must be one of {', '.join(CHOICES)}")
        preferred = {"A": trial.system_a, "B": trial.system_b, "same": "same"}[choice]
        row.update(system_a=trial.system_a, system_b=trial.system_b, choice=choice,
                   preferred=preferred)
    return row


def append_rating(csv_path: str | os.PathLike, row: dict) -> None:
    """Append one row (header written for a new file), flushed to disk."""
    p = Path(csv_path)
    new = not p.exists() or p.stat().st_size == 0
    with open(p, "a", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=RATING_FIELDS)
        if new:
            w.writeheader()
        w.writerow(row)
        f.flush()
        os.fsync(f.fileno())


def answered_trials(csv_path: str | os.PathLike) -> set[tuple[str, str]]:
    """``{(listener, trial_id)}`` answered in the ratings file (empty if there is none);
    listeners as :func:`listener_key` makes them (casefolded)."""
    p = Path(csv_path)
    if not p.is_file() or p.stat().st_size == 0:
        return set()
    with open(p, newline="", encoding="utf-8-sig") as f:
        return {(_same_listener(r["listener"]), r["trial_id"]) for r in csv.DictReader(f)}


def match_ratings_file(csv_path: str | os.PathLike, trials: list[Trial]) -> list[Trial]:
    """``trials`` with the ids of an existing ratings file's test: a file written before
    2026-12-01 holds the earlier ids (``legacy_id``), which are then used to resume it."""
    answered = {t for _, t in answered_trials(csv_path)}
    if not answered or answered & {t.trial_id for t in trials}:
        return trials
    if not answered <= {t.legacy_id for t in trials}:
        return trials  # another test's answers: check_same_test says so
    renamed = [replace(t, trial_id=t.legacy_id) for t in trials]
    return list({t.trial_id: t for t in renamed}.values())


def check_same_test(csv_path: str | os.PathLike, trials: list[Trial]) -> None:
    """Refuse to append to a ratings file holding answers of another test (trial ids this
    test does not have: another manifest, seed or ``--max-items``), whose systems would be
    pooled with this one's under the same names.

    Raises:
        EmovcError: naming the file and how many of its answers belong to other trials.
    """
    ids = {t.trial_id for t in trials}
    other = [t for _, t in answered_trials(csv_path) if t not in ids]
    if other:
        raise EmovcError(f"{csv_path} holds answers of another listening test ({len(other)} "
                         "for trials this one does not have: another manifest, seed or "
                         "--max-items); give this test its own --ratings file")


def check_ratings_file(csv_path: str | os.PathLike) -> None:
    """Refuse an existing file that is not a ratings CSV of ``emovc listen`` (ratings are
    appended to it, so e.g. a run's ``conversions.csv`` must not be given).

    Raises:
        EmovcError: the file exists and is not UTF-8 text with the ratings columns.
    """
    p = Path(csv_path)
    if not p.exists() or (p.is_file() and p.stat().st_size == 0):
        return
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            fields = csv.DictReader(f).fieldnames
    except (UnicodeDecodeError, IsADirectoryError):
        fields = None
    if not fields or "kind" not in fields:
        raise EmovcError(f"{p} is not a ratings CSV of emovc listen (columns: "
                         f"{', '.join(RATING_FIELDS)}); give a new or an earlier ratings file")


def _score(cell: str, column: str, path, line: int) -> float:
    """A MOS cell of the ratings file as a number 1..5.

    Raises:
        EmovcError: not a number in 1..5 (names the file, line and column).
    """
    try:
        value = float(cell)
    except (TypeError, ValueError):
        value = float("nan")
    if not 1 <= value <= 5:
        raise EmovcError(f"{path}, line {line}: {column} {cell!r} is not a score 1..5")
    return value


def summarize_ratings(csv_path: str | os.PathLike, level: float = 0.95) -> dict:
    """MOS per system (mean, t-interval half-width, n) and A/B preferences per system pair.

    Returns:
        ``{"listeners": int, "mos": {system: {"naturalness": {...}, "emotion_strength":
        {...}}}, "ab": {"X vs Y": {"n", "prefer_X", "prefer_Y", "same", "share_X", "ci_low",
        "ci_high", "p_value"}}}`` where the binomial share/CI/p exclude "same" answers.

    Raises:
        EmovcError: missing file or not a ratings CSV.
    """
    p = Path(csv_path)
    if not p.is_file():
        raise EmovcError(f"ratings file not found: {p}")
    check_ratings_file(p)
    with open(p, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        rows = [{**r, "_line": reader.line_num} for r in reader]  # the file's own line
    n_rows = len(rows)
    rows = last_answers(rows)
    scores: dict = defaultdict(lambda: defaultdict(list))
    ab: dict = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if r["kind"] == "mos":
            for q in ("naturalness", "emotion_strength"):
                scores[r["system"]][q].append(_score(r[q], q, p, r["_line"]))
        elif r["kind"] == "ab":
            x, y = sorted((r["system_a"], r["system_b"]))
            ab[(x, y)][r["preferred"] if r["preferred"] in (x, y) else "same"] += 1
    mos = {s: {q: dict(zip(("mean", "ci95", "n"), mean_ci(v, level), strict=True))
               for q, v in qs.items()} for s, qs in sorted(scores.items())}
    return {"listeners": len({_same_listener(r["listener"]) for r in rows}),
            "n_ratings": len(rows),
            "repeats_ignored": n_rows - len(rows),
            "mos": mos, "ab": {f"{x} vs {y}": _ab_summary(x, y, c, level)
                               for (x, y), c in sorted(ab.items())}}


def last_answers(rows: list[dict]) -> list[dict]:
    """``rows`` with one answer per (listener, trial): the last one given (a double click
    or a re-sent answer must not count twice), in the order of the kept answers. Listener
    names are compared casefolded (files of earlier versions hold them as typed)."""
    last = {(_same_listener(r["listener"]), r["trial_id"]): i for i, r in enumerate(rows)}
    return [rows[i] for i in sorted(last.values())]


def _ab_summary(x: str, y: str, counts: dict, level: float) -> dict:
    kx, ky = counts.get(x, 0), counts.get(y, 0)
    share, lo, hi = binomial_ci(kx, kx + ky, level)
    return {"n": kx + ky + counts.get("same", 0), f"prefer_{x}": kx, f"prefer_{y}": ky,
            "same": counts.get("same", 0), f"share_{x}": share, "ci_low": lo, "ci_high": hi,
            "p_value": binomial_p_value(kx, kx + ky)}


def trials_to_dicts(trials: list[Trial]) -> list[dict]:
    """Full trial descriptions (with systems and paths) for saving next to the ratings."""
    return [asdict(t) for t in trials]
