"""SpectroGAN emotion conversion on held-out RAVDESS speakers (actors 17-20).

Protocol (same as the WORLD-feature conversion benchmark): every calm take of the validation
actors is converted to the target emotion and compared with the real target take of the same
actor, sentence, intensity and repetition. Systems per model:

* ``converted``  — the SpectroGAN conversion;
* ``source``     — the unconverted calm take;
* ``gl_resynth`` — intensity 0: the unconverted take through the same STFT → fast
  Griffin-Lim path (the vocoder's own cost; with a prosody stage also its WORLD resynthesis);
* ``reference``  — the real target take (emotion rate only).

Metrics: emotion-recogniser target rate (emovc's default recogniser, skipped with a note when
not installed), the same rate by an independent mirror of the project's judge E (eGeMAPS +
RBF-SVM on the raw waveform, ``benchmarks/judge_egemaps.py``; ``--no-judge-e`` skips it),
resemblyzer cosine similarity to the source, MCD (dB, 24 coded-envelope dims,
FastDTW) and log-F0 RMSE (cents) to the real target take, all from ``emovc.evaluation``;
conversion speed as a real-time factor (audio seconds per processing second, > 1 = faster than
real time, wall clock and process CPU). A second table compares phase reconstruction: plain
Griffin-Lim from random phase vs fast Griffin-Lim (momentum 0.99) from the source phase.

Run: ``.venv/bin/python benchmarks/bench_spectrogan.py [--models spectrogan-ravdess PATH ...]
[--limit 32] [--json out.json] [--actors 17,18,19,20] [--intensity 1] [--threads N]
[--no-phase | --phase-only] [--no-judge-e] [--ablation RUN_ROOT [--ablation-steps N]
[--ablation-only]] [--ablation-speed]``. Needs ``$EMOVC_DATA/ravdess16k`` (default
``../shared/data``; ``benchmarks/_data.py``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from _data import ENV_HELP, data_dir
from judge_egemaps import load_judge

from emovc.audio import load_audio
from emovc.evaluation.analysis import MetricConfig, analyze_utterance
from emovc.evaluation.emotion import load_default_judge, top_label
from emovc.evaluation.f0_metrics import f0_rmse_cents
from emovc.evaluation.mcd import align, frame_mcd
from emovc.evaluation.speaker import SpeakerEncoder
from emovc.features.spectral import griffin_lim, spectral_convergence
from emovc.models.spectrogan.representation import analyze
from emovc.pipelines.spectrogan import SpectroGANConverter
from emovc.training.spectrogan_data import parallel_pairs, ravdess_files

SR = 16000
RAVDESS = data_dir("ravdess16k")


def pair_metrics(wav: np.ndarray, ref_feat, cfg: MetricConfig) -> tuple[float, float]:
    """MCD (dB) and log-F0 RMSE (cents) of ``wav`` against the analysed reference."""
    feat = analyze_utterance(wav, cfg)
    path = align(feat, ref_feat, cfg.dtw_radius)
    return float(np.mean(frame_mcd(feat.mcep, ref_feat.mcep, path))), f0_rmse_cents(
        feat.f0, ref_feat.f0, path)


def evaluate_model(name: str, actors: list[int], limit: int, judge, spk: SpeakerEncoder,
                   intensity: float = 1.0, judge_e=None, target: str | None = None) -> dict:
    """All systems' metrics for one model and calm -> ``target`` (default: a pairwise model's
    second emotion); returns ``{system: {metric: value}}`` + speed."""
    conv = SpectroGANConverter.from_pretrained(name)
    target = target or conv.emotions[1]
    cfg = MetricConfig()
    rows: dict[str, dict[str, list]] = {s: {} for s in
                                        ("converted", "source", "gl_resynth", "reference")}
    audio_s = wall = cpu = 0.0
    for src_path, ref_path in parallel_pairs(RAVDESS, "calm", target, actors)[:limit]:
        src, ref = load_audio(src_path, SR), load_audio(ref_path, SR)
        w0, c0 = time.perf_counter(), time.process_time()
        out = conv.convert(src, SR, target, source="calm", intensity=intensity)
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        audio_s += len(src) / SR
        systems = {"converted": out, "source": src,
                   "gl_resynth": conv.convert(src, SR, target, source="calm", intensity=0.0),
                   "reference": ref}
        ref_feat = analyze_utterance(ref, cfg)
        src_emb = spk.embed(src, SR)
        for sysname, wav in systems.items():
            r = rows[sysname]
            if judge is not None:
                r.setdefault("emotion_hit", []).append(top_label(judge.predict(wav, SR)) == target)
            if judge_e is not None:
                r.setdefault("emotion_hit_e", []).append(judge_e.predict(wav, SR) == target)
            if sysname != "reference":
                r.setdefault("spk_sim", []).append(float(np.dot(spk.embed(wav, SR), src_emb)))
                mcd, cents = pair_metrics(wav, ref_feat, cfg)
                r.setdefault("mcd_db", []).append(mcd)
                r.setdefault("f0_rmse_cents", []).append(cents)
    summary = {s: {k: float(np.nanmean(np.asarray(v, dtype=float))) for k, v in m.items()}
               for s, m in rows.items()}
    n = len(rows["converted"].get("spk_sim", []))
    summary["speed"] = {"n": n, "audio_s": audio_s, "rtf_wall": audio_s / max(wall, 1e-9),
                        "rtf_cpu": audio_s / max(cpu, 1e-9)}
    return summary


def smooth_gain_db(shape: tuple[int, int], rng: np.random.Generator, db: float = 4.0
                   ) -> np.ndarray:
    """A smooth random gain field (≈ ±``db`` dB over ~1 kHz × 100 ms): a stand-in for the
    log-magnitude change of a conversion, which the source phase no longer matches exactly."""
    from scipy.ndimage import gaussian_filter

    field = gaussian_filter(rng.standard_normal(shape), sigma=(16, 6))
    return db * field / max(float(np.abs(field).max()), 1e-9)


def phase_table(actors: list[int], n: int = 8) -> dict:
    """Spectral convergence and CPU speed of Griffin-Lim variants on validation magnitudes,
    unchanged and with a smooth random gain change (a simulated conversion)."""
    spec = SpectroGANConverter.from_pretrained("spectrogan-ravdess").spec
    variants = {"plain GL, random phase, 32 it": (0.0, False, 32),
                "fast GL, random phase, 32 it": (0.99, False, 32),
                "fast GL, source phase, 32 it": (0.99, True, 32),
                "fast GL, source phase, 8 it": (0.99, True, 8)}
    rng = np.random.default_rng(0)
    clips = []
    for p in ravdess_files(RAVDESS, "calm", actors)[:n]:
        wav = load_audio(p, SR)
        log_mag, phase = analyze(wav, spec)
        changed = log_mag + smooth_gain_db(log_mag.shape, rng) * np.log(10) / 20
        clips.append((len(wav), phase, np.exp(log_mag), np.exp(changed)))
    res = {}
    for label, (mom, src_phase, iters) in variants.items():
        sc = {"unchanged": [], "changed": []}
        cpu, audio_s = 0.0, 0.0
        for length, phase, *mags in clips:
            for key, mag in zip(("unchanged", "changed"), mags, strict=True):
                c0 = time.process_time()
                y = griffin_lim(mag, spec.stft, n_iter=iters, momentum=mom,
                                init_phase=phase if src_phase else None, length=length)
                cpu += time.process_time() - c0
                audio_s += length / SR
                sc[key].append(spectral_convergence(mag, y, spec.stft))
        res[label] = {"sc_unchanged": float(np.mean(sc["unchanged"])),
                      "sc_changed": float(np.mean(sc["changed"])), "rtf_cpu": audio_s / cpu}
    return res


ABLATIONS = {  # name: (n_res_blocks, n_fft, freq_size, crop_rows) — same Hz span per crop
    "3 blocks, 260": (3, 512, 260, 128),
    "6 blocks, 260": (6, 512, 260, 128),
    "9 blocks, 260": (9, 512, 260, 128),
    "3 blocks, 520": (3, 1024, 520, 256),
    "6 blocks, 520": (6, 1024, 520, 256),
}


def ablation(run_root: Path, steps: int, actors: list[int], limit: int, judge,
             spk: SpeakerEncoder, judge_e=None, only: list[str] | None = None) -> dict:
    """Short many-to-many runs (preset ``m2m``, full-height images) per architecture: train
    time and quality of calm -> angry and calm -> fearful, the pairs the original reported
    best (``limit`` calm takes each). ``only``: subset of :data:`ABLATIONS` labels."""
    from emovc.training.spectrogan import build_config, train

    res = {}
    for label, (blocks, n_fft, rows, _) in ABLATIONS.items():
        if only and label not in only:
            continue
        run = run_root / label.replace(", ", "_").replace(" ", "")
        over = {"generator": {"n_res_blocks": blocks},
                "spec": {"n_fft": n_fft, "freq_size": rows}, "val_every": 10**9,
                "n_val_clips": 0}
        cfg = build_config(str(RAVDESS), str(run), "calm", None, "m2m", steps, overrides=over)
        t0, c0 = time.perf_counter(), time.process_time()
        model = train(cfg)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        row = {"steps": steps, "train_wall_s": wall, "train_cpu_s": cpu}
        for target in ("angry", "fearful"):
            m = evaluate_model(str(model), actors, limit, judge, spk, judge_e=judge_e,
                               target=target)
            row.update({f"{target}_{k}": v for k, v in m["converted"].items()})
            row[f"{target}_rtf_wall"] = m["speed"]["rtf_wall"]
        res[label] = row
        print(label, json.dumps(row), flush=True)
    return res


def ablation_speed(n_iter: int = 4) -> dict:
    """CPU seconds per training iteration (process time, robust to sharing) per architecture,
    with compact widths on random crops; also parameter counts and inference speed."""
    from emovc.models.spectrogan import (
        DiscriminatorConfig,
        Generator,
        GeneratorConfig,
        PatchDiscriminator,
        count_parameters,
    )

    res = {}
    for label, (blocks, _, rows, crop_rows) in ABLATIONS.items():
        torch.manual_seed(0)
        gcfg = GeneratorConfig((16, 32, 64), blocks, residual=True, freq_coord=True)
        dcfg = DiscriminatorConfig(16, 3, freq_coord=True, norm="none")
        g = [Generator(gcfg), Generator(gcfg)]
        d = [PatchDiscriminator(dcfg), PatchDiscriminator(dcfg)]
        opt = torch.optim.Adam([p for m in g + d for p in m.parameters()], lr=1e-4)
        a, b = (torch.rand(2, 1, crop_rows, 64) * 2 - 1 for _ in range(2))
        l1 = torch.nn.functional.l1_loss
        times = []
        for _ in range(n_iter + 1):
            c0 = time.process_time()
            fb, fa = g[0](a), g[1](b)
            loss = ((d[1](fb) - 1) ** 2).mean() + ((d[0](fa) - 1) ** 2).mean() + 10 * (
                l1(g[1](fb), a) + l1(g[0](fa), b)) + 0.5 * (l1(g[0](b), b) + l1(g[1](a), a))
            opt.zero_grad()
            loss.backward()
            pairs_d = ((d[0], a, 1), (d[0], fa.detach(), 0), (d[1], b, 1), (d[1], fb.detach(), 0))
            loss_d = sum(((m(x) - t) ** 2).mean() for m, x, t in pairs_d)
            loss_d.backward()
            opt.step()
            times.append(time.process_time() - c0)
        with torch.no_grad():  # inference on a 3 s clip (hop 128 -> 376 frames), full height
            x = torch.rand(1, 1, rows, 376) * 2 - 1
            c0 = time.process_time()
            g[0](x)
            infer = time.process_time() - c0
        res[label] = {"params_G": count_parameters(g[0]), "params_D": count_parameters(d[0]),
                      "cpu_s_per_iter": float(np.median(times[1:])),
                      "generator_rtf_cpu": 3.0 / infer}
        print(label, json.dumps(res[label]), flush=True)
    return res


def model_targets(models: list[str]) -> list[tuple[str, str]]:
    """``(model, target)`` runs: a pairwise model's own target; calm -> angry and calm ->
    fearful (the pairs the original reported best) for a many-to-many model."""
    out = []
    for name in models:
        conv = SpectroGANConverter.from_pretrained(name)
        targets = ["angry", "fearful"] if conv.many_to_many else [conv.emotions[1]]
        out += [(name, t) for t in targets]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=ENV_HELP)
    ap.add_argument("--models", nargs="+",
                    default=["spectrogan-ravdess"])
    ap.add_argument("--actors", default="17,18,19,20")
    ap.add_argument("--limit", type=int, default=32, help="calm takes per model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--intensity", type=float, default=1.0, help="conversion intensity")
    ap.add_argument("--no-phase", action="store_true", help="skip the Griffin-Lim table")
    ap.add_argument("--phase-only", action="store_true", help="only the Griffin-Lim table")
    ap.add_argument("--json", help="also write all numbers to this JSON file")
    ap.add_argument("--ablation", metavar="RUN_ROOT",
                    help="train short runs of each architecture under RUN_ROOT and score them")
    ap.add_argument("--ablation-steps", type=int, default=100)
    ap.add_argument("--ablation-only", nargs="+", metavar="LABEL",
                    help="subset of the architectures, e.g. '6 blocks, 260'")
    ap.add_argument("--no-judge-e", action="store_true",
                    help="skip the eGeMAPS judge E rate (benchmarks/judge_egemaps.py)")
    ap.add_argument("--ablation-speed", action="store_true",
                    help="only time one training iteration of each architecture")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.ablation_speed:
        res = ablation_speed()
        if args.json:
            Path(args.json).write_text(json.dumps(res, indent=2))
        return
    if not RAVDESS.is_dir():
        raise SystemExit(f"needs {RAVDESS}")
    torch.set_num_threads(args.threads)
    actors = [int(a) for a in args.actors.split(",")]
    judge, why = load_default_judge()
    if judge is None:
        print(f"note: {why}")
    judge_e = None if args.no_judge_e or args.phase_only else load_judge()
    spk = SpeakerEncoder()
    if args.ablation:
        res = ablation(Path(args.ablation), args.ablation_steps, actors, args.limit, judge, spk,
                       judge_e, args.ablation_only)
        if args.json:
            Path(args.json).write_text(json.dumps(res, indent=2))
        return
    results = {} if args.no_phase else {"phase": phase_table(actors)}
    if not args.no_phase:
        print("\nPhase reconstruction, 8 calm validation clips: spectral convergence on the "
              "unchanged magnitude / with a smooth ±4 dB change; RTF by process CPU time")
    for label, r in results.get("phase", {}).items():
        print(f"  {label:34s} SC {r['sc_unchanged']:.3f} / {r['sc_changed']:.3f}"
              f"   RTF {r['rtf_cpu']:6.1f}x")
    for name, target in [] if args.phase_only else model_targets(args.models):
        res = evaluate_model(name, actors, args.limit, judge, spk, args.intensity, judge_e,
                             target)
        results[f"{name} calm->{target}"] = res
        sp = res["speed"]
        print(f"\n{name} calm -> {target} (intensity {args.intensity}): {sp['n']} conversions, "
              f"actors "
              f"{args.actors}; speed RTF "
              f"{sp['rtf_wall']:.1f}x wall, {sp['rtf_cpu']:.1f}x CPU")
        print(f"  {'system':12s} {'emotion':>8s} {'judge E':>8s} {'spk-sim':>8s} {'MCD dB':>8s} "
              f"{'F0 cents':>9s}")
        for s in ("converted", "source", "gl_resynth", "reference"):
            m = res[s]
            emo = f"{100 * m['emotion_hit']:.0f} %" if "emotion_hit" in m else "n/a"
            emo_e = f"{100 * m['emotion_hit_e']:.0f} %" if "emotion_hit_e" in m else "n/a"
            sim = f"{m['spk_sim']:.3f}" if "spk_sim" in m else "-"
            mcd = f"{m['mcd_db']:.2f}" if "mcd_db" in m else "-"
            f0 = f"{m['f0_rmse_cents']:.0f}" if "f0_rmse_cents" in m else "-"
            print(f"  {s:12s} {emo:>8s} {emo_e:>8s} {sim:>8s} {mcd:>8s} {f0:>9s}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
