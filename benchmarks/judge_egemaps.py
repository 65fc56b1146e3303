"""Independent emotion judges mirroring judges "E" and "C" of ``../shared/docs/MEASUREMENTS.md``.

Judge E there is openSMILE eGeMAPSv02 functionals (88 features), judge C ComParE 2016
functionals (6373 features), each + an RBF-SVM trained on other speakers, with
WORLD-resynthesised copies of their training clips added under the same labels so that vocoder
artefacts alone carry no emotion (≈ 49 % / 58 % 8-class on unseen speakers). This module
rebuilds both judges (``feature_set="egemaps"`` / ``"compare"``) on RAVDESS actors 01-16
(actors 17-20 are the benchmarks' test speakers and
are only used by ``main()`` to report accuracy, never for fitting or model selection).

Unlike emovc's own recogniser (``ser-ravdess``), which loudness-normalises its input, these judges
see the RAW waveform: no loudness normalisation, no silence trimming. Both sets have absolute
loudness features, and a judge that hears absolute level is what the project's measurements use,
so a conversion that changes level (e.g. louder for angry) is credited or penalised as there.

Training set: every real clip of actors 01-16 plus a WORLD analysis/resynthesis copy
(pyworld dio + stonemask + cheaptrick + d4c + synthesize, 5 ms frames), both labelled with the
real emotion. Classifier: StandardScaler + SVC(rbf), C chosen from a small grid by
leave-speakers-out cross-validation (4 folds of 4 training actors, unweighted accuracy on the
held-out real clips).

Features and the fitted model are cached under ``.cache/judge/`` (``$EMOVC_JUDGE_CACHE``;
keyed by a hash of the file list and the settings), so only the first run of each judge pays
the extraction (≈ 2200 openSMILE passes and 960 WORLD resyntheses, a few minutes); later runs
load in seconds. RAVDESS is read from ``$EMOVC_DATA/ravdess16k`` (default
``../shared/data/ravdess16k``; ``benchmarks/_data.py``).

API: ``FunctionalsJudge.load_or_build(feature_set=...)``, ``.predict(wav, sr) -> label``,
``.predict_proba(wav, sr) -> {label: p}``. Run ``.venv/bin/python benchmarks/judge_egemaps.py
[--feature-set compare]`` to build a judge and print its accuracy on the real clips of actors
17-20.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
from _data import ENV_HELP, data_dir, judge_cache

from emovc.audio import load_audio
from emovc.features.world import resynthesize
from emovc.fileio import atomic_output

DATA = data_dir("ravdess16k")
CACHE = judge_cache()
SR = 16000
EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
TRAIN_ACTORS = tuple(range(1, 17))
TEST_ACTORS = tuple(range(17, 21))
FRAME_PERIOD = 5.0
C_GRID = (0.3, 1.0, 3.0, 10.0)
VERSION = "egemaps-judge-v1"  # bump when the feature recipe changes
# feature set -> (openSMILE FeatureSet name, judge letter in MEASUREMENTS.md)
FEATURE_SETS = {"egemaps": ("eGeMAPSv02", "E"), "compare": ("ComParE_2016", "C")}
MODEL_VERSION = "svm-v2"  # bump when the classifier recipe changes (features stay cached)


def _check_set(feature_set: str) -> str:
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown judge feature set {feature_set!r}; "
                         f"choose one of {', '.join(FEATURE_SETS)}")
    return feature_set


def _smile(feature_set: str = "egemaps"):
    import opensmile

    name = FEATURE_SETS[_check_set(feature_set)][0]
    return opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, name),
                           feature_level=opensmile.FeatureLevel.Functionals)


def _features(smile, wav: np.ndarray, sr: int = SR) -> np.ndarray:
    """Functionals (88 eGeMAPS or 6373 ComParE) of the raw waveform (no normalisation, no
    trimming)."""
    x = np.ascontiguousarray(np.asarray(wav, dtype=np.float32).reshape(-1))
    f = smile.process_signal(x, sr).to_numpy(dtype=np.float64).reshape(-1)
    return np.nan_to_num(f, nan=0.0, posinf=0.0, neginf=0.0)


def _files(data_dir: Path, actors) -> list[Path]:
    return [p for a in actors for p in sorted((data_dir / f"Actor_{a:02d}").glob("*.flac"))]


def _emotion(path: Path) -> str:
    return EMOTIONS[int(path.stem.split("-")[2]) - 1]


def _atomic_save(path: Path, write) -> None:
    """``write(file_object)`` into a temporary file renamed onto ``path`` when complete."""
    with atomic_output(path) as tmp, open(tmp, "wb") as fh:
        write(fh)


def extract(data_dir: Path, cache_dir: Path, log=print, feature_set: str = "egemaps") -> dict:
    """Features of all real clips (actors 01-20) + WORLD copies (training actors only), cached.

    Returns a dict with ``X`` (n, 88 or 6373), ``emotion``, ``actor``, ``kind`` ("real"/"world") and
    ``path`` arrays. A partial file is checkpointed so an interrupted build resumes.
    """
    train, test = _files(data_dir, TRAIN_ACTORS), _files(data_dir, TEST_ACTORS)
    if not train or not test:
        raise FileNotFoundError(f"RAVDESS clips not found under {data_dir}")
    items = [(p, "real") for p in train + test] + [(p, "world") for p in train]
    smile_set = FEATURE_SETS[_check_set(feature_set)][0]
    key = json.dumps({"v": VERSION, "sr": SR, "fp": FRAME_PERIOD, "set": f"{smile_set}/func",
                      "files": [(p.relative_to(data_dir).as_posix(), p.stat().st_size, k)
                                for p, k in items]})
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    final = cache_dir / f"{feature_set}_{digest}.npz"
    partial = cache_dir / f"{feature_set}_{digest}.part.npz"
    if final.is_file():
        with np.load(final, allow_pickle=False) as z:
            return {k: z[k] for k in z.files} | {"digest": digest}
    feats: list[np.ndarray] = []
    if partial.is_file():
        with np.load(partial, allow_pickle=False) as z:
            feats = list(z["X"])
        log(f"resuming feature extraction at {len(feats)}/{len(items)}")
    smile, t0, done0 = _smile(feature_set), time.perf_counter(), len(feats)
    for i in range(len(feats), len(items)):
        path, kind = items[i]
        wav = load_audio(path, SR)  # mono float32, no level change
        if kind == "world":
            wav = resynthesize(wav)  # WORLD defaults: DIO 71-800 Hz, 5 ms, FFT 1024
        feats.append(_features(smile, wav))
        if (i + 1) % 100 == 0 or i + 1 == len(items):
            X = np.stack(feats)
            _atomic_save(partial, lambda fh, X=X: np.savez(fh, X=X))
            el = time.perf_counter() - t0
            log(f"  {i + 1}/{len(items)} clips, {el:.0f} s "
                f"({el / (i + 1 - done0):.2f} s/clip)")
    out = {"X": np.stack(feats),
           "emotion": np.array([_emotion(p) for p, _ in items]),
           "actor": np.array([int(p.parent.name.split("_")[1]) for p, _ in items]),
           "kind": np.array([k for _, k in items]),
           "path": np.array([p.relative_to(data_dir).as_posix() for p, _ in items])}
    _atomic_save(final, lambda fh: np.savez(fh, **out))
    partial.unlink(missing_ok=True)
    return out | {"digest": digest}


def _pipeline(c: float):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return make_pipeline(StandardScaler(), SVC(kernel="rbf", C=c, gamma="scale"))


def _speaker_folds(actor) -> list[tuple[np.ndarray, np.ndarray]]:
    """4 leave-speakers-out folds (4 training actors held out each; real + WORLD together)."""
    folds = [TRAIN_ACTORS[i::4] for i in range(4)]
    return [(np.flatnonzero(~np.isin(actor, h)), np.flatnonzero(np.isin(actor, h)))
            for h in folds]


def unweighted_accuracy(y_true, y_pred) -> float:
    """Mean per-class recall over the classes present in ``y_true``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)]))


