"""Where does a WORLD round trip cost MCD? (why the converters keep the input's unvoiced samples)

For calm takes of the validation actors and their parallel real takes of the six other
non-neutral emotions (``bench_conversion.trials``; ``--stride N``: one pair in N, spread evenly
over the target emotions and the takes, ``_data.stratified``), the MCD to the
real target take is split by the voicing of the aligned frames, for the calm take as
recorded and for its WORLD analysis/synthesis copy (``emovc.features.world.resynthesize``):
frames voiced in both, unvoiced in both, and mixed. Same MCD definition and FastDTW path as
the benchmark (``emovc.evaluation``). Used in docs/conversion.md ("Unvoiced stretches from the
input").

Usage: ``.venv/bin/python benchmarks/diag_unvoiced_mcd.py [--stride 4]``
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from _data import ENV_HELP, require, stratified
from bench_conversion import DATA, trials

from emovc.audio import load_audio
from emovc.evaluation import analyze_utterance, dtw_path
from emovc.evaluation.mcd import frame_mcd
from emovc.features.world import resynthesize

PARTS = ("all", "voiced in both", "unvoiced in both", "mixed")


def split_mcd(wav: np.ndarray, ref) -> tuple[np.ndarray, float]:
    """Mean frame MCD (dB) of ``wav`` against the analysed reference ``ref`` over each of
    :data:`PARTS`, and the share of path steps unvoiced in both."""
    fy = analyze_utterance(wav)
    path = dtw_path(fy.mcep, ref.mcep, 1)
    d = frame_mcd(fy.mcep, ref.mcep, path)
    vy, vr = fy.f0[path[:, 0]] > 0, ref.f0[path[:, 1]] > 0
    masks = (np.ones_like(vy), vy & vr, ~vy & ~vr, vy != vr)
    return np.array([d[m].mean() if m.any() else np.nan for m in masks]), float(np.mean(~vy & ~vr))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=ENV_HELP)
    ap.add_argument("--speakers", nargs="+", default=["17", "18", "19", "20"])
    ap.add_argument("--stride", type=int, default=4,
                    help="one pair in N, spread over the target emotions (1: all)")
    args = ap.parse_args(argv)
    require(DATA, pattern="Actor_*/*.flac")
    pairs = trials(args.speakers)
    if not pairs:
        sys.exit(f"no calm->target pairs of actors {' '.join(args.speakers)} under {DATA}")
    pairs = stratified(pairs, max(1, len(pairs) // max(1, args.stride)), key=lambda p: p[2])
    rows: dict[str, list] = {"as recorded": [], "WORLD copy": []}
    share = []
    for src, ref, _ in pairs:
        x, r = load_audio(src), load_audio(ref)
        fr = analyze_utterance(r)
        m, u = split_mcd(x, fr)
        rows["as recorded"].append(m)
        share.append(u)
        rows["WORLD copy"].append(split_mcd(resynthesize(x), fr)[0])
    print(f"{len(pairs)} calm takes vs their real target takes; MCD dB by frame voicing "
          f"(unvoiced in both: {np.mean(share):.0%} of the path)")
    print(f"{'calm take':<14}" + "".join(f"{p:>18}" for p in PARTS))
    for name, ms in rows.items():
        print(f"{name:<14}" + "".join(f"{v:>18.2f}" for v in np.nanmean(np.array(ms), 0)))


if __name__ == "__main__":
    main()
