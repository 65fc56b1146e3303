"""Experiment: does emotion-converted speech make a speech emotion recogniser (SER) better?

Reproduces the augmentation claim on RAVDESS (see docs/augmentation.md)::

    .venv/bin/python benchmarks/exp_augmentation.py --model m2m-ravdess --groups 0,1,2

1. **Convert** (cached, resumable): for each group of 4 training actors (2 male, 2 female,
   from actors 01-16) a symlink "view" of their neutral and calm (normal-intensity) clips is
   converted into the six other emotions with :func:`emovc.pipelines.augment.augment_corpus`
   (``<cache>/<model tag>/g<k>/manifest.csv``).
2. **Features** (cached): openSMILE functionals of every clip with the SER feature cache
   (real clips reuse ``.cache/ser``; WORLD resyntheses are the vocoder-only control).
3. **Train/test** the SER linear method (:func:`emovc.training.ser.fit_model`,
   ``method="linear"``: openSMILE functionals (eGeMAPS by default, ``--feature-set compare``
   for ComParE) + logistic regression, utterance- and speaker-normalised heads; or, with
   ``--method cnn``, the SER log-mel CNN, which has the utterance mode only) under
   several conditions, always tested on the real clips of actors 17-20 (never trained on,
   never converted):

   - ``low-resource``: per seed, 2 male + 2 female actors drawn from the converted groups;
     all their real clips (240) vs. the same + converted copies;
   - ``imbalanced``: all actors of the converted groups; neutral and calm clips kept, each
     other emotion reduced to ``--rare-keep`` random take(s) per actor; vs. the same +
     converted copies (neutral/calm → the rare emotions).

   Conditions: ``real``, ``real+world`` (WORLD resynthesis of the real clips: a control for
   "any vocoded copy helps"), ``real+conv``, ``real+world+conv``; in the imbalanced setting
   also ``real+oversample`` (real clips of small classes repeated up to the largest class)
   and ``real+oversample+conv``. ``+fconv`` variants add only the *filtered* converted
   clips: those that a recogniser fitted on the same real clips (same condition without
   converted data) already labels as their target emotion (recogniser-based selection of
   synthetic data). ``+xconv`` variants (with ``--extra-corpus``) add *other speakers*
   instead: an unlabelled corpus of many voices (e.g. LibriSpeech clips, taken as
   ``--extra-from`` neutral) converted into the seven other emotions, plus the WORLD copies of
   its clips under the source emotion; per seed ``--extra-clips`` random source clips.
   ``real+xworld`` is its control: the same WORLD copies of those clips, without conversions.
   ``real+xshuf`` is the control for the conversions' emotion: the clips of ``real+xconv``
   (same audio, count and class counts) with the converted clips' emotion labels permuted
   among them (a fixed permutation per seed; a clip keeps its own label only by chance), so
   ``real+xconv`` vs ``real+xshuf`` differ only in whether the labels match the conversions,
   not in voices, number of clips or class mix.
4. Reports mean ± std over seeds of unweighted accuracy (UA, mean per-class recall) and
   macro-F1, and paired per-seed differences with a paired t-test and a two-sided sign test.
   Results are written to
   ``<cache>/<model tag>/results-<feature set, or cnn>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _data import ENV_HELP, data_dir

from emovc.data.catalogs import catalog_corpus
from emovc.data.emotions import EMOTIONS
from emovc.models.ser.cache import corpus_features
from emovc.models.ser.features import SerFeatureConfig
from emovc.pipelines.augment import augment_corpus, read_augmented_manifest
from emovc.training.ser import build_config, evaluate, fit_model

ROOT = Path(__file__).resolve().parents[1]
DATA = data_dir("ravdess16k")
TEST_ACTORS = ("17", "18", "19", "20")
GROUPS = (("01", "03", "02", "04"), ("05", "07", "06", "08"),
          ("09", "11", "10", "12"), ("13", "15", "14", "16"))  # (M, M, F, F) each
TARGETS = ("happy", "sad", "angry", "fearful", "disgust", "surprised")
CONDITIONS = ("real", "real+world", "real+conv", "real+world+conv", "real+fconv",
              "real+world+fconv", "real+xworld", "real+xconv", "real+xshuf", "real+world+xconv")
CONVERTED = {"conv", "fconv", "xconv", "xshuf"}  # condition parts that add converted clips
EXTRA = {"xconv", "xshuf", "xworld"}  # parts that add the extra corpus's WORLD copies


def parts(condition: str) -> set[str]:
    """The ``+``-separated parts of a condition name (``real+xworld`` has no ``world``)."""
    return set(condition.split("+"))
IMBALANCED_CONDITIONS = ("real", "real+oversample", *CONDITIONS[1:], "real+oversample+conv",
                         "real+oversample+fconv")
COMPARISONS = (("real", "real+conv"), ("real+world", "real+world+conv"), ("real", "real+world"),
               ("real", "real+fconv"), ("real+world", "real+world+fconv"),
               ("real+oversample", "real+conv"), ("real+oversample", "real+oversample+conv"),
               ("real+oversample", "real+oversample+fconv"), ("real", "real+xconv"),
               ("real+world", "real+world+xconv"), ("real", "real+xworld"),
               ("real+xworld", "real+xconv"), ("real", "real+xshuf"),
               ("real+xworld", "real+xshuf"), ("real+xshuf", "real+xconv"))
METRICS = ("unweighted_accuracy", "macro_f1")
MODES = ("utterance", "speaker")


# ------------------------------------------------------------------ conversion
def source_clips(manifest, actors) -> list:
    """Neutral clips and normal-intensity calm clips of ``actors`` (8 per actor)."""
    return [u for u in manifest if u.speaker in actors and
            (u.emotion == "neutral" or (u.emotion == "calm" and u.intensity == "normal"))]


def make_view(clips, view: Path) -> Path:
    """A RAVDESS-layout folder of symlinks to ``clips`` (the corpus itself is untouched)."""
    for u in clips:
        link = view / f"Actor_{u.speaker}" / Path(u.path).name
        if not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(u.path)
    return view


def convert_groups(manifest, groups: list[int], model: str, out: Path, workers: int) -> None:
    for k in groups:
        t0 = time.time()
        view = make_view(source_clips(manifest, GROUPS[k]), out / "views" / f"g{k}")
        report = augment_corpus(view, out / f"g{k}", TARGETS, model=model, workers=workers,
                                progress=False)
        print(f"group {k} {GROUPS[k]}: {report.summary()} ({time.time() - t0:.0f} s)",
              flush=True)


def convert_extra(corpus: Path, source: str, model: str, out: Path, workers: int) -> None:
    """Every clip of the unlabelled ``corpus`` (taken as ``source``) into the other emotions."""
    t0 = time.time()
    targets = [e for e in EMOTIONS if e != source]
    report = augment_corpus(corpus, extra_dir(out, corpus), targets, model=model,
                            workers=workers, progress=False, source=source)
    print(f"extra corpus {corpus.name}: {report.summary()} ({time.time() - t0:.0f} s)",
          flush=True)


def extra_dir(out: Path, corpus: Path) -> Path:
    return out / f"extra-{corpus.name}"


def extra_rows(out: Path, corpus: Path) -> list[dict]:
    """Converted rows of the extra corpus (each with its ``source_path``)."""
    return converted_rows(extra_dir(out, corpus))


def extra_subset(rows: list[dict], seed: int, n: int) -> list[dict]:
    """The converted rows of ``n`` source clips drawn at random (per seed)."""
    sources = sorted({r["source_path"] for r in rows})
    rng = np.random.default_rng(2000 + seed)
    keep = set(rng.choice(sources, min(n, len(sources)), replace=False))
    return [r for r in rows if r["source_path"] in keep]


def shuffled_labels(rows: list[dict], seed: int) -> list[dict]:
    """``rows`` with their ``emotion`` labels permuted among them (fixed per ``seed``): the
    same clips and class counts, without the conversions' emotion information."""
    order = np.random.default_rng(3000 + seed).permutation(len(rows))
    return [r | {"emotion": rows[i]["emotion"]} for r, i in zip(rows, order, strict=True)]


