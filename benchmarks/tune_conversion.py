"""Choose a WORLD model's default pitch level and envelope gain on the validation actors.

Every calm take of actors 17-20 is converted to the six other non-neutral emotions with each
``(pitch level, envelope gain)`` of a grid (the model's envelope smoothing and renderer unless
``--smoothing-ms`` / ``--renderer``), scored like
``bench_conversion.py`` (emovc's recogniser, the judge-E and judge-C mirrors, spk-sim, MCD,
log-F0 RMSE), and the clips are written to a CSV (``--details``; ``--from-csv`` reuses one).

Then two ways of choosing, each checked leave-one-actor-out (chosen on three actors, scored
on the fourth, so the numbers are not the ones the choice was fitted to):

- **uniform**: the one setting with the highest mean of the three judges' rates among those
  whose mean speaker similarity is at least ``--min-spk`` (and, with ``--max-f0``, whose
  log-F0 RMSE is at most that);
- **per emotion**: a setting per target emotion, maximising the same mean rate summed over the
  emotions under the same constraint on the mean speaker similarity (Lagrangian search).

Printed: the Pareto front of the grid (mean rate against speaker similarity, all actors), then
each choice in and out of sample next to the model's current defaults.

Usage: ``.venv/bin/python benchmarks/tune_conversion.py [--pitch-levels 0,0.25,0.5,1]
[--gains 1,1.25,1.5] [--min-spk 0.81] [--details grid.csv | --from-csv grid.csv]``
(4 actors × 48 pairs × grid size conversions; 20 settings took 12 min on 2 cores.)
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from _data import ENV_HELP
from bench_conversion import (
    DATA,
    JUDGES,
    TARGETS,
    build_systems,
    independent_judge,
    judge,
    score,
    trials,
    write_details,
)

from emovc.evaluation.speaker import SpeakerEncoder
from emovc.pipelines.conversion import EmotionConverter

ACTORS = ("17", "18", "19", "20")


def setting_name(pitch: float, gain: float) -> str:
    return f"pitch {pitch:g} gain {gain:g}"


def _grid_worker(args: tuple) -> dict:
    """Per-clip rows of every grid setting on one actor's pairs."""
    model, actor, pitches, gains, smoothing, renderer, vq = args
    torch.set_num_threads(1)
    systems = {}
    for p in pitches:
        for g in gains:
            (convert,) = build_systems(model, "", ("m2m",), pitch_level=p, envelope_gain=g,
                                       smoothing_ms=smoothing, renderer=renderer,
                                       voice_quality=vq).values()
            systems[setting_name(p, g)] = convert
    judges = {k: independent_judge(fs) for k, fs in JUDGES.items()}
    return dict(score(systems, trials([actor]), judge(), SpeakerEncoder(), judges))


def run_grid(model: str, pitches: list[float], gains: list[float], jobs: int,
             smoothing: float | None = None, renderer: str | None = None,
             voice_quality: float | None = None) -> dict:
    """Convert and score; returns ``{setting name: [per-clip row, ...]}`` (as ``score``)."""
    for fs in JUDGES.values():  # build each judge's cache once, before the workers start
        independent_judge(fs)
    chunks = [(model, a, pitches, gains, smoothing, renderer, voice_quality) for a in ACTORS]
    with ProcessPoolExecutor(jobs) as pool:
        parts = list(pool.map(_grid_worker, chunks))
    rows: dict = defaultdict(list)
    for part in parts:
        for name, rs in part.items():
            rows[name].extend(rs)
    return rows


def table(rows: list[dict], actors) -> dict:
    """``{(setting, emotion): [recogniser, judge E, judge C, spk-sim, MCD, log-F0 RMSE]}`` means
    over the clips of ``actors`` (the actor is the last field of the calm take's name)."""
    acc = defaultdict(list)
    for r in rows:
        if r["system"].startswith("pitch ") and r["take"].split("-")[-1] in actors:
            e = r["emotion"]
            acc[(r["system"], e)].append([r["label"] == e, r["label_e"] == e, r["label_c"] == e,
                                          float(r["spk"]), float(r["mcd"]), float(r["f0"])])
    return {k: np.mean(v, axis=0) for k, v in acc.items()}


def settings_of(tab: dict, max_f0: float = float("inf")) -> list[str]:
    """The settings in ``tab`` whose mean log-F0 RMSE (over the emotions) is at most
    ``max_f0`` cents (all of them if none is)."""
    names = sorted({s for s, _ in tab})
    ok = [s for s in names if np.mean([tab[(s, e)][5] for e in TARGETS]) <= max_f0]
    return ok or names


def score_choice(choice: dict, tab: dict) -> np.ndarray:
    """Mean over the emotions of the chosen settings' metrics."""
    return np.mean([tab[(choice[e], e)] for e in TARGETS], axis=0)


def rate(v: np.ndarray) -> float:
    """The objective: mean of the three judges' rates."""
    return float(v[:3].mean())


