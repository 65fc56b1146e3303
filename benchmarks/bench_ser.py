"""Speech emotion recognition benchmark on RAVDESS validation actors 17-20.

Prints unweighted accuracy (UA, mean per-class recall), weighted accuracy (WA) and macro-F1
on the original clips and on their WORLD-resynthesised copies (per-utterance mode, and with
per-speaker normalisation where the model supports it), plus the prediction speed as a
real-time factor (audio seconds per second of compute, single file at a time).

    .venv/bin/python benchmarks/bench_ser.py [--model default|PATH] [--threads 2]
        [--cache-dir FOLDER] [--data FOLDER] [--speed-clips N]

Skips (exit 0) when the RAVDESS folder (``--data``, default ``$EMOVC_DATA/ravdess16k``, see
``benchmarks/_data.py``) is absent or holds no audio.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
from _data import ENV_HELP, data_dir, missing

DATA = data_dir("ravdess16k")
VAL_ACTORS = ("17", "18", "19", "20")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=ENV_HELP)
    ap.add_argument("--model", default="default", help="bundled name or model.pt path")
    ap.add_argument("--data", default=str(DATA), help="RAVDESS folder")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--cache-dir", default=None,
                    help="reuse/write cached clip features here (e.g. .cache/ser)")
    ap.add_argument("--speed-clips", type=int, default=20, help="clips timed for the RTF")
    args = ap.parse_args(argv)
    why = missing(args.data)
    if why:
        print(f"skipped: {why}")
        return 0
    warnings.filterwarnings("ignore")
    import torch

    from emovc.audio import load_audio
    from emovc.data.catalogs import catalog_corpus
    from emovc.models.ser.cache import cached_clip_features, compute_clip_features, load_variant
    from emovc.models.ser.metrics import classification_report, confusion_markdown
    from emovc.pipelines.recognition import EmotionRecognizer

    torch.set_num_threads(args.threads)
    rec = EmotionRecognizer.from_pretrained(args.model)
    model = rec.model
    val = catalog_corpus(args.data, "ravdess").filter(speakers=VAL_ACTORS)
    y = np.array([rec.labels.index(u.emotion) for u in val])
    spk = np.array([u.speaker for u in val])
    print(f"model: {args.model} ({model.method}); {len(val)} clips of actors "
          f"{', '.join(VAL_ACTORS)}")
    print(f"{'audio':>9} {'normalisation':>14} {'UA':>6} {'WA':>6} {'F1':>6}")
    for variant in ("original", "world"):
        if args.cache_dir:
            feats = [cached_clip_features(u.path, model.features, variant, args.cache_dir)
                     for u in val]
        else:
            feats = [compute_clip_features(load_variant(u.path, model.features, variant),
                                           model.features) for u in val]
        modes = [("utterance", False)] + ([("speaker", True)] if model.heads else [])
        for mode, spk_norm in modes:
            rep = classification_report(
                y, model.predict_proba(feats, groups=spk, speaker_norm=spk_norm), rec.labels)
            print(f"{variant:>9} {mode:>14} {rep['unweighted_accuracy']:6.3f} "
                  f"{rep['weighted_accuracy']:6.3f} {rep['macro_f1']:6.3f}")
            if variant == "original" and mode == "utterance":
                table = confusion_markdown(rep)
    print("\nconfusion (original audio, per-utterance, % of each true class):\n" + table)
    paths = [u.path for u in val][: args.speed_clips]
    wavs = [load_audio(p, rec.sample_rate) for p in paths]
    rec.predict(wavs[0], rec.sample_rate)  # warm-up (openSMILE/torch initialisation)
    t0 = time.perf_counter()
    for w in wavs:
        rec.predict(w, rec.sample_rate)
    elapsed = time.perf_counter() - t0
    audio_s = sum(len(w) for w in wavs) / rec.sample_rate
    print(f"\nspeed: {audio_s / elapsed:.1f}x real time ({1000 * elapsed / len(wavs):.0f} ms "
          f"per clip, {args.threads} thread(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