def converted_rows(folder: Path) -> list[dict]:
    """The synthetic rows of an ``augment_corpus`` output folder's manifest."""
    path = folder / "manifest.csv"
    if not path.is_file():
        sys.exit(f"missing {path}: run with --stage convert first")
    return [r for r in read_augmented_manifest(path) if r["synthetic"] == "1"]


def synthetic_rows(out: Path, groups: list[int]) -> list[dict]:
    return [r for k in groups for r in converted_rows(out / f"g{k}")]


# ------------------------------------------------------------------ features + SER
class Features:
    """Cached clip features: real (original / world variant) and converted clips."""

    def __init__(self, ser_cache: Path, conv_cache: Path, workers: int):
        self.cfg, self.ser_cache, self.conv_cache = SerFeatureConfig(), ser_cache, conv_cache
        self.workers, self._memo = workers, {}

    def get(self, paths: list[str], variant: str = "original", synthetic: bool = False):
        cache = self.conv_cache if synthetic else self.ser_cache
        missing = [p for p in paths if (p, variant) not in self._memo]
        if missing:
            feats = corpus_features(missing, self.cfg, variant, cache, self.workers, False)
            self._memo.update({(p, variant): f for p, f in zip(missing, feats, strict=True)})
        return [self._memo[(p, variant)] for p in paths]


