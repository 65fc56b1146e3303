"""Ratings of a listening test (:mod:`emovc.evaluation.listening`): listener identities, the
ratings CSV (one row per answer, appended; files of earlier versions upgraded), the checks
that a ratings file belongs to the test served, and its summary: MOS with intervals over
listeners and items (:func:`~emovc.evaluation.crossed_stats.crossed_mean_ci`) and A/B preference
shares with intervals over listeners and pairs
(:func:`~emovc.evaluation.crossed_stats.crossed_share_ci`)."""

from __future__ import annotations

import csv
import io
import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from emovc.errors import EmovcError
from emovc.evaluation.crossed_stats import crossed_mean_ci, crossed_share_ci
from emovc.evaluation.listening import Trial
from emovc.fileio import write_atomic

RATING_FIELDS = ["time", "listener", "trial_id", "kind", "item_id", "target_emotion", "system",
                 "naturalness", "emotion_strength", "system_a", "system_b", "choice",
                 "preferred", "position", "loudness", "stimulus"]
CHOICES = ("A", "B", "same")
NEEDED_FIELDS = ["listener", "trial_id", "kind", "target_emotion", "system", "naturalness",
                 "emotion_strength", "system_a", "system_b", "preferred"]
"""The columns a ratings file must have to be resumed and summarised (every version
wrote them; :func:`upgrade_ratings_file` adds the later ones)."""


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


def rating_row(trial: Trial, answer: dict, when: str, position: int | str = "") -> dict:
    """Validate a browser answer for ``trial`` (A/B sides as the listener heard them) and
    turn it into a ratings-CSV row; the listener is stored as :func:`listener_key`,
    ``position`` is the trial's place (1-based) in the listener's order.

    Raises:
        EmovcError: scores outside 1..5, unknown A/B choice, bad listener name.
    """
    listener = listener_key(answer.get("listener", ""))
    row = {k: "" for k in RATING_FIELDS}
    row.update(time=when, listener=listener, trial_id=trial.trial_id, kind=trial.kind,
               item_id=trial.item_id, target_emotion=trial.target_emotion,
               position=position)
    if trial.kind == "mos":
        scores = [answer.get("naturalness"), answer.get("emotion_strength")]
        if not all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= 5
                   for s in scores):
            raise EmovcError("MOS scores must be integers 1..5")
        row.update(system=trial.system, naturalness=scores[0], emotion_strength=scores[1],
                   stimulus=trial.stimulus)
    else:
        choice = answer.get("choice")
        if choice not in CHOICES:
            raise EmovcError(f"A/B choice must be one of {', '.join(CHOICES)}")
        preferred = {"A": trial.system_a, "B": trial.system_b, "same": "same"}[choice]
        row.update(system_a=trial.system_a, system_b=trial.system_b, choice=choice,
                   preferred=preferred)
    return row


LOCK_WAIT_S = 30.0  # an append takes milliseconds: a lock held this long is a stuck writer


@contextmanager
def ratings_lock(csv_path: str | os.PathLike) -> Iterator[None]:
    """Hold the advisory lock of a ratings file (the file ``<name>.lock`` beside it, by
    ``filelock``: ``flock`` where there is one, else the platform's own lock), which every
    writer of it takes: two servers of one test (two ``emovc listen``, or the app and the
    command line) wrote two header rows into a new file, and an answer appended while
    another process upgraded the file (:func:`upgrade_ratings_file`) was lost.

    Raises:
        EmovcError: another process held the lock for :data:`LOCK_WAIT_S`.
    """
    p = Path(csv_path)
    try:
        with FileLock(p.with_name(p.name + ".lock"), timeout=LOCK_WAIT_S):
            yield
    except Timeout:
        raise EmovcError(f"{p} is locked by another process (its {p.name}.lock for over "
                         f"{LOCK_WAIT_S:g} s): is another listening test writing it?") from None


def append_rating(csv_path: str | os.PathLike, row: dict) -> None:
    """Append one row (header written for a new file), flushed to disk, under the file's
    lock (:func:`ratings_lock`). A file of an earlier version, without some of
    :data:`RATING_FIELDS`, first gets those columns (:func:`upgrade_ratings_file`)."""
    p = Path(csv_path)
    with ratings_lock(p):
        new = not p.exists() or p.stat().st_size == 0
        fields = RATING_FIELDS if new else upgrade_ratings_file(p)
        with open(p, "a", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=fields, restval="")
            if new:
                w.writeheader()
            w.writerow(row)
            f.flush()
            os.fsync(f.fileno())


