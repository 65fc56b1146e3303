"""Which references of a voice clone are another speaker? Tuning and testing the warning.

``VoiceCloner`` warns when its references may be of several people
(:mod:`emovc.pipelines.clone_speakers`). This script measures that check on real speech of
``../shared/data``, as the cloner sees it (each clip prepared as a reference: VAD-trimmed,
loudness-normalised; embedded with the bundled encoder):

- LibriSpeech (``librispeech-clips``, 251 speakers, genders in ``speakers.tsv``): each
  speaker's clip cut into 3 s pieces of speech (a last piece of 2-3 s kept);
- VCTK (``vctk4``: p225 F, p226 M, p227 M, p228 F): whole clips;
- RAVDESS (``ravdess16k``, actors 01-20, odd male, even female): whole clips, every emotion
  and intensity — one actor's emotional takes differ the most.

Reference sets of 2 and 3 clips are drawn (seeded) within one corpus: *same speaker* (3
clips of one speaker; with 2, the first two), *cross-gender* (the same first clip(s), the
last replaced by a clip of a speaker of the other gender) and *same-gender* mixes (another
speaker of the same gender). The speakers are split into a tuning and a test half (every
other LibriSpeech speaker by id within each gender; RAVDESS actors 01-10 / 11-20; VCTK
p225+p226 / p227+p228). On the tuning half the script

1. fits the male-female axis (the difference of the mean embeddings of the female and the
   male LibriSpeech speakers, each speaker's pieces averaged first, scaled so the two means
   lie 2 apart; ``--save-axis`` writes it, as shipped in
   ``src/emovc/pretrained/speaker-axes/gender.npy``);
2. tunes each rule: the lowest cross-gender miss rate with at most ``--max-false-alarm``
   (1 %) of the same-speaker sets of each corpus group (RAVDESS; LibriSpeech + VCTK)
   flagged, then (within 0.5 points of that miss rate) the most same-gender mixes caught.

Rules: the one before (cosine below 0.5), a higher similarity threshold alone, similarity
plus a median-F0 difference (DIO, semitones) and similarity plus the male-female axis (the
shipped rule's form). The test half's rates are printed for each, and for the shipped
defaults (``MixedCheck()`` with the shipped axis). Used in docs/cloning.md ("Mixed
references").

    .venv/bin/python benchmarks/diag_mixed_references.py [--seed 0] [--save-axis PATH]
        [--cache .cache/diag_mixed_references.npz]

The embeddings take ~7 min on 2 busy cores and are cached (``--cache``; delete it after
changing the data or the reference preparation).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from _data import ENV_HELP, ROOT, data_dir, require

from emovc.audio import load_audio
from emovc.errors import AudioError
from emovc.features.world import WorldConfig, analyze_f0
from emovc.pipelines.clone_refs import prepare_reference
from emovc.pipelines.clone_speakers import MixedCheck, gender_axis
from emovc.pipelines.speaker import SpeakerEncoder

SR = 16000
PIECE_S, MIN_PIECE_S = 3.0, 2.0
CORPORA = ("libri", "vctk", "ravdess")
DRAWS = {"libri": 4, "vctk": 50, "ravdess": 50}  # same-speaker draws per speaker
OLD = MixedCheck(min_similarity=0.5, max_axis_gap=np.inf)  # the rule before


def items(cache: Path) -> dict[str, np.ndarray]:
    """Per reference-like clip: corpus, speaker, gender, emotion (RAVDESS), embedding and
    median F0 (semitones re 100 Hz); read from ``cache`` when it exists."""
    if cache.is_file():
        with np.load(cache) as z:
            return dict(z)
    torch.set_num_threads(1)
    encoder, rows = SpeakerEncoder.from_pretrained(), []

    def add(corpus: str, speaker: str, gender: str, path: Path, emotion: str = "") -> None:
        try:
            wav = prepare_reference(load_audio(path, SR), SR, name=path.name)
        except AudioError as exc:
            print(f"left out: {exc}", file=sys.stderr)
            return
        step, least = int(PIECE_S * SR), int(MIN_PIECE_S * SR)
        pieces = ([wav[i:i + step] for i in range(0, len(wav) - least + 1, step)]
                  if corpus == "libri" else [wav])
        for piece in pieces:
            f0, _ = analyze_f0(piece, WorldConfig())
            voiced = f0[f0 > 0]
            rows.append((corpus, speaker, gender, emotion, encoder.embed(piece, SR),
                         12 * np.log2(np.median(voiced) / 100) if len(voiced) else np.nan))

    libri = data_dir("librispeech-clips")
    for r in csv.DictReader(open(libri / "speakers.tsv"), delimiter="\t"):
        add("libri", r["speaker"], r["gender"], libri / r["file"])
    vctk = data_dir("vctk4")
    genders = {r["speaker"]: r["gender"]
               for r in csv.DictReader(open(vctk / "speakers.tsv"), delimiter="\t")}
    for f in sorted(vctk.glob("p*/*.flac")):
        add("vctk", f.parent.name, genders[f.parent.name], f)
    for f in sorted(data_dir("ravdess16k").glob("Actor_*/*.flac")):
        actor, emotion = int(f.stem.split("-")[6]), f.stem.split("-")[2]
        add("ravdess", f"{actor:02d}", "M" if actor % 2 else "F", f, emotion)
    columns = zip(*rows, strict=True)
    out = {k: np.array(v) for k, v in zip(
        ("corpus", "speaker", "gender", "emotion", "embedding", "f0"), columns, strict=True)}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **out)
    return out


def tuning_half(d: dict[str, np.ndarray]) -> np.ndarray:
    """Whether each clip's speaker is in the tuning half (module docstring)."""
    libri = {g: sorted({s for s, c, x in zip(d["speaker"], d["corpus"], d["gender"], strict=True)
                        if c == "libri" and x == g}, key=int) for g in "MF"}
    tune = {s for g in "MF" for s in libri[g][::2]}
    return np.array([s in tune if c == "libri" else int(s) <= 10 if c == "ravdess"
                     else s in ("p225", "p226")
                     for c, s in zip(d["corpus"], d["speaker"], strict=True)])


