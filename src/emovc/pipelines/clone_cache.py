"""The cache of a :class:`~emovc.pipelines.cloning.VoiceCloner`'s last voices.

A voice is stored under its *content key*: the references' samples (a hash), names, rates
and clipping, the files given and the reference settings. Finding it so means reading (and
decoding) every reference again; reference *files* are therefore also looked up by their
identity (:func:`file_stamps`: path, device, inode, size, modification and change times in
ns), checked before anything is decoded. An identity is trusted only once the file has been
left unchanged for :data:`SETTLED_SECONDS`: a file changed within a file system's timestamp
resolution of its last reading could have been changed again without its stamp changing (a
rewrite of the same size in the same tick), so until then the voice is found by its content
only. An edited file has another stamp (its change time at least moves, whatever its
modification time is set back to) and is read and analysed again.

The cache is thread-safe (the web app serves requests on several threads), and
:meth:`VoiceCache.claim` makes concurrent first calls with the same key wait for the first
one's voice instead of analysing the references again.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from emovc.pipelines.clone_refs import Reference, Voice

#: seconds a reference file must have been left unchanged before its identity (path, size,
#: times) stands for its content: above the coarsest common timestamp resolution (2 s: FAT)
#: and a small clock difference with a network file system's server
SETTLED_SECONDS = 2.0


def _now_ns() -> int:
    """The wall clock, ns since the epoch (the clock of file times)."""
    return time.time_ns()


def file_stamps(references: Sequence[Reference]) -> tuple | None:
    """The identity of every reference file, ``((path, device, inode, size, mtime_ns,
    ctime_ns), ...)`` in order, or ``None`` when it cannot stand for their content: a
    ``(wav, sr)`` pair among them (arrays change in place), a path that is not a regular file
    or cannot be read by ``stat``, or a file changed less than :data:`SETTLED_SECONDS` ago."""
    if any(isinstance(r, tuple) for r in references):
        return None
    settled = _now_ns() - int(SETTLED_SECONDS * 1e9)
    stamps = []
    for ref in references:
        try:
            st = os.stat(ref)
        except (OSError, ValueError):  # missing, unreadable or a bad name: read_reference says
            return None
        if not stat.S_ISREG(st.st_mode) or max(st.st_mtime_ns, st.st_ctime_ns) > settled:
            return None
        stamps.append((os.path.abspath(ref), st.st_dev, st.st_ino, st.st_size,
                       st.st_mtime_ns, st.st_ctime_ns))
    return tuple(stamps)


class VoiceCache:
    """A cloner's last voices by content key, with the file stamps that also find them
    (:func:`file_stamps`); thread-safe. The newest voice is always kept; older ones while the
    reference speech of all stays within the ``limit`` seconds given to :meth:`put`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._voices: OrderedDict[Hashable, Voice] = OrderedDict()
        self._stamps: dict[Hashable, Hashable] = {}  # stamp key -> content key
        self._claims: dict[Hashable, list] = {}  # key -> [lock, holders and waiters]

    def __len__(self) -> int:
        with self._lock:
            return len(self._voices)

    def get(self, key: Hashable) -> Voice | None:
        """The voice of a content key or a stamp key (``None``: not cached); it becomes the
        newest."""
        with self._lock:
            key = self._stamps.get(key, key)
            voice = self._voices.get(key)
            if voice is not None:
                self._voices.move_to_end(key)
            return voice

    def put(self, key: Hashable, voice: Voice, limit: float) -> None:
        """Keep ``voice`` under its content ``key``, then drop the oldest voices (and their
        stamps) while the cached reference speech exceeds ``limit`` seconds."""
        with self._lock:
            self._voices[key] = voice
            self._voices.move_to_end(key)
            while (len(self._voices) > 1
                   and sum(v.seconds for v in self._voices.values()) > limit):
                old, _ = self._voices.popitem(last=False)
                for stamp in [s for s, k in self._stamps.items() if k == old]:
                    del self._stamps[stamp]

    def add_stamp(self, stamp: Hashable, key: Hashable) -> None:
        """Find the voice of content ``key`` by ``stamp`` too (nothing if it was dropped). It
        replaces the stamps of the same files prepared the same way (:func:`stamp_place`):
        theirs are older, so no later call matches them (a file touched or edited back and
        forth left one per change while its voice stayed cached; review 42b L4)."""
        with self._lock:
            if key in self._voices:
                place = stamp_place(stamp)
                for old in [s for s in self._stamps if stamp_place(s) == place]:
                    del self._stamps[old]
                self._stamps[stamp] = key

    def clear(self) -> None:
        """Forget every voice."""
        with self._lock:
            self._voices.clear()
            self._stamps.clear()

    @contextmanager
    def claim(self, key: Hashable) -> Iterator[None]:
        """Hold ``key`` for the block: another thread claiming the same key waits until this
        one is done (and then finds its voice), other keys go on. Claims of stamp keys are
        taken before claims of content keys, never the other way round."""
        with self._lock:
            entry = self._claims.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._lock:
                entry[1] -= 1
                if not entry[1]:
                    del self._claims[key]


def stamp_key(preparation: tuple, files: tuple[Path, ...], stamps: tuple) -> tuple:
    """The key by which reference files with ``stamps`` (:func:`file_stamps`), given as
    ``files`` and prepared with ``preparation``, find their voice."""
    return ("files", preparation, files, stamps)


def stamp_place(key: tuple) -> tuple:
    """What a :func:`stamp_key` is the stamp of: the preparation, the files as given and
    their absolute paths (a relative path names another file after a ``chdir``)."""
    _, preparation, files, stamps = key
    return preparation, files, tuple(s[0] for s in stamps)
