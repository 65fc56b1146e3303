"""How predictable is the F0 level of the real target take? (limit of the log-F0 RMSE target)

The conversion benchmark scores log-F0 RMSE against the real take of the target emotion. A
converter sees only the calm take, so the target take's *level* (voiced mean log-F0) must be
predicted from it. This script measures, on RAVDESS, how far that level lies from what a
per-emotion rule predicts — the part of the F0 error no converter of a single calm utterance
can remove:

- ``real shift``: target level minus calm level over the parallel pairs of the test actors
  (mean and standard deviation, cents) — the spread is what a fixed rule cannot know;
- ``offsets``: the rule the bundled models use (calm level + the difference of per-emotion,
  speaker-centred mean offsets measured on actors 01-16), RMS error and bias;
- ``regression``: target level = a + b · calm level per emotion (least squares on the
  training actors' parallel pairs), to check that a level-dependent rule does no better;
- ``mean pair shift``: the training pairs' mean target − calm difference per emotion, and the
  same measured separately for normal and strong takes, applied with the pair's true intensity
  (``oracle int.``, which a converter is not given).

Then the log-F0 RMSE itself (the benchmark's definition: ``emovc.evaluation`` analysis,
FastDTW path on the coded envelopes, jointly voiced frames) of the calm take's own contour
moved to each rule's level, and to the target take's exact level (``oracle level``): what the
source contour scores when only its level is converted.

Statistics: voiced log-F0 (DIO + StoneMask, 5 ms, emovc's ``WorldConfig``) of every speech
take of actors 01-20. Pairs: calm take → the same speaker, sentence, intensity and repetition
in each of the six other non-neutral emotions (as ``bench_conversion.py``). Used in
docs/conversion-experiments.md ("What limits the log-F0 RMSE").

Usage: ``.venv/bin/python benchmarks/diag_f0_level.py [--test-actors 17 18 19 20]``
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from _data import ENV_HELP, require
from bench_conversion import CODES, DATA, TARGETS

from emovc.audio import load_audio
from emovc.evaluation import analyze_utterance, dtw_path, f0_rmse_cents
from emovc.features.world import WorldConfig, analyze_f0

CENTS = 1200 / np.log(2)  # natural-log F0 difference -> cents
EMOTIONS = {code: name for name, code in CODES.items()}


def level(path) -> float:
    """Mean voiced natural-log F0 of one take."""
    f0 = analyze_f0(load_audio(path).astype(np.float64), WorldConfig())[0]
    return float(np.log(f0[f0 > 0]).mean())


def takes() -> tuple[dict[tuple, float], dict[tuple, object]]:
    """``{(emotion, actor, intensity, sentence, repetition): level}`` of every speech take, and
    the same keys to their files."""
    files = sorted(DATA.glob("Actor_*/03-01-*.flac"))
    with ProcessPoolExecutor(2) as pool:
        levels = list(pool.map(level, files, chunksize=8))
    out, paths = {}, {}
    for f, lv in zip(files, levels, strict=True):
        _, _, emo, inten, sent, rep, actor = f.stem.split("-")
        key = (EMOTIONS[emo], int(actor), inten, sent, rep)
        out[key], paths[key] = lv, f
    return out, paths


def pairs(lv: dict, actors) -> list[tuple]:
    """``(calm level, target level, target emotion, intensity, calm key, target key)`` of every
    parallel pair."""
    out = []
    for (emo, actor, inten, sent, rep), calm in lv.items():
        if emo != "calm" or actor not in actors:
            continue
        for t in TARGETS:
            if (t, actor, inten, sent, rep) in lv:
                key = (t, actor, inten, sent, rep)
                out.append((calm, lv[key], t, inten, (emo, actor, inten, sent, rep), key))
    return out


def contour_rmse(test: list[tuple], paths: dict, rules: dict) -> dict[str, float]:
    """Mean log-F0 RMSE (cents, benchmark definition) of each calm take's contour moved to each
    rule's level (and to the target's own level, ``oracle level``) against the target take."""
    res: dict[str, list] = {name: [] for name in [*rules, "oracle level"]}
    analysed: dict[tuple, object] = {}  # each calm take serves six pairs: analyse it once

    def analysis(key: tuple):
        if key not in analysed:
            analysed[key] = analyze_utterance(load_audio(paths[key]))
        return analysed[key]

    for c, g, e, i, ck, tk in test:
        fc, ft = analysis(ck), analysis(tk)
        path = dtw_path(fc.mcep, ft.mcep, 1)
        for name in res:
            want = g if name == "oracle level" else rules[name](c, e, i)
            res[name].append(f0_rmse_cents(fc.f0 * np.exp(want - c), ft.f0, path))
    return {k: float(np.nanmean(v)) for k, v in res.items()}


def speaker_offsets(lv: dict, actors) -> dict[str, float]:
    """Per-emotion mean of (take level − the actor's mean level over all takes)."""
    mean = defaultdict(list)
    for (_, actor, *_), v in lv.items():
        if actor in actors:
            mean[actor].append(v)
    off = defaultdict(list)
    for (emo, actor, *_), v in lv.items():
        if actor in actors:
            off[emo].append(v - np.mean(mean[actor]))
    return {e: float(np.mean(v)) for e, v in off.items()}


def rms_bias(pred, test) -> tuple[float, float]:
    d = np.array([pred(c, e, i) - t for c, t, e, i, *_ in test]) * CENTS
    return float(np.sqrt(np.mean(d ** 2))), float(d.mean())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=ENV_HELP)
    ap.add_argument("--test-actors", nargs="+", type=int, default=[17, 18, 19, 20])
    args = ap.parse_args(argv)
    require(DATA, pattern="Actor_*/*.flac")
    lv, paths = takes()
    train_actors = sorted({a for _, a, *_ in lv} - set(args.test_actors))
    train, test = pairs(lv, train_actors), pairs(lv, args.test_actors)
    for name, got in (("test", test), ("training", train)):
        lacking = [e for e in TARGETS if e not in {p[2] for p in got}]
        if lacking:  # the rules and the per-emotion table need every target emotion
            sys.exit(f"no calm -> {', '.join(lacking)} pairs of the {name} actors under {DATA}")
    off = speaker_offsets(lv, train_actors)
    fit = {e: np.polyfit([p[0] for p in train if p[2] == e],
                         [p[1] for p in train if p[2] == e], 1) for e in TARGETS}
    by_int = defaultdict(list)
    for c, g, t, i, *_ in train:
        by_int[(t, i)].append(g - c)
    rules = {
        "calm level as is": lambda c, e, i: c,
        "offsets (bundled models)": lambda c, e, i: c + off[e] - off["calm"],
        "regression on calm level": lambda c, e, i: np.polyval(fit[e], c),
        "mean pair shift": lambda c, e, i: c + np.mean(by_int[(e, "01")] + by_int[(e, "02")]),
        "mean pair shift, oracle int.": lambda c, e, i: c + np.mean(by_int[(e, i)]),
    }
    print(f"{len(test)} pairs of actors {args.test_actors}; rules fitted on {len(train)} pairs "
          f"/ {len(train_actors)} actors")
    f0 = contour_rmse(test, paths, rules)
    print(f"{'rule':<30}{'level RMS error':>16}{'bias':>8}{'F0 RMSE, calm contour':>23}")
    for name, rule in rules.items():
        rms, bias = rms_bias(rule, test)
        print(f"{name:<30}{rms:>16.0f}{bias:>8.0f}{f0[name]:>23.0f}")
    print(f"{'oracle level':<30}{0:>16.0f}{0:>8.0f}{f0['oracle level']:>23.0f}")
    print(f"\n{'target':<11}{'real shift mean':>16}{'sd':>6}{'offset rule':>13}"
          f"{'its RMS error':>15}")
    for e in TARGETS:
        d = np.array([p[1] - p[0] for p in test if p[2] == e]) * CENTS
        sub = [p for p in test if p[2] == e]
        print(f"{e:<11}{d.mean():>16.0f}{d.std():>6.0f}{(off[e] - off['calm']) * CENTS:>13.0f}"
              f"{rms_bias(rules['offsets (bundled models)'], sub)[0]:>15.0f}")


if __name__ == "__main__":
    main()