def fit_axis(d: dict[str, np.ndarray], tune: np.ndarray) -> np.ndarray:
    """The male-female axis ``(D,)`` from the tuning half's LibriSpeech speakers."""
    means = defaultdict(list)
    for i in np.flatnonzero(tune & (d["corpus"] == "libri")):
        means[(d["gender"][i], d["speaker"][i])].append(d["embedding"][i])
    female, male = (np.mean([np.mean(v, 0) for (g, _), v in means.items() if g == x], 0)
                    for x in "FM")
    w = female - male
    return (w / (w @ w / 2)).astype(np.float32)


def draw_sets(d: dict[str, np.ndarray], half: np.ndarray, seed: int,
              ) -> dict[tuple[str, str], np.ndarray]:
    """``{(corpus, kind): (n, k) clip indices}`` with kinds ``same2``/``same3``,
    ``cross2``/``cross3`` and ``samegender2``/``samegender3`` (module docstring)."""
    rng = np.random.default_rng(seed)
    sets: dict[tuple[str, str], list] = defaultdict(list)
    for corpus in CORPORA:
        clips = defaultdict(list)
        for i in np.flatnonzero(half & (d["corpus"] == corpus)):
            clips[d["speaker"][i]].append(i)
        gender = {s: d["gender"][v[0]] for s, v in clips.items()}
        for s, own in clips.items():
            if len(own) < 3:
                continue
            for _ in range(DRAWS[corpus]):
                a, b, c = rng.choice(own, 3, replace=False)
                sets[(corpus, "same3")].append((a, b, c))
                sets[(corpus, "same2")].append((a, b))
                for kind, same in (("cross", False), ("samegender", True)):
                    pool = [o for o in clips if o != s and (gender[o] == gender[s]) == same]
                    if pool:
                        other = rng.choice(clips[pool[rng.integers(len(pool))]])
                        sets[(corpus, f"{kind}3")].append((a, b, other))
                        sets[(corpus, f"{kind}2")].append((a, other))
    return {k: np.array(v) for k, v in sets.items()}


