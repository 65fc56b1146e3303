"""The MOS interval of the listening test: listeners and items are samples, repeats count once."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from scipy import stats

from emovc.evaluation.listening_ratings import RATING_FIELDS, summarize_ratings
from emovc.evaluation.stats import crossed_mean_ci, mean_ci


def _simulate(rng, n_listeners, n_files, repeats, sd_listener, sd_file, sd_noise, true=3.0):
    """Ratings of a crossed test: every listener rates every file ``repeats`` times;
    rating = true + listener bias + file effect + noise."""
    bias = rng.normal(0, sd_listener, n_listeners)
    effect = rng.normal(0, sd_file, n_files)
    who, file, value = [], [], []
    for listener in range(n_listeners):
        for f in range(n_files):
            for _ in range(repeats):
                who.append(listener)
                file.append(f)
                value.append(true + bias[listener] + effect[f] + rng.normal(0, sd_noise))
    return np.array(value), who, file


def test_the_interval_covers_the_mean_when_listeners_and_items_differ():
    """Listener biases and item effects move many ratings together. The t-interval over
    all ratings (the old MOS interval) then covers the true mean in only about half of the
    simulated tests; the interval over listeners and items covers it at least as often as
    it claims, without being uselessly wide."""
    rng = np.random.default_rng(20261201)
    n_sim, n_l, n_f, sds = 200, 6, 10, (0.5, 0.5, 0.8)
    ideal = 1.96 * np.sqrt(sds[0] ** 2 / n_l + sds[1] ** 2 / n_f + sds[2] ** 2 / (n_l * n_f))
    covered = {"crossed": 0, "pooled": 0}
    widths = []
    for k in range(n_sim):
        values, who, file = _simulate(rng, n_l, n_f, 1, *sds)
        mean, half, _, _ = crossed_mean_ci(values, who, file, n_boot=500, seed=k)
        covered["crossed"] += abs(mean - 3.0) <= half
        widths.append(half)
        mean, half, _ = mean_ci(values)
        covered["pooled"] += abs(mean - 3.0) <= half
    assert covered["crossed"] / n_sim >= 0.92
    assert covered["pooled"] / n_sim <= 0.75
    assert np.mean(widths) < 1.6 * ideal


def test_repeated_ratings_of_one_file_by_one_listener_count_once():
    """The source anchor is one trial per (source, emotion): 12 trials over 4 files, each
    file's naturalness rated 3 times by every listener. Those repeats are one cell, so the
    interval is that of the per-file means, not of 12 independent ratings."""
    rng = np.random.default_rng(5)
    values, who, file = _simulate(rng, 1, 4, 3, 0.0, 0.6, 0.5)
    mean, half, n_l, n_f = crossed_mean_ci(values, who, file, n_boot=4000)
    cells = values.reshape(4, 3).mean(axis=1)
    assert (n_l, n_f) == (1, 4) and mean == pytest.approx(cells.mean())
    # one listener: the bootstrap over the 4 files of their means (plug-in SE), with t_3
    expected = stats.t.ppf(0.975, 3) * cells.std(ddof=0) / 2
    assert half == pytest.approx(expected, rel=0.05)
    assert crossed_mean_ci(cells, [0] * 4, range(4), n_boot=4000)[:2] == (mean, half)
    assert half > 1.5 * mean_ci(values)[1]  # what n = 12 claimed


def test_listen_summary_counts_files_and_questions(tmp_path):
    """In a ratings file, naturalness of the source is per file, emotion strength per
    (file, emotion) question; files of earlier versions (no stimulus column) count each
    trial as its own file."""
    rows = []
    rng = np.random.default_rng(1)
    for listener in ("al", "bo", "cy"):
        for f in range(4):
            for emotion in ("angry", "sad", "happy"):
                rows.append({"listener": listener, "trial_id": f"s{f}{emotion}", "kind": "mos",
                             "system": "source", "target_emotion": emotion,
                             "stimulus": f"file{f}", "naturalness": int(rng.integers(1, 6)),
                             "emotion_strength": int(rng.integers(1, 6))})
    path = tmp_path / "r.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=RATING_FIELDS, restval="")
        w.writeheader()
        w.writerows(rows)
    source = summarize_ratings(path)["mos"]["source"]
    nat, emo = source["naturalness"], source["emotion_strength"]
    assert (nat["n"], nat["listeners"], nat["stimuli"]) == (36, 3, 4)
    assert (emo["n"], emo["stimuli"]) == (36, 4)
    values = [r["naturalness"] for r in rows]
    who = [r["listener"] for r in rows]
    assert (nat["mean"], nat["ci95"]) == pytest.approx(
        crossed_mean_ci(values, who, [r["stimulus"] for r in rows])[:2])
    for r in rows:
        del r["stimulus"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[c for c in RATING_FIELDS if c != "stimulus"],
                           restval="")
        w.writeheader()
        w.writerows(rows)
    assert summarize_ratings(path)["mos"]["source"]["naturalness"]["stimuli"] == 12
