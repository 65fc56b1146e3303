"""How much background noise do conversion and recognition stand, and how well is it estimated?

Speech of RAVDESS actors 17-20 (unseen by the bundled models) is mixed with noise at known
SNRs — the active speech level (:func:`emovc.audio.processing.active_rms_dbfs`, the louder
half of 20 ms frames) over the noise's RMS — of three kinds: white, pink (1/f above 20 Hz)
and babble (six LibriSpeech speakers, three women and three men, at equal level, each from
its own random offset). The same noise samples are used at every SNR (only scaled), so the
rows differ by the SNR alone. Five parts (``--parts``):

- ``degradation``: per kind and SNR, the recogniser's unweighted accuracy on the noisy takes
  themselves (8 emotions: statements 1 and 2, repetition 1, normal intensity: 64 takes), how
  often it hears the target in conversions of the noisy calm takes (``--clips`` of them,
  spread over the actors; ``source="calm"`` given, so source detection plays no part) to
  angry, sad and happy, and the speaker similarity (resemblyzer cosine) of those conversions,
  and of the noisy takes themselves, to the *clean* calm take;
- ``judge``: the same target rate for conversions of the clean takes with the same noise
  added afterwards (at the same SNR over the output's speech level): how much of the drop is
  the recogniser hearing noise rather than the conversion failing;
- ``estimator``: :func:`emovc.audio.noise.estimate_snr` on every noisy take of both sets
  against the SNR it was mixed at (bias, spread, share under the warning threshold), and its
  speed;
- ``corpus``: its estimates of every clean clip of ``ravdess16k`` (actors 01-20),
  ``vctk4`` and ``librispeech-clips``: the distribution, and the clips under the threshold;
- ``steady``: the sounds in which too few frames stand out of the floor: steady periodic
  sounds (synthetic held vowels, F0 110, 140 and 220 Hz, 2 % vibrato, a level swing at 3 Hz
  of 0-50 %; sung notes of 330-1047 Hz with 1-5 % vibrato; the calm takes' strongest vowel
  held by WORLD resynthesis; sine and square test tones; clean and with white noise) against
  each kind of noise alone and the takes drowned in it (-5 and -10 dB), and against periodic
  noises (a buzz of 100-150 Hz, mains hum of 50 and 60 Hz, an engine drone with and without
  its broadband roar, a full-band buzz) alone and with the takes 10, 5 and 0 dB under them:
  their periodic share (:func:`emovc.audio.voicing.periodic_share`), how much the
  spectrum changes (:func:`emovc.audio.noise.window_changes`, the ``MAX_CHANGING_WINDOWS``-th
  most changing window: the two tell the steady sounds, with no estimate, from the others)
  and their estimates.

Used in docs/conversion.md and docs/ser.md ("Noisy input").

Usage: ``.venv/bin/python benchmarks/diag_noise.py [--data FOLDER] [--parts degradation
estimator corpus steady] [--snrs 30 20 15 10 5] [--clips 24]``

Skips (exit 0) when the RAVDESS or LibriSpeech folder of ``--data`` (default
``$EMOVC_DATA``, else ``../shared/data``; see ``benchmarks/_data.py``) is absent.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from _data import ENV_HELP, data_root, missing

ACTORS = ("17", "18", "19", "20")
EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry",
            "06": "fearful", "07": "disgust", "08": "surprised"}
TARGETS = ("angry", "sad", "happy")
KINDS = ("white", "pink", "babble")
BABBLE_TALKERS = 6
SR = 16000


def calm_takes(ravdess: Path, n: int) -> list[Path]:
    """``n`` calm takes of :data:`ACTORS`, as evenly spread over the actors as ``n`` allows."""
    per_actor = [sorted((ravdess / f"Actor_{a}").glob("03-01-02-*.flac")) for a in ACTORS]
    out = []
    for i in range(max(len(t) for t in per_actor)):
        out += [t[i] for t in per_actor if i < len(t)]
    return sorted(out[:n])


def ser_takes(ravdess: Path) -> list[Path]:
    """Every emotion of :data:`ACTORS`, normal intensity, statements 1 and 2, repetition 1."""
    return sorted(f for a in ACTORS
                  for f in (ravdess / f"Actor_{a}").glob("03-01-*-01-*-01-*.flac"))


def babble_sources(libri: Path) -> list[np.ndarray]:
    """:data:`BABBLE_TALKERS` LibriSpeech clips (half of them women), each at one level."""
    from emovc.audio import load_audio, normalize_loudness

    rows = [line.split("\t") for line in (libri / "speakers.tsv").read_text().splitlines()[1:]]
    women = [r[0] for r in rows if r[2] == "F"][: BABBLE_TALKERS // 2]
    men = [r[0] for r in rows if r[2] == "M"][: BABBLE_TALKERS - len(women)]
    return [normalize_loudness(load_audio(libri / f, SR), SR, -26.0) for f in women + men]


def make_noise(kind: str, n: int, rng: np.random.Generator,
               talkers: list[np.ndarray]) -> np.ndarray:
    """``n`` samples of unit-RMS noise of ``kind`` at 16 kHz."""
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "pink":
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1 / SR)
        x = np.fft.irfft(spec / np.sqrt(np.maximum(f, 20.0)), n)
    else:  # babble: every talker looped from its own random offset
        x = np.zeros(n)
        for t in talkers:
            reps = int(np.ceil((n + len(t)) / len(t)))
            start = int(rng.integers(len(t)))
            x += np.tile(t, reps)[start:start + n]
    return x / np.sqrt(np.mean(x**2))


def mix(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``clean`` plus unit-RMS ``noise`` scaled to ``snr_db`` below its active speech level."""
    from emovc.audio.processing import active_rms_dbfs

    gain = 10 ** ((active_rms_dbfs(clean, SR) - snr_db) / 20)
    return (clean + gain * noise).astype(np.float32)


