"""Compute features once per utterance and cache them (``emovc prepare``).

Per utterance: :func:`~emovc.data.preprocess.preprocess_waveform` (16 kHz, loudness normalisation,
silence trimming) → each requested feature set of :mod:`emovc.data.featuresets`:

* ``world``: ``f0`` (T,) Hz (0 = unvoiced), ``mcep`` (T, 36) coded envelope, ``coded_ap``
  (T, 1) band aperiodicity in dB, ``lf0`` (T,) continuous natural-log F0, ``vuv`` (T,) bool;
  5 ms frames (see :class:`~emovc.features.world.WorldConfig`),
* ``mel``: ``mel`` (80, T) natural-log mel magnitude, 16 ms hop (:class:`MelConfig`),

plus ``trim`` (2,) = the kept sample range of the loaded 16 kHz waveform. Floats are
stored as float32. Work runs in a process pool; files are written atomically, existing valid
files are reused, and failures are reported (never silently dropped). Cache layout:
:mod:`emovc.data.cache`.

Example::

    pc = prepare_corpus("/data/ravdess16k", cache_dir="/tmp/cache")
    pc.load("ravdess/01/03-01-05-01-01-01-01")["mcep"].shape   # (T, 36)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from emovc.audio import load_audio
from emovc.data.cache import (
    CACHE_VERSION,
    CONFIG_FILE,
    FAILURES_FILE,
    MANIFEST_FILE,
    PreparedCorpus,
    cache_key,
    default_cache_dir,
    file_identity,
    remove_stale_temporaries,
    safe_name,
    stored_source,
    write_json,
    write_npz,
)
from emovc.data.catalogs import ScanLog, scan_corpus
from emovc.data.featuresets import FEATURE_SETS, MelConfig, default_key, parse_feature_sets
from emovc.data.manifest import Manifest
from emovc.data.preprocess import PreprocessConfig, load_preprocessed, preprocess_waveform
from emovc.errors import (
    ConfigError,
    EmovcError,
    broken_pool_error,
    call_recording_warnings,
    reissue_warnings,
)
from emovc.fileio import write_atomic

__all__ = [
    "FEATURE_SETS", "MelConfig", "PrepareReport", "PreparedCorpus", "PreprocessConfig",
    "default_key", "load_preprocessed", "parse_feature_sets", "prepare_corpus",
    "prepare_manifest", "preprocess_waveform",
]


@dataclass
class PrepareReport:
    """What a prepare run did."""

    name: str
    n_utterances: int = 0
    n_computed: int = 0
    n_cached: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (utt_id, path, reason)
    scan_log: ScanLog = field(default_factory=ScanLog)
    elapsed_s: float = 0.0
    audio_s: float = 0.0  # duration of the computed (not cached) utterances
    workers: int = 1

    def summary(self) -> list[str]:
        ran = min(self.workers, self.n_computed + len(self.failures))  # processes that ran
        work = f"{ran} worker{'s' if ran != 1 else ''}" if ran else "all read from the cache"
        lines = [f"{self.name}: {self.n_utterances} utterances, {self.n_computed} computed, "
                 f"{self.n_cached} already cached, {len(self.failures)} failed "
                 f"({self.elapsed_s:.1f} s, {work})"]
        if self.n_computed and self.elapsed_s > 0:
            lines.append(f"speed: {self.n_computed / self.elapsed_s:.2f} clips/s, "
                         f"{self.audio_s / self.elapsed_s:.2f} s of audio per second")
        lines += [f"failed: {u} ({r})" for u, _, r in self.failures[:5]]
        if len(self.failures) > 5:
            lines.append(f"... {len(self.failures) - 5} more failures")
        lines += [f"skipped while cataloguing: {s}" for s in self.scan_log.summary()]
        return lines


def _work(utt_id: str, path: str, pp: dict, targets: list[tuple[str, dict, str]],
          force: bool) -> tuple[str, str, str]:
    """Prepare one utterance in a worker; returns ``(utt_id, status, message)``."""
    try:
        stamp = source_stamp(path)
        todo = [(s, c, o) for s, c, o in targets
                if force or not _is_current(o, s, stamp)]
        if not todo:
            return utt_id, "cached", ""
        cfg = PreprocessConfig.from_dict(pp)
        wav, bounds = preprocess_waveform(load_audio(path, sr=cfg.sample_rate), cfg, name=path)
        for s, c, out in todo:
            fs = FEATURE_SETS[s]
            arrays = fs.extract(wav, fs.config_type.from_dict(c))
            arrays = {k: v.astype(np.float32) if v.dtype.kind == "f" else v
                      for k, v in arrays.items()}
            arrays["trim"] = np.asarray(bounds, dtype=np.int64)
            arrays["source"] = np.asarray(stamp)
            write_npz(out, arrays)
        return utt_id, "computed", ""
    except EmovcError as exc:
        return utt_id, "failed", str(exc)
    except Exception as exc:  # report library errors per file instead of killing the run
        return utt_id, "failed", f"{type(exc).__name__}: {exc}"


def source_stamp(path: str) -> str:
    """The ``source`` entry stored with a cache entry: :func:`file_identity` as text."""
    return "|".join(str(v) for v in file_identity(path))


def _is_current(out: str, feature_set: str, stamp: str) -> bool:
    """Whether cache file ``out`` holds ``feature_set``'s arrays computed from the file of
    ``stamp`` (its ``source`` entry alone is read)."""
    return stored_source(out, FEATURE_SETS[feature_set].arrays) == stamp


def _init_worker() -> None:
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass


def _default_name(manifest: Manifest, root: Path | None, cache_root: Path) -> str:
    """The corpus name (``<layout>-<folder name>`` for the layouts of your own recordings:
    ``folders``, ``speakers``, ``ljspeech``), with a short hash of ``root`` appended when that
    cache folder already holds another folder's corpus: two copies of one corpus, or two
    generic folders both called ``wav``, must not merge their manifests into one prepared
    corpus."""
    corpora = manifest.corpora()
    if len(corpora) != 1:
        raise EmovcError(f"manifest mixes corpora {corpora}; pass a cache name")
    name = corpora[0]
    if name in ("folders", "speakers", "ljspeech") and root is not None:
        name += "-" + (re.sub(r"[^A-Za-z0-9._-]", "_", root.name) or "root")
    if root is not None and _other_source(cache_root / name, str(root)):
        name += "-" + hashlib.sha1(str(root).encode()).hexdigest()[:8]
    return name


def _other_source(base: Path, source: str) -> bool:
    """Whether the cache folder ``base`` was made from a corpus folder other than ``source``."""
    for cfg in base.glob(f"*/{CONFIG_FILE}"):
        try:
            recorded = json.loads(cfg.read_text(encoding="utf-8")).get("source", "")
        except (OSError, ValueError):
            continue
        if recorded and recorded != source:
            return True
    return False


def _resolve_configs(sets: list[str], configs: dict | None, pp: PreprocessConfig) -> dict:
    out = {}
    for s in sets:
        cfg = (configs or {}).get(s) or FEATURE_SETS[s].default_config()
        if isinstance(cfg, dict):
            cfg = FEATURE_SETS[s].config_type.from_dict(cfg)
        if cfg.sample_rate != pp.sample_rate:
            raise ConfigError(f"{s} config is for {cfg.sample_rate} Hz but preprocessing "
                              f"resamples to {pp.sample_rate} Hz")
        out[s] = cfg
    return out


def prepare_manifest(manifest: Manifest, *, name: str | None = None,
                     cache_dir: str | os.PathLike | None = None,
                     features: str | Iterable[str] = ("world", "mel"),
                     configs: dict[str, object] | None = None,
                     preprocess_cfg: PreprocessConfig | None = None,
                     workers: int | None = None, force: bool = False, progress: bool = True,
                     root: Path | None = None, scan_log: ScanLog | None = None,
                     ) -> PreparedCorpus:
    """Compute and cache features for every utterance of ``manifest``.

    Args:
        manifest: utterances to prepare (e.g. from :func:`~emovc.data.catalogs.scan_corpus`).
        name: cache sub-folder; default = the manifest's corpus name.
        cache_dir: cache root; default ``$EMOVC_CACHE`` or ``~/.cache/emovc``.
        features: feature set names (``"world,mel"`` or a list).
        configs: ``{feature_set: config or dict}`` overriding the defaults.
        preprocess_cfg: waveform preprocessing settings.
        workers: processes (default ``os.cpu_count()``; 1 = in this process).
        force: recompute even when a valid cache file exists.
        progress: show a tqdm progress bar on stderr.

    Returns:
        :class:`PreparedCorpus` over the successfully prepared utterances, with ``.report``.
    """
    if not len(manifest):
        raise EmovcError("nothing to prepare: the manifest is empty")
    pp = preprocess_cfg or PreprocessConfig()
    sets = parse_feature_sets(features)
    cfgs = _resolve_configs(sets, configs, pp)
    cache_root = _cache_root(cache_dir)
    name = name or _default_name(manifest, root, cache_root)
    base = cache_root / name
    dirs = _make_dirs(base, cfgs, pp, name, root)
    report = PrepareReport(name=name, n_utterances=len(manifest), scan_log=scan_log or ScanLog(),
                           workers=max(1, workers or os.cpu_count() or 1))
    tasks = [(u.utt_id, u.path, pp.to_dict(),
              [(s, cfgs[s].to_dict(), str(dirs[s] / f"{safe_name(u.utt_id)}.npz")) for s in sets],
              force) for u in manifest]
    start = time.perf_counter()
    results = _run(tasks, report.workers, progress, f"prepare {name}")
    report.elapsed_s = time.perf_counter() - start
    durations = {u.utt_id: u.duration for u in manifest}
    for utt_id, status, msg in results:
        if status == "computed":
            report.n_computed += 1
            report.audio_s += durations[utt_id]
        elif status == "cached":
            report.n_cached += 1
        else:
            report.failures.append((utt_id, manifest.get(utt_id).path, msg))
    _update_manifest(base / MANIFEST_FILE, manifest, {f[0] for f in report.failures})
    # the files left out while cataloguing too (no utterance id), as augment's failures.csv
    _write_failures(base / FAILURES_FILE, report.failures + [
        ("", path, reason) for reason, paths in report.scan_log.skipped.items()
        for path in paths])
    meta = {s: _meta(s, cfgs[s], pp, name, root) for s in sets}
    return PreparedCorpus(base, Manifest.from_csv(base / MANIFEST_FILE), dirs, meta, report)


def prepare_corpus(root: str | os.PathLike, corpus: str = "auto", **kwargs) -> PreparedCorpus:
    """Catalog ``root`` (see :func:`~emovc.data.catalogs.scan_corpus`) and prepare it.

    Keyword arguments are those of :func:`prepare_manifest`. Nothing is written when the
    folder is missing, empty or of an unknown layout.
    """
    parse_feature_sets(kwargs.get("features", "world"))  # fail fast, before scanning
    _cache_root(kwargs.get("cache_dir"))
    manifest, log = scan_corpus(root, corpus)
    return prepare_manifest(manifest, root=Path(root).resolve(), scan_log=log, **kwargs)


def _cache_root(cache_dir: str | os.PathLike | None) -> Path:
    """The cache root (default :func:`default_cache_dir`); a file there is refused by name
    (it failed as "not a directory: <file>/<corpus>/<feature set>-<key>")."""
    root = Path(cache_dir or default_cache_dir()).expanduser()
    if root.exists() and not root.is_dir():
        raise EmovcError(f"cache dir {root} is a file; give a folder")
    return root


def _meta(s: str, cfg, pp: PreprocessConfig, name: str, root: Path | None) -> dict:
    return {"feature_set": s, "key": cache_key(s, cfg.to_dict(), pp.to_dict()),
            "cache_version": CACHE_VERSION, "config": cfg.to_dict(), "preprocess": pp.to_dict(),
            "arrays": FEATURE_SETS[s].arrays, "corpus": name,
            "source": str(root) if root else ""}


def _make_dirs(base: Path, cfgs: dict, pp: PreprocessConfig, name: str,
               root: Path | None) -> dict[str, Path]:
    dirs = {}
    for s, cfg in cfgs.items():
        meta = _meta(s, cfg, pp, name, root)
        d = base / f"{s}-{meta['key']}"
        d.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(d)
        if not (d / CONFIG_FILE).is_file():
            write_json(d / CONFIG_FILE, meta)
        dirs[s] = d
    return dirs


def _update_manifest(path: Path, manifest: Manifest, failed: set[str]) -> None:
    """Write this run's prepared utterances, keeping rows of earlier runs on other clips."""
    done = manifest.filter(where=lambda u: u.utt_id not in failed)
    if path.is_file():
        ours = {u.utt_id for u in manifest}
        done = Manifest(u for u in Manifest.from_csv(path) if u.utt_id not in ours) + done
    done.to_csv(path, force=True)  # merged with its earlier rows above


