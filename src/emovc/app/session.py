"""What the app keeps per browser session: its conversions, as an evaluable run folder, and its
uploaded reference voices.

:class:`Sessions` holds one :class:`BrowserSession` per session key (the UI passes Gradio's
``session_hash``, one per page load), so a browser never sees another's conversions or uploads;
the files they name live in the app's work dir like every other output.

A run folder holds the audio files and ``conversions.csv`` (columns: source, converted,
target_emotion, source_emotion, reference, text; paths relative to the folder) — the layout
``emovc evaluate RUN_DIR`` reads. Uploaded run folders (and the folder of their sources) are
flattened into the work dir and their ``conversions.csv`` rewritten to point at the uploaded
files by name, so evaluation never follows a path out of the work dir.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

import numpy as np

from emovc.app.limits import APP_SR, UploadLimits, check_upload
from emovc.app.listening_test import ListeningTest
from emovc.app.voices import UploadedVoices
from emovc.app.workdir import WorkDir
from emovc.audio import save_audio
from emovc.errors import ConfigError
from emovc.pipelines.run_table import TABLE, read_table, write_table

_AUDIO_COLUMNS = ("source", "converted", "reference")

MAX_SESSIONS = 1000
"""Most browser sessions :class:`Sessions` keeps at once (the least recently used is dropped)."""
SESSION_GRACE_S = 3600.0
"""Seconds an ended browser session's state is kept for its tab to reconnect (Gradio keeps
its own state an hour for that)."""
LOCAL_SESSION = "local"
"""The session key of callers without browser sessions (the methods' default)."""


class SessionRun:
    """Collects the ``(source, converted)`` pairs one browser session made in the convert tab
    (thread-safe)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []
        self._lock = threading.Lock()

    def add_conversion(self, source_wav: np.ndarray, converted: Path, target: str,
                       source: str | None) -> None:
        """Record one conversion (the 16 kHz source is copied next to the output)."""
        src_path = converted.with_name(converted.stem + ".source.wav")
        save_audio(src_path, source_wav, APP_SR)
        with self._lock:
            self.rows.append({"source": str(src_path), "converted": str(converted),
                              "target_emotion": target, "source_emotion": source or "",
                              "reference": "", "text": ""})

    def freeze(self, run_dir: Path) -> Path:
        """Copy this session's conversions into ``run_dir`` with a ``conversions.csv``.

        Raises:
            ConfigError: nothing was converted yet.
        """
        with self._lock:  # files older than the purge age are gone: drop their rows
            self.rows = [r for r in self.rows
                         if Path(r["source"]).is_file() and Path(r["converted"]).is_file()]
            rows = [dict(r) for r in self.rows]
        if not rows:
            raise ConfigError("nothing to evaluate yet: convert some clips first, or upload a "
                              "run folder with conversions.csv")
        for row in rows:
            for col in ("source", "converted"):
                src = Path(row[col])
                shutil.copy(src, run_dir / src.name)  # new mtime: the purge counts from now
                row[col] = src.name
        write_table(run_dir / TABLE, rows)
        return run_dir

    def import_upload(self, files: Sequence[Path], run_dir: Path, limits: UploadLimits,
                      work: WorkDir, sources: Sequence[Path] = ()) -> Path:
        """Build a run folder from an uploaded run folder (``files``: one ``conversions.csv``
        and its audio) and, optionally, the uploaded folder of its sources (``sources``).

        ``conversions.csv`` is read as ``emovc evaluate`` reads it
        (:func:`~emovc.evaluation.manifest.read_manifest`): a path relative to it names a file
        of the run folder; any other (absolute, or leading out of the folder: the sources and
        references ``emovc convert FOLDER -o OUT`` lists) a file of ``sources``, or without
        them of the run folder too. Browsers upload a folder's files without their
        sub-folders, so a listed file is found by its name among the files of its upload.
        Files of ``sources`` are copied to ``run_dir/sources/``: a source and its output of
        one name (``emovc convert``'s naming) stay apart.

        Raises:
            ConfigError: no csv or more than one, the manifest's errors (columns, emotions), a
                listed file that was not uploaded or whose name two uploaded files share, or
                a source of its output's name without the source folder.
        """
        from emovc.evaluation.manifest import read_manifest

        csvs = [f for f in files if f.name == TABLE]
        if len(csvs) != 1:
            raise ConfigError("upload a run folder containing exactly one conversions.csv "
                              f"(found {len(csvs)})")
        items = read_manifest(csvs[0], check_files=False)  # emovc evaluate's reading
        rows = read_table(csvs[0])
        folder = csvs[0].parent.resolve()
        uploads = {"run": _by_name(files), "sources": _by_name(sources)}
        copied: dict[Path, str] = {}
        for item, row in zip(items, rows, strict=True):
            where = {col: "run" if _in_folder(row[col], getattr(item, col), folder)
                     or not sources else "sources" for col in _AUDIO_COLUMNS}
            if (_file_name(row["source"]) == _file_name(row["converted"]) and row["source"]
                    and where["source"] == where["converted"]):
                raise ConfigError(
                    f"conversions.csv lists {_file_name(row['source'])!r} as both source and "
                    "converted (emovc convert names each output after its input): upload the "
                    "folder of the sources too, as the source folder"
                    + ("" if sources else " (the csv names them by their full paths)"))
            for col in _AUDIO_COLUMNS:
                name = _file_name(row[col])
                if not name:
                    row[col] = ""
                    continue
                found = _listed(name, col, uploads[where[col]], where[col], bool(sources))
                if found not in copied:
                    check_upload(found, limits, work, what=col)
                    dest = run_dir / name if where[col] == "run" else run_dir / SOURCES / name
                    dest.parent.mkdir(exist_ok=True)
                    shutil.copy(found, dest)
                    copied[found] = dest.relative_to(run_dir).as_posix()
                row[col] = copied[found]
        write_table(run_dir / TABLE, rows)
        return run_dir


@dataclass(frozen=True)
class BrowserSession:
    """The state of one browser session: its conversions, its uploaded reference voices and
    the listening tests of its evaluations (the latest last)."""

    run: SessionRun = field(default_factory=SessionRun)
    uploads: UploadedVoices = field(default_factory=UploadedVoices)
    tests: list[ListeningTest] = field(default_factory=list)


class Sessions:
    """One :class:`BrowserSession` per session key (thread-safe).

    A session is created on first use. :meth:`end` (the UI calls it when the browser
    session's connection ends: tab closed or reloaded, but also a dropped network or a laptop
    gone to sleep, after which the same tab reconnects with the same key) only marks it ended:
    it is forgotten once it has been ended for ``grace_s`` seconds (default
    :data:`SESSION_GRACE_S`, an hour, as long as Gradio keeps its own state for a reconnecting
    client) with no use since; a use before then revives it. As a safety net for sessions
    whose end is never seen, at most ``max_sessions`` (default :data:`MAX_SESSIONS`, 1000; a
    session holds a short row per conversion and at most 20 speaker embeddings) are kept:
    creating one more drops the session used least recently. Forgetting drops the state only;
    its files stay in the work dir until the work dir's purge removes them.

    Args:
        max_sessions: the cap on kept sessions (>= 1).
        grace_s: how long an ended session is kept for its tab to come back (>= 0).
        clock: seconds, monotonic (tests pass their own).
    """

    def __init__(self, max_sessions: int = MAX_SESSIONS, grace_s: float = SESSION_GRACE_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_sessions < 1:
            raise ValueError(f"max_sessions must be >= 1, got {max_sessions}")
        if grace_s < 0:
            raise ValueError(f"grace_s must be >= 0, got {grace_s}")
        self.max_sessions = max_sessions
        self.grace_s = grace_s
        self._clock = clock
        self._live: OrderedDict[str, BrowserSession] = OrderedDict()
        self._ended: dict[str, float] = {}  # key -> when its browser session ended
        self._lock = threading.Lock()

    def _expire(self) -> None:
        """Forget the sessions ended at least ``grace_s`` ago (the lock held)."""
        if not self._ended:
            return
        now = self._clock()
        for key, when in list(self._ended.items()):
            if now - when >= self.grace_s:
                del self._ended[key]
                self._live.pop(key, None)

    def get(self, key: str) -> BrowserSession:
        """The state of session ``key``, created if new (or forgotten); marks it as the most
        recently used, and as not ended (its tab is back)."""
        with self._lock:
            self._expire()
            self._ended.pop(key, None)
            state = self._live.get(key)
            if state is None:
                state = self._live[key] = BrowserSession()
                while len(self._live) > self.max_sessions:
                    old, _ = self._live.popitem(last=False)
                    self._ended.pop(old, None)
            else:
                self._live.move_to_end(key)
            return state

    def end(self, key: str) -> None:
        """Session ``key``'s connection ended: forget it after ``grace_s`` unless it is used
        again before then (nothing happens for an unknown key)."""
        with self._lock:
            self._expire()
            if key in self._live:
                self._ended[key] = self._clock()
            if self.grace_s == 0:
                self._expire()

    def ended(self, key: str) -> bool:
        """Whether session ``key`` is kept only for its grace period (its connection ended)."""
        with self._lock:
            self._expire()
            return key in self._ended

    def drop(self, key: str) -> None:
        """Forget session ``key`` now (nothing happens for an unknown key)."""
        with self._lock:
            self._live.pop(key, None)
            self._ended.pop(key, None)

    def keys(self) -> list[str]:
        """The kept session keys, least recently used first."""
        with self._lock:
            self._expire()
            return list(self._live)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            self._expire()
            return key in self._live

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._live)


def _file_name(path: str | None) -> str:
    """The file name of a path written on any system (``C:\\in\\a.wav`` -> ``a.wav``)."""
    return re.split(r"[\\/]", path or "")[-1]


SOURCES = "sources"
"""The run folder's sub-folder of the files uploaded as the source folder."""


def _by_name(files: Sequence[Path]) -> dict[str, list[Path]]:
    """``{file name: uploaded audio files of that name}`` (csv files left out)."""
    named: dict[str, list[Path]] = {}
    for f in files:
        if f.suffix.lower() != ".csv":
            named.setdefault(f.name, []).append(f)
    return named


def _in_folder(cell: str, resolved: str, folder: Path) -> bool:
    """Whether the csv cell ``cell``, which :func:`~emovc.evaluation.manifest.read_manifest`
    resolved to ``resolved``, names a file inside the csv's ``folder``: a relative path not
    leading out of it (a Windows path with a drive or a root is absolute here too)."""
    win = PureWindowsPath(cell)
    return bool(resolved) and not (win.drive or win.root) and Path(resolved).is_relative_to(
        folder)


def _listed(name: str, column: str, files: dict[str, list[Path]], upload: str,
            with_sources: bool) -> Path:
    """The uploaded file of ``name`` that the csv lists in ``column``.

    Raises:
        ConfigError: none was uploaded (``upload``: "run" or "sources", the upload it belongs
            to), or two were.
    """
    found = files.get(name, [])
    if len(found) > 1:
        raise ConfigError(f"two uploaded files are named {name!r}; files are matched to "
                          "conversions.csv by name, so every name must be unique")
    if found:
        return found[0]
    where = ("it is not in the uploaded source folder" if upload == "sources" else
             "upload the whole run folder" + ("" if with_sources else
                                               ", and the folder of its sources (paths outside "
                                               "the run folder) as the source folder"))
    raise ConfigError(f"conversions.csv lists {name!r} ({column}), which was not uploaded; "
                      f"{where}")