def conditions(snrs: list[float]) -> list[tuple[str, float]]:
    """``("clean", inf)`` and every (kind, SNR)."""
    return [("clean", np.inf)] + [(k, s) for k in KINDS for s in snrs]


class Mixer:
    """The noisy copies of a set of clean takes; each take's noise is drawn once per kind."""

    def __init__(self, files: list[Path], talkers: list[np.ndarray], seed: int):
        from emovc.audio import load_audio

        self.clean = [load_audio(f, SR) for f in files]
        self.noise = {k: [make_noise(k, len(x), np.random.default_rng([seed, i, j]), talkers)
                          for i, x in enumerate(self.clean)] for j, k in enumerate(KINDS)}

    def noisy(self, kind: str, snr: float) -> list[np.ndarray]:
        if kind == "clean":
            return self.clean
        return [mix(x, n, snr) for x, n in zip(self.clean, self.noise[kind], strict=True)]


def label(rec, wav: np.ndarray) -> str:
    from emovc.errors import EmovcError

    try:
        probs = rec.predict(wav, SR, speech_warning=False)
    except EmovcError:
        return "?"
    return max(probs, key=lambda k: probs[k])


def degradation(calm: Mixer, ser: Mixer, ser_labels: list[str], snrs: list[float]) -> None:
    import torch

    from emovc import EmotionConverter, EmotionRecognizer
    from emovc.errors import EmovcError
    from emovc.evaluation.speaker import SpeakerEncoder, cosine

    torch.set_num_threads(1)
    conv, rec = EmotionConverter.from_pretrained("default"), EmotionRecognizer.from_pretrained()
    enc = SpeakerEncoder.from_pretrained()
    clean_emb = [enc.embed(x, SR) for x in calm.clean]
    classes = sorted(set(ser_labels))
    print(f"\n{len(ser.clean)} takes for the recogniser, {len(calm.clean)} calm takes converted "
          f"to {', '.join(TARGETS)}")
    print("| noise | SNR dB | SER UA (noisy takes) | " + " | ".join(TARGETS)
          + " | target mean | spk conv-clean | spk noisy-clean |")
    print("|---|---|---|" + "---|" * len(TARGETS) + "---|---|---|")
    for kind, snr in conditions(snrs):
        heard = [label(rec, x) for x in ser.noisy(kind, snr)]
        recall = [np.mean([h == c for h, lab in zip(heard, ser_labels, strict=True) if lab == c])
                  for c in classes]
        xs = calm.noisy(kind, snr)
        rates, sims = [], []
        for emo in TARGETS:
            hits = []
            for x, e in zip(xs, clean_emb, strict=True):
                try:
                    y = conv.convert(x, SR, emo, source="calm")
                except EmovcError:  # refused (no voiced sound found): a miss
                    hits.append(False)
                    continue
                hits.append(label(rec, y) == emo)
                sims.append(cosine(enc.embed(y, SR), e))
            rates.append(float(np.mean(hits)))
        noisy_sim = np.mean([cosine(enc.embed(x, SR), e) for x, e in zip(xs, clean_emb,
                                                                           strict=True)])
        print(f"| {kind} | {snr:g} | {100 * np.mean(recall):.0f} % | "
              + " | ".join(f"{100 * r:.0f} %" for r in rates)
              + f" | {100 * np.mean(rates):.0f} % | {np.mean(sims):.3f} | {noisy_sim:.3f} |",
              flush=True)


