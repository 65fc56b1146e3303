"""Which openSMILE feature groups keep a judge from hearing the conversions? (feature swaps)

Every calm take of the validation speakers is converted to the six other non-neutral emotions
with a model's default settings (as ``bench_conversion.py`` does), and the judge's functionals
are computed for the conversion, for the real take of the target emotion (same speaker,
sentence, intensity, repetition) and for the calm take. Then, one low-level-descriptor group
at a time (all functionals of e.g. ``mfcc``, ``F0final``, ``logHNR``), the conversion's values
are replaced by the real take's and the judge's SVM is asked again: the hits gained say how
much of the judge's gap that group carries. The reverse swap (the conversion's values in the
real take) says how many of the real take's hits the group's error costs.

Printed per group: hits gained over the 192 conversions and per emotion, hits the real takes
lose with the group swapped out; then, for the groups that gain most, how far the conversion,
the real take and the calm take sit in the judge's standardised feature space (mean z of the
group's spread functionals: standard deviation, range, inter-quartile range).

Unlike ``diag_oracle_swaps.py`` (parts of the real take resynthesised into the calm take, all
three judges and speaker similarity) this needs no synthesis per group, so all groups of a
judge are scored in seconds once the features are extracted (≈ 3 min on 2 cores for
``compare``). Used in docs/conversion-experiments.md ("Where judge C's missing hits are").

Usage: ``.venv/bin/python benchmarks/diag_judge_features.py [--feature-set compare|egemaps]
[--model m2m-ravdess] [--jobs 2] [--top 12]``
"""

from __future__ import annotations

import argparse
import re
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from _data import ENV_HELP
from bench_conversion import DATA, trials
from judge_egemaps import FEATURE_SETS, _features, _smile, load_judge

from emovc.audio import load_audio

SR = 16000
# functionals that measure a descriptor's variability (ComParE names, then eGeMAPS names)
SPREAD = ("stddev", "range", "iqr1-3", "stddevNorm", "pctlrange0-2")


def lld_group(name: str) -> str:
    """The low-level descriptor of a functional's name, coefficient index dropped:
    ``mfcc_sma_de[3]_stddev`` -> ``mfcc``, ``loudness_sma3_amean`` -> ``loudness``."""
    return re.sub(r"\[\d+\]", "", name.split("_sma")[0])


def _extract(args: tuple) -> list[dict]:
    """Functionals of (conversion, real take, calm take) for one speaker's pairs."""
    import torch

    from emovc.pipelines.conversion import EmotionConverter

    torch.set_num_threads(1)
    model, feature_set, speaker = args
    conv = EmotionConverter.from_pretrained(model)
    smile = _smile(feature_set)
    rows = []
    for calm, real, emo in trials([speaker]):
        x, r = load_audio(calm, sr=SR), load_audio(real, sr=SR)
        y = conv.convert(x, SR, emo, source="calm")
        rows.append({"emotion": emo, "conv": _features(smile, y), "real": _features(smile, r),
                     "calm": _features(smile, x)})
    return rows


def swap_gains(model, conv: np.ndarray, real: np.ndarray, emo: np.ndarray,
               groups: dict[str, list[int]]) -> list[tuple[str, np.ndarray, int]]:
    """Per group: ``(name, hits gained per pair (+1/0/-1) with the real values swapped in,
    hits the real takes lose with the conversion's values swapped in)``, best first."""
    base, base_real = model.predict(conv) == emo, model.predict(real) == emo
    out = []
    for name, idx in groups.items():
        a, b = conv.copy(), real.copy()
        a[:, idx], b[:, idx] = real[:, idx], conv[:, idx]
        gained = (model.predict(a) == emo).astype(int) - base
        lost = int(base_real.sum() - (model.predict(b) == emo).sum())
        out.append((name, gained, lost))
    return sorted(out, key=lambda t: -t[1].sum())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=ENV_HELP)
    ap.add_argument("--feature-set", default="compare", choices=sorted(FEATURE_SETS))
    ap.add_argument("--model", default="m2m-ravdess")
    ap.add_argument("--speakers", nargs="+", default=["17", "18", "19", "20"])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--top", type=int, default=12, help="groups printed")
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        sys.exit(f"RAVDESS not found at {DATA}")
    judge = load_judge(lambda m: print(m, file=sys.stderr), args.feature_set)
    if judge is None:
        sys.exit("judge unavailable (see benchmarks/judge_egemaps.py)")
    jobs = [(args.model, args.feature_set, s) for s in args.speakers]
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = [r for part in pool.map(_extract, jobs) for r in part]
    emo = np.array([r["emotion"] for r in rows])
    conv, real, calm = (np.stack([r[k] for r in rows]) for k in ("conv", "real", "calm"))
    names = list(_smile(args.feature_set).feature_names)
    groups: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        groups.setdefault(lld_group(n), []).append(i)
    emotions = sorted(set(emo))
    hits = {k: int((judge.model.predict(v) == emo).sum()) for k, v in
            (("conversions", conv), ("real takes", real), ("calm takes", calm))}
    letter = FEATURE_SETS[args.feature_set][1]
    print(f"judge {letter} mirror, {len(emo)} pairs, {args.model}: "
          + ", ".join(f"{k} {v} hits" for k, v in hits.items()))
    print(f"{'group':32s} {'n':>5s} {'gain':>5s}  " + " ".join(f"{e[:8]:>8s}" for e in emotions)
          + "  real takes lose")
    ranked = swap_gains(judge.model, conv, real, emo, groups)
    for name, gained, lost in ranked[:args.top]:
        per = " ".join(f"{int(gained[emo == e].sum()):+8d}" for e in emotions)
        print(f"{name:32s} {len(groups[name]):5d} {int(gained.sum()):+5d}  {per}  {lost:+d}")
    scaler = judge.model.steps[0][1]
    print("\nspread functionals (" + ", ".join(SPREAD) + "), mean z: conversion / real / calm")
    for name, _, _ in ranked[:4]:
        idx = [i for i in groups[name] if names[i].rsplit("_", 1)[-1] in SPREAD]
        if not idx:
            continue
        z = {k: (v[:, idx] - scaler.mean_[idx]) / scaler.scale_[idx]
             for k, v in (("conv", conv), ("real", real), ("calm", calm))}
        print(f"{name:32s} " + "  ".join(
            f"{e[:8]} {z['conv'][emo == e].mean():+.2f}/{z['real'][emo == e].mean():+.2f}"
            f"/{z['calm'][emo == e].mean():+.2f}" for e in emotions))


if __name__ == "__main__":
    main()