def choose_uniform(tab: dict, min_spk: float, max_f0: float = float("inf")) -> dict:
    names = settings_of(tab, max_f0)
    ok = [s for s in names if score_choice(dict.fromkeys(TARGETS, s), tab)[3] >= min_spk]
    if not ok:  # nothing keeps the voice: the setting that keeps it best
        ok = [max(names, key=lambda s: score_choice(dict.fromkeys(TARGETS, s), tab)[3])]
    best = max(ok, key=lambda s: rate(score_choice(dict.fromkeys(TARGETS, s), tab)))
    return dict.fromkeys(TARGETS, best)


def choose_per_emotion(tab: dict, min_spk: float, max_f0: float = float("inf")) -> dict:
    """Per emotion, the setting maximising rate + λ·spk; the smallest λ (of a fine grid) whose
    choice meets ``min_spk`` on average."""
    names = settings_of(tab, max_f0)
    for lam in np.linspace(0.0, 20.0, 401):
        pick = {e: max(names, key=lambda s: rate(tab[(s, e)]) + lam * tab[(s, e)][3])
                for e in TARGETS}
        if score_choice(pick, tab)[3] >= min_spk:
            return pick
    return {e: max(names, key=lambda s: tab[(s, e)][3]) for e in TARGETS}


def fmt(v: np.ndarray) -> str:
    return (f"rec {v[0]:4.0%}  E {v[1]:4.0%}  C {v[2]:4.0%}  mean {rate(v):4.0%}  spk {v[3]:.3f}  "
            f"MCD {v[4]:.2f}  F0 {v[5]:.0f}")


def report(rows: list[dict], min_spk: float, default: str | None,
           max_f0: float = float("inf")) -> None:
    tab = table(rows, ACTORS)
    print("Pareto front of the grid (all actors; * = no setting keeps more voice and more "
          "emotion):")
    overall = {s: score_choice(dict.fromkeys(TARGETS, s), tab) for s in settings_of(tab)}
    best = -1.0
    for s, v in sorted(overall.items(), key=lambda kv: -kv[1][3]):
        front = rate(v) > best
        best = max(best, rate(v))
        print(f"  {s:<22}{fmt(v)}{'  *' if front else ''}")
    for label, choose in (("uniform", choose_uniform), ("per emotion", choose_per_emotion)):
        pick = choose(tab, min_spk, max_f0)
        print(f"\n{label}, chosen on all actors: "
              + ", ".join(f"{e} {pick[e]}" for e in TARGETS))
        print(f"  in sample        {fmt(score_choice(pick, tab))}")
        held, base = [], []
        for a in ACTORS:
            train, test = table(rows, [x for x in ACTORS if x != a]), table(rows, [a])
            held.append(score_choice(choose(train, min_spk, max_f0), test))
            if default:
                base.append(score_choice(dict.fromkeys(TARGETS, default), test))
        print(f"  leave-one-out    {fmt(np.mean(held, axis=0))}")
        if default:
            print(f"  baseline         {fmt(np.mean(base, axis=0))}  ({default})")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=ENV_HELP)
    ap.add_argument("--model", default="m2m-ravdess")
    ap.add_argument("--pitch-levels", default="0,0.125,0.25,0.5,0.75,1")
    ap.add_argument("--gains", default="1,1.25,1.5,1.75,2")
    ap.add_argument("--min-spk", type=float, default=0.81,
                    help="mean speaker similarity a choice must keep (target 0.80 + a margin)")
    ap.add_argument("--max-f0", type=float, default=float("inf"),
                    help="leave out settings whose log-F0 RMSE (cents) is above this, e.g. the "
                         "unconverted input's (855 on actors 17-20)")
    ap.add_argument("--smoothing-ms", type=float, default=None,
                    help="envelope smoothing of every setting (default: the model's)")
    ap.add_argument("--renderer", default=None, choices=("world", "source"),
                    help="renderer of every setting (default: the model's)")
    ap.add_argument("--voice-quality", type=float, default=None,
                    help="factor on the added jitter/shimmer of every setting (default: the "
                         "model's)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--details", default="", help="write the per-clip rows here")
    ap.add_argument("--from-csv", default="",
                    help="per-clip rows of an earlier run (no conversion)")
    ap.add_argument("--baseline", default="",
                    help="PITCH,GAIN to compare with (default: the model's current defaults)")
    args = ap.parse_args(argv)
    conv = EmotionConverter.from_pretrained(args.model)
    default = setting_name(conv.pitch_level, conv.envelope_gain)
    if args.baseline:
        default = setting_name(*(float(x) for x in args.baseline.split(",")))
    if args.from_csv:
        rows = list(csv.DictReader(open(args.from_csv, newline="")))
    else:
        if not DATA.is_dir():
            sys.exit(f"RAVDESS not found at {DATA}")
        pitches = [float(x) for x in args.pitch_levels.split(",")]
        gains = [float(x) for x in args.gains.split(",")]
        by_setting = run_grid(args.model, pitches, gains, args.jobs, args.smoothing_ms,
                              args.renderer, args.voice_quality)
        if args.details:
            write_details(by_setting, Path(args.details))
        rows = [{"system": n, **r} for n, rs in by_setting.items() for r in rs]
    if not any(r["system"] == default for r in rows):
        print(f"(the baseline, {default}, is not in the grid: not compared)")
        default = None
    report(rows, args.min_spk, default, args.max_f0)


if __name__ == "__main__":
    main()