def judge(calm: Mixer, snrs: list[float]) -> None:
    """How often the recogniser hears the target in conversions of the *clean* calm takes with
    the same noise added afterwards: what the noise alone does to the judge."""
    import torch

    from emovc import EmotionConverter, EmotionRecognizer

    torch.set_num_threads(1)
    conv, rec = EmotionConverter.from_pretrained("default"), EmotionRecognizer.from_pretrained()
    made = {e: [conv.convert(x, SR, e, source="calm") for x in calm.clean] for e in TARGETS}
    print("\nclean conversions, the same noise added afterwards")
    print("| noise | SNR dB | " + " | ".join(TARGETS) + " | target mean |")
    print("|---|---|" + "---|" * len(TARGETS) + "---|")
    for kind, snr in conditions(snrs):
        rates = []
        for emo in TARGETS:
            hits = []
            for i, y in enumerate(made[emo]):
                if kind != "clean":  # the take's noise, fitted to the output's length
                    n = np.resize(calm.noise[kind][i], len(y))
                    y = mix(y, n / np.sqrt(np.mean(n**2)), snr)
                hits.append(label(rec, y) == emo)
            rates.append(float(np.mean(hits)))
        print(f"| {kind} | {snr:g} | " + " | ".join(f"{100 * r:.0f} %" for r in rates)
              + f" | {100 * np.mean(rates):.0f} % |", flush=True)


def estimator(mixers: list[Mixer], snrs: list[float]) -> None:
    from emovc.audio.noise import LOW_SNR_DB, estimate_snr

    print(f"\nestimate_snr on {sum(len(m.clean) for m in mixers)} takes per condition "
          f"(warning threshold {LOW_SNR_DB:g} dB)")
    print("| noise | SNR dB | median estimate | 10th-90th percentile | under threshold |")
    print("|---|---|---|---|---|")
    seconds = spent = 0.0
    for kind, snr in conditions(snrs):
        est = []
        for m in mixers:
            for x in m.noisy(kind, snr):
                t = time.perf_counter()
                est.append(estimate_snr(x, SR))
                spent += time.perf_counter() - t
                seconds += len(x) / SR
        est = np.array(est)
        lo, med, hi = np.percentile(est, [10, 50, 90])
        print(f"| {kind} | {snr:g} | {med:.1f} | {lo:.1f} to {hi:.1f} | "
              f"{100 * np.mean(est < LOW_SNR_DB):.0f} % |", flush=True)
    print(f"speed: {1000 * spent / seconds:.2f} ms per second of audio")


