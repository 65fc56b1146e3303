"""Cache of conversion features (WORLD mcep / log-F0 / voicing) for a labelled corpus.

Layout: ``cache_dir/<world-config-hash>/<corpus>-<corpus-hash>/`` per corpus (the hash is of
the corpus folder's resolved path, so two corpora never share a folder), holding one
compressed ``.npz`` per utterance and an ``index.csv`` with the utterance metadata (speaker,
emotion, intensity, sentence, repetition) and the source's active speech level (the features
are loudness-normalised, so the level the emotion had is kept on the side; indexes from before
this column get it measured once). A ``.npz`` is named after the utterance id *and* the audio
file it was computed from (resolved path, size, modification time): a file changed in place is
analysed again, never served stale features. ``index.csv`` lists the utterances of the last
:func:`build_cache` call on that corpus (with a speaker subset: those speakers, plus the still
valid rows of the others), so a run reads only its own corpus. An earlier ``index.csv`` that
cannot be read (one written in cp1252 by an emovc that used the locale's encoding, one cut
short) is written anew from the cached features, as a missing one is, with one warning.

Files whose features cannot be computed (no voiced frames, unreadable audio) are skipped with
one line each naming the file and the reason, after the catalog's own summary of the files it
left out; extraction runs in a small process pool (WORLD analysis is single-threaded C code).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emovc.audio import load_audio
from emovc.audio.processing import active_rms_dbfs
from emovc.config import canonical
from emovc.data.cache import file_identity
from emovc.data.catalogs import scan_corpus
from emovc.data.catalogs.base import ScanLog
from emovc.data.manifest import Utterance
from emovc.errors import (
    ConfigError,
    EmovcError,
    EmovcWarning,
    call_recording_warnings,
    reissue_warnings,
)
from emovc.features.world import WorldConfig
from emovc.fileio import atomic_output, write_atomic
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
    blob = json.dumps(canonical(cfg.to_dict()), sort_keys=True).encode()
    return hashlib.sha1(blob).hexdigest()[:10]


def corpus_folder(cache_dir: str | os.PathLike, cfg: WorldConfig,
                  data_dir: str | os.PathLike) -> Path:
    """Cache folder of one corpus: ``cache_dir/<world hash>/<name>-<hash of its path>``."""
    root = Path(data_dir).resolve()
    digest = hashlib.sha1(str(root).encode()).hexdigest()[:10]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in root.name) or "corpus"
    return Path(cache_dir) / config_hash(cfg) / f"{name}-{digest}"


def _extract(args: tuple[str, str, dict]) -> tuple[str, int, str]:
    """Analyse one file into ``out``; returns ``(out, n_frames, "")``, or ``(out, 0, reason)``
    when its features cannot be computed (silent, unvoiced or unreadable audio)."""
    path, out, cfg_dict = args
    cfg = WorldConfig.from_dict(cfg_dict)
    try:
        wav = load_audio(path, sr=cfg.sample_rate)
        feats, _, _ = analyze_for_conversion(wav, cfg)
    except EmovcError as err:
        return out, 0, str(err).splitlines()[0] if str(err) else type(err).__name__
    with atomic_output(out, suffix=".npz") as tmp:
        np.savez_compressed(tmp, mcep=feats.mcep, lf0=feats.lf0, vuv=feats.vuv, cap=feats.cap,
                            level_db=active_rms_dbfs(wav, cfg.sample_rate))
    return out, feats.n_frames, ""


def _warn(line: str) -> None:
    """A note on files left out, as an :class:`~emovc.errors.EmovcWarning` (the CLI prints
    it on stderr; a Python caller can capture or silence it)."""
    warnings.warn(line, EmovcWarning, stacklevel=3)


def _stderr(line: str) -> None:
    """A progress line of the extraction: the training job's own status output, as its
    step lines (:class:`~emovc.training.progress.LogProgress`), so it stays on stderr."""
    print(line, file=sys.stderr, flush=True)


def report_left_out(log: ScanLog, what: str,
                    report: Callable[[str], None] | None = None) -> None:
    """One line per reason, ``left out of WHAT: 2 × silent (...) (e.g. a.wav, b.wav)``, to
    ``report`` (default: an :class:`~emovc.errors.EmovcWarning` each); the SpectroGAN trainer
    reports its clips this way too."""
    for line in log.summary():
        (report or _warn)(f"left out of {what}: {line}")


def build_cache(data_dir: str | os.PathLike, cache_dir: str | os.PathLike,
                cfg: WorldConfig = WorldConfig(), speakers: list[str] | None = None,
                workers: int = 2, report: Callable[[str], None] | None = None,
                corpus: str = "auto") -> Path:
    """Extract (or reuse) conversion features of every labelled utterance of a corpus.

    Args:
        data_dir: corpus folder (any layout :func:`emovc.data.catalogs.scan_corpus` knows).
        cache_dir: root of the feature cache.
        cfg: WORLD settings.
        speakers: keep only these speaker ids (``None`` = all).
        workers: extraction processes.
        report: receives every line: the files left out (the catalog's summary, then every
            file whose features could not be computed, with its path and the reason) and
            the progress line; ``None``: each file-left-out line as an
            :class:`~emovc.errors.EmovcWarning`, the progress line on stderr.
        corpus: the layout of ``data_dir`` (a name of :data:`emovc.data.catalogs.CATALOGS`),
            or ``"auto"``: detected.

    Returns:
        This corpus's cache folder holding ``index.csv`` and one ``<key>.npz`` per utterance.

    Raises:
        EmovcError: no emotion-labelled utterance, or none whose features could be computed.
    """
    note, progress = report or _warn, report or _stderr
    manifest, log = scan_corpus(data_dir, corpus)
    report_left_out(log, str(data_dir), note)
    check_speakers(speakers, manifest.speakers(), data_dir)
    utts = [u for u in manifest if u.emotion and (speakers is None or u.speaker in speakers)]
    if not utts:
        from emovc.data.catalogs import unlabelled_hint

        raise EmovcError(f"no emotion-labelled utterances under {data_dir}"
                         f"{unlabelled_hint(manifest)}")
    folder = corpus_folder(cache_dir, cfg, data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / "world.json", json.dumps(cfg.to_dict(), indent=1))
    keys = {u.utt_id: file_key(u) for u in utts}
    jobs = [(u.path, str(folder / f"{keys[u.utt_id]}.npz"), cfg.to_dict()) for u in utts
            if not (folder / f"{keys[u.utt_id]}.npz").exists()]
    if jobs:
        progress(f"computing the features of {len(jobs)} of {len(utts)} file(s) (kept in "
               f"{folder}; later runs reuse them)")
    failed = _run_jobs(jobs, workers)
    for path, reason in failed.items():
        note(f"skipped {path}: {reason}")
    if failed:
        note(f"skipped {len(failed)} of {len(utts)} file(s) whose features could not be "
               "computed")
    utts = [u for u in utts if u.path not in failed]
    if not utts:
        raise EmovcError(f"no usable utterances under {data_dir}: the features of all "
                         f"{len(failed)} labelled file(s) failed (see the lines above)")
    old, unreadable = _earlier_index(folder)
    if unreadable:
        note(f"the feature index {folder / 'index.csv'} could not be read ({unreadable}); "
             "it is written anew from the cached features")
    _write_index(folder, utts, keys, cfg.sample_rate, speakers, old)
    return folder


def check_speakers(asked: list[str] | None, have: list[str], data_dir) -> None:
    """Raise unless every speaker id ``asked`` for is one of the corpus's ``have``.

    Raises:
        ConfigError: the first unknown id, with the corpus's ids.
    """
    for spk in asked or []:
        if spk not in have:
            raise ConfigError(f"unknown speaker {spk!r} in {data_dir}; its speakers: "
                              f"{', '.join(sorted(have))}")


def _run_jobs(jobs: list[tuple[str, str, dict]], workers: int) -> dict[str, str]:
    """Run the extraction jobs; returns ``{audio path: reason}`` of the files that failed."""
    if not jobs:
        return {}
    from tqdm import tqdm

    with ProcessPoolExecutor(max(1, workers)) as pool:  # a bar on a terminal only
        done = []
        for result, records in tqdm(pool.map(call_recording_warnings, [_extract] * len(jobs),
                                             jobs, chunksize=4),
                                    total=len(jobs), desc="features", unit="file", disable=None,
                                    leave=False):
            reissue_warnings(records)  # shown here, in the caller's format
            done.append(result)
    return {job[0]: reason for job, (_, _, reason) in zip(jobs, done, strict=True) if reason}


def file_key(u: Utterance) -> str:
    """``.npz`` name (without suffix) of an utterance: its id plus a hash of the audio file it
    is computed from (resolved path, size, modification time)."""
    return f"{u.utt_id.replace('/', '__')}-{_file_hash(u.path)}"


def _file_hash(path: str) -> str:
    blob = json.dumps(list(file_identity(path)))
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def _still_valid(row: CachedUtterance) -> bool:
    """Whether a row's audio file still is the one its features were computed from."""
    try:
        return row.key.endswith(f"-{_file_hash(row.path)}")
    except OSError:
        return False