def upgrade_ratings_file(csv_path: str | os.PathLike) -> list[str]:
    """The columns of an existing ratings file, after adding those of
    :data:`RATING_FIELDS` it lacks (a file of an earlier version) — empty in its rows —
    by rewriting it atomically; columns of its own are kept. Call it holding the file's
    lock (:func:`ratings_lock`, as :func:`append_rating` does): a row appended between
    its read and its rewrite would be lost."""
    p = Path(csv_path)
    with open(p, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        missing = [c for c in RATING_FIELDS if c not in fields]
        rows = list(reader) if missing else []
    if missing:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=fields + missing, restval="")
        w.writeheader()
        w.writerows(rows)
        write_atomic(p, buf.getvalue())
    return fields + missing


def answered_trials(csv_path: str | os.PathLike) -> set[tuple[str, str]]:
    """``{(listener, trial_id)}`` answered in the ratings file (empty if there is none);
    listeners as :func:`listener_key` makes them (casefolded)."""
    p = Path(csv_path)
    if not p.is_file() or p.stat().st_size == 0:
        return set()
    with open(p, newline="", encoding="utf-8-sig") as f:
        return {(_same_listener(r["listener"]), r["trial_id"]) for r in csv.DictReader(f)}


def match_ratings_file(csv_path: str | os.PathLike, trials: list[Trial],
                       earlier: list[list[Trial]] = ()) -> list[Trial]:
    """The test an existing ratings file holds answers of: ``trials``, or the first of
    ``earlier`` (:func:`earlier_trials`: the same options' test as an earlier version built
    it) that has every trial the file answers — that test is then served, so the file
    resumes. ``trials`` when none has (:func:`check_same_test` then refuses the file)."""
    answered = {t for _, t in answered_trials(csv_path)}
    for test in (trials, *earlier):
        if answered <= {t.trial_id for t in test}:
            return test
    return trials


def check_same_test(csv_path: str | os.PathLike, trials: list[Trial]) -> None:
    """Refuse to append to a ratings file holding answers of trials this test does not
    have (another manifest, or the sample of another seed or of a smaller ``--max-items``),
    whose systems would be pooled with this one's under the same names. A file of this
    test with fewer items (a smaller ``--max-items``, same seed) is accepted: its answers
    are all of this test's trials, which then has more.

    Raises:
        EmovcError: naming the file and how many of its answers belong to other trials.
    """
    ids = {t.trial_id for t in trials}
    other = [t for _, t in answered_trials(csv_path) if t not in ids]
    if other:
        raise EmovcError(f"{csv_path} holds answers of another listening test ({len(other)} "
                         "for trials this one does not have: another manifest, or another "
                         "seed's or a smaller --max-items' sample); give this test its own "
                         "--ratings file")