def corpus(root: Path) -> None:
    from emovc.audio import load_audio, trim_silence
    from emovc.audio.noise import LOW_SNR_DB, estimate_snr

    print(f"\nestimate_snr on the clean corpora (warning threshold {LOW_SNR_DB:g} dB)")
    print("| corpus | clips | min | 1st pct | 5th pct | median | under threshold |")
    print("|---|---|---|---|---|---|---|")
    sets = {"ravdess16k": "Actor_*/*.flac", "vctk4": "p*/*.flac", "librispeech-clips": "*.flac",
            # without pauses, the weakest speech sets the floor: the estimator's hard case
            "ravdess16k, 17-20 cut to speech": "Actor_*/*.flac"}
    lowest = []
    for name, pattern in sets.items():
        files = sorted((root / name.split(",")[0]).glob(pattern))
        cut = trim_silence if "cut" in name else (lambda x, sr: x)
        if "cut" in name:
            files = [f for f in files if f.parent.name[-2:] in ACTORS]
        if not files:
            continue
        est = np.array([estimate_snr(cut(load_audio(f, SR), SR), SR) for f in files])
        lowest += [(v, f, name) for v, f in sorted(zip(est, files, strict=True))[:3]]
        p = np.percentile(est, [1, 5, 50])
        print(f"| {name} | {len(files)} | {est.min():.1f} | {p[0]:.1f} | {p[1]:.1f} | "
              f"{p[2]:.1f} | {int(np.sum(est < LOW_SNR_DB))} |", flush=True)
    for v, f, name in sorted(lowest, key=lambda t: t[0])[:6]:
        print(f"  lowest: {v:.1f} dB {f.relative_to(root)} ({name})")


def held_vowel(f0: float, swing: float, seconds: float = 3.0, vibrato: float = 0.02,
               rate: float = 5.0) -> np.ndarray:
    """A clean held vowel at 16 kHz: harmonics of ``f0`` up to 7.5 kHz (falling 6 dB per
    octave) with a vibrato of ``vibrato`` (share of F0) at ``rate`` Hz and a level swing of
    ``swing`` (0-1, of the amplitude) at 3 Hz."""
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + vibrato * np.sin(2 * np.pi * rate * t))) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, int(7500 / f0)))
    x *= 1 + swing * np.sin(2 * np.pi * 3 * t)
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def world_vowel(take: np.ndarray, seed: int, seconds: float = 3.0) -> np.ndarray:
    """A real voice's vowel held: the WORLD envelope and aperiodicity of the take's strongest
    voiced frame (the mean of 35 ms around it; voiced: an F0, and D4C's aperiodicity below
    0.5 on average, which leaves out breathy onsets), at its F0 with 1.5 % vibrato at
    5.5 Hz and 1 % slow jitter, and a 5 % level swing at 3 Hz."""
    from emovc.features.world import WorldConfig, analyze, synthesize

    cfg, rng = WorldConfig(f0_method="harvest"), np.random.default_rng(seed)
    w = analyze(take, cfg)
    i = int(np.argmax(w.sp.sum(axis=1) * (w.f0 > 0) * (w.ap.mean(axis=1) < 0.5)))
    near = slice(max(0, i - 3), i + 4)
    n = int(seconds * 1000 / cfg.frame_period)
    t = np.arange(n) * cfg.frame_period / 1000
    jitter = np.convolve(rng.standard_normal(n), np.ones(8) / 8, "same") * 0.01
    f0 = np.median(w.f0[near][w.f0[near] > 0]) * (1 + 0.015 * np.sin(2 * np.pi * 5.5 * t)
                                                   + jitter)
    level = (1 + 0.05 * np.sin(2 * np.pi * 3 * t)) ** 2
    y = synthesize(f0, np.outer(level, w.sp[near].mean(axis=0)),
                   np.tile(w.ap[near].mean(axis=0), (n, 1)), cfg)
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