def select_c(X, y, actor, kind, log=print) -> tuple[float, dict]:
    """Leave-speakers-out CV over the training actors (4 folds × 4 actors); scored by UA on
    the held-out REAL clips. Returns the best C and the per-C scores."""
    scores = {}
    for c in C_GRID:
        uas = []
        for tr, te in _speaker_folds(actor):
            model = _pipeline(c).fit(X[tr], y[tr])
            m = te[kind[te] == "real"]
            uas.append(unweighted_accuracy(y[m], model.predict(X[m])))
        scores[c] = float(np.mean(uas))
        log(f"  CV C={c:g}: UA {scores[c]:.1%}")
    return max(scores, key=lambda k: scores[k]), scores


class FunctionalsJudge:
    """openSMILE functionals + RBF-SVM emotion judge: eGeMAPS = mirror of MEASUREMENTS' judge E,
    ComParE = judge C."""

    labels = EMOTIONS

    def __init__(self, model, info: dict | None = None, proba_model=None,
                 feature_set: str = "egemaps"):
        self.model = model  # StandardScaler + SVC: ``predict``
        self.proba_model = proba_model  # sigmoid-calibrated copy: ``predict_proba``
        self.info = info or {}
        self.feature_set = _check_set(feature_set)
        self._smile = None

    @classmethod
    def load_or_build(cls, data_dir: str | Path = DATA, cache_dir: str | Path = CACHE,
                      log=None, feature_set: str = "egemaps") -> FunctionalsJudge:
        """Load the cached judge, building features/model first when missing."""
        import joblib

        log = log or (lambda *a: print(*a, file=sys.stderr, flush=True))
        data_dir, cache_dir = Path(data_dir), Path(cache_dir)
        # cheap key first: the feature digest is derived from the file list, which we
        # need to stat anyway; the model is keyed by feature digest + C grid
        d = extract(data_dir, cache_dir, log, feature_set)
        mkey = hashlib.sha1(f"{d['digest']}|{C_GRID}|{MODEL_VERSION}".encode()).hexdigest()[:12]
        path = cache_dir / f"{feature_set}_svm_{mkey}.joblib"
        if path.is_file():
            blob = joblib.load(path)
            return cls(blob["model"], blob["info"], blob.get("proba_model"), feature_set)
        tr = np.isin(d["actor"], TRAIN_ACTORS)
        X, y, actor, kind = d["X"][tr], d["emotion"][tr], d["actor"][tr], d["kind"][tr]
        t0 = time.perf_counter()
        c, scores = select_c(X, y, actor, kind, log)
        model = _pipeline(c).fit(X, y)
        from sklearn.calibration import CalibratedClassifierCV

        proba = CalibratedClassifierCV(_pipeline(c), method="sigmoid", ensemble=False,
                                       cv=_speaker_folds(actor)).fit(X, y)
        info = {"C": c, "cv_ua": scores, "n_train": int(len(y)), "features": d["digest"],
                "fit_s": time.perf_counter() - t0}
        log(f"fitted judge {FEATURE_SETS[feature_set][1]}: C={c:g}, {len(y)} training clips "
            f"(real + WORLD copies), {info['fit_s']:.0f} s")
        blob = {"model": model, "proba_model": proba, "info": info}
        _atomic_save(path, lambda fh: joblib.dump(blob, fh))
        return cls(model, info, proba, feature_set)

    def features(self, wav: np.ndarray, sr: int = SR) -> np.ndarray:
        if sr != SR:
            from emovc.audio.io import resample

            wav, sr = resample(np.asarray(wav, dtype=np.float32), sr, SR), SR
        if self._smile is None:
            self._smile = _smile(self.feature_set)
        return _features(self._smile, wav, sr)

    def predict(self, wav: np.ndarray, sr: int = SR) -> str:
        """Emotion label of the raw waveform ``wav`` (shape ``(n,)``)."""
        return str(self.model.predict(self.features(wav, sr)[None])[0])

    def predict_proba(self, wav: np.ndarray, sr: int = SR) -> dict[str, float]:
        """``{label: probability}`` from a sigmoid-calibrated copy of the SVC (calibrated on
        leave-speakers-out folds); its argmax may differ from ``predict``."""
        if self.proba_model is None:
            raise RuntimeError("this cached judge has no calibrated model; rebuild the cache")
        m = self.proba_model
        p = m.predict_proba(self.features(wav, sr)[None])[0]
        return {str(k): float(v) for k, v in zip(m.classes_, p, strict=True)}


