"""Benchmark of WORLD-feature emotion conversion on unseen RAVDESS speakers (actors 17-20).

Protocol: every calm take of the validation speakers is converted to happy, sad, angry,
fearful, disgust and surprised and compared with the REAL take of the same speaker, sentence,
intensity and repetition (RAVDESS is parallel). Printed per system and per target emotion:

- emotion rate: how often emovc's recogniser (trained on other speakers) labels the output as
  the target, next to the rate of the real target takes;
- ``rate E`` / ``rate C``: the same rate by independent mirrors of the project's judges E and
  C (eGeMAPS / ComParE functionals + RBF-SVM on the raw, un-normalised waveform, trained on
  actors 01-16 with WORLD copies; ``benchmarks/judge_egemaps.py``); skipped with
  ``--no-judge-e`` / ``--no-judge-c``. The first run builds each judge's cache (judge C:
  17 min on 2 cores — 2160 ComParE passes, 960 WORLD copies, the SVM's C selection);
- spk-sim: resemblyzer cosine between output and source;
- MCD (dB) and log-F0 RMSE (cents) to the real target take (``emovc.evaluation`` definitions);
- speed: conversion real-time factor (audio seconds per second of processing; 1 torch
  thread, the WORLD steps on 2 threads): ``rtf_wall`` by wall clock (what an otherwise idle
  2-core machine sees; it suffers when other jobs share the cores), ``rtf_cpu`` by the
  process's CPU time summed over its threads (the cost in core-seconds).

Systems: unconverted source, log-F0 mean/variance shift with per-emotion statistics of the
training speakers, the many-to-many model and (calm -> angry only) the pairwise CycleGAN; and,
as the natural floor of the distortion metrics, the other real repetition of the target take
(``floor``: same speaker, sentence, intensity and emotion — what a perfect conversion that
still speaks the sentence anew would score); and, as the ceiling of the emotion rates, the
real target take passed through the many-to-many model at intensity 0 (``copy``: the same
analysis, rendering and kept unvoiced samples, nothing converted — what a perfect converter
could reach through that vocoder; its MCD and F0 are the vocoder's own error).
``--model`` may also name a many-to-many SpectroGAN (``spectrogan-ravdess``): its two stages
are then also scored alone (system ``stages``: spectral generator only; prosody stage only;
the model without its average-spectrum shift).

The many-to-many model runs at its default inference settings (its ``meta.json``: pitch level
0.125, envelope gain 1.15, a 100 ms envelope smoothing and the source renderer for
``m2m-ravdess``) unless
``--pitch-level`` / ``--envelope-gain`` / ``--smoothing-ms`` / ``--renderer`` override them
(``tune_conversion.py`` compares a grid of them).

Usage: ``.venv/bin/python benchmarks/bench_conversion.py [--quick] [--model m2m-ravdess]
[--jobs 2] [--pitch-level P] [--smoothing-ms MS] [--envelope-gain G] [--renderer R]
[--voice-quality Q] [--intensity X] [--systems source,shift,m2m,...] [--cyclegan NAME|'']
[--speakers 17 18 19 20] [--limit N] [--render-unvoiced] [--no-judge-e] [--no-judge-c]
[--json TABLE.json] [--details CLIPS.csv]`` (``--details``: one row per scored
clip, e.g. to compare settings per speaker or per sentence)
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from _data import ENV_HELP, data_dir, require, stratified
from judge_egemaps import FEATURE_SETS, load_judge

from emovc.audio import load_audio
from emovc.audio.finishing import keep_edge_pauses, with_level_change
from emovc.errors import EmovcError
from emovc.evaluation import analyze_utterance, dtw_path, f0_rmse_cents, mel_cepstral_distortion
from emovc.evaluation.speaker import SpeakerEncoder, cosine
from emovc.features.f0 import LogF0Stats, convert_f0_gaussian
from emovc.features.world import analyze, synthesize
from emovc.models.conversion.normalizer import UtteranceStats
from emovc.pipelines.conversion import EmotionConverter

DATA = data_dir("ravdess16k")
CODES = {"neutral": "01", "calm": "02", "happy": "03", "sad": "04", "angry": "05",
         "fearful": "06", "disgust": "07", "surprised": "08"}
TARGETS = ("happy", "sad", "angry", "fearful", "disgust", "surprised")
SYSTEMS = ("source", "shift", "m2m", "cyclegan", "stages", "floor", "copy")
FLOOR = "real other repetition"
# the real target take through the many-to-many model at intensity 0: its analysis and
# rendering with nothing changed — what a perfect converter could score through that vocoder
COPY = "real target, model's vocoder"
# independent judges by row-key letter: {"e": "egemaps", "c": "compare"}
JUDGES = {letter.lower(): fs for fs, (_, letter) in FEATURE_SETS.items()}


def trials(speakers: list[str]) -> list[tuple[Path, Path, str]]:
    """``(calm source, real target take, target emotion)`` for every parallel pair."""
    out = []
    for spk in speakers:
        for src in sorted((DATA / f"Actor_{spk}").glob("03-01-02-*.flac")):
            parts = src.stem.split("-")
            for emo in TARGETS:
                ref = src.with_name("-".join(parts[:2] + [CODES[emo]] + parts[3:]) + ".flac")
                if ref.exists():
                    out.append((src, ref, emo))
    return out


def other_repetition(take: Path) -> Path | None:
    """The same RAVDESS take with the other repetition number (``…-RR-AA``), if it exists."""
    parts = take.stem.split("-")
    parts[5] = "02" if parts[5] == "01" else "01"
    other = take.with_name("-".join(parts) + take.suffix)
    return other if other.exists() else None


class F0Shift:
    """Baseline: log-F0 mean/variance shift with per-emotion offsets of the training speakers."""

    def __init__(self, normalizer):
        self.norm = normalizer

    def convert(self, wav: np.ndarray, sr: int, target: str, source: str = "calm") -> np.ndarray:
        w = analyze(wav.astype(np.float64))
        v = w.f0 > 0
        lf0 = np.log(w.f0[v])
        st = UtteranceStats(np.zeros(1), float(lf0.mean()), float(max(lf0.std(), 1e-3)))
        n, s, t = self.norm, self.norm.index(source), self.norm.index(target)
        tgt = LogF0Stats(st.lf0_mean + n.off_lf0[t] - n.off_lf0[s],
                         st.lf0_std * float(np.exp(n.off_lstd[t] - n.off_lstd[s])))
        f0 = convert_f0_gaussian(w.f0, LogF0Stats(st.lf0_mean, st.lf0_std), tgt)
        return synthesize(f0, w.sp, w.ap)


def judge():
    """emovc's default emotion recogniser, or ``None`` (rates are then skipped)."""
    try:
        from emovc.pipelines.recognition import EmotionRecognizer
        return EmotionRecognizer.from_pretrained("default")
    except Exception as exc:
        print(f"[emotion rates skipped: {type(exc).__name__}: {exc}]", file=sys.stderr)
        return None