def _earlier_index(folder: Path) -> tuple[dict[str, CachedUtterance], str]:
    """The rows of the ``index.csv`` an earlier :func:`build_cache` left in ``folder``, by
    key, and ``""``; ``({}, why)`` when it cannot be read or decoded (e.g. written in cp1252
    by an emovc that wrote it in the locale's encoding, or cut short): it is only a record
    of the ``.npz`` files, rebuilt as a missing one is; ``({}, "")`` without one."""
    if not (folder / "index.csv").exists():
        return {}, ""
    try:
        return {r.key: r for r in read_index(folder)}, ""
    except EmovcError:
        return {}, "not UTF-8"
    except KeyError as err:
        return {}, f"no {err.args[0]} column"
    except (OSError, ValueError, TypeError, csv.Error) as err:
        return {}, str(err).splitlines()[0] if str(err) else type(err).__name__


def _write_index(folder: Path, utts: list[Utterance], keys: dict[str, str], sample_rate: int,
                 speakers: list[str] | None, old: dict[str, CachedUtterance]) -> None:
    """Write ``index.csv``: the rows of ``utts`` and, when only some ``speakers`` were asked
    for, the still valid rows of the other speakers in ``old`` (the earlier index's rows, by
    key; kept for the runs that use them)."""
    rows = []
    for u in utts:
        key = keys[u.utt_id]
        if key in old and np.isfinite(old[key].level_db):
            n, level = old[key].n_frames, old[key].level_db
        else:
            n, level = _frames_and_level(folder / f"{key}.npz", u.path, sample_rate)
        rows.append(CachedUtterance(key, u.path, u.speaker, u.emotion, u.intensity, u.sentence,
                                    str(u.repetition or ""), n, level))
    if speakers is not None:
        rows += [r for r in old.values() if r.speaker not in speakers and _still_valid(r)
                 and (folder / f"{r.key}.npz").exists()]
    with (atomic_output(folder / "index.csv") as tmp,
          open(tmp, "w", newline="", encoding="utf-8") as f):
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
    """Rows of ``folder/index.csv`` (``level_db`` NaN for indexes written before it existed).

    Raises:
        EmovcError: the index is not UTF-8 (written by an emovc that used the locale's
            encoding); :func:`build_cache` writes it anew.
    """
    path = Path(folder) / "index.csv"
    with open(path, newline="", encoding="utf-8") as f:
        try:
            return [CachedUtterance(**{**r, "n_frames": int(r["n_frames"]),
                                       "level_db": float(r.get("level_db") or "nan")})
                    for r in csv.DictReader(f)]
        except UnicodeDecodeError:
            raise EmovcError(f"{path} is not UTF-8 (written by an earlier emovc?): running "
                             "emovc train on its corpus again (Python: build_cache) writes it "
                             "anew") from None


def speech_levels(rows: list[CachedUtterance]) -> dict[str, float]:
    """Active speech level (dBFS, :func:`~emovc.audio.processing.active_rms_dbfs`) of the
    source audio of ``rows``, by key (stored in the index at extraction time)."""
    missing = [r.key for r in rows if not np.isfinite(r.level_db)]
    if missing:
        raise EmovcError(f"{len(missing)} cached utterances have no speech level (e.g. "
                         f"{missing[0]}); rebuild the index by running emovc train on its "
                         "corpus again (Python: build_cache)")
    return {r.key: r.level_db for r in rows}


def load_cached(folder: str | os.PathLike, key: str) -> FrameFeatures:
    """Features of one cached utterance."""
    z = np.load(Path(folder) / f"{key}.npz")
    return FrameFeatures(mcep=z["mcep"], lf0=z["lf0"], vuv=z["vuv"], cap=z["cap"])