def load_judge(log=print, feature_set: str = "egemaps") -> FunctionalsJudge | None:
    """:meth:`FunctionalsJudge.load_or_build`, or ``None`` (with a one-line note through
    ``log``) when it cannot be built, e.g. without ../shared's RAVDESS."""
    _check_set(feature_set)  # a wrong name is a caller's error, not a missing judge
    try:
        return FunctionalsJudge.load_or_build(feature_set=feature_set)
    except Exception as exc:
        log(f"[judge {FEATURE_SETS[feature_set][1]} skipped: {type(exc).__name__}: {exc}]")
        return None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=ENV_HELP)
    ap.add_argument("--data", default=str(DATA), help="RAVDESS folder (default: %(default)s)")
    ap.add_argument("--cache", default=str(CACHE),
                    help="judge cache folder (default: %(default)s)")
    ap.add_argument("--feature-set", default="egemaps", choices=list(FEATURE_SETS),
                    help="egemaps = judge E, compare = judge C")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        judge = FunctionalsJudge.load_or_build(args.data, args.cache,
                                               feature_set=args.feature_set)
    except FileNotFoundError as exc:  # no RAVDESS there
        sys.exit(str(exc))
    print(f"judge ready in {time.perf_counter() - t0:.1f} s; C={judge.info.get('C')}, "
          f"CV UA on training actors {judge.info.get('cv_ua')}")
    d = extract(Path(args.data), Path(args.cache), feature_set=args.feature_set)  # cached
    m = np.isin(d["actor"], TEST_ACTORS) & (d["kind"] == "real")
    y, pred = d["emotion"][m], judge.model.predict(d["X"][m])
    print(f"actors 17-20, {m.sum()} real clips: accuracy {np.mean(pred == y):.1%}, "
          f"unweighted accuracy {unweighted_accuracy(y, pred):.1%} (8 classes, chance 12.5 %)")
    for e in EMOTIONS:
        k = y == e
        print(f"  {e:<10} recall {np.mean(pred[k] == e):6.1%}  (n={k.sum()})")


if __name__ == "__main__":
    main()