def independent_judge(feature_set: str = "egemaps"):
    """The eGeMAPS mirror of the project's judge E (``feature_set="compare"``: the ComParE
    mirror of judge C; cached builds), or ``None`` on failure."""
    return load_judge(lambda msg: print(msg, file=sys.stderr), feature_set)


def judge_label(jud, wav: np.ndarray) -> str:
    if jud is None:
        return ""
    try:
        return jud.predict(wav, 16000)
    except Exception:  # e.g. openSMILE on a degenerate output
        return "?"


def label(rec, wav: np.ndarray) -> str:
    if rec is None:
        return ""
    try:
        probs = rec.predict(wav, 16000)
    except EmovcError:  # e.g. a take too quiet for the recogniser's silence check
        return "?"
    return max(probs, key=lambda k: probs[k])


def score(systems: dict, pairs: list, rec, enc: SpeakerEncoder, judges: dict | None = None,
          floor: bool = False) -> dict:
    """Run every system on every pair; returns ``{system: [row, ...]}``. ``judges``: optional
    independent judges by letter (``{"e": judge E, "c": judge C}``), giving ``label_e`` /
    ``label_c``. ``floor``: also score the other real repetition of each target take
    (system :data:`FLOOR`; pairs whose take has no other repetition are left out of it)."""
    judges = {k: j for k, j in (judges or {}).items() if j is not None}
    cache: dict = {}

    def labels(wav: np.ndarray) -> dict:
        return {"label": label(rec, wav)} | {f"label_{k}": judge_label(j, wav)
                                              for k, j in judges.items()}

    def feats(path: Path, wav: np.ndarray):
        if path not in cache:
            cache[path] = (analyze_utterance(wav), enc.embed(wav, 16000), labels(wav))
        return cache[path]

    def distortion(fy, fr, emb_y, emb_s) -> dict:
        path = dtw_path(fy.mcep, fr.mcep, 1)
        return {"mcd": mel_cepstral_distortion(fy.mcep, fr.mcep, path),
                "f0": f0_rmse_cents(fy.f0, fr.f0, path), "spk": cosine(emb_y, emb_s)}

    rows = defaultdict(list)
    for i, (src, ref, emo) in enumerate(pairs):
        x, r = load_audio(src), load_audio(ref)
        fs, emb_s, _ = feats(src, x)
        fr, _, lab_r = feats(ref, r)
        take = {"emotion": emo, "take": src.stem}
        rows["real target"].append({**take, **lab_r})
        other = other_repetition(ref) if floor else None
        if other is not None:
            fo, emb_o, lab_o = feats(other, load_audio(other))
            rows[FLOOR].append({**take, **lab_o, **distortion(fo, fr, emb_o, emb_s)})
        for name, (fn, only) in systems.items():
            if only and emo not in only:
                continue
            inp = r if name == COPY else x
            t, c = time.perf_counter(), time.process_time()
            y = fn(inp, emo)
            dt, dc = time.perf_counter() - t, time.process_time() - c
            rows[name].append({**take, **labels(y), "secs": dt, "cpu": dc,
                               "dur": len(inp) / 16000,
                               **distortion(analyze_utterance(y), fr, enc.embed(y, 16000), emb_s)})
        if (i + 1) % 24 == 0:
            print(f"  {i + 1}/{len(pairs)} pairs", file=sys.stderr)
    for name in systems:  # a system with no pair it converts keeps an (empty) row, for the note
        rows.setdefault(name, [])
    return rows


