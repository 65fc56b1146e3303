"""The on-disk feature cache and its reader, :class:`PreparedCorpus`.

Layout (see ``docs/data.md``)::

    <cache_dir>/<corpus>/manifest.csv               utterances prepared so far (merged over runs)
    <cache_dir>/<corpus>/failures.tsv               utterances the last run could not prepare,
                                                    and files its cataloguing left out
    <cache_dir>/<corpus>/<feature_set>-<key>/config.json
    <cache_dir>/<corpus>/<feature_set>-<key>/<safe utt_id>.npz

``key`` is a short hash of the feature config, the preprocessing settings and
:data:`CACHE_VERSION`, so a change of any setting writes to a new folder instead of reusing
stale features. Every file is written atomically (temporary file + rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from emovc.config import canonical
from emovc.data.manifest import Manifest, Utterance
from emovc.errors import ConfigError, EmovcError
from emovc.fileio import atomic_output, remove_older_than, write_atomic

CACHE_VERSION = 1  # bump when the feature code changes its output for the same settings
CONFIG_FILE = "config.json"
MANIFEST_FILE = "manifest.csv"
FAILURES_FILE = "failures.tsv"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def default_cache_dir() -> Path:
    """``$EMOVC_CACHE`` if set, else ``~/.cache/emovc``."""
    env = os.environ.get("EMOVC_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "emovc"


def safe_name(utt_id: str) -> str:
    """File-system-safe, collision-free file stem for an utterance id.

    ``"ravdess/01/03-01-05-01-01-01-01"`` → ``"ravdess__01__03-01-05-01-01-01-01"``; ids
    with other unsafe characters get a short hash suffix so two ids never share a name.
    """
    base = utt_id.replace("/", "__")
    safe = _UNSAFE.sub("_", base)
    if safe != base:
        safe += "-" + hashlib.sha1(utt_id.encode()).hexdigest()[:8]
    return safe


def file_identity(path: str | os.PathLike) -> tuple[str, int, int]:
    """``(resolved path, size in bytes, modification time in ns)`` of an audio file: which file
    a cache entry was computed from (another corpus's file of the same id, or a file changed
    in place, differs).

    Raises:
        OSError: the file is missing.
    """
    p = Path(path).resolve()
    st = p.stat()
    return str(p), st.st_size, st.st_mtime_ns


def cache_key(feature_set: str, config: dict, preprocess: dict) -> str:
    """10-hex-digit key of (feature set, its config, preprocessing, CACHE_VERSION)."""
    payload = canonical({"feature_set": feature_set, "config": config,
                         "preprocess": preprocess, "cache_version": CACHE_VERSION})
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:10]


def write_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> Path:
    """Save ``arrays`` uncompressed to ``path`` atomically; a failure leaves no file behind."""
    with atomic_output(path, suffix=".tmp.npz") as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    return Path(path)


def write_json(path: str | os.PathLike, obj: object) -> Path:
    """Write ``obj`` as indented JSON atomically."""
    return write_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_npz(path: str | os.PathLike, keys: Iterable[str] = ()) -> dict[str, np.ndarray] | None:
    """Arrays of a cache file, or ``None`` when it is missing, truncated or lacks ``keys``."""
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None
    return data if all(k in data for k in keys) else None


def stored_source(path: str | os.PathLike, keys: Iterable[str] = ()) -> str | None:
    """The ``source`` stamp of a cache file holding ``keys``, read without loading the other
    arrays; ``None`` when the file is missing, unreadable or lacks them."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if "source" not in z.files or not all(k in z.files for k in keys):
                return None
            return str(z["source"])
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def npz_layout(path: str | os.PathLike) -> dict[str, tuple[int, tuple[int, ...], np.dtype]]:
    """Where each array of an uncompressed ``.npz`` (:func:`write_npz`, ``np.savez``) lies in
    the file: ``{name: (byte offset of its data, shape, dtype)}``, so that a part of it (a
    window of a long waveform) can be read without loading the whole array.

    Raises:
        OSError: the file cannot be read.
        ValueError: not such a file (not a zip, a compressed or Fortran-ordered array).
    """
    out = {}
    try:
        with zipfile.ZipFile(path) as zf, open(path, "rb") as f:
            for info in zf.infolist():
                if info.compress_type != zipfile.ZIP_STORED:
                    raise ValueError(f"{path}: array {info.filename} is compressed")
                f.seek(info.header_offset)
                local = f.read(30)  # the local file header; its name and extra field follow
                if local[:4] != b"PK\x03\x04":
                    raise ValueError(f"{path}: broken zip header of {info.filename}")
                n_name, n_extra = struct.unpack("<HH", local[26:30])
                f.seek(info.header_offset + 30 + n_name + n_extra)
                version = np.lib.format.read_magic(f)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = read(f)
                if fortran and len(shape) > 1:
                    raise ValueError(f"{path}: array {info.filename} is in Fortran order")
                out[info.filename.removesuffix(".npy")] = (f.tell(), tuple(shape), dtype)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{path}: {exc}") from None
    return out


def remove_stale_temporaries(folder: Path, older_than_s: float = 3600.0) -> int:
    """Delete temporary files left by killed runs (older than ``older_than_s``)."""
    return remove_older_than(folder.glob(".*.tmp*"), older_than_s)