def _write_failures(path: Path, failures: list[tuple[str, str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n")
    writer.writerow(["utt_id", "path", "reason"])
    writer.writerows(failures)
    write_atomic(path, buf.getvalue())


def _cached(path: str, targets: list[tuple[str, dict, str]], force: bool) -> bool:
    """Whether every cache file of an utterance is current (read here, in this process: a
    fully cached corpus starts no worker processes, whose start-up took 10-14 s)."""
    if force:
        return False
    try:
        stamp = source_stamp(path)
    except OSError:
        return False  # the worker reports it
    return all(_is_current(out, s, stamp) for s, _, out in targets)


def _run(tasks: list, workers: int, progress: bool, desc: str) -> list[tuple[str, str, str]]:
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), desc=desc, unit="utt", disable=not progress, dynamic_ncols=True)
    cached = [_cached(t[1], t[3], t[4]) for t in tasks]
    results = [(t[0], "cached", "") for t, c in zip(tasks, cached, strict=True) if c]
    tasks = [t for t, c in zip(tasks, cached, strict=True) if not c]
    bar.update(len(results))
    try:
        if not tasks:
            return results
        if workers == 1:
            for t in tasks:
                results.append(_work(*t))
                bar.update()
            return results
        # spawn: forking a process that has used torch/OpenMP threads can deadlock
        pool = ProcessPoolExecutor(min(workers, len(tasks)), mp_context=get_context("spawn"),
                                   initializer=_init_worker)
        futures = []
        try:
            futures.extend(pool.submit(call_recording_warnings, _work, *t) for t in tasks)
            for fut in as_completed(futures):
                result, records = fut.result()
                reissue_warnings(records)  # shown here, in the caller's format
                results.append(result)
                bar.update()
        except BrokenProcessPool as exc:
            pool.shutdown(wait=False, cancel_futures=True)
            raise broken_pool_error(exc) from None
        except BaseException:  # Ctrl-C: the queued clips never start (a rerun resumes)
            # each future cancelled by hand: shutdown(cancel_futures=True) alone let all 1000
            # queued clips of a RAVDESS run finish first (57 s after Ctrl-C)
            for fut in futures:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
        return results
    finally:
        bar.close()
