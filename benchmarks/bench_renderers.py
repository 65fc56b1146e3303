"""Benchmark of the two renderers of the WORLD-feature converters on real speech.

For every calm take of RAVDESS actors 17-20 (unseen by the shipped models), the take's own
conversion features are rendered with a known prosody change and nothing else, by
``render`` (renderer ``world``: WORLD synthesis) and ``render_on_source`` (renderer
``source``: STFT envelope filter + TD-PSOLA). Printed per renderer and setting:

- ``f0 ok``: share of the frames voiced in input and output (DIO + StoneMask, 5 ms) whose F0
  is within 5 % of the wanted one (the input's F0 times the factor, read through the tempo);
- ``median ratio``: median of output F0 over wanted F0;
- ``copy err``: with nothing changed (factor 1, tempo 1), the energy of output minus input
  relative to the input's, in dB (``-inf`` = the input back bit for bit; WORLD rebuilds the
  phase, so its samples differ even where it sounds the same: this says "not the input's
  samples", not "sounds different");
- ``x RT``: audio seconds rendered per second (1 thread for the generator-free rendering,
  WORLD's synthesis on its 2-thread pool; analysis excluded).

Usage: ``.venv/bin/python benchmarks/bench_renderers.py [--files N]`` (default: all 32 calm
takes; about 30 s on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _data import ENV_HELP, data_dir

from emovc.audio import load_audio
from emovc.features.world import WorldConfig, analyze_f0
from emovc.models.conversion.features import analyze_for_conversion, synthesis_config
from emovc.models.conversion.render import render, render_on_source

DATA = data_dir("ravdess16k")
SETTINGS = ((1.0, 1.0), (1.2, 1.0), (0.85, 1.0), (1.2, 1.15), (1.0, 0.85))  # (F0 x, tempo)
CFG = WorldConfig()


def renderings(x: np.ndarray, factor: float, tempo: float) -> dict[str, tuple[np.ndarray, float]]:
    """``{renderer: (output, seconds)}`` of ``x`` with F0 times ``factor`` and ``tempo``."""
    n_fft = synthesis_config(CFG).fft_size
    feats, world, gain = analyze_for_conversion(x, CFG, ap_stride=3, with_cap=False,
                                                ap_fft_size=n_fft)
    lf0 = feats.lf0 + np.float32(np.log(factor))
    out = {}
    t = time.perf_counter()
    y = render(feats, feats.mcep, lf0, CFG, world=world, tempo=tempo, synthesis_fft=n_fft) / gain
    out["world"] = (y, time.perf_counter() - t)
    t = time.perf_counter()
    y = render_on_source(x, feats, feats.mcep, lf0, CFG, tempo=tempo)
    out["source"] = (y, time.perf_counter() - t)
    return out


def f0_accuracy(x: np.ndarray, y: np.ndarray, factor: float, tempo: float) -> tuple[float, float]:
    """``(share within 5 %, median ratio)`` of ``y``'s F0 against ``x``'s times ``factor``."""
    fx, fy = analyze_f0(x, CFG)[0], analyze_f0(y, CFG)[0]  # DIO + StoneMask, 5 ms
    idx = np.minimum(np.round(np.arange(fy.shape[0]) / tempo).astype(int), fx.shape[0] - 1)
    want = fx[idx] * factor
    both = (fy > 0) & (want > 0)
    ratio = fy[both] / want[both]
    return float(np.mean(np.abs(ratio - 1) < 0.05)), float(np.median(ratio))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=ENV_HELP)
    ap.add_argument("--files", type=int, default=0, help="at most this many takes (0 = all)")
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        sys.exit(f"RAVDESS not found at {DATA}")
    files = sorted(f for a in ("17", "18", "19", "20")
                   for f in (DATA / f"Actor_{a}").glob("03-01-02-*.flac"))
    if args.files:
        files = files[:: max(1, len(files) // args.files)][: args.files]
    rows: dict = {}
    for path in files:
        x = load_audio(path, sr=CFG.sample_rate)
        for factor, tempo in SETTINGS:
            for name, (y, seconds) in renderings(x, factor, tempo).items():
                r = rows.setdefault((name, factor, tempo), {"ok": [], "ratio": [], "err": [],
                                                            "audio": 0.0, "time": 0.0})
                ok, ratio = f0_accuracy(x, y, factor, tempo)
                r["ok"].append(ok)
                r["ratio"].append(ratio)
                r["audio"] += len(y) / CFG.sample_rate
                r["time"] += seconds
                if factor == 1.0 and tempo == 1.0:
                    err = np.sum((y[: len(x)] - x) ** 2) / np.sum(x.astype(np.float64) ** 2)
                    r["err"].append(err)
    print(f"{len(files)} calm takes of actors 17-20")
    print(f"{'renderer':<10}{'F0 x':>6}{'tempo':>7}{'f0 ok':>8}{'median ratio':>14}"
          f"{'copy err':>10}{'x RT':>8}")
    for (name, factor, tempo), r in rows.items():
        err = (f"{10 * np.log10(max(np.mean(r['err']), 1e-300)):.1f} dB"
               if r["err"] else "-")
        err = "-inf dB" if r["err"] and max(r["err"]) == 0 else err
        # the source renderer with nothing to change returns its input: no rendering to time
        noop = name == "source" and factor == 1.0 and tempo == 1.0
        speed = "-" if noop else f"{r['audio'] / r['time']:.0f}"
        print(f"{name:<10}{factor:>6g}{tempo:>7g}{np.mean(r['ok']):>8.3f}"
              f"{np.median(r['ratio']):>14.3f}{err:>10}{speed:>8}")


if __name__ == "__main__":
    main()