def fit(feats: Features, real, conv: list[dict], condition: str, seed: int, ser: dict):
    """Fit the SER recipe ``ser`` (:func:`ser_recipe`) on one training condition."""
    labels = tuple(EMOTIONS)
    x = feats.get([u.path for u in real])
    y = [labels.index(u.emotion) for u in real]
    groups = [u.speaker for u in real]
    add = parts(condition)
    if "oversample" in add:  # repeat real clips of small classes up to the largest
        counts = np.bincount(y, minlength=len(labels))
        for c in np.flatnonzero(counts):
            idx = [i for i, v in enumerate(y) if v == c]
            extra = [idx[i % len(idx)] for i in range(counts.max() - counts[c])]
            x += [x[i] for i in extra]
            y += [y[i] for i in extra]
            groups += [groups[i] for i in extra]
    if "world" in add:  # vocoded copies are normalised as their own "speaker"
        x += feats.get([u.path for u in real], "world")
        y += [labels.index(u.emotion) for u in real]
        groups += [f"{u.speaker}/world" for u in real]
    if "fconv" in add:  # keep the clips a real-data recogniser hears as their target
        base, _ = fit(feats, real, [], condition.replace("+fconv", ""), seed, ser)
        conv = filter_converted(base, feats, conv)
    if "xshuf" in add:  # the same clips with the conversions' labels permuted
        conv = shuffled_labels(conv, seed)
    if add & CONVERTED:
        x += feats.get([r["path"] for r in conv], synthetic=True)
        y += [labels.index(r["emotion"]) for r in conv]
        groups += [f"{r['speaker']}/conv" for r in conv]
    if add & EXTRA:  # the other speakers' own (vocoded) clips, in the source emotion
        src = sorted({(r["source_path"], r["source_emotion"], r["speaker"]) for r in conv})
        x += feats.get([p for p, _, _ in src], "world")
        y += [labels.index(e) for _, e, _ in src]
        groups += [f"{s}/world" for _, _, s in src]
    return (fit_model(ser_config(ser, seed), labels, x, np.array(y), np.array(groups), None,
                      progress=False), len(y))


def ser_recipe(args: argparse.Namespace) -> dict:
    """The SER recipe every fit uses: ``--method``, ``--feature-set`` and the ``--data``
    corpus (``data_dir``)."""
    return {"method": args.method, "feature_set": args.feature_set, "data_dir": str(args.data)}


def ser_config(ser: dict, seed: int):
    """The SER training config of one fit of the recipe ``ser`` (:func:`ser_recipe`) with
    ``seed``: built on its ``data_dir``, the ``--data`` corpus."""
    settings = {k: v for k, v in ser.items() if k != "data_dir"}
    return build_config(ser["data_dir"], "", {"seed": seed, **settings})


def filter_converted(model, feats: Features, conv: list[dict]) -> list[dict]:
    """Converted rows whose most probable label under ``model`` (utterance head) is the
    emotion they were converted to."""
    if not conv:
        return conv
    p = model.predict_proba(feats.get([r["path"] for r in conv], synthetic=True))
    keep = np.asarray(p).argmax(1) == np.array([model.labels.index(r["emotion"]) for r in conv])
    return [r for r, k in zip(conv, keep, strict=True) if k]


