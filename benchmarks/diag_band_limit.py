"""Band-limited (telephone) input: where the sound of 16 kHz speech stops, and what 8 kHz
audio does to the recogniser.

For every clip of ``../shared/data`` (RAVDESS, VCTK, LibriSpeech; 16 kHz), prints the range
of its upper band edge (:func:`emovc.audio.bandwidth.upper_band_edge`) and of its 8 kHz copy
resampled back to 16 kHz (soxr VHQ, as emovc reads an 8 kHz file), and how many of each
:func:`~emovc.audio.bandwidth.band_limit_hz` calls band-limited. Then the bundled
recogniser's unweighted accuracy (UA) on RAVDESS validation actors 17-20, as they are and as
8 kHz copies. Used in docs/conversion.md and docs/ser.md ("band-limited input").

Usage: ``.venv/bin/python benchmarks/diag_band_limit.py [--threads 2]``
"""

from __future__ import annotations

import argparse
import sys
import warnings

import numpy as np
from _data import ENV_HELP, data_dir, missing

from emovc.audio import load_audio
from emovc.audio.bandwidth import band_limit_hz, upper_band_edge
from emovc.audio.io import resample

SR = 16000
VAL_ACTORS = ("17", "18", "19", "20")


def phone(wav: np.ndarray) -> np.ndarray:
    """``wav`` (16 kHz) through 8 kHz and back: what emovc reads of an 8 kHz recording."""
    return resample(resample(wav, SR, 8000), 8000, SR)


def edges(files: list) -> None:
    """The edge ranges of ``files`` and of their 8 kHz copies, and the band-limited counts."""
    full, narrow, flagged = [], [], [0, 0]
    for path in files:
        wav = load_audio(path, SR)
        for i, x in enumerate((wav, phone(wav))):
            (full, narrow)[i].append(upper_band_edge(x, SR))
            flagged[i] += band_limit_hz(x, SR) is not None
    for name, e, n in (("16 kHz clips", full, flagged[0]), ("8 kHz copies", narrow, flagged[1])):
        print(f"{name}: {len(e)}, edge {min(e) / 1000:.2f}-{max(e) / 1000:.2f} kHz "
              f"(median {np.median(e) / 1000:.2f}); band-limited: {n}")


def recogniser(threads: int) -> None:
    """UA of the bundled recogniser on actors 17-20, as recorded and as 8 kHz copies."""
    import torch

    from emovc.data.catalogs import catalog_corpus
    from emovc.models.ser.metrics import classification_report
    from emovc.pipelines.recognition import EmotionRecognizer

    torch.set_num_threads(threads)
    rec = EmotionRecognizer.from_pretrained("default")
    val = catalog_corpus(data_dir("ravdess16k"), "ravdess").filter(speakers=VAL_ACTORS)
    y = np.array([rec.labels.index(u.emotion) for u in val])
    for name, prep in (("16 kHz", lambda w: w), ("8 kHz copies", phone)):
        probs = []
        for u in val:
            p = rec.predict(prep(load_audio(u.path, SR)), SR)
            probs.append([p[label] for label in rec.labels])
        rep = classification_report(y, np.array(probs), rec.labels)
        print(f"recogniser UA, {len(val)} clips of actors 17-20, {name}: "
              f"{rep['unweighted_accuracy']:.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=ENV_HELP)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = ap.parse_args(argv)
    why = missing(data_dir("ravdess16k"))
    if why:
        print(f"skipped: {why}")
        return 0
    warnings.filterwarnings("ignore")
    root = data_dir("ravdess16k").parent
    files = sorted(p for p in root.rglob("*.flac"))
    edges(files)
    recogniser(args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
