"""Speed and fidelity of the feature layer (WORLD, coded envelope, CWT-F0, STFT + Griffin-Lim).

Prints real-time factors (RTF = audio seconds / processing seconds; > 1 is faster than real
time), both by wall clock and by process CPU time (the CPU figure is less disturbed by other jobs
sharing the machine), plus fidelity numbers:

* envelope coding: log-spectral distance (dB) of decoded vs original WORLD envelope;
* CWT: correlation of reconstructed vs original normalised log-F0 on voiced frames;
* Griffin-Lim: spectral convergence after 32 iterations, plain vs fast (momentum 0.99).

Run: ``.venv/bin/python benchmarks/bench_features.py [--threads 2] [--n-real 20]``.
Uses synthetic speech, and ~20 RAVDESS clips if ``$EMOVC_DATA/ravdess16k`` exists (default
``../shared/data``; ``benchmarks/_data.py``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch
from _data import ENV_HELP, data_dir

from emovc.audio import load_audio
from emovc.data.synthetic import EMOTION_VOICES
from emovc.data.synthetic import synthesize as speech
from emovc.features import f0 as f0mod
from emovc.features import spectral, world

SR = 16000
RAVDESS = data_dir("ravdess16k")


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[object, float, float]:
    """Run ``fn`` ``repeat`` times; return its last output, best wall and best CPU seconds."""
    best_wall = best_cpu = float("inf")
    out = None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return out, best_wall, best_cpu


class Meter:
    """Accumulates processing time per task over a set of clips."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.values: dict[str, list[float]] = {}

    def run(self, name: str, fn: Callable[[], object]) -> object:
        out, wall, cpu = timed(fn)
        self.wall[name] = self.wall.get(name, 0.0) + wall
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu
        return out

    def add(self, name: str, value: float) -> None:
        self.values.setdefault(name, []).append(float(value))

    def report(self, title: str, audio_s: float) -> None:
        print(f"\n## {title}: {audio_s:.1f} s of audio")
        print(f"{'task':44s} {'RTF wall':>10s} {'RTF cpu':>10s}")
        for name in self.wall:
            print(f"{name:44s} {audio_s / self.wall[name]:10.1f} "
                  f"{audio_s / max(self.cpu[name], 1e-9):10.1f}")
        for name, vals in self.values.items():
            v = np.asarray(vals)
            print(f"{name:44s} mean {v.mean():.4f}  min {v.min():.4f}  max {v.max():.4f}")


def lsd_db(sp_ref: np.ndarray, sp: np.ndarray) -> float:
    """Mean over frames of the RMS log-spectral distance in dB."""
    return float(np.mean(np.sqrt(np.mean((10 * np.log10(sp / sp_ref)) ** 2, axis=1))))


def bench_clip(m: Meter, wav: np.ndarray) -> None:
    """All feature tasks on one clip."""
    cfg = world.WorldConfig()
    feats = m.run("WORLD analysis (dio+stonemask)", lambda: world.analyze(wav, cfg))
    m.run("WORLD analysis (harvest)", lambda: world.analyze(wav, world.WorldConfig(
        f0_method="harvest")))
    m.run("WORLD synthesis", lambda: world.synthesize(feats.f0, feats.sp, feats.ap, cfg))
    m.run("WORLD analysis+synthesis (dio)", lambda: world.resynthesize(wav, cfg))
    voiced = feats.f0 > 0
    for coding in world.ENVELOPE_CODINGS:
        c = world.WorldConfig(envelope_coding=coding)
        mc = m.run(f"envelope encode ({coding}, 36)", lambda c=c: world.encode_envelope(
            feats.sp, c))
        sp = m.run(f"envelope decode ({coding}, 36)", lambda c=c, mc=mc: world.decode_envelope(
            mc, c))
        m.add(f"LSD dB, {coding} 36 dims", lsd_db(feats.sp, sp))
        m.add(f"LSD dB voiced frames, {coding} 36 dims", lsd_db(feats.sp[voiced], sp[voiced]))
        for dim in (24, 60):
            sp = world.decode_envelope(world.encode_envelope(feats.sp, c, dim=dim), c)
            m.add(f"LSD dB, {coding} {dim} dims", lsd_db(feats.sp, sp))
    if np.any(feats.f0 > 0):
        lf0, vuv = f0mod.continuous_log_f0(feats.f0)
        x = (lf0 - lf0[vuv].mean()) / lf0[vuv].std()
        coeffs = m.run("CWT decompose (10 scales)", lambda: f0mod.cwt_decompose(x))
        for method in f0mod.RECONSTRUCTIONS:
            r = m.run(f"CWT reconstruct ({method})",
                      lambda method=method: f0mod.cwt_reconstruct(coeffs, method=method))
            m.add(f"CWT corr voiced, DIO F0, {method}", np.corrcoef(r[vuv], x[vuv])[0, 1])
    scfg = spectral.STFTConfig()
    mag = m.run("STFT magnitude (512/128)", lambda: spectral.stft_magnitude(wav, scfg))
    for mom, label in ((0.0, "plain"), (0.99, "fast")):
        y = m.run(f"Griffin-Lim 32 it ({label})", lambda mom=mom: spectral.griffin_lim(
            mag, scfg, n_iter=32, momentum=mom, length=wav.shape[0]))
        m.add(f"GL spectral convergence, {label}", spectral.spectral_convergence(mag, y, scfg))


def batched_gl(clips: list[np.ndarray]) -> None:
    """Griffin-Lim on a padded batch vs one clip at a time."""
    n = max(c.shape[0] for c in clips)
    x = torch.from_numpy(np.stack([np.pad(c, (0, n - c.shape[0])) for c in clips]))
    scfg = spectral.STFTConfig()
    mag = spectral.stft_magnitude(x, scfg)
    _, wall_b, _ = timed(lambda: spectral.griffin_lim(mag, scfg, n_iter=32))
    _, wall_s, _ = timed(lambda: [spectral.griffin_lim(mg, scfg, n_iter=32) for mg in mag])
    audio_s = len(clips) * n / SR
    print(f"Griffin-Lim 32 it, batch of {len(clips)}: RTF {audio_s / wall_b:.1f} batched, "
          f"{audio_s / wall_s:.1f} one by one")


def synthetic_clips() -> list[np.ndarray]:
    return [speech(v, duration=3.0, seed=i) for i, v in enumerate(EMOTION_VOICES.values())] * 2


def ravdess_clips(n: int) -> list[np.ndarray]:
    files = sorted(RAVDESS.glob("Actor_*/*.flac"))
    rng = np.random.default_rng(0)
    pick = rng.choice(len(files), size=min(n, len(files)), replace=False)
    return [load_audio(files[i], sr=SR) for i in sorted(pick)]


def run_set(title: str, clips: list[np.ndarray]) -> None:
    m = Meter()
    bench_clip(m, clips[0])  # warm-up (imports, FFT plans), not counted
    m = Meter()
    for wav in clips:
        bench_clip(m, wav)
    m.report(title, sum(c.shape[0] for c in clips) / SR)
    batched_gl(clips[:8])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=ENV_HELP)
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--n-real", type=int, default=20, help="RAVDESS clips (0 = none)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch threads: {torch.get_num_threads()}")
    run_set("synthetic speech (10 x 3 s)", synthetic_clips())
    if args.n_real and RAVDESS.is_dir():
        run_set(f"RAVDESS ({args.n_real} random clips)", ravdess_clips(args.n_real))
    else:
        print("\n(RAVDESS not found or --n-real 0: real-speech benchmark skipped)")


if __name__ == "__main__":
    main()