def train_eval(feats: Features, real, conv: list[dict], condition: str, test, seed: int,
               ser: dict, model=None) -> dict:
    """Fit on one condition (unless ``model`` is given); UA and macro-F1 on the real test
    clips (each norm mode the model has: the CNN has the utterance mode only)."""
    model, n = model or fit(feats, real, conv, condition, seed, ser)
    ty = np.array([model.labels.index(u.emotion) for u in test])
    res = evaluate(model, {"original": feats.get([u.path for u in test])}, ty,
                   np.array([u.speaker for u in test]))
    return {f"{mode}/{m}": res[f"original/{mode}"][m]
            for mode in MODES if f"original/{mode}" in res for m in METRICS} | {"n_train": n}


def reference(feats: Features, manifest, conv_rows: list[dict], test, ser: dict,
              extra: list[dict] | None = None) -> dict:
    """A recogniser trained on all real clips of actors 01-16: its test scores (upper bound)
    and how often it hears a converted clip as the target emotion (conversion accuracy; the
    extra corpus's conversions separately)."""
    from emovc.models.ser.metrics import classification_report

    real = [u for u in manifest if u.speaker not in TEST_ACTORS]
    model, n = fit(feats, real, [], "real", 0, ser)
    out = train_eval(feats, real, [], "real", test, 0, ser, (model, n))
    for key, rows in (("converted_as_target", conv_rows), ("extra_as_target", extra or [])):
        if not rows:
            continue
        p = model.predict_proba(feats.get([r["path"] for r in rows], synthetic=True))
        y = np.array([model.labels.index(r["emotion"]) for r in rows])
        rep = classification_report(y, p, model.labels)
        out[key] = {k: rep[k] for k in ("unweighted_accuracy", "recall")}
    print(f"reference (real 01-16): {out}", flush=True)
    return out


def low_resource_subset(actors: list[str], seed: int) -> tuple[str, ...]:
    rng = np.random.default_rng(seed)
    males = sorted(a for a in actors if int(a) % 2)
    females = sorted(a for a in actors if not int(a) % 2)
    return tuple(sorted([*rng.choice(males, 2, replace=False),
                         *rng.choice(females, 2, replace=False)]))


def imbalanced_subset(train, seed: int, keep: int) -> list:
    """All neutral/calm clips; ``keep`` random take(s) per actor of every other emotion."""
    rng = np.random.default_rng(1000 + seed)
    out = [u for u in train if u.emotion in ("neutral", "calm")]
    for actor in sorted({u.speaker for u in train}):
        for emo in TARGETS:
            takes = sorted((u for u in train if u.speaker == actor and u.emotion == emo),
                           key=lambda u: u.path)
            out += [takes[i] for i in rng.choice(len(takes), keep, replace=False)]
    return out


def run_setting(name, feats, subsets, conv_rows, test, ser: dict,
                conditions=CONDITIONS, extra: tuple[list[dict], int] = ([], 0)) -> list[dict]:
    results = []
    for seed, real in subsets:
        actors = {u.speaker for u in real}
        for cond in conditions:
            uses_extra = bool(parts(cond) & EXTRA)
            conv = (extra_subset(extra[0], seed, extra[1]) if uses_extra
                    else [r for r in conv_rows if r["speaker"] in actors])
            t0 = time.time()
            r = train_eval(feats, real, conv, cond, test, seed, ser)
            r.update(setting=name, seed=seed, condition=cond, actors=sorted(actors),
                     n_real=len(real),
                     n_conv=len(conv) if parts(cond) & CONVERTED else 0)
            results.append(r)
            scores = " ".join(f"{k} {v:.3f}" for k, v in r.items() if "/" in k)
            print(f"{name} seed {seed} {cond:16s} n={r['n_train']:4d} {scores} "
                  f"({time.time() - t0:.0f} s)", flush=True)
    return results


# ------------------------------------------------------------------ statistics
def paired(results: list[dict], setting: str, key: str, base: str, other: str) -> dict:
    """Per-seed differences ``other - base`` with a paired t-test and a sign test."""
    from scipy.stats import binomtest, ttest_rel

    def by_seed(cond):
        return {r["seed"]: r[key] for r in results
                if r["setting"] == setting and r["condition"] == cond}

    a, b = by_seed(base), by_seed(other)
    seeds = sorted(set(a) & set(b))
    d = np.array([b[s] - a[s] for s in seeds])
    out = {"diffs": d.round(4).tolist(), "mean": float(d.mean()), "std": float(d.std(ddof=1))
           if len(d) > 1 else 0.0, "wins": int((d > 0).sum()), "losses": int((d < 0).sum())}
    if len(d) > 1 and d.std() > 0:
        out["t_p"] = float(ttest_rel([b[s] for s in seeds], [a[s] for s in seeds]).pvalue)
    n = out["wins"] + out["losses"]
    out["sign_p"] = float(binomtest(out["wins"], n, 0.5).pvalue) if n else 1.0
    return out