def tone(f: float, square: bool = False, seconds: float = 3.0) -> np.ndarray:
    """A test tone: a sine (or a square wave) of ``f`` Hz at 16 kHz."""
    x = np.sin(2 * np.pi * f * np.arange(int(seconds * SR)) / SR)
    return (0.3 * (np.sign(x) if square else x)).astype(np.float32)


def periodic_noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of unit-RMS periodic noise at 16 kHz: ``buzz F`` (29 harmonics of F Hz at
    1/k, the review's), ``hum F`` (mains: 20 harmonics of F Hz, the odd ones at 1/k, the even
    at 0.4/k), ``full buzz F`` (every harmonic of F up to 7.9 kHz at 1/k, a sawtooth) or
    ``engine``, ``engine + roar`` (a 70 Hz firing rate drifting ±3 % at 0.2 Hz, 40 harmonics
    falling 9 dB per octave, a 20 % level swing at 1.3 Hz; + roar: pink noise 10 dB under it).
    Phases are random."""
    t = np.arange(n) / SR

    def harmonics(phase, amps):
        return sum(a * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
                   for k, a in enumerate(amps, start=1))

    if kind.startswith("engine"):
        rate = 70.0 * (1 + 0.03 * np.sin(2 * np.pi * 0.2 * t + rng.uniform(0, 2 * np.pi)))
        x = harmonics(2 * np.pi * np.cumsum(rate) / SR, [k ** -1.5 for k in range(1, 41)])
        x *= 1 + 0.2 * np.sin(2 * np.pi * 1.3 * t)
        x /= np.sqrt(np.mean(x ** 2))
        if kind.endswith("roar"):
            x = x + 10 ** (-10 / 20) * make_noise("pink", n, rng, [])
    else:
        f0 = float(kind.split()[-1])
        amps = ([1 / k for k in range(1, 30)] if kind.startswith("buzz") else
                [(1.0 if k % 2 else 0.4) / k for k in range(1, 21)] if kind.startswith("hum")
                else [1 / k for k in range(1, int(7900 / f0) + 1)])
        x = harmonics(2 * np.pi * f0 * t, amps)
    return x / np.sqrt(np.mean(x ** 2))


PERIODIC = ("buzz 100", "buzz 120", "buzz 150", "hum 50", "hum 60", "engine", "engine + roar",
            "full buzz 100")


def steady(mixers: list[Mixer]) -> None:
    from emovc.audio.noise import MAX_CHANGING_WINDOWS, band_powers, estimate_snr, window_changes
    from emovc.audio.voicing import periodic_share

    print("\nsteady sounds against noise alone and speech drowned in it")
    print("| sound | noise | periodic share | change (dB) | estimates |")
    print("|---|---|---|---|---|")

    def row(sound: str, noise: str, wavs: list[np.ndarray]) -> None:
        share = np.array([periodic_share(x, SR) for x in wavs])
        change = np.array([np.sort(window_changes(band_powers(x)))[-MAX_CHANGING_WINDOWS]
                           for x in wavs])  # the one that decides: MAX_CHANGING_WINDOWS-th most
        est = np.array([estimate_snr(x, SR) for x in wavs])
        ok = est[np.isfinite(est)]
        told = f"{ok.min():.1f} to {ok.max():.1f} dB" if ok.size else ""
        nan = f"{np.isnan(est).sum()} of {len(est)} n/a"
        print(f"| {sound} | {noise} | {share.min():.3f} to {share.max():.3f} | "
              f"{change.min():.1f} to {change.max():.1f} | "
              + "; ".join(t for t in (nan, told) if t) + " |", flush=True)

    def noisy(wavs: list[np.ndarray], snr: float) -> list[np.ndarray]:
        return [mix(v, make_noise("white", len(v), rng, []), snr) for v in wavs]

    rng = np.random.default_rng(0)
    for swing in (0.0, 0.1, 0.3, 0.5):
        vowels = [held_vowel(f0, swing) for f0 in (110.0, 140.0, 220.0)]
        row(f"held vowels, ±{100 * swing:.0f} % level", "none", vowels)
        for snr in (40, 20, 0):
            row(f"held vowels, ±{100 * swing:.0f} % level", f"white, {snr} dB",
                noisy(vowels, snr))
    for vibrato in (0.01, 0.03, 0.05):  # a soprano's harmonics sweep across whole bands
        notes = [held_vowel(f0, 0.2, vibrato=vibrato, rate=5.5)
                 for f0 in (330.0, 440.0, 523.0, 660.0, 784.0, 880.0, 1047.0)]
        for snr in (None, 40):
            row(f"sung notes 330-1047 Hz, {100 * vibrato:.0f} % vibrato",
                f"white, {snr} dB" if snr else "none", noisy(notes, snr) if snr else notes)
    vowels = [world_vowel(x, i) for i, x in enumerate(mixers[0].clean)]
    for snr in (None, 40, 20):
        row(f"{len(vowels)} RAVDESS vowels held (WORLD)", f"white, {snr} dB" if snr else "none",
            noisy(vowels, snr) if snr else vowels)
    tones = [tone(f) for f in (100.0, 440.0, 1000.0, 3000.0)] + [tone(f, True) for f in (100.0,
                                                                                        200.0)]
    row("tones: sines 100-3000 Hz, squares 100, 200 Hz", "none", tones)
    row("tones: sines 100-3000 Hz, squares 100, 200 Hz", "white, 40 dB", noisy(tones, 40))
    takes = [(m, i) for m in mixers for i in range(len(m.clean))]
    for kind in KINDS:
        row(f"{kind} noise alone", kind, [m.noise[kind][i].astype(np.float32) * 0.05
                                          for m, i in takes])
        for snr in (-5, -10):
            row(f"{len(takes)} takes", f"{kind}, {snr} dB", [x for m in mixers
                                                             for x in m.noisy(kind, snr)])
    for kind in PERIODIC:
        noise = [periodic_noise(kind, len(m.clean[i]), np.random.default_rng([j, i]))
                 for j, (m, i) in enumerate(takes)]
        row(f"{kind} alone", kind, [(0.05 * n).astype(np.float32) for n in noise])
        for snr in (-10, -5, 0):
            row(f"{len(takes)} takes", f"{kind}, {snr} dB",
                [mix(m.clean[i], n, snr) for (m, i), n in zip(takes, noise, strict=True)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=ENV_HELP)
    ap.add_argument("--data", type=Path, default=data_root(),
                    help="data root holding ravdess16k, librispeech-clips (and vctk4)")
    parts = ["degradation", "judge", "estimator", "corpus", "steady"]
    ap.add_argument("--parts", nargs="+", default=parts, choices=parts)
    ap.add_argument("--snrs", nargs="+", type=float, default=[30, 20, 15, 10, 5],
                    help="SNRs in dB over active speech")
    ap.add_argument("--clips", type=int, default=24, help="calm takes converted")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    for folder in ("ravdess16k", "librispeech-clips"):
        why = missing(args.data / folder)
        if why:
            print(f"skipped: {why}")
            return 0
    warnings.filterwarnings("ignore")  # may-not-be-speech warnings on the noisiest mixes
    ravdess = args.data / "ravdess16k"
    talkers = babble_sources(args.data / "librispeech-clips")
    calm = Mixer(calm_takes(ravdess, args.clips), talkers, args.seed)
    files = ser_takes(ravdess)
    ser = Mixer(files, talkers, args.seed + 1)
    ser_labels = [EMOTIONS[f.stem.split("-")[2]] for f in files]
    if "degradation" in args.parts:
        degradation(calm, ser, ser_labels, args.snrs)
    if "judge" in args.parts:
        judge(calm, args.snrs)
    if "estimator" in args.parts:
        estimator([calm, ser], args.snrs)
    if "corpus" in args.parts:
        corpus(args.data)
    if "steady" in args.parts:
        steady([calm, ser])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
