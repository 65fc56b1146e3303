"""Fit the per-emotion voice-quality statistics (eGeMAPS local jitter and shimmer) of RAVDESS
training speakers that a model's ``meta.json`` stores (``"inference": {"voice_quality_stats":
...}``).

Usage: ``.venv/bin/python benchmarks/fit_voice_quality.py [--actors 01-16]`` prints the JSON
(every speech take of those actors; about 2 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from _data import ENV_HELP, data_dir, require

from emovc.audio import load_audio
from emovc.data.catalogs.ravdess import EMOTION_CODES
from emovc.features.voice_quality import fit_emotion_stats, measure

DATA = data_dir("ravdess16k")


def _rows(files: list[Path]) -> list[tuple[str, str, float, float]]:
    out = []
    for f in files:
        parts = f.stem.split("-")  # modality-channel-emotion-intensity-statement-rep-actor
        jitter, shimmer = measure(load_audio(f, sr=16000), 16000)
        out.append((parts[6], EMOTION_CODES[parts[2]], jitter, shimmer))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()),
                                 epilog=ENV_HELP)
    ap.add_argument("--actors", default="01-16", help="first-last actor (training speakers)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    require(DATA, pattern="Actor_*/*.flac")
    first, last = (int(a) for a in args.actors.split("-"))
    files = sorted(f for a in range(first, last + 1)
                   for f in (DATA / f"Actor_{a:02d}").glob("03-01-*.flac"))
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = [r for part in pool.map(_rows, [files[i::args.jobs] for i in range(args.jobs)])
                for r in part]
    print(json.dumps(fit_emotion_stats(rows), indent=2))


if __name__ == "__main__":
    main()