def table(results: list[dict], mode: str) -> str:
    if not any(f"{mode}/macro_f1" in r for r in results):
        return ""
    lines = [f"| setting | condition | n train | UA % ({mode}) | macro-F1 % ({mode}) |",
             "|---|---|---|---|---|"]
    for setting in dict.fromkeys(r["setting"] for r in results):
        for cond in IMBALANCED_CONDITIONS:
            rs = [r for r in results if r["setting"] == setting and r["condition"] == cond]
            if not rs:
                continue
            cells = []
            for m in METRICS:
                v = 100 * np.array([r[f"{mode}/{m}"] for r in rs])
                cells.append(f"{v.mean():.1f} ± {v.std(ddof=1):.1f}")
            n = np.mean([r["n_train"] for r in rs])
            lines.append(f"| {setting} ({len(rs)} seeds) | {cond} | {n:.0f} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines)


def comparisons(results: list[dict]) -> tuple[dict, str]:
    out, lines = {}, ["| setting | metric | comparison | mean diff (pts) | per-seed diffs | "
                      "wins/losses | paired t p | sign p |", "|---|---|---|---|---|---|---|---|"]
    for setting in dict.fromkeys(r["setting"] for r in results):
        for mode in MODES:
            for m in METRICS:
                if not any(f"{mode}/{m}" in r for r in results):
                    continue
                for base, other in COMPARISONS:
                    key = f"{mode}/{m}"
                    p = paired(results, setting, key, base, other)
                    if not p["diffs"]:
                        continue
                    out[f"{setting}|{key}|{other} vs {base}"] = p
                    diffs = ", ".join(f"{100 * d:+.1f}" for d in p["diffs"])
                    lines.append(f"| {setting} | {m} ({mode}) | {other} vs {base} | "
                                 f"{100 * p['mean']:+.1f} | {diffs} | {p['wins']}/{p['losses']} "
                                 f"| {p.get('t_p', float('nan')):.3f} | {p['sign_p']:.3f} |")
    return out, "\n".join(lines)


# ------------------------------------------------------------------ main
def model_tag(model: str) -> str:
    """Cache folder name of a converter: its name, the start of its checkpoint's SHA-256 and
    (from version 2 on) the conversion pipeline's version, so neither an updated model nor an
    updated pipeline reuses another version's conversions."""
    from emovc.pipelines.conversion import KIND_PREFIX, PIPELINE_VERSION
    from emovc.pretrained.registry import resolve, sha256_of

    tag = f"{Path(model).stem}-{sha256_of(resolve(model, KIND_PREFIX))[:10]}"
    return tag if PIPELINE_VERSION == 1 else f"{tag}-p{PIPELINE_VERSION}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=ENV_HELP)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--model", default="m2m-ravdess", help="converter name or checkpoint path")
    ap.add_argument("--tag", default="",
                    help="results folder name (default: model name + checkpoint hash)")
    ap.add_argument("--groups", default="0,1,2", help="actor groups to convert (0-3)")
    ap.add_argument("--stage", choices=("convert", "ser", "all"), default="all")
    ap.add_argument("--seeds", type=int, default=8, help="seeds per setting")
    ap.add_argument("--rare-keep", type=int, default=1,
                    help="takes kept per actor of each non-neutral/calm emotion (imbalanced)")
    ap.add_argument("--feature-set", choices=("egemaps", "compare"), default="egemaps",
                    help="openSMILE functionals of the SER linear method")
    ap.add_argument("--method", choices=("linear", "cnn"), default="linear",
                    help="SER method: functionals + logistic regression, or the log-mel CNN "
                         "(utterance mode only; the filtered-clip conditions are skipped)")
    ap.add_argument("--settings", default="low-resource,imbalanced",
                    help="comma-separated settings to run")
    ap.add_argument("--conditions", default="",
                    help="comma-separated conditions to run (default: all of each setting)")
    ap.add_argument("--extra-corpus", type=Path, default=None,
                    help="an unlabelled corpus of other speakers for the +xconv conditions "
                         "(e.g. ../shared/data/librispeech-clips)")
    ap.add_argument("--extra-from", default="neutral",
                    help="emotion the extra corpus's clips are taken to be spoken in")
    ap.add_argument("--extra-clips", type=int, default=48,
                    help="source clips of the extra corpus drawn per seed (each adds 8 clips)")
    ap.add_argument("--results-suffix", default="",
                    help="appended to the results file name (keeps runs of other conditions)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=ROOT / ".cache" / "augment")
    ap.add_argument("--ser-cache", type=Path, default=ROOT / ".cache" / "ser")
    args = ap.parse_args()
    if not args.data.is_dir():
        sys.exit(f"{args.data} not found (RAVDESS 16 kHz is needed for this experiment)")
    warnings.filterwarnings("ignore")
    import torch

    torch.set_num_threads(1)
    out = args.cache / (args.tag or model_tag(args.model))
    groups = [int(g) for g in args.groups.split(",")]
    manifest = catalog_corpus(args.data, "ravdess")
    wanted = set(args.conditions.split(",")) if args.conditions else None
    need_groups = wanted is None or any(parts(c) & {"conv", "fconv"} for c in wanted)
    if args.stage in ("convert", "all"):
        if need_groups:
            convert_groups(manifest, groups, args.model, out, args.workers)
        if args.extra_corpus:
            convert_extra(args.extra_corpus, args.extra_from, args.model, out, args.workers)
    if args.stage == "convert":
        return
    conv_rows = synthetic_rows(out, groups) if need_groups else []
    xrows = extra_rows(out, args.extra_corpus) if args.extra_corpus else []
    actors = sorted(a for k in groups for a in GROUPS[k])
    train = [u for u in manifest if u.speaker in actors]
    test = [u for u in manifest if u.speaker in TEST_ACTORS]
    feats = Features(args.ser_cache, out / "features", args.workers)
    t0 = time.time()
    feats.get([r["path"] for r in conv_rows + xrows], synthetic=True)  # once, in parallel
    feats.get(sorted({r["source_path"] for r in xrows}), "world")
    print(f"features of {len(conv_rows) + len(xrows)} converted clips: {time.time() - t0:.0f} s",
          flush=True)
    low = [(s, [u for u in train if u.speaker in low_resource_subset(actors, s)])
           for s in range(args.seeds)]
    imb = [(s, imbalanced_subset(train, s, args.rare_keep)) for s in range(args.seeds)]
    fs = args.feature_set
    ser = ser_recipe(args)
    name = (fs if args.method == "linear" else args.method) + args.results_suffix

    def keep(conds):
        return [c for c in conds if (wanted is None or c in wanted)
                and not (args.method == "cnn" and "fconv" in parts(c))
                and (not parts(c) & EXTRA or xrows)]

    ref = reference(feats, manifest, conv_rows, test, ser, xrows)
    results = []
    for setting, subsets, conds in (("low-resource", low, CONDITIONS),
                                    ("imbalanced", imb, IMBALANCED_CONDITIONS)):
        if setting in args.settings.split(","):
            results += run_setting(setting, feats, subsets, conv_rows, test, ser, keep(conds),
                                   (xrows, args.extra_clips))
    stats, cmp_md = comparisons(results)
    md = "\n\n".join(t for t in (*(table(results, m) for m in MODES), cmp_md) if t)
    print(md)
    meta = {"model": args.model, "data": str(args.data), "groups": groups, "actors": actors,
            "test": TEST_ACTORS, "seeds": args.seeds, "rare_keep": args.rare_keep,
            "n_converted": len(conv_rows),
            "feature_set": fs, "method": args.method, "settings": args.settings,
            "conditions": args.conditions or "all",
            "extra_corpus": str(args.extra_corpus or ""), "extra_from": args.extra_from,
            "extra_clips": args.extra_clips, "n_extra_converted": len(xrows)}
    tmp = out / f".results-{name}.json.tmp"
    tmp.write_text(json.dumps({"meta": meta, "reference": ref, "results": results,
                               "paired": stats,
                               "markdown": md}, indent=1))
    os.replace(tmp, out / f"results-{name}.json")
    print(f"wrote {out / f'results-{name}.json'}")


if __name__ == "__main__":
    main()