def write_details(rows: dict, path: Path) -> None:
    """One CSV row per scored clip: ``system``, then the row's fields (``take`` = the calm
    source's file stem, whose last field is the actor)."""
    keys = list(dict.fromkeys(k for rs in rows.values() for r in rs for k in r))
    with path.open("w", newline="") as f:
        out = csv.DictWriter(f, ["system", *keys])
        out.writeheader()
        for name, rs in rows.items():
            out.writerows({"system": name, **r} for r in rs)


def summarize(rows: list[dict]) -> dict:
    def mean(key):
        vals = [r[key] for r in rows if key in r and np.isfinite(r[key])]
        return float(np.mean(vals)) if vals else float("nan")
    out = {"n": len(rows), "mcd": mean("mcd"), "f0": mean("f0"), "spk": mean("spk")}
    if rows and rows[0]["label"]:
        out["rate"] = float(np.mean([r["label"] == r["emotion"] for r in rows]))
    for k in JUDGES:
        if rows and rows[0].get(f"label_{k}"):
            out[f"rate_{k}"] = float(np.mean([r[f"label_{k}"] == r["emotion"] for r in rows]))
    if rows and "secs" in rows[0]:
        dur = sum(r["dur"] for r in rows)
        out["rtf"] = dur / max(sum(r["secs"] for r in rows), 1e-9)
        out["rtf_cpu"] = dur / max(sum(r["cpu"] for r in rows), 1e-9)
    return out