def measures(d, sets, axis) -> dict:
    """Per set kind: ``(similarity, axis gap, F0 difference)``, each ``(n, k)``: every clip
    of a set against the others."""
    out = {}
    for key, idx in sets.items():
        sims, gaps = MixedCheck().measure(d["embedding"][idx], axis)
        f0 = d["f0"][idx]
        k = idx.shape[1]
        rest = np.stack([np.median(np.delete(f0, i, axis=1), axis=1) for i in range(k)], 1)
        out[key] = (sims, gaps, np.abs(f0 - rest))
    return out


def rates(m: dict, rule) -> dict:
    """``{(corpus, kind): share of sets flagged}`` by ``rule(sims, gaps, df) -> (n, k)``."""
    return {key: float(rule(*v).any(axis=1).mean()) for key, v in m.items()}


def summary(r: dict) -> tuple[float, float, float, float]:
    """(false alarms RAVDESS, false alarms LibriSpeech + VCTK, cross-gender miss rate,
    same-gender mixes caught), means over the set sizes (and corpora)."""
    def mean(corpora, kinds):
        return float(np.mean([r[(c, k)] for c in corpora for k in kinds if (c, k) in r]))
    return (mean(["ravdess"], ["same2", "same3"]), mean(["libri", "vctk"], ["same2", "same3"]),
            1 - mean(CORPORA, ["cross2", "cross3"]), mean(CORPORA, ["samegender2",
                                                                     "samegender3"]))


def check_rule(check: MixedCheck):
    return lambda sims, gaps, df: check.flags(sims, gaps)[0]


def f0_rule(t1: float, t2: float, semitones: float):
    return lambda sims, gaps, df: (sims < t1) | ((sims < t2) & (df > semitones))


def tune(m: dict, grid: dict, max_fa: float) -> tuple[tuple, tuple, bool]:
    """The best ``(parameters, summary, within the false alarms)`` of ``grid``
    (``{parameters: rule}``) on ``m``; when none is within ``max_fa``, the one with the
    fewest false alarms (then the fewest misses)."""
    scored = [(p, summary(rates(m, rule))) for p, rule in grid.items()]
    ok = [(p, s) for p, s in scored if max(s[0], s[1]) <= max_fa]
    if not ok:
        return (*min(scored, key=lambda x: (max(x[1][0], x[1][1]), x[1][2])), False)
    best = min(s[2] for _, s in ok)
    return (*max((x for x in ok if x[1][2] <= best + 0.005), key=lambda x: x[1][3]), True)


