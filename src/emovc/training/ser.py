"""Train a speech emotion recogniser on an emotional corpus (RAVDESS by default).

``train(build_config(data_dir, run_dir, ...))`` catalogues the corpus, holds out the
validation speakers, extracts (and caches) features of the original clips and of their
WORLD-resynthesised copies, fits the chosen method, evaluates on the validation speakers
(original and WORLD audio; per-utterance and per-speaker normalisation) and writes into the
run folder ``config.yaml`` (resolved settings), ``metrics.json`` and ``model.pt`` — at the
end: a failed run leaves them as they were. A CNN fit (``cnn``, ``ensemble``; Lightning:
:mod:`emovc.training.ser_cnn`) saves ``checkpoints/cnn.ckpt`` after every epoch and logs
its loss and learning rate to ``tb/version_0`` (with ``hparams.yaml``) as it goes, and the
same call resumes an interrupted run from it exactly
(:mod:`emovc.training.ser_checkpoint`); ``force=True`` starts afresh.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from emovc.config import same_kind
from emovc.data.catalogs import corpus_layout
from emovc.data.emotions import EMOTIONS
from emovc.errors import ConfigError, EmovcError, EmovcWarning, choice_error, left_out_example
from emovc.fileio import write_atomic
from emovc.models.ser.cache import corpus_features
from emovc.models.ser.cnn import CnnConfig
from emovc.models.ser.features import FUNCTIONAL_SETS, SerFeatureConfig
from emovc.models.ser.functional import fit_linear_head
from emovc.models.ser.metrics import classification_report
from emovc.models.ser.model import KIND, METHODS, SerModel
from emovc.training import ser_checkpoint
from emovc.training.devices import check_devices
from emovc.training.ser_checkpoint import CnnCheckpoint
from emovc.training.ser_cnn import ACCELERATORS, CPU_HINT, CnnTrainConfig, train_cnn

if TYPE_CHECKING:
    from emovc.data.manifest import Manifest

DEFAULT_VAL_SPEAKERS = ("17", "18", "19", "20")  # RAVDESS validation actors


@dataclass
class SerTrainConfig:
    """Everything a SER training run depends on (saved as ``config.yaml``).

    Attributes:
        data_dir: corpus folder.
        run_dir: output folder.
        corpus: catalog name or ``"auto"`` (see :mod:`emovc.data.catalogs`).
        val_speakers: speakers held out for validation (never trained on).
        method: ``"linear"`` (functionals + logistic regression), ``"cnn"`` or
            ``"ensemble"`` (average of both).
        feature_set: functionals of the linear heads: ``"egemaps"`` or ``"compare"``.
        c_utterance: inverse L2 strength of the per-utterance-normalised head.
        c_speaker: inverse L2 strength of the speaker-normalised head.
        world_augment: also train on WORLD-resynthesised copies of the training clips.
        cnn_weight: weight of the CNN in the ensemble, per-utterance mode (chosen by
            speaker-grouped cross-validation on RAVDESS actors 01-16).
        speaker_cnn_weight: the same for the speaker-normalised mode.
        features: preprocessing/feature settings.
        net: CNN architecture.
        cnn: CNN optimisation settings.
        cache_dir: feature cache folder (``""``: ``$EMOVC_CACHE/ser`` or
            ``~/.cache/emovc/ser``).
        workers: feature-extraction processes.
        seed: random seed.
    """

    data_dir: str
    run_dir: str
    corpus: str = "auto"
    val_speakers: tuple[str, ...] = DEFAULT_VAL_SPEAKERS
    method: str = "ensemble"
    feature_set: str = "compare"
    c_utterance: float = 1e-3
    c_speaker: float = 1e-2
    world_augment: bool = True
    cnn_weight: float = 0.6
    speaker_cnn_weight: float = 0.25
    features: SerFeatureConfig = field(default_factory=SerFeatureConfig)
    net: CnnConfig = field(default_factory=CnnConfig)
    cnn: CnnTrainConfig = field(default_factory=CnnTrainConfig)
    cache_dir: str = ""
    workers: int = 1
    seed: int = 0

    def to_dict(self) -> dict:
        """Plain data (tuples as lists) for YAML/JSON."""
        d = asdict(self)
        d["val_speakers"] = list(self.val_speakers)
        d["net"] = self.net.to_dict()
        return d


_NESTED = {"features": SerFeatureConfig, "net": CnnConfig, "cnn": CnnTrainConfig}


def build_config(data_dir: str, run_dir: str, overrides: dict | None = None) -> SerTrainConfig:
    """Validated :class:`SerTrainConfig`; ``overrides`` may set any field, nested ones as
    dicts (``{"cnn": {"epochs": 5}}``).

    Raises:
        ConfigError: unknown field, method or feature set.
    """
    cfg = SerTrainConfig(str(data_dir), str(run_dir))
    names = {f.name for f in fields(SerTrainConfig)}
    for key, value in (overrides or {}).items():
        if key not in names:
            raise choice_error("SER training option", key, sorted(names))
        if key in _NESTED and isinstance(value, dict):
            base = asdict(getattr(cfg, key)) if key != "net" else cfg.net.to_dict()
            value = (CnnConfig.from_dict({**base, **value}) if key == "net"
                     else _NESTED[key](**{**base, **value}))
        if key == "val_speakers":
            value = tuple(str(v) for v in value)
        cfg = replace(cfg, **{key: same_kind(f"SER training option {key}", value,
                                             getattr(cfg, key))})
    if not cfg.cache_dir:
        from emovc.data.cache import default_cache_dir

        cfg = replace(cfg, cache_dir=str(default_cache_dir() / "ser"))
    if cfg.method not in METHODS:
        raise choice_error("SER method", cfg.method, METHODS)
    if cfg.feature_set not in FUNCTIONAL_SETS:
        raise choice_error("feature set", cfg.feature_set, FUNCTIONAL_SETS)
    if cfg.cnn.accelerator not in ACCELERATORS:  # else Lightning's error after the features
        raise choice_error("CNN accelerator", cfg.cnn.accelerator, ACCELERATORS)
    if isinstance(cfg.cnn.devices, bool) or not isinstance(cfg.cnn.devices, int) \
            or cfg.cnn.devices < 1:
        raise ConfigError(f"CNN devices must be a whole number of at least 1, got "
                          f"{cfg.cnn.devices!r}")
    return cfg


def read_corpus(cfg: SerTrainConfig):
    """``(manifest, synthetic ids)`` of ``cfg.data_dir``: a corpus folder is catalogued; an
    ``emovc augment`` ``manifest.csv`` is read, its converted rows (``synthetic=1``) named
    so that they train but never validate."""
    import csv

    from emovc.data.catalogs import catalog_corpus
    from emovc.data.manifest import Manifest

    path = Path(cfg.data_dir)
    if not (path.is_file() and path.suffix.lower() == ".csv"):
        return catalog_corpus(cfg.data_dir, cfg.corpus), set()
    manifest = Manifest.from_csv(path)
    with open(path, newline="", encoding="utf-8-sig") as f:
        synthetic = {r["utt_id"] for r in csv.DictReader(f) if r.get("synthetic") == "1"}
    return manifest, synthetic


def split_corpus(cfg: SerTrainConfig):
    """Catalogue the corpus (or read an augment manifest, :func:`read_corpus`) and split it
    into (train, validation) manifests of labelled utterances; returns ``(train, val,
    labels)``. Converted clips of validation speakers are left out of both."""
    from emovc.data.manifest import Manifest

    manifest, synthetic = read_corpus(cfg)
    labelled = manifest.filter(emotions=[e for e in EMOTIONS if e in manifest.emotions()])
    labels = tuple(e for e in EMOTIONS if e in labelled.emotions())
    if len(labels) < 2:
        from emovc.data.catalogs import unlabelled_hint

        raise EmovcError(f"{cfg.data_dir}: need at least 2 labelled emotions to train a "
                         f"recogniser, found {len(labels)}{unlabelled_hint(manifest)}")
    val_set = set(cfg.val_speakers)
    known = labelled.speakers()
    unknown = sorted(val_set - set(known))
    if unknown:
        shown = ", ".join(known[:24]) + (f", ... ({len(known)} in all)" if len(known) > 24 else "")
        raise EmovcError(f"validation speaker(s) {', '.join(unknown)} not in {cfg.data_dir}; "
                         f"its labelled speakers: {shown} (--val-speakers '' holds out none)")
    train = labelled.filter(speakers=[s for s in known if s not in val_set])
    val = Manifest([u for u in labelled.filter(speakers=[s for s in known if s in val_set])
                    if u.utt_id not in synthetic])
    if len(train) == 0:
        raise EmovcError("no training utterances left after holding out the validation speakers")
    return train, val, labels


def _targets(manifest, labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    y = np.array([labels.index(u.emotion) for u in manifest])
    return y, np.array([u.speaker for u in manifest])


def fit_model(cfg: SerTrainConfig, labels: tuple[str, ...], feats: list[dict],
              y: np.ndarray, speakers: np.ndarray, world_feats: list[dict] | None = None,
              progress: bool = True, checkpoint: CnnCheckpoint | None = None,
              log_dir: str | Path | None = None, say_device: bool | None = None) -> SerModel:
    """Fit the configured method on precomputed clip features (``world_feats`` parallel to
    ``feats`` enables vocoder augmentation; ``checkpoint``: where the CNN fit saves and
    resumes its state; ``log_dir``: the folder of its TensorBoard logs, whose
    ``hparams.yaml`` records ``cfg``; ``say_device``: print where the CNN trains, ``None``
    with ``progress``; see :func:`~emovc.training.ser_cnn.train_cnn`)."""
    heads, cnn = {}, None
    if cfg.method in ("linear", "ensemble"):
        x = np.stack([f[cfg.feature_set] for f in feats])
        yy, groups = y, speakers
        if world_feats is not None:
            x = np.vstack([x, np.stack([f[cfg.feature_set] for f in world_feats])])
            yy = np.concatenate([y, y])
            groups = np.concatenate([speakers, np.char.add(speakers.astype(str), "/world")])
        for norm, c in (("utterance", cfg.c_utterance), ("speaker", cfg.c_speaker)):
            heads[norm] = fit_linear_head(x, yy, groups, cfg.feature_set, norm, c,
                                          len(labels), cfg.seed)
    if cfg.method in ("cnn", "ensemble"):
        cnn = train_cnn([f["mel"] for f in feats], y, len(labels),
                        None if world_feats is None else [f["mel"] for f in world_feats],
                        cfg.net, replace(cfg.cnn, seed=cfg.seed), progress=progress,
                        checkpoint=checkpoint, log_dir=log_dir, hparams=cfg.to_dict(),
                        say_device=say_device)
    weight = {"linear": 0.0, "cnn": 1.0, "ensemble": cfg.cnn_weight}[cfg.method]
    spk_weight = cfg.speaker_cnn_weight if cfg.method == "ensemble" else None
    return SerModel(labels, cfg.features, heads, cnn, weight, spk_weight)


def evaluate(model: SerModel, feats: dict[str, list[dict]], y: np.ndarray,
             speakers: np.ndarray) -> dict:
    """Reports per audio variant (``"original"``, ``"world"``) and norm mode."""
    out = {}
    for variant, fv in feats.items():
        modes = [("utterance", False)] + ([("speaker", True)] if model.heads else [])
        for mode, spk_norm in modes:
            p = model.predict_proba(fv, groups=speakers, speaker_norm=spk_norm)
            out[f"{variant}/{mode}"] = classification_report(y, p, model.labels)
    return out


def usable_features(m, variants: tuple[str, ...], cfg: SerTrainConfig, progress: bool,
                    left_out: dict[str, str]):
    """Features of the clips of manifest ``m`` that can be used: returns ``(manifest of
    those clips, {variant: [features, ...]})``; each other clip is added to ``left_out`` as
    ``{path: reason}`` (unreadable, missing, too short, silent)."""
    from emovc.data.manifest import Manifest

    got = {v: corpus_features([u.path for u in m], cfg.features, v, cfg.cache_dir, cfg.workers,
                              progress, skip_errors=True) for v in variants}
    utts, keep = list(m), []
    for i, u in enumerate(utts):
        why = next((got[v][i] for v in variants if isinstance(got[v][i], str)), None)
        if why is None:
            keep.append(i)
        else:
            left_out[u.path] = why
    return Manifest([utts[i] for i in keep]), {v: [got[v][i] for i in keep] for v in variants}


def _check_every_label(train_m, labels: tuple[str, ...], left_out: dict[str, str]) -> None:
    """Refuse training when a label lost every training clip (all of them unusable)."""
    missing = [e for e in labels if e not in train_m.emotions()]
    if missing:
        raise EmovcError(f"no usable training clip of {', '.join(missing)}: "
                         f"{len(left_out)} clip(s) cannot be used, e.g. "
                         f"{left_out_example(left_out)}")


def train(cfg: SerTrainConfig, progress: bool = True, force: bool = False,
          say_device: bool | None = None) -> Path:
    """Run a training (see module docstring); returns the path of ``model.pt``.
    ``say_device``: print in one line where the CNN trains (``None``: with ``progress``;
    ``emovc ser train`` says it also with ``--quiet``).

    A CNN fit resumes from the run folder's ``checkpoints/cnn.ckpt`` of an interrupted run of
    the same settings (also after an interrupted ``force`` retraining of a finished run);
    ``force`` starts afresh, replacing that checkpoint and, at the end, the final files. In
    a folder of another trainer's run (:func:`other_run`), ``force`` removes that run's
    outputs (:func:`~emovc.training.run_dir.clear_run_outputs`) once the corpus is read.

    Raises:
        ConfigError: the CNN's accelerator or device count is not this machine's
            (:func:`~emovc.training.devices.check_devices`), before anything else.
        EmovcError: without ``force``, the run folder holds another trainer's run (named), a
            ``model.pt`` (and no checkpoint of an interrupted retraining with these
            settings) or the checkpoint of an interrupted run of other settings or clips; or
            the corpus cannot be split (checked before the run folder is written).
    """
    from emovc.training.run_dir import (
        check_creatable,
        check_not_foreign,
        clear_run_outputs,
        other_kind_error,
    )

    run = Path(cfg.run_dir)
    cnn, ckpt_file = cfg.method in ("cnn", "ensemble"), ser_checkpoint.checkpoint_path(run)
    if cnn:  # a device this machine lacks: refused here, not by Lightning after the features
        check_devices(cfg.cnn.accelerator, cfg.cnn.devices, "CNN devices", CPU_HINT)
    check_creatable(run)  # before the features: a file, a folder under a file, not writable
    check_not_foreign(run)  # an evaluate report, a config.yaml of the user's: also with force
    other = other_run(run, cfg)
    if other and not force:
        raise other_kind_error(run, other, KIND)
    resuming = cnn and not force and ckpt_file.is_file()
    if (run / "model.pt").exists() and not force and not resuming:
        raise EmovcError(f"{run} already holds a trained model (model.pt); choose another "
                         "--out or pass --force to retrain")
    settings = ser_checkpoint.run_settings({**cfg.to_dict(),
                                            "corpus": corpus_layout(cfg.corpus, cfg.data_dir)})
    ckpt = CnnCheckpoint(ckpt_file, settings, resume=not force)
    saved = ser_checkpoint.check_resumable(ckpt)  # an interrupted run of other settings: refused
    # the training time counts the earlier sessions of a resumed run (its checkpoint has them)
    t0 = time.time() - (ser_checkpoint.trained_seconds(saved) if resuming else 0.0)
    ckpt = replace(ckpt, started=t0)
    train_m, val_m, labels = split_corpus(cfg)  # a bad corpus or speaker: nothing written
    left_out: dict[str, str] = {}
    variants = ("original", "world") if cfg.world_augment else ("original",)
    train_m, tr = usable_features(train_m, variants, cfg, progress, left_out)
    _check_every_label(train_m, labels, left_out)
    y, spk = _targets(train_m, labels)
    if force and other:  # another trainer's run: nothing of it is this run's
        clear_run_outputs(run)
    elif force and cnn:  # an earlier run's checkpoint: this run's replaces it from now on
        ser_checkpoint.remove(ckpt)
    try:
        model = fit_model(cfg, labels, tr["original"], y, spk, tr.get("world"), progress,
                          checkpoint=ckpt if cnn else None, log_dir=run if cnn else None,
                          say_device=say_device)
        path = _finish(cfg, model, labels, train_m, val_m, time.time() - t0, left_out,
                       progress)
    except KeyboardInterrupt:  # also in validation and writing: the checkpoint is kept
        if cnn and ckpt.path.is_file():
            again = "without --force " if force else ""
            # the run's status line at Ctrl-C, as in training.common.fit_or_interrupt
            print(f"emovc: training interrupted: the same command {again}resumes {run} from "
                  f"its last checkpoint ({ckpt.path})", file=sys.stderr)
        raise
    ser_checkpoint.remove(ckpt)  # the run is finished (also an earlier run's, with force)
    return path


def other_run(run: Path, cfg: SerTrainConfig) -> str | None:
    """What ``run`` holds when it is another trainer's run folder ("an emotion converter run
    (its model.pt)"; :func:`~emovc.training.run_dir.other_kind`), ``None`` when it is empty or
    a recogniser's: its ``model.pt`` is of another kind, its ``config.yaml`` has settings a
    recogniser has not, or it holds a Lightning trainer's ``checkpoints/last.ckpt``."""
    from emovc.training.run_dir import last_checkpoint, other_kind, saved_config

    names = dict.fromkeys(f.name for f in fields(cfg))  # the settings a recogniser has
    other = other_kind(run, saved_config(run), names, KIND, free=())
    if other is None and last_checkpoint(run) is not None:
        other = ("another kind of run (its checkpoints/last.ckpt, an emovc train or "
                 "train-voice checkpoint)")
    return other


