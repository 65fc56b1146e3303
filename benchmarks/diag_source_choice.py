"""How much does a guessed source emotion cost? (``emovc convert`` without ``--from``)

Converts clips with the source emotion chosen two ways — the recogniser's top label other
than the target (the rule before 2026-11-30) and :func:`emovc.pipelines.source_choice.choose_source`
(what ``EmotionConverter.detect_source`` does now) — and with the right source, and prints how
far each guessed output is from the right-source output: active speech level (|dB|, and the
share more than 6 dB off) and duration (|log ratio|, %), plus how often emovc's recogniser
hears the target.

Inputs (first 8 s of each): read speech, taken as neutral — 12 VCTK clips (every 3rd of
the first 16 of each of the 4 speakers) and 12 LibriSpeech clips (every 20th) — and calm
takes (2 per actor) and emotional takes (one per actor and non-neutral emotion) of the
validation actors 17-20, each converted to the six non-neutral emotions other than its own.
Used in docs/conversion.md ("`--from` omitted").

Usage: ``.venv/bin/python benchmarks/diag_source_choice.py [--model m2m-ravdess]`` (≈ 10 min
on 2 cores).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _data import ENV_HELP, require
from bench_conversion import DATA, TARGETS, label

from emovc.audio import load_audio
from emovc.audio.processing import active_rms_dbfs
from emovc.pipelines.conversion import EmotionConverter
from emovc.pipelines.recognition import EmotionRecognizer

SHARED = DATA.parent
MAX_SECONDS = 8
RAVDESS_CODES = {"03": "happy", "04": "sad", "05": "angry", "06": "fearful", "07": "disgust",
                 "08": "surprised"}


def inputs() -> dict[str, list[tuple[str, str]]]:
    """``{group: [(path, true emotion)]}`` for the read-speech, calm and acted groups."""
    vctk: dict[str, list] = {}
    for f in sorted((SHARED / "vctk4").glob("p*/*.flac")):
        vctk.setdefault(f.parent.name, []).append(f)
    read = [f for fs in vctk.values() for f in fs[:16]][::3][:12]
    read += sorted((SHARED / "librispeech-clips").glob("*.flac"))[::20][:12]
    acted, calm = [], []
    for actor in (17, 18, 19, 20):
        takes = sorted((DATA / f"Actor_{actor}").glob("03-01-02-*.flac"))
        calm += [(str(t), "calm") for t in takes[actor % 4::4][:2]]
        for code, emotion in RAVDESS_CODES.items():
            takes = sorted((DATA / f"Actor_{actor}").glob(f"03-01-{code}-*.flac"))
            acted.append((str(takes[actor % len(takes)]), emotion))
    return {"read speech": [(str(f), "neutral") for f in read], "calm takes": calm,
            "acted": acted}


def measure(conv: EmotionConverter, rec, path: str, true: str) -> list[dict]:
    """One row per target: level / duration differences of each guessed source's output
    from the right source's, and whether the recogniser hears the target."""
    x = load_audio(path)[: 16000 * MAX_SECONDS]
    probs = rec.predict(x, 16000)
    rows = []
    for target in (t for t in TARGETS if t != true):
        chosen = {"top label": max((e for e in conv.source_emotions if e != target),
                                   key=lambda e: probs.get(e, 0.0)),
                  "this rule": conv.detect_source(x, 16000, exclude=target), "right": true}
        outs = {}
        for src in set(chosen.values()):
            y = conv.convert(x, 16000, target, source=src)
            outs[src] = (active_rms_dbfs(y, 16000), len(y), label(rec, y) == target)
        ref = outs[true]
        rows.append({rule: (outs[src][0] - ref[0], np.log(outs[src][1] / ref[1]), outs[src][2])
                     for rule, src in chosen.items()})
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=ENV_HELP)
    ap.add_argument("--model", default="m2m-ravdess")
    args = ap.parse_args(argv)
    require(*(DATA / f"Actor_{a}" for a in (17, 18, 19, 20)), pattern="03-01-0[2-8]-*.flac")
    require(SHARED / "vctk4", pattern="p*/*.flac")
    require(SHARED / "librispeech-clips", pattern="*.flac")
    torch.set_num_threads(1)
    conv, rec = EmotionConverter.from_pretrained(args.model), EmotionRecognizer.from_pretrained()
    conv._recognizer = rec  # one recogniser for the rule and the rates
    for group, clips in inputs().items():
        rows = [r for path, true in clips for r in measure(conv, rec, path, true)]
        print(f"{group}: {len(clips)} clips, {len(rows)} conversions")
        for rule in ("top label", "this rule", "right"):
            dl = np.abs([r[rule][0] for r in rows])
            dt = np.abs([r[rule][1] for r in rows])
            hits = np.mean([r[rule][2] for r in rows])
            print(f"  {rule:9s}: level error {dl.mean():.1f} dB (>6 dB {np.mean(dl > 6):.0%}), "
                  f"duration error {100 * dt.mean():.0f} %, recogniser hears the target "
                  f"{hits:.0%}", flush=True)


if __name__ == "__main__":
    main()