def table(name: str, r: dict) -> str:
    """One row per corpus: false alarms (same speaker), misses (cross-gender), same-gender
    mixes caught; 2 and 3 references."""
    def pct(c: str, kind: str) -> str:
        return " / ".join(f"{100 * r[(c, f'{kind}{k}')]:5.1f}" if (c, f"{kind}{k}") in r
                          else "    -" for k in (2, 3))

    lines = []
    for c in CORPORA:
        miss = " / ".join(f"{100 * (1 - r[(c, f'cross{k}')]):5.1f}" for k in (2, 3))
        lines.append(f"{name:<47} {c:<8} false alarm {pct(c, 'same')} %  cross-gender missed "
                     f"{miss} %  same-gender caught {pct(c, 'samegender')} %")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=ENV_HELP)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-false-alarm", type=float, default=0.01)
    ap.add_argument("--save-axis", type=Path, help="write the fitted axis (.npy)")
    ap.add_argument("--cache", type=Path, default=ROOT / ".cache" / "diag_mixed_references.npz")
    args = ap.parse_args(argv)
    require(data_dir("librispeech-clips"), pattern="*.flac")
    require(data_dir("vctk4"), pattern="p*/*.flac")
    require(data_dir("ravdess16k"), pattern="Actor_*/*.flac")
    d = items(args.cache)
    half = tuning_half(d)
    axis = fit_axis(d, half)
    if args.save_axis:
        np.save(args.save_axis, axis)
    shipped = gender_axis()
    print(f"{len(d['corpus'])} clips; axis fitted on {int((half & (d['corpus'] == 'libri')).sum())}"
          f" LibriSpeech pieces; largest difference from the shipped axis "
          f"{np.abs(axis - shipped).max():.2g} (norm {np.linalg.norm(axis):.3f})")
    print("pairs of clips, all speakers (cosine; median F0 difference in semitones):")
    for corpus in CORPORA:
        idx = np.flatnonzero(d["corpus"] == corpus)
        e, f0 = d["embedding"][idx], d["f0"][idx]
        upper = np.triu_indices(len(idx), 1)
        cos, df = (e @ e.T)[upper], np.abs(f0[:, None] - f0[None])[upper]
        spk, gen = d["speaker"][idx], d["gender"][idx]
        same = (spk[:, None] == spk[None])[upper]
        same_gender = (gen[:, None] == gen[None])[upper]
        for name, m in (("same speaker", same), ("same gender", ~same & same_gender),
                        ("cross-gender", ~same_gender)):
            print(f"  {corpus:<8} {name:<13} {int(m.sum()):>7} pairs: cosine 5/50/95 % "
                  f"{' / '.join(f'{q:.2f}' for q in np.percentile(cos[m], [5, 50, 95]))}, "
                  f"{100 * (cos[m] < 0.5).mean():.1f} % below 0.5; F0 difference 50/95 % "
                  f"{' / '.join(f'{q:.1f}' for q in np.nanpercentile(df[m], [50, 95]))}")
    tuning = measures(d, draw_sets(d, half, args.seed), axis)
    test_sets = draw_sets(d, ~half, args.seed + 1)
    test = measures(d, test_sets, axis)
    print("test sets:", ", ".join(f"{c} {k} {len(v)}" for (c, k), v in test_sets.items()))
    sims = [round(float(t), 2) for t in np.arange(0.40, 0.705, 0.01)]
    gaps = [round(float(g), 2) for g in np.arange(0.8, 1.21, 0.05)]
    guards = (0.7, 0.75, 0.8, 1.01)
    grids = {
        "similarity alone": {(t,): check_rule(MixedCheck(t, max_axis_gap=np.inf))
                             for t in sims},
        "similarity + F0 difference": {
            (t1, t2, st): f0_rule(t1, t2, st) for t1 in sims[:11] for t2 in guards
            for st in (4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18)},
        "similarity + male-female axis": {
            (t1, t2, gap): check_rule(MixedCheck(t1, t2, gap)) for t1 in sims[:11]
            for t2 in guards for gap in gaps},
    }
    print(f"\ntuning half (at most {100 * args.max_false_alarm:g} % false alarms per corpus "
          "group): false alarms RAVDESS, LibriSpeech+VCTK; cross-gender missed; same-gender "
          "caught")
    print(f"{'before (similarity < 0.5)':<34} "
          + "  ".join(f"{100 * x:.1f} %" for x in summary(rates(tuning, check_rule(OLD)))))
    chosen = {}
    for name, grid in grids.items():
        params, s, ok = tune(tuning, grid, args.max_false_alarm)
        chosen[name] = params
        print(f"{name:<34} {params}: " + "  ".join(f"{100 * x:.1f} %" for x in s)
              + ("" if ok else "  (none within the false alarms: the fewest)"))
    print("\ntest half (2 / 3 references):")
    print(table("before (similarity < 0.5)", rates(test, check_rule(OLD))))
    for name, params in chosen.items():
        print(table(f"{name} {params}", rates(test, grids[name][params])))
    shipped_test = {k: MixedCheck().measure(d["embedding"][v]) for k, v in test_sets.items()}
    r = {k: float(MixedCheck().flags(*v)[0].any(axis=1).mean()) for k, v in shipped_test.items()}
    print(table("shipped MixedCheck()", r))
    emotional = test_sets[("ravdess", "same3")]
    three = np.array([len(set(d["emotion"][s])) == 3 for s in emotional])
    flagged = MixedCheck().flags(*shipped_test[("ravdess", "same3")])[0].any(axis=1)
    print(f"shipped rule, RAVDESS test sets of 3 different emotions of one actor: "
          f"{100 * flagged[three].mean():.1f} % flagged ({int(three.sum())} sets); before: "
          f"{100 * check_rule(OLD)(*test[('ravdess', 'same3')])[three].any(axis=1).mean():.1f} %")


if __name__ == "__main__":
    main()
