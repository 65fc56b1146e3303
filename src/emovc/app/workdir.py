"""The app's private work directory: every file the app reads or writes lives under it.

Paths that arrive with a request (uploads handed over by the web framework, report files,
previous outputs) are resolved — symlinks and ``..`` included — and refused unless they lie
inside :attr:`WorkDir.root`. Temporary folders are created here and removed on :meth:`cleanup`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from emovc.errors import EmovcError


class PathOutsideWorkDir(EmovcError):
    """A request named a file outside the app's work directory."""


def safe_stem(name: str, default: str = "audio") -> str:
    """File-name stem reduced to ``[A-Za-z0-9_-]`` (≤ 40 chars) for names we create."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(name).stem).strip("_")
    return stem[:40] or default


class WorkDir:
    """A folder owned by one app instance.

    Args:
        root: folder to use; created if missing. ``None`` creates a fresh temporary folder
            (``emovc-app-*`` in the system temp dir) that :meth:`cleanup` deletes.
    """

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self._owned = root is None
        if root is None:
            root = tempfile.mkdtemp(prefix="emovc-app-")
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._made: set[Path] = set()  # folders created through subdir(): purge() stays there

    def inside(self, path: str | os.PathLike) -> Path:
        """Resolve ``path`` and return it if it lies inside the work dir.

        Raises:
            PathOutsideWorkDir: the resolved path is elsewhere (the message names no path,
                so nothing about the server's file system leaks to the browser).
        """
        resolved = Path(path).resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise PathOutsideWorkDir("refused: that file is outside the app's work directory")
        return resolved

    def subdir(self, *parts: str) -> Path:
        """``root/parts...`` created on demand (parts must be plain names)."""
        for part in parts:
            if part in ("", ".", "..") or "/" in part or "\\" in part:
                raise PathOutsideWorkDir(f"refused: invalid folder name {part!r}")
        folder = self.root.joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=True)
        self._made.add(folder)
        return folder

    def new_file(self, folder: str, stem: str, suffix: str = ".wav") -> Path:
        """A fresh, not-yet-existing file name ``root/folder/<stem>-<8 hex><suffix>``."""
        return self.subdir(folder) / f"{safe_stem(stem)}-{uuid.uuid4().hex[:8]}{suffix}"

    def new_folder(self, folder: str, stem: str) -> Path:
        """A fresh, empty folder ``root/folder/<stem>-<8 hex>``."""
        path = self.subdir(folder) / f"{safe_stem(stem, 'run')}-{uuid.uuid4().hex[:8]}"
        path.mkdir()
        return path

    def purge(self, max_age_s: float, keep: Iterable[str | os.PathLike] = ()) -> int:
        """Delete files older than ``max_age_s`` s in folders made by :meth:`subdir`, and the
        folders this empties; nothing inside a ``keep`` folder (e.g. a running listening
        test's run folder: its audio is only read, so its age says nothing about its use).

        Returns:
            the number of files removed.
        """
        cutoff = time.time() - max_age_s
        kept = [Path(k).resolve() for k in keep]
        removed = 0
        paths = [p for folder in list(self._made) for p in folder.rglob("*")]
        for path in sorted(paths, reverse=True):
            if _within(path, kept):
                continue
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
                elif path.is_dir() and not any(path.iterdir()):
                    path.rmdir()
            except OSError:  # a file in use or removed concurrently: try again next time
                continue
        return removed

    @property
    def temporary(self) -> bool:
        """Whether this instance created the folder (it is deleted by :meth:`cleanup`)."""
        return self._owned

    def cleanup(self, keep: Iterable[str | os.PathLike] = ()) -> None:
        """Remove the folder if this instance created it (a user-given root is kept), all
        but the ``keep`` folders inside it (then the root stays, holding just those)."""
        if not self._owned:
            return
        kept = [Path(k).resolve() for k in keep]
        if not kept:
            shutil.rmtree(self.root, ignore_errors=True)
            return
        _remove_except(self.root, kept)


def _within(path: Path, folders: list[Path]) -> bool:
    """Whether ``path`` is one of ``folders`` or lies inside one."""
    return any(path == f or f in path.parents for f in folders)


def _remove_except(folder: Path, keep: list[Path]) -> None:
    """Delete everything in ``folder`` but the ``keep`` paths and the folders leading to
    them."""
    for entry in folder.iterdir():
        if _within(entry, keep):
            continue
        if any(entry in k.parents for k in keep):
            _remove_except(entry, keep)
        elif entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
