"""Per-clip feature cache for SER training and evaluation.

Every clip's features (eGeMAPS and ComParE functionals, log-mel) are computed once per
(file, feature settings, variant) and stored as ``<cache_dir>/<variant>/<key>.npz``.
Variants: ``"original"`` and ``"world"`` (the clip after a WORLD analysis/synthesis round
trip, so that models can learn that vocoder artefacts carry no emotion).
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from emovc.audio import load_audio, normalize_loudness
from emovc.errors import EmovcError, call_recording_warnings, choice_error, reissue_warnings
from emovc.fileio import atomic_output
from emovc.models.ser.features import (
    MIN_SPEECH_S,
    SerFeatureConfig,
    functionals,
    log_mel,
    preprocess,
)

VARIANTS = ("original", "world")
# "2": clips with under MIN_SPEECH_S of speech once trimmed are refused; a version-1 entry
# of such a clip would have passed it (its features are otherwise the same)
_CACHE_VERSION = "2"


def load_variant(path: str | os.PathLike, cfg: SerFeatureConfig, variant: str) -> np.ndarray:
    """Load a clip at ``cfg.sample_rate``; for ``"world"`` return its WORLD resynthesis.

    Returns:
        float32 ``(n,)`` (not yet preprocessed).
    """
    if variant not in VARIANTS:
        raise choice_error("augmentation variant", variant, VARIANTS)
    wav = load_audio(path, cfg.sample_rate)
    if variant == "world":
        from emovc.features.world import WorldConfig, resynthesize

        wav = normalize_loudness(wav, cfg.sample_rate, cfg.target_dbfs)
        wav = resynthesize(wav, WorldConfig(sample_rate=cfg.sample_rate))
    return wav


def compute_clip_features(wav: np.ndarray, cfg: SerFeatureConfig, name: str = "audio",
                          min_speech_s: float | None = MIN_SPEECH_S) -> dict[str, np.ndarray]:
    """All SER features of one waveform at ``cfg.sample_rate`` (``min_speech_s``: as
    :func:`~emovc.models.ser.features.preprocess`).

    Returns:
        ``{"egemaps": (88,), "compare": (6373,), "mel": (n_mels, frames)}`` (float32).
    """
    x = preprocess(wav, cfg, name=name, min_speech_s=min_speech_s)
    return {
        "egemaps": functionals(x, cfg.sample_rate, "egemaps").astype(np.float32),
        "compare": functionals(x, cfg.sample_rate, "compare").astype(np.float32),
        "mel": log_mel(x, cfg),
    }


def _key(path: Path, cfg: SerFeatureConfig, variant: str) -> str:
    st = path.stat()
    blob = json.dumps([str(path.resolve()), st.st_size, int(st.st_mtime), cfg.to_dict(),
                       variant, _CACHE_VERSION], sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:20]


def cached_clip_features(path: str | os.PathLike, cfg: SerFeatureConfig, variant: str,
                         cache_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """Features of one file, read from or written to the cache (atomic writes)."""
    p = Path(path)
    out = Path(cache_dir) / variant / f"{_key(p, cfg, variant)}.npz"
    if out.is_file():
        with np.load(out) as z:
            return {k: z[k] for k in z.files}
    feats = compute_clip_features(load_variant(p, cfg, variant), cfg, name=str(p))
    # the log-mel is stored as float16: hand back what a later read returns, so a run on a
    # fresh cache trains the same model as one on a warm cache
    feats = {k: (v.astype(np.float16) if k == "mel" else v) for k, v in feats.items()}
    with atomic_output(out, suffix=".npz") as tmp:  # np.savez keeps a name ending in .npz
        np.savez(tmp, **feats)
    return feats


def _clip(path: str | os.PathLike, cfg: SerFeatureConfig, variant: str,
          cache_dir: str | os.PathLike, skip_errors: bool) -> dict[str, np.ndarray] | str:
    """:func:`cached_clip_features`, or with ``skip_errors`` the one-line reason (``str``) why
    the clip cannot be used (unreadable, missing, too short, silent)."""
    if not skip_errors:
        return cached_clip_features(path, cfg, variant, cache_dir)
    try:
        return cached_clip_features(path, cfg, variant, cache_dir)
    except (EmovcError, OSError) as exc:
        return (str(exc).splitlines() or [""])[0] or type(exc).__name__


def _worker(args: tuple) -> dict[str, np.ndarray] | str:
    import torch

    torch.set_num_threads(1)
    return _clip(*args)


def corpus_features(paths: list[str | os.PathLike], cfg: SerFeatureConfig, variant: str,
                    cache_dir: str | os.PathLike, workers: int = 1,
                    progress: bool = True,
                    skip_errors: bool = False) -> list[dict[str, np.ndarray] | str]:
    """Features for many files (cached), in the order of ``paths``.

    Args:
        paths: audio files.
        cfg: feature settings.
        variant: ``"original"`` or ``"world"``.
        cache_dir: cache root folder.
        workers: worker processes (1 = in this process).
        progress: show a tqdm bar.
        skip_errors: a clip that cannot be used (unreadable, missing, too short, silent)
            gives the one-line reason (``str``) instead of raising.
    """
    from tqdm import tqdm

    jobs = [(p, cfg, variant, cache_dir, skip_errors) for p in paths]
    bar = dict(total=len(jobs), desc=f"features ({variant})", disable=not progress,
               unit="clip")
    if workers <= 1:
        return [_clip(*j) for j in tqdm(jobs, **bar)]
    out = []
    with ProcessPoolExecutor(workers) as pool:
        for feats, records in tqdm(pool.map(call_recording_warnings, [_worker] * len(jobs), jobs,
                                            chunksize=8), **bar):
            reissue_warnings(records)  # shown here, in the caller's format
            out.append(feats)
    return out
