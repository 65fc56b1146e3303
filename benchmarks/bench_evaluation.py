"""Benchmark the evaluation suite on real RAVDESS validation speakers (actors 17-20).

Builds 200 (calm source, "converted", target emotion, reference) items: "converted" is the real
take of the target emotion (same actor, sentence, intensity, repetition) and the reference is the
other repetition of that take — so the converted row shows what real emotional speech scores —
or, with ``--converted source``, the unconverted calm source itself. Times the full run (WORLD
analysis, resynthesis baseline, ASR, speaker embeddings, emotion recognition if a recogniser is
available, DTW metrics, report) and prints per-stage real-time factors and the summary table.

    .venv/bin/python benchmarks/bench_evaluation.py [--n 200] [--workers 2] [--no-asr]
        [--no-emotion] [--converted take|source] [--out FOLDER]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _data import ENV_HELP, data_dir

DATA = data_dir("ravdess16k").resolve()
EMOTION_CODES = {"neutral": "01", "angry": "05", "happy": "03", "sad": "04", "fearful": "06",
                 "disgust": "07", "surprised": "08"}
TEXT = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
ACTORS = ("17", "18", "19", "20")


def ravdess(emotion: str, intensity: str, statement: str, rep: str, actor: str) -> Path:
    return DATA / f"Actor_{actor}" / f"03-01-{emotion}-{intensity}-{statement}-{rep}-{actor}.flac"


def build_items(n: int, converted: str):
    from emovc.evaluation.manifest import EvalItem

    items = []
    targets = ["angry", "happy", "sad", "fearful", "disgust", "surprised", "neutral"]
    for target in targets:
        for actor in ACTORS:
            for statement in ("01", "02"):
                for intensity in ("01", "02"):
                    if target == "neutral" and intensity == "02":
                        continue  # RAVDESS has no strong neutral
                    for rep in ("01", "02"):
                        code = EMOTION_CODES[target]
                        src = ravdess("02", intensity, statement, rep, actor)
                        take = ravdess(code, intensity, statement, rep, actor)
                        other = ravdess(code, intensity, statement, "02" if rep == "01" else "01",
                                        actor)
                        items.append(EvalItem(
                            f"{len(items):04d}", str(src),
                            str(take if converted == "take" else src), target, str(other),
                            TEXT[statement], "calm"))
    # the 200 items above (6 emotions x 32 + 8 neutral), re-ordered so that any prefix mixes
    # emotions, actors and sentences; --n N takes such a prefix
    chosen = items[:200]
    chosen.sort(key=lambda it: (Path(it.source).name[15:18], Path(it.source).name[9:15],
                                Path(it.source).name[18:20], targets.index(it.target_emotion)))
    return chosen[:n]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=ENV_HELP)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--converted", choices=["take", "source"], default="take")
    ap.add_argument("--no-asr", action="store_true")
    ap.add_argument("--no-emotion", action="store_true")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: temp)")
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found")
        return 0
    from emovc.evaluation.api import summary_table
    from emovc.evaluation.report import write_all
    from emovc.evaluation.runner import EvalConfig, evaluate

    items = build_items(args.n, args.converted)
    out = args.out or Path(tempfile.mkdtemp(prefix="emovc-bench-eval-"))
    cfg = EvalConfig(asr=not args.no_asr, emotion=not args.no_emotion, workers=args.workers)
    print(f"{len(items)} items, workers={args.workers}, cores={os.cpu_count()}, "
          f"load={os.getloadavg()[0]:.1f}, out={out}")
    t0 = time.perf_counter()
    result = evaluate(items, out, cfg,
                      log=lambda m: print(f"  [{time.perf_counter() - t0:6.1f}s] {m}", flush=True))
    t1 = time.perf_counter()
    write_all(result, out)
    t2 = time.perf_counter()
    tm = result.timing
    print(f"\nevaluation: {t1 - t0:.1f} s, report: {t2 - t1:.1f} s, total {t2 - t0:.1f} s "
          f"for {len(items)} items ({tm['n_files']} unique files, {tm['audio_s']:.0f} s of audio, "
          f"{tm['n_pairs']} scored outputs)")
    print(f"CPU time of the evaluation (all processes): {tm['cpu_s']:.1f} s "
          f"→ ≈ {tm['cpu_s'] / 2:.0f} s wall on 2 otherwise idle cores")
    print("per-stage real-time factors (CPU seconds per second of audio):")
    for stage in ("resynth", "world", "asr", "speaker", "emotion"):
        if f"{stage}_rtf" in tm:
            print(f"  {stage:<8} RTF {tm[f'{stage}_rtf']:.4f}")
    print(f"  analysis stage wall {tm['analysis_wall_s']:.1f} s, pair metrics wall "
          f"{tm['pairs_wall_s']:.1f} s")
    print(f"load average after: {os.getloadavg()[0]:.1f}\n")
    print(summary_table(result))
    print()
    print(summary_table(result, per_emotion=True))
    for note in result.notes:
        print("note:", note)
    print(f"\nreport: {out / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