def report(rows: dict) -> dict:
    table, unscored = {}, []
    for name, rs in rows.items():
        if not rs:
            unscored.append(name)
            continue
        table[name] = {"all": summarize(rs)}
        for emo in TARGETS:
            sub = [r for r in rs if r["emotion"] == emo]
            if sub:
                table[name][emo] = summarize(sub)
    cols = ["all", *TARGETS]
    w = max([22, *(len(n) + 2 for n in table)])  # long system names keep a gap
    print(f"\n{'system':<{w}}{'metric':<10}" + "".join(f"{c:>10}" for c in cols))
    for name, t in table.items():
        for key, fmt in (("rate", "{:.0%}"), *((f"rate_{k}", "{:.0%}") for k in JUDGES),
                         ("mcd", "{:.2f}"), ("f0", "{:.0f}"), ("spk", "{:.3f}")):
            if key not in t["all"] or not np.isfinite(t["all"][key]):
                continue
            vals = [fmt.format(t[c][key]) if c in t and key in t[c] else "-" for c in cols]
            metric = f"rate {key[-1].upper()}" if key.startswith("rate_") else key
            print(f"{name:<{w}}{metric:<10}" + "".join(f"{v:>10}" for v in vals))
    for name in unscored:
        print(f"{name}: no row, none of the chosen pairs has a target emotion it converts to "
              "(a --limit too small to reach them?)")
    return table


def build_systems(model: str, cyclegan: str, only: tuple[str, ...] = SYSTEMS,
                  intensity: float = 1.0, keep_unvoiced: bool = True,
                  pitch_level: float | None = None, smoothing_ms: float | None = None,
                  envelope_gain: float | None = None, renderer: str | None = None,
                  voice_quality: float | None = None) -> dict:
    """``{name: (convert(x, emotion) -> y, only_targets or None)}``. ``keep_unvoiced=False``:
    the WORLD models render their unvoiced frames too (``EmotionConverter.keep_unvoiced``);
    ``pitch_level`` / ``smoothing_ms`` / ``envelope_gain`` / ``renderer``: the m2m model's
    ``EmotionConverter`` settings of those names (``None``: the model's default; shown in the
    system's name unless 1 / 0 / 1 / world)."""
    m2m = EmotionConverter.from_pretrained(model)
    m2m.keep_unvoiced = keep_unvoiced
    m2m.settings = m2m.settings.with_overrides(
        pitch_level=pitch_level, envelope_smoothing_ms=smoothing_ms,
        envelope_gain=envelope_gain, renderer=renderer, voice_quality=voice_quality)
    tags = (f" pitch {m2m.pitch_level:g}" if m2m.pitch_level != 1 else "") + (
        f" smooth {m2m.envelope_smoothing_ms:g}ms" if m2m.envelope_smoothing_ms else "") + (
        f" gain {m2m.envelope_gain:g}" if m2m.envelope_gain != 1 else "") + (
        f" on {m2m.renderer}" if m2m.renderer != "world" else " on world") + (
        f" vq {m2m.voice_quality:g}" if m2m.voice_quality and m2m.renderer == "source"
        else "")  # WORLD's synthesis adds no voice quality
    shift = F0Shift(m2m.backend.normalizer)
    systems = {
        "source (unconverted)": (lambda x, e: x, None),
        "log-F0 shift": (lambda x, e: shift.convert(x, 16000, e), None),
        f"m2m {model} @{intensity:g}{tags}": (
            lambda x, e: m2m.convert(x, 16000, e, source="calm", intensity=intensity), None),
    }
    keys = dict(zip(("source", "shift", "m2m"), list(systems), strict=True))
    systems = {k: v for k, v in systems.items() if k in [keys.get(o) for o in only]}
    if "copy" in only:  # score() feeds it the real target take
        systems[COPY] = (lambda r, e: m2m.convert(r, 16000, e, source="calm", intensity=0.0),
                         None)
    if "stages" in only and getattr(m2m.backend, "prosody", None) is not None:
        systems.update(spectrogan_ablation(m2m, model))
    if cyclegan and "cyclegan" in only:
        cg = EmotionConverter.from_pretrained(cyclegan)
        cg.keep_unvoiced = keep_unvoiced
        tgt = tuple(e for e in cg.target_emotions if e != "calm")
        systems[f"cyclegan {cyclegan}"] = (
            lambda x, e: cg.convert(x, 16000, e, source="calm"), tgt)
    return systems