def check_ratings_file(csv_path: str | os.PathLike) -> None:
    """Refuse an existing file that is not a ratings CSV of ``emovc listen`` (ratings are
    appended to it, so e.g. a run's ``conversions.csv`` must not be given).

    Raises:
        EmovcError: the file exists and is not UTF-8 text with the ratings columns
            (:data:`NEEDED_FIELDS`; the message names those it lacks).
    """
    p = Path(csv_path)
    if not p.exists() or (p.is_file() and p.stat().st_size == 0):
        return
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            fields = csv.DictReader(f).fieldnames or []
    except (UnicodeDecodeError, IsADirectoryError):
        fields = []
    missing = [c for c in NEEDED_FIELDS if c not in fields]
    if missing:
        lacks = (f": it has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}"
                 if len(missing) < len(NEEDED_FIELDS) else "")
        raise EmovcError(f"{p} is not a ratings CSV of emovc listen{lacks} (a ratings CSV has "
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
    """MOS per system and A/B preferences per system pair.

    A MOS is the mean over (listener, item) cells with an interval that treats listeners and
    items as samples (:func:`mos_summary`); an A/B share counts decisive answers,
    with an interval and test over listeners and pairs (:func:`ab_summary`).

    Returns:
        ``{"listeners": int, "n_ratings": int, "loudness": {how the clips were served:
        ratings}, "repeats_ignored": int, "mos": {system: {"naturalness": {...},
        "emotion_strength": {...}}}, "ab": {"X vs Y": {"n", "prefer_X", "prefer_Y", "same",
        "share_X", "ci_low", "ci_high", "p_value", "listeners", "pairs"}}, "by_emotion":
        {target emotion: {"mos": ..., "ab": ...}}}`` where the share, interval, p-value and
        the listener and pair counts are of the decisive answers ("same" left out); each MOS
        ``{"mean", "ci95", "n", "listeners", "stimuli"}``.

    Raises:
        EmovcError: missing file, not a ratings CSV, or a score outside 1..5.
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
    for r in rows:
        if r["kind"] == "mos":
            for q in SCALES:
                r[q] = _score(r[q], q, p, r["_line"])
    served = Counter(r.get("loudness") or "not recorded" for r in rows)
    by_emotion: dict = defaultdict(list)
    for r in rows:
        by_emotion[r["target_emotion"] or "(none)"].append(r)
    return {"listeners": len({_same_listener(r["listener"]) for r in rows}),
            "n_ratings": len(rows), "loudness": dict(sorted(served.items())),
            "repeats_ignored": n_rows - len(rows),
            "mos": mos_summary(rows, level), "ab": ab_summary(rows, level),
            "by_emotion": {e: {"mos": mos_summary(rs, level), "ab": ab_summary(rs, level)}
                           for e, rs in sorted(by_emotion.items())}}


SCALES = ("naturalness", "emotion_strength")


def mos_summary(rows: list[dict], level: float = 0.95) -> dict:
    """``{system: {scale: {"mean", "ci95", "n", "listeners", "stimuli"}}}`` of the MOS rows
    (scores as numbers), by :func:`~emovc.evaluation.crossed_stats.crossed_mean_ci`.

    The unit of a listener's rating is the file for naturalness (the source converted to
    three emotions is one file asked about three times: its ratings by one listener are
    averaged into one) and the (file, emotion) question for emotion strength (three
    different questions); either way the file is the cluster, one random effect shared by
    its questions (which are taken as a fixed set). ``n``
    counts ratings, ``stimuli`` distinct files (in files of earlier versions, without the
    ``stimulus`` column, each trial counts as its own file).
    """
    by_system: dict = defaultdict(list)
    for r in rows:
        if r["kind"] == "mos":
            by_system[r["system"]].append(r)
    out = {}
    for system, rs in sorted(by_system.items()):
        who = [_same_listener(r["listener"]) for r in rs]
        files = [r.get("stimulus") or r["trial_id"] for r in rs]
        questions = {"naturalness": files,
                     "emotion_strength": [f"{f}/{r['target_emotion']}"
                                          for f, r in zip(files, rs, strict=True)]}
        out[system] = {}
        for q in SCALES:
            mean, half, n_l, n_f = crossed_mean_ci([r[q] for r in rs], who, questions[q],
                                                   files, level)
            out[system][q] = {"mean": mean, "ci95": half, "n": len(rs), "listeners": n_l,
                              "stimuli": n_f}
    return out


def ab_summary(rows: list[dict], level: float = 0.95) -> dict:
    """``{"X vs Y": {...}}`` of the A/B rows: counts, the share of X among decisive answers,
    and its interval and two-sided test against 0.5 over listeners and pairs
    (:func:`~emovc.evaluation.crossed_stats.crossed_share_ci`: the MOS interval's variance
    components over the 0/1 answers, each A/B trial a pair)."""
    ab: dict = defaultdict(list)
    for r in rows:
        if r["kind"] == "ab":
            ab[tuple(sorted((r["system_a"], r["system_b"])))].append(r)
    return {f"{x} vs {y}": _ab_summary(x, y, rs, level) for (x, y), rs in sorted(ab.items())}


def last_answers(rows: list[dict]) -> list[dict]:
    """``rows`` with one answer per (listener, trial): the last one given (a double click
    or a re-sent answer must not count twice), in the order of the kept answers. Listener
    names are compared casefolded (files of earlier versions hold them as typed)."""
    last = {(_same_listener(r["listener"]), r["trial_id"]): i for i, r in enumerate(rows)}
    return [rows[i] for i in sorted(last.values())]


def _ab_summary(x: str, y: str, rows: list[dict], level: float) -> dict:
    """Counts of the A/B ``rows`` of systems ``x`` and ``y`` (an answer naming neither is a
    no-preference one), the share of ``x`` among the decisive ones, its interval and test."""
    decisive = [r for r in rows if r["preferred"] in (x, y)]
    kx = sum(r["preferred"] == x for r in decisive)
    share, lo, hi, p = crossed_share_ci([r["preferred"] == x for r in decisive],
                                        [_same_listener(r["listener"]) for r in decisive],
                                        [r["trial_id"] for r in decisive], level=level)
    return {"n": len(rows), f"prefer_{x}": kx, f"prefer_{y}": len(decisive) - kx,
            "same": len(rows) - len(decisive), f"share_{x}": share, "ci_low": lo,
            "ci_high": hi, "p_value": p,
            "listeners": len({_same_listener(r["listener"]) for r in decisive}),
            "pairs": len({r["trial_id"] for r in decisive})}
