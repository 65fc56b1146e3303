"""Speed of ``emovc prepare`` (WORLD + log-mel features) on the RAVDESS dev copy.

Prepares ``../shared/data/ravdess16k`` (1200 clips, 1.23 h) into a temporary cache and prints
throughput: clips per second and seconds of audio per wall-clock second (the real-time
factor; > 1 = faster than real time). Skips (exit 0) when the folder (``--data``, default
``$EMOVC_DATA/ravdess16k``, see ``benchmarks/_data.py``) is absent or holds no audio.

    .venv/bin/python benchmarks/bench_prepare.py [--workers 2] [--features world,mel] [--limit N]
        [--data FOLDER] [--cpu-clips N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _data import ENV_HELP, data_dir, missing

DATA = data_dir("ravdess16k")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=ENV_HELP)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--features", default="world,mel")
    ap.add_argument("--limit", type=int, default=0, help="only the first N clips (0 = all)")
    ap.add_argument("--cpu-clips", type=int, default=40,
                    help="clips timed in-process with CPU time (contention-free cost)")
    args = ap.parse_args()
    why = missing(args.data)
    if why:
        print(f"skipped: {why}")
        return 0

    from emovc.data.catalogs import scan_corpus
    from emovc.data.prepare import prepare_manifest

    t0 = time.perf_counter()
    manifest, _ = scan_corpus(args.data)
    t_catalog = time.perf_counter() - t0
    if args.limit:
        manifest = manifest[: args.limit]
    with tempfile.TemporaryDirectory(prefix="emovc-bench-") as cache:
        t0 = time.perf_counter()
        pc = prepare_manifest(manifest, cache_dir=cache, features=args.features,
                              workers=args.workers, progress=False)
        total = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in Path(cache).rglob("*.npz"))
    rep = pc.report
    audio = manifest.total_duration()
    load = os.getloadavg()[0]
    print(f"corpus: {args.data} ({len(manifest)} clips, {audio / 60:.1f} min of audio)")
    print(f"features: {args.features}; workers: {args.workers}; "
          f"CPUs: {os.cpu_count()}; load average at end: {load:.1f}")
    print(f"catalog (headers only): {t_catalog:.2f} s")
    print(f"prepare total: {total:.1f} s (incl. worker start-up), "
          f"{rep.n_computed} computed, {len(rep.failures)} failed")
    print(f"throughput: {len(manifest) / total:.2f} clips/s, "
          f"real-time factor {audio / total:.1f}x (s of audio per wall second)")
    print(f"cache size: {size / 2**20:.1f} MiB")
    if args.cpu_clips:
        _cpu_cost(manifest[: args.cpu_clips], args.features)
    return 0 if not rep.failures else 1


def _cpu_cost(manifest, features: str) -> None:
    """CPU seconds per second of audio, measured in this process (unaffected by other load)."""
    from emovc.data.prepare import prepare_manifest

    with tempfile.TemporaryDirectory(prefix="emovc-bench-") as cache:
        prepare_manifest(manifest[:2], cache_dir=cache, features=features, workers=1,
                         progress=False)  # warm-up: imports, filter banks
        c0 = time.process_time()
        prepare_manifest(manifest, cache_dir=cache, features=features, workers=1,
                         progress=False, force=True)
        cpu = time.process_time() - c0
    audio = manifest.total_duration()
    print(f"CPU cost ({len(manifest)} clips, 1 process): {cpu / audio:.3f} CPU-s per s of audio "
          f"= {audio / cpu:.1f}x real time per core")


if __name__ == "__main__":
    sys.exit(main())