def spectrogan_ablation(conv: EmotionConverter, model: str) -> dict:
    """The two stages of a many-to-many SpectroGAN with a prosody stage, each alone: the
    spectral generator without the prosody stage (output at the input's level), and the prosody
    stage without the generator (WORLD resynthesis with the stage's log-F0 — its F0 model's
    contour or the mean/spread shift — and tempo, then the input's edge pauses and the
    emotion's level change, as ``EmotionConverter`` applies them); and, for models whose prosody
    stage has spectrum offsets, the whole model without its average-spectrum shift."""
    spectral = copy.copy(conv.backend)
    spectral.prosody = None
    no_shift = copy.copy(conv)
    no_shift.backend = copy.copy(conv.backend)
    no_shift.backend.inference = replace(conv.backend.inference, spectrum_shift=0.0)
    pros, norm = conv.backend.prosody, conv.backend.normalizer

    def prosody_only(x: np.ndarray, e: str) -> np.ndarray:
        y = keep_edge_pauses(pros.apply(x, "calm", e), x)
        return with_level_change(y, x, 16000, norm.level_change_db("calm", e))

    return {f"{model} spectral only": (
                lambda x, e: spectral.convert(x, 16000, e, source="calm"), None),
            f"{model} prosody only": (prosody_only, None),
            **({f"{model} no spectrum shift": (
                lambda x, e: no_shift.convert(x, 16000, e, source="calm"), None)}
               if pros.spectrum_bins else {})}


def _worker(args: tuple) -> dict:
    model, cyclegan, only, intensity, keep_unvoiced, m2m_settings, pairs, use = args
    torch.set_num_threads(1)
    systems = build_systems(model, cyclegan, only, intensity, keep_unvoiced, *m2m_settings)
    judges = {k: independent_judge(fs) for k, fs in JUDGES.items() if use[k]}
    return dict(score(systems, pairs, judge(), SpeakerEncoder(), judges, "floor" in only))


