"""Which part of a conversion costs speaker similarity? (why ``m2m-ravdess`` keeps only part of
its pitch level change by default)

Every calm take of the validation actors converted by a many-to-many WORLD model to the six
other non-neutral emotions (the 192 conversions of ``bench_conversion.py``), with one part of
the conversion replaced by the source's own at a time:

- ``full``: the conversion at pitch level 1 (the emotion offsets' whole change of mean F0);
- ``envelope only``: converted envelope and tempo, the source's log-F0;
- ``F0 only``: converted log-F0 and tempo, the source's envelope;
- ``no tempo``: everything converted but the duration;
- ``source c0-c4`` / ``source c5+``: the source's low / high mel-cepstral coefficients;
- ``source contour``: the source's log-F0 contour moved to the converted mean level.

Printed per system: resemblyzer cosine to the source (``emovc.evaluation.speaker_similarity``)
and how often emovc's recogniser (``ser-ravdess``) hears the target, overall and per emotion.
The pitch levels themselves (0.3 / 0.5 / 0.7 / 1) are measured with every metric by
``bench_conversion.py --pitch-level X``. Used in docs/conversion-experiments.md ("Where the speaker
similarity goes").

Usage: ``.venv/bin/python benchmarks/diag_speaker_parts.py [--model m2m-ravdess] [--stride 1]``
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
from _data import ENV_HELP, require
from bench_conversion import DATA, TARGETS, label, trials

from emovc.audio import load_audio
from emovc.evaluation.speaker import speaker_similarity
from emovc.models.conversion.converters import Converted
from emovc.pipelines.conversion import EmotionConverter
from emovc.pipelines.recognition import EmotionRecognizer


def _source_contour(c: Converted, f) -> Converted:
    v = f.vuv > 0
    return Converted(c.mcep, f.lf0 + (c.lf0[v].mean() - f.lf0[v].mean()), c.tempo)


def _mix(c: Converted, f, low: bool) -> Converted:
    m = c.mcep.copy()
    cols = slice(0, 5) if low else slice(5, None)
    m[:, cols] = f.mcep[:, cols]
    return Converted(m, c.lf0, c.tempo)


VARIANTS = {  # (converted features, source features) -> what is synthesised
    "full": lambda c, f: c,
    "envelope only": lambda c, f: Converted(c.mcep, f.lf0.copy(), c.tempo),
    "F0 only": lambda c, f: Converted(f.mcep.copy(), c.lf0, c.tempo),
    "no tempo": lambda c, f: Converted(c.mcep, c.lf0, 1.0),
    "source c0-c4": lambda c, f: _mix(c, f, low=True),
    "source c5+": lambda c, f: _mix(c, f, low=False),
    "source contour": _source_contour,
}


def with_variant(conv: EmotionConverter, variant: str) -> None:
    """Make ``conv``'s frame-level backend return ``variant`` of its conversion."""
    backend = conv.backend
    plain = type(backend).convert.__get__(backend)
    make = VARIANTS[variant]
    backend.convert = lambda feats, s, t, a=1.0: make(plain(feats, s, t, a), feats)


def rates(conv: EmotionConverter, rec, wavs: list, source: str,
          **options) -> tuple[list[float], list[float]]:
    """For each of :data:`TARGETS`: the mean speaker similarity of ``wavs`` (16 kHz) converted
    from ``source`` to their originals, and the share the recogniser ``rec`` labels as the
    target (``options`` go to ``conv.convert``)."""
    spk, hit = [], []
    for emo in TARGETS:
        ys = [conv.convert(x, 16000, emo, source=source, **options) for x in wavs]
        spk.append(float(np.mean([speaker_similarity(x, y, 16000)
                                  for x, y in zip(wavs, ys, strict=True)])))
        hit.append(float(np.mean([label(rec, y) == emo for y in ys])))
    return spk, hit


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()),
                                 epilog=ENV_HELP)
    ap.add_argument("--model", default="m2m-ravdess")
    ap.add_argument("--speakers", nargs="+", default=["17", "18", "19", "20"])
    ap.add_argument("--stride", type=int, default=1, help="every n-th calm take")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = ap.parse_args(argv)
    require(DATA, pattern="Actor_*/*.flac")
    torch.set_num_threads(1)
    sources = sorted({s for s, _, _ in trials(args.speakers)})[:: args.stride]
    if not sources:
        sys.exit(f"no calm takes with parallel targets of actors {' '.join(args.speakers)} "
                 f"under {DATA}")
    wavs = [load_audio(s) for s in sources]
    conv, rec = EmotionConverter.from_pretrained(args.model), EmotionRecognizer.from_pretrained()
    print(f"{len(wavs)} calm takes x {len(TARGETS)} emotions; spk-sim / recogniser rate")
    print(f"{'variant':<16}{'all':>12}" + "".join(f"{e:>12}" for e in TARGETS))
    for variant in args.variants:
        with_variant(conv, variant)
        spk, hit = rates(conv, rec, wavs, "calm", pitch_level=1.0)
        pairs = zip([np.mean(spk), *spk], [np.mean(hit), *hit], strict=True)
        cells = [f"{s:.3f}/{h:3.0%}" for s, h in pairs]
        print(f"{variant:<16}" + "".join(f"{c:>12}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
