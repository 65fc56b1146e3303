"""Does the speaker similarity of a conversion hold beyond RAVDESS? (neutral read speech)

``bench_conversion.py`` measures on RAVDESS actors 17-20 (short acted sentences). This script
converts neutral read speech of two other corpora in ``../shared/data`` — the 4 VCTK speakers
(8 utterances each) and every 8th LibriSpeech clip (32 speakers), each cut to its first 8 s —
from neutral to the six other non-neutral emotions at each ``--pitch-levels`` value, and
prints the resemblyzer cosine to the source (``emovc.evaluation.speaker_similarity``) and how
often emovc's recogniser hears the target. These corpora have no real emotional takes, so
there is no reference rate: the recogniser's labels of the *unconverted* clips are printed
first (a RAVDESS-trained recogniser hears most read speech of other corpora as disgust, so
the disgust rate here means little). Used in docs/conversion-experiments.md ("Beyond
RAVDESS").

Usage: ``.venv/bin/python benchmarks/diag_other_corpora.py [--model m2m-ravdess]
[--pitch-levels 1 0.5]``
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
import torch
from _data import ENV_HELP, require
from bench_conversion import DATA, TARGETS, label
from diag_speaker_parts import rates

from emovc.audio import load_audio
from emovc.pipelines.conversion import EmotionConverter
from emovc.pipelines.recognition import EmotionRecognizer

SHARED = DATA.parent
MAX_SECONDS = 8


def corpora() -> dict[str, list]:
    """``{name: files}``: 8 utterances of each VCTK speaker, every 8th LibriSpeech clip."""
    vctk = sorted((SHARED / "vctk4").glob("p*/*.flac"))
    by_speaker: dict[str, list] = {}
    for f in vctk:
        by_speaker.setdefault(f.parent.name, []).append(f)
    return {"vctk": [f for fs in by_speaker.values() for f in fs[:8]],
            "librispeech": sorted((SHARED / "librispeech-clips").glob("*.flac"))[::8]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=ENV_HELP)
    ap.add_argument("--model", default="m2m-ravdess")
    ap.add_argument("--pitch-levels", nargs="+", type=float, default=[1.0, 0.5])
    args = ap.parse_args(argv)
    require(SHARED / "vctk4", pattern="p*/*.flac")
    require(SHARED / "librispeech-clips", pattern="*.flac")
    torch.set_num_threads(1)
    conv, rec = EmotionConverter.from_pretrained(args.model), EmotionRecognizer.from_pretrained()
    for name, files in corpora().items():
        xs = [load_audio(f)[: 16000 * MAX_SECONDS] for f in files]
        heard = Counter(label(rec, x) for x in xs)
        print(f"{name}: {len(xs)} clips; recogniser on the unconverted clips: "
              + ", ".join(f"{k} {v}" for k, v in heard.most_common()))
        for level in args.pitch_levels:
            spk, hit = rates(conv, rec, xs, "neutral", pitch_level=level)
            cells = " ".join(f"{e} {s:.3f}/{h:.0%}" for e, s, h in zip(TARGETS, spk, hit,
                                                                     strict=True))
            print(f"  pitch level {level:g}: spk-sim {np.mean(spk):.3f}, recogniser "
                  f"{np.mean(hit):.0%} | {cells}", flush=True)


if __name__ == "__main__":
    main()