def _finish(cfg: SerTrainConfig, model: SerModel, labels: tuple[str, ...], train_m: Manifest,
            val_m: Manifest, train_s: float, left_out: dict[str, str], progress: bool) -> Path:
    """Validate a fitted ``model`` and write the run folder's ``config.yaml``,
    ``metrics.json`` and ``model.pt`` (returns its path); ``train_s``: seconds of training,
    ``left_out``: the clips left out so far (validation adds its own)."""
    run = Path(cfg.run_dir)
    metrics: dict = {"train_utterances": len(train_m), "train_speakers": train_m.speakers(),
                     "val_speakers": val_m.speakers(), "train_seconds": round(train_s, 1)}
    val_m, vfeats = usable_features(val_m, ("original", "world"), cfg, progress, left_out)
    if len(val_m):
        vy, vspk = _targets(val_m, labels)
        metrics["validation"] = evaluate(model, vfeats, vy, vspk)
    if left_out:
        metrics["left_out"] = left_out
        warnings.warn(f"{len(left_out)} clip(s) left out of training and validation (their "
                      f"audio cannot be used; listed in metrics.json), e.g. "
                      f"{left_out_example(left_out)}", EmovcWarning, stacklevel=3)
    model.info = {"method": cfg.method, "feature_set": cfg.feature_set,
                  "world_augment": cfg.world_augment, "train_speakers": train_m.speakers(),
                  "corpus": cfg.corpus, "train_seconds": round(train_s, 1)}
    # written at the end, all three: a failed or interrupted run leaves the folder as it was
    # (but for the CNN's checkpoint, removed once they are written)
    run.mkdir(parents=True, exist_ok=True)
    write_atomic(run / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    write_atomic(run / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    path = model.save(run / "model.pt", extra={"metrics": metrics.get("validation", {}),
                                                "config": cfg.to_dict()})
    if not path.is_file():  # pragma: no cover - save_checkpoint raises on failure
        raise ConfigError(f"could not write {path}")
    return path
