"""Cache of conversion features (WORLD mcep / log-F0 / voicing) for a labelled corpus.

One compressed ``.npz`` per utterance under ``cache_dir/<world-config-hash>/`` plus an
``index.csv`` with the utterance metadata (speaker, emotion, intensity, sentence, repetition).
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
                 "n_frames")


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


def config_hash(cfg: WorldConfig) -> str:
    """Short stable hash of the WORLD settings (cache sub-folder name)."""
    blob = json.dumps(cfg.to_dict(), sort_keys=True).encode()
    return hashlib.sha1(blob).hexdigest()[:10]


def _extract(args: tuple[str, str, dict]) -> tuple[str, int]:
    path, out, cfg_dict = args
    cfg = WorldConfig.from_dict(cfg_dict)
    feats, _, _ = analyze_for_conversion(load_audio(path, sr=cfg.sample_rate), cfg)
    tmp = out + ".tmp.npz"
    np.savez_compressed(tmp, mcep=feats.mcep, lf0=feats.lf0, vuv=feats.vuv, cap=feats.cap)
    os.replace(tmp, out)
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
    _write_index(folder, utts)
    return folder


def _key(u: Utterance) -> str:
    return u.utt_id.replace("/", "__")


def _write_index(folder: Path, utts: list[Utterance]) -> None:
    rows = []
    old = {r.key: r for r in read_index(folder)} if (folder / "index.csv").exists() else {}
    for u in utts:
        key = _key(u)
        n = old[key].n_frames if key in old else int(np.load(folder / f"{key}.npz")["lf0"].shape[0])
        rows.append(CachedUtterance(key, u.path, u.speaker, u.emotion, u.intensity, u.sentence,
                                    str(u.repetition or ""), n))
    rows += [r for k, r in old.items() if k not in {x.key for x in rows}]
    tmp = folder / "index.csv.tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(INDEX_COLUMNS)
        for r in rows:
            w.writerow([getattr(r, c) for c in INDEX_COLUMNS])
    os.replace(tmp, folder / "index.csv")


def read_index(folder: str | os.PathLike) -> list[CachedUtterance]:
    """Rows of ``folder/index.csv``."""
    with open(Path(folder) / "index.csv", newline="") as f:
        return [CachedUtterance(**{**r, "n_frames": int(r["n_frames"])}) for r in csv.DictReader(f)]


def speech_levels(folder: str | os.PathLike, rows: list[CachedUtterance],
                  sample_rate: int = 16000) -> dict[str, float]:
    """Active speech level (dBFS, :func:`~emovc.audio.processing.active_rms_dbfs`) of the
    source audio of ``rows``, by key; memoised in ``folder/levels.csv`` (the conversion
    features themselves are loudness-normalised, so the level is kept on the side)."""
    memo_path = Path(folder) / "levels.csv"
    memo: dict[str, float] = {}
    if memo_path.exists():
        with open(memo_path, newline="") as f:
            memo = {r["key"]: float(r["level_db"]) for r in csv.DictReader(f)}
    missing = [r for r in rows if r.key not in memo]
    for r in missing:
        memo[r.key] = active_rms_dbfs(load_audio(r.path, sr=sample_rate), sample_rate)
    if missing:
        with atomic_output(memo_path) as tmp, open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(("key", "level_db"))
            w.writerows(sorted(memo.items()))
    return {r.key: memo[r.key] for r in rows}


def load_cached(folder: str | os.PathLike, key: str) -> FrameFeatures:
    """Features of one cached utterance."""
    z = np.load(Path(folder) / f"{key}.npz")
    return FrameFeatures(mcep=z["mcep"], lf0=z["lf0"], vuv=z["vuv"], cap=z["cap"])