class PreparedCorpus:
    """Read access to the cached features of one corpus.

    Attributes:
        root: ``<cache_dir>/<corpus>``.
        manifest: utterances whose features exist for every opened feature set.
        dirs: ``{feature_set: folder}``.
        meta: ``{feature_set: contents of its config.json}``.
        report: the :class:`~emovc.data.prepare.PrepareReport` when returned by
            ``prepare_corpus``, else ``None``.
    """

    def __init__(self, root: Path, manifest: Manifest, dirs: dict[str, Path],
                 meta: dict[str, dict], report: object | None = None) -> None:
        self.root, self.dirs, self.meta, self.report = root, dirs, meta, report
        self.manifest = Manifest(u for u in manifest
                                 if all((d / f"{safe_name(u.utt_id)}.npz").is_file()
                                        for d in dirs.values()))

    def __repr__(self) -> str:
        sets = ", ".join(f"{d.name}" for d in self.dirs.values())
        return f"PreparedCorpus({self.root}, {len(self.manifest)} utterances, {sets})"

    def __len__(self) -> int:
        return len(self.manifest)

    def __iter__(self) -> Iterator[tuple[Utterance, dict[str, np.ndarray]]]:
        """Yield ``(utterance, arrays)`` for every utterance, in manifest order."""
        for utt in self.manifest:
            yield utt, self.load(utt)

    @property
    def feature_sets(self) -> list[str]:
        return list(self.dirs)

    @classmethod
    def open(cls, cache_dir: str | os.PathLike | None, corpus: str,
             feature_set: str | Iterable[str] = ("world", "mel"),
             keys: dict[str, str] | None = None) -> PreparedCorpus:
        """Reopen a prepared cache without recomputing anything.

        Args:
            cache_dir: cache root (``None`` = :func:`default_cache_dir`).
            corpus: corpus name used when preparing (``"ravdess"``).
            feature_set: one name or several (``"world"``, ``("world", "mel")``).
            keys: ``{feature_set: key}`` to pick one of several cached configurations; by
                default the only one present, or the one of the default settings.

        Raises:
            EmovcError: nothing prepared there, or several configurations and no key given.
        """
        root = Path(cache_dir or default_cache_dir()).expanduser() / corpus
        sets = [feature_set] if isinstance(feature_set, str) else list(feature_set)
        dirs = {s: _find_dir(root, s, (keys or {}).get(s)) for s in sets}
        meta = {s: json.loads((d / CONFIG_FILE).read_text(encoding="utf-8"))
                for s, d in dirs.items()}
        return cls(root, Manifest.from_csv(root / MANIFEST_FILE), dirs, meta)

    def path(self, utt: str | Utterance, feature_set: str) -> Path:
        """Cache file of ``utt`` for ``feature_set``."""
        utt_id = utt if isinstance(utt, str) else utt.utt_id
        return self.dirs[feature_set] / f"{safe_name(utt_id)}.npz"

    def load(self, utt: str | Utterance, feature_sets: Iterable[str] | None = None,
             ) -> dict[str, np.ndarray]:
        """All cached arrays of ``utt`` (an id or an Utterance), merged over feature sets.

        See ``config.json`` → ``arrays`` of each set for names, shapes and units
        (world: ``f0, mcep, coded_ap, lf0, vuv``; mel: ``mel``), plus ``trim`` (the kept
        sample range) and ``source`` (which audio file they were computed from).
        """
        out: dict[str, np.ndarray] = {}
        for s in feature_sets or self.dirs:
            if s not in self.dirs:
                raise EmovcError(f"feature set {s!r} not opened; opened: {', '.join(self.dirs)}")
            data = read_npz(self.path(utt, s))
            if data is None:
                name = utt if isinstance(utt, str) else utt.utt_id
                raise EmovcError(f"no valid cached {s} features for {name} in {self.dirs[s]}")
            out.update(data)
        return out

    def config(self, feature_set: str) -> dict:
        """The feature config (plain dict) the cached ``feature_set`` was computed with."""
        return dict(self.meta[feature_set]["config"])

    def preprocess_config(self) -> dict:
        """Preprocessing settings (identical for all opened sets)."""
        return dict(next(iter(self.meta.values()))["preprocess"])

    def world_config(self):
        """The :class:`~emovc.features.world.WorldConfig` of the cached WORLD features."""
        from emovc.features.world import WorldConfig

        return WorldConfig.from_dict(self.config("world"))

    def check_config(self, feature_set: str, expected: dict) -> None:
        """Raise ConfigError unless the cached ``feature_set`` used exactly ``expected``."""
        have = self.config(feature_set)
        diff = sorted(k for k in set(have) | set(expected) if have.get(k) != expected.get(k))
        if diff:
            k = diff[0]
            raise ConfigError(f"cached {feature_set} features use {k}={have.get(k)!r} but the "
                              f"model expects {expected.get(k)!r} ({self.dirs[feature_set]})")


def _find_dir(root: Path, feature_set: str, key: str | None) -> Path:
    if key is not None:
        d = root / f"{feature_set}-{key}"
        if not (d / CONFIG_FILE).is_file():
            raise EmovcError(f"no cached {feature_set} features with key {key} in {root}")
        return d
    found = sorted(d for d in root.glob(f"{feature_set}-*") if (d / CONFIG_FILE).is_file())
    if not found:
        raise EmovcError(f"no cached {feature_set} features in {root}; run `emovc prepare` first")
    if len(found) == 1:
        return found[0]
    from emovc.data.featuresets import default_key

    default = root / f"{feature_set}-{default_key(feature_set)}"
    if default in found:
        return default
    keys = ", ".join(d.name.split("-", 1)[1] for d in found)
    raise EmovcError(f"several cached {feature_set} configurations in {root} ({keys}); "
                     "pass keys={feature_set: key}")
