"""Cache of conversion features (WORLD mcep / log-F0 / voicing) for a labelled corpus.

One compressed ``.npz`` per utterance under ``cache_dir/<world-config-hash>/`` plus an
``index.csv`` with the utterance metadata (speaker, emotion, intensity, sentence, repetition)
and the source's active speech level (the features are loudness-normalised, so the level the
emotion had is kept on the side; caches from before this column get it measured once).
Extraction runs in a small process pool (WORLD analysis is single-threaded C code).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emovc.audio import load_audio
from emovc.audio.processing import active_rms_dbfs
from emovc.data.catalogs import scan_corpus
from emovc.data.manifest import Utterance
from emovc.errors import EmovcError
from emovc.features.world import WorldConfig
from emovc.fileio import atomic_output
from emovc.models.conversion.features import FrameFeatures, analyze_for_conversion

INDEX_COLUMNS = ("key", "path", "speaker", "emotion", "intensity", "sentence", "repetition",
                 "n_frames", "level_db")


@dataclass
class CachedUtterance:
    """Metadata row of the cache index; ``key`` names the ``.npz`` file."""

    key: str
    path: str
    speaker: str
    emotion: str
    intensity: str
    sentence: str
    repetition: str
    n_frames: int
    level_db: float = float("nan")


def config_hash(cfg: WorldConfig) -> str:
    """Short stable hash of the WORLD settings (cache sub-folder name)."""
    blob = json.dumps(cfg.to_dict(), sort_keys=True).encode()
    return hashlib.sha1(blob).hexdigest()[:10]


def _extract(args: tuple[str, str, dict]) -> tuple[str, int]:
    path, out, cfg_dict = args
    cfg = WorldConfig.from_dict(cfg_dict)
    wav = load_audio(path, sr=cfg.sample_rate)
    feats, _, _ = analyze_for_conversion(wav, cfg)
    with atomic_output(out, suffix=".npz") as tmp:
        np.savez_compressed(tmp, mcep=feats.mcep, lf0=feats.lf0, vuv=feats.vuv, cap=feats.cap,
                            level_db=active_rms_dbfs(wav, cfg.sample_rate))
    return out, feats.n_frames


def build_cache(data_dir: str | os.PathLike, cache_dir: str | os.PathLike,
                cfg: WorldConfig = WorldConfig(), speakers: list[str] | None = None,
                workers: int = 2) -> Path:
    """Extract (or reuse) conversion features of every labelled utterance of a corpus.

    Args:
        data_dir: corpus folder (any layout :func:`emovc.data.catalogs.scan_corpus` knows).
        cache_dir: root of the feature cache.
        cfg: WORLD settings.
        speakers: keep only these speaker ids (``None`` = all).
        workers: extraction processes.

    Returns:
        The cache folder holding ``index.csv`` and one ``<key>.npz`` per utterance.
    """
    manifest, _ = scan_corpus(data_dir)
    utts = [u for u in manifest if u.emotion and (speakers is None or u.speaker in speakers)]
    if not utts:
        raise EmovcError(f"no emotion-labelled utterances under {data_dir}")
    folder = Path(cache_dir) / config_hash(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "world.json").write_text(json.dumps(cfg.to_dict(), indent=1))
    jobs = [(u.path, str(folder / f"{_key(u)}.npz"), cfg.to_dict()) for u in utts
            if not (folder / f"{_key(u)}.npz").exists()]
    if jobs:
        with ProcessPoolExecutor(max(1, workers)) as pool:
            list(pool.map(_extract, jobs, chunksize=4))
    _write_index(folder, utts, cfg.sample_rate)
    return folder


def _key(u: Utterance) -> str:
    return u.utt_id.replace("/", "__")


def _write_index(folder: Path, utts: list[Utterance], sample_rate: int) -> None:
    rows = []
    old = {r.key: r for r in read_index(folder)} if (folder / "index.csv").exists() else {}
    for u in utts:
        key = _key(u)
        if key in old and np.isfinite(old[key].level_db):
            n, level = old[key].n_frames, old[key].level_db
        else:
            n, level = _frames_and_level(folder / f"{key}.npz", u.path, sample_rate)
        rows.append(CachedUtterance(key, u.path, u.speaker, u.emotion, u.intensity, u.sentence,
                                    str(u.repetition or ""), n, level))
    rows += [r for k, r in old.items() if k not in {x.key for x in rows}]
    with atomic_output(folder / "index.csv") as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(INDEX_COLUMNS)
        for r in rows:
            w.writerow([getattr(r, c) for c in INDEX_COLUMNS])


def _frames_and_level(npz: Path, audio: str, sample_rate: int) -> tuple[int, float]:
    """Frame count and active speech level (dBFS) of one cached utterance; the level is read
    from the ``.npz`` (or, for caches written before it was stored there, measured on the
    source audio — once: the index keeps it)."""
    z = np.load(npz)
    if "level_db" in z.files:
        return int(z["lf0"].shape[0]), float(z["level_db"])
    return int(z["lf0"].shape[0]), active_rms_dbfs(load_audio(audio, sr=sample_rate),
                                                   sample_rate)


def read_index(folder: str | os.PathLike) -> list[CachedUtterance]:
    """Rows of ``folder/index.csv`` (``level_db`` NaN for indexes written before it existed)."""
    with open(Path(folder) / "index.csv", newline="") as f:
        return [CachedUtterance(**{**r, "n_frames": int(r["n_frames"]),
                                   "level_db": float(r.get("level_db") or "nan")})
                for r in csv.DictReader(f)]


def speech_levels(rows: list[CachedUtterance]) -> dict[str, float]:
    """Active speech level (dBFS, :func:`~emovc.audio.processing.active_rms_dbfs`) of the
    source audio of ``rows``, by key (stored in the index at extraction time)."""
    missing = [r.key for r in rows if not np.isfinite(r.level_db)]
    if missing:
        raise EmovcError(f"{len(missing)} cached utterances have no speech level (e.g. "
                         f"{missing[0]}); rebuild the index with build_cache")
    return {r.key: r.level_db for r in rows}


def load_cached(folder: str | os.PathLike, key: str) -> FrameFeatures:
    """Features of one cached utterance."""
    z = np.load(Path(folder) / f"{key}.npz")
    return FrameFeatures(mcep=z["mcep"], lf0=z["lf0"], vuv=z["vuv"], cap=z["cap"])
