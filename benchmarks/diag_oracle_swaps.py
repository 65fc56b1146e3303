"""Which part of a real emotional take makes the judges hear its emotion? (oracle swaps)

For every calm take of the validation speakers and its parallel real take of ``--emotion``
(same speaker, sentence, intensity, repetition), the real take is DTW-aligned to the calm one
(mel-cepstrum c1-c24, ``emovc.training.datamodule.dtw_map``, as the training pairs are aligned)
and parts of it are mapped
onto the calm take's frames and resynthesised by WORLD with the rest of the calm take:

- ``copy``: WORLD copy of the real take (its own timing) — what a perfect conversion could reach;
- ``f0``: the real log-F0 contour (on the calm take's voicing) with the calm envelope;
- ``envelope``: the real spectral envelope and aperiodicity with the calm F0;
- ``c0-4`` / ``c0`` / ``c1-4`` / ``c5+``: only those mel-cepstral coefficients of the real
  envelope (c0 = frame energy, c1-c4 = coarse tilt, c5+ = finer shape);
- ``c0 >100ms`` / ``c0 <100ms``: the real c0 trajectory's slow part (a 100 ms moving
  average; syllables and slower) on the calm take's fast part, or the other way round;
- ``aperiodicity``: only the real aperiodicity;
- ``timing``: the other way round — the whole calm take re-timed onto the real take's frames
  (its local rhythm and pauses), everything else the calm take's.

Printed: how many outputs emovc's recogniser, the judge-E mirror and the judge-C mirror
(``judge_egemaps.py --feature-set compare``, when built) label as the emotion, and their mean
speaker similarity to the calm take (resemblyzer cosine, as the benchmark's).
Used in docs/conversion-experiments.md ("Why disgust stayed at 0 %").

Usage: ``.venv/bin/python benchmarks/diag_oracle_swaps.py --emotion disgust``
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict

import numpy as np
import torch
from _data import ENV_HELP
from bench_conversion import DATA, TARGETS, independent_judge, judge, judge_label, label, trials
from scipy.ndimage import uniform_filter1d

from emovc.audio import load_audio
from emovc.evaluation.speaker import speaker_similarity
from emovc.features.f0 import continuous_log_f0
from emovc.features.world import analyze, decode_envelope, encode_envelope, synthesize
from emovc.training.datamodule import dtw_map

BANDS = {"c0-4": (0, 5), "c0": (0, 1), "c1-4": (1, 5), "c5+": (5, None)}
SLOW_FRAMES = 20  # 100 ms at 5 ms frames: the moving average splitting c0 into slow / fast


def mapped_f0(real_f0: np.ndarray, j: np.ndarray, calm_voiced: np.ndarray) -> np.ndarray:
    """Real F0 (unvoiced gaps interpolated in log) on the calm frames' voicing, in Hz."""
    return np.where(calm_voiced, np.exp(continuous_log_f0(real_f0)[0][j]), 0.0)


def variants(calm: np.ndarray, real: np.ndarray) -> dict[str, np.ndarray]:
    """The swapped versions of one pair (16 kHz float waveforms)."""
    wc, wr = analyze(calm.astype(np.float64)), analyze(real.astype(np.float64))
    mc, m_real = encode_envelope(wc.sp), encode_envelope(wr.sp)
    j = dtw_map(mc.T, m_real.T)  # aligned on c1-c24, as the training pairs are
    i = dtw_map(m_real.T, mc.T)  # a calm frame for each real one
    mr = m_real[j]
    out = {"copy": synthesize(wr.f0, wr.sp, wr.ap),
           "f0": synthesize(mapped_f0(wr.f0, j, wc.f0 > 0), wc.sp, wc.ap),
           "envelope": synthesize(wc.f0, wr.sp[j], wr.ap[j]),
           "aperiodicity": synthesize(wc.f0, wc.sp, wr.ap[j])}
    out["timing"] = synthesize(wc.f0[i], wc.sp[i], wc.ap[i])
    swaps = {name: (slice(lo, hi), mr[:, lo:hi]) for name, (lo, hi) in BANDS.items()}
    slow_c, slow_r = (uniform_filter1d(c, SLOW_FRAMES) for c in (mc[:, 0], mr[:, 0]))
    swaps["c0 >100ms"] = (0, slow_r + mc[:, 0] - slow_c)
    swaps["c0 <100ms"] = (0, slow_c + mr[:, 0] - slow_r)
    for name, (cols, values) in swaps.items():
        m = mc.copy()
        m[:, cols] = values
        out[name] = synthesize(wc.f0, decode_envelope(m), wc.ap)
    return {k: v.astype(np.float32) for k, v in out.items()}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=ENV_HELP)
    ap.add_argument("--emotion", default="disgust", choices=TARGETS)
    ap.add_argument("--speakers", nargs="+", default=["17", "18", "19", "20"])
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        sys.exit(f"RAVDESS not found at {DATA}")
    torch.set_num_threads(1)
    labellers = {"recogniser": lambda y, r=judge(): label(r, y)}
    for key, feature_set in (("judge-E", "egemaps"), ("judge-C", "compare")):
        jud = independent_judge(feature_set)
        if jud is not None:
            labellers[key] = lambda y, j=jud: judge_label(j, y)
    counts: dict = defaultdict(lambda: ({k: Counter() for k in labellers}, []))
    pairs = [p for p in trials(args.speakers) if p[2] == args.emotion]
    for calm, real, _ in pairs:
        x = load_audio(calm)
        for name, y in variants(x, load_audio(real)).items():
            for key, labeller in labellers.items():
                counts[name][0][key][labeller(y)] += 1
            counts[name][1].append(speaker_similarity(x, y, 16000))
    print(f"{len(pairs)} calm -> {args.emotion} pairs; outputs labelled {args.emotion} by "
          f"{' | '.join(labellers)}; spk-sim to the calm take; most common labels")
    for name, (labels, spk) in counts.items():
        hits = " | ".join(f"{c[args.emotion]:3d}" for c in labels.values())
        common = " | ".join(str(dict(c.most_common(2))) for c in labels.values())
        print(f"{name:13s} {hits}   {np.mean(spk):.3f}   {common}")


if __name__ == "__main__":
    main()