def speed(model: str, pairs: list, n: int = 12, renderer: str | None = None,
          voice_quality: float | None = None) -> dict:
    """Real-time factor of ``EmotionConverter.convert`` on ``n`` of ``pairs``, spread over the
    target emotions (:func:`_data.stratified`; 1 torch thread; the WORLD steps use 2 threads,
    so CPU-time RTF counts core-seconds, not wall time); ``renderer`` / ``voice_quality``:
    ``None`` = the model's default."""
    torch.set_num_threads(1)
    conv = EmotionConverter.from_pretrained(model)
    conv.settings = conv.settings.with_overrides(renderer=renderer, voice_quality=voice_quality)
    conv.convert(load_audio(pairs[0][0]), 16000, "angry", source="calm")  # warm-up
    dur = wall = cpu = 0.0
    chosen = stratified(pairs, n, key=lambda p: p[2])
    for src, _, emo in chosen:
        x = load_audio(src)
        t, c = time.perf_counter(), time.process_time()
        conv.convert(x, 16000, emo, source="calm")
        wall += time.perf_counter() - t
        cpu += time.process_time() - c
        dur += len(x) / 16000
    return {"files": len(chosen), "audio_s": dur, "rtf_wall": dur / wall, "rtf_cpu": dur / cpu}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=ENV_HELP)
    ap.add_argument("--model", default="m2m-ravdess")
    ap.add_argument("--cyclegan", default="cyclegan-calm-angry", help="'' to skip")
    ap.add_argument("--speakers", nargs="+", default=["17", "18", "19", "20"])
    ap.add_argument("--quick", action="store_true", help="one speaker only")
    ap.add_argument("--json", default="", help="also write the table here")
    ap.add_argument("--details", default="",
                    help="also write one CSV row per scored clip here (system, calm take, target "
                         "emotion, each judge's label, MCD, log-F0 RMSE, spk-sim, time)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (split by speaker)")
    ap.add_argument("--limit", type=int, default=0,
                    help="at most this many pairs per speaker, spread over the target emotions "
                         "(6: one of each)")
    ap.add_argument("--intensity", type=float, default=1.0, help="intensity of the m2m model")
    ap.add_argument("--pitch-level", type=float, default=None,
                    help="share of the m2m model's change of mean F0 kept (0..1; default: "
                         "the model's, 0.125 for m2m-ravdess)")
    ap.add_argument("--smoothing-ms", type=float, default=None,
                    help="moving-average window of the m2m model's envelope change in ms (0 = "
                         "off; default: the model's, 100 for m2m-ravdess)")
    ap.add_argument("--envelope-gain", type=float, default=None,
                    help="factor on the m2m model's envelope change (default: the model's, 1.15 "
                         "for m2m-ravdess)")
    ap.add_argument("--renderer", default=None, choices=("world", "source"),
                    help="renderer of the m2m model (default: the model's)")
    ap.add_argument("--voice-quality", type=float, default=None,
                    help="factor on the added jitter/shimmer of the m2m model (source "
                         "renderer; default: the model's)")
    ap.add_argument("--systems", default=",".join(SYSTEMS), help="subset of " + ",".join(SYSTEMS))
    ap.add_argument("--render-unvoiced", action="store_true",
                    help="WORLD models render unvoiced frames too instead of keeping the "
                         "input's samples there (the previous behaviour)")
    ap.add_argument("--no-judge-e", action="store_true",
                    help="skip the eGeMAPS judge E rate (benchmarks/judge_egemaps.py)")
    ap.add_argument("--no-judge-c", action="store_true",
                    help="skip the ComParE judge C rate (benchmarks/judge_egemaps.py)")
    args = ap.parse_args(argv)
    require(DATA, pattern="Actor_*/*.flac")
    speakers = args.speakers[:1] if args.quick else args.speakers
    pairs = trials(speakers)
    if not pairs:
        sys.exit(f"no calm->target pairs of actors {' '.join(speakers)} under {DATA}")
    print(f"{len(pairs)} calm->target pairs", file=sys.stderr)
    per = [[p for p in pairs if p[0].parent.name == f"Actor_{s}"] for s in speakers]
    if args.limit:  # round-robin over the target emotions, then over the takes
        per = [stratified(ps, args.limit, key=lambda p: p[2]) for ps in per]
        pairs = [p for ps in per for p in ps]
    only = tuple(args.systems.split(","))
    # builds each judge's cache once, up front
    skip = {"e": args.no_judge_e, "c": args.no_judge_c}
    use = {k: not skip[k] and independent_judge(fs) is not None for k, fs in JUDGES.items()}
    chunks = [(args.model, args.cyclegan, only, args.intensity, not args.render_unvoiced,
               (args.pitch_level, args.smoothing_ms, args.envelope_gain, args.renderer,
                args.voice_quality), ps, use)
              for ps in per]
    rows: dict = defaultdict(list)
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(args.jobs) as pool:
            parts = list(pool.map(_worker, chunks))
    else:
        parts = [_worker(c) for c in chunks]
    for part in parts:
        for name, rs in part.items():
            rows[name].extend(rs)
    table = report(rows)
    if args.details:
        write_details(rows, Path(args.details))
    if "m2m" not in only:
        if args.json:
            Path(args.json).write_text(json.dumps(table, indent=1))
        return
    table["speed"] = speed(args.model, pairs, renderer=args.renderer,
                           voice_quality=args.voice_quality)
    sp = table["speed"]
    print(f"\nspeed of {args.model}: {sp['audio_s']:.1f} s of audio, {sp['rtf_wall']:.1f}x real "
          f"time (wall clock), {sp['rtf_cpu']:.1f}x (process CPU time, all threads)")
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
