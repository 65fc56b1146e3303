"""Corpus preprocessing of the SV2TTS recipes: a per-clip cache, a progress bar, and clips
that cannot be used left out with one warning instead of stopping the run.

The synthesizer's preprocessing of one utterance (VAD trim, espeak-ng phonemes, a GE2E
embedding, a log-mel) ran again for the whole corpus at every start and resume of a run —
hours for a LibriTTS subset. :func:`load_clips` computes each clip once and keeps its arrays
on disk (:func:`cache_clips` the same, returning the files rather than the arrays, for the
vocoder, which reads its waveforms window by window)::

    <cache root>/<corpus folder name>-<hash of its resolved path>/<kind>-<key>/config.json
    <cache root>/<corpus folder name>-<hash of its resolved path>/<kind>-<key>/<safe id>.npz

``key`` is :func:`emovc.data.cache.cache_key` of the recipe's preprocessing settings (other
mel settings write to another folder; ``config.json`` lists them); the cache root is a run's
``cache_dir`` setting, by default ``$EMOVC_CACHE/sv2tts`` or ``~/.cache/emovc/sv2tts``
(:func:`cache_root`). Every ``.npz`` holds a ``source`` stamp of what it was computed from —
:func:`emovc.data.prepare.source_stamp` of the audio file (resolved path, size, modification
time), plus whatever else the recipe adds (the synthesizer: a hash of the transcript) — so a
file or transcript changed in place is computed again, never served stale. Files are written
atomically (:func:`emovc.data.cache.write_npz`); several processes (``devices=N``) may fill
one folder at once.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emovc.data.cache import (
    CACHE_VERSION,
    CONFIG_FILE,
    cache_key,
    default_cache_dir,
    read_npz,
    safe_name,
    stored_source,
    write_json,
    write_npz,
)
from emovc.data.manifest import Utterance
from emovc.errors import EmovcError, EmovcWarning, left_out_example


class CacheWriteError(EmovcError):
    """The cache cannot be written (a full disk, a quota, a read-only folder): the run stops
    rather than leave out clips whose audio is fine."""


SUBDIR = "sv2tts"  # under the emovc cache root, beside prepare's corpora and ser/

Arrays = dict[str, np.ndarray]


def cache_root(cache_dir: str | os.PathLike | None) -> Path:
    """The cache root: ``cache_dir``, or (empty) ``$EMOVC_CACHE/sv2tts`` or
    ``~/.cache/emovc/sv2tts``.

    Raises:
        EmovcError: it is a file.
    """
    root = Path(str(cache_dir)).expanduser() if cache_dir else default_cache_dir() / SUBDIR
    if root.exists() and not root.is_dir():
        raise EmovcError(f"cache dir {root} is a file; give a folder (setting cache_dir)")
    return root


def clip_folder(cache_dir: str | os.PathLike | None, data_dir: str | os.PathLike, kind: str,
                settings: dict) -> Path:
    """Cache folder of one corpus's clips preprocessed by ``kind`` with ``settings`` (plain
    data); created, with a ``config.json`` naming the settings and the corpus."""
    corpus = Path(data_dir).resolve()
    digest = hashlib.sha1(str(corpus).encode()).hexdigest()[:10]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", corpus.name) or "corpus"
    key = cache_key(kind, settings, {})
    folder = cache_root(cache_dir) / f"{name}-{digest}" / f"{kind}-{key}"
    if not (folder / CONFIG_FILE).is_file():
        write_json(folder / CONFIG_FILE, {"kind": kind, "key": key, "settings": settings,
                                          "source": str(corpus), "cache_version": CACHE_VERSION})
    return folder


def file_stamp(utt: Utterance) -> str:
    """The default ``source`` stamp of a clip: its audio file's identity."""
    from emovc.data.prepare import source_stamp

    return source_stamp(utt.path)


def load_clips(utts: Sequence[Utterance], compute: Callable[[Utterance], Arrays],
               arrays: Sequence[str], folder: Path | None, what: str, progress: bool = True,
               stamp: Callable[[Utterance], str] = file_stamp,
               ) -> tuple[list[tuple[Utterance, Arrays]], dict[str, str]]:
    """The arrays of every clip of ``utts``: read from ``folder`` when current, else
    computed by ``compute`` (and stored there).

    Args:
        utts: the clips (``utt_id`` names the cache file, ``path`` is the audio).
        compute: ``utt -> {name: array}`` holding every name of ``arrays``; raises
            :class:`~emovc.errors.EmovcError` or ``OSError`` for a clip that cannot be used
            (unreadable, missing, silent, too short).
        arrays: the names ``compute`` returns (a cache file lacking one is computed again).
        folder: cache folder (:func:`clip_folder`); ``None`` computes every clip.
        what: label of the progress bar and of the messages (``"synthesizer corpus"``).
        progress: show a tqdm bar on stderr.
        stamp: ``utt -> str`` identifying what a clip's arrays are computed from.

    Returns:
        ``([(utt, arrays), ...] in the order of utts, {path: one-line reason})`` — the
        usable clips and those left out (see :func:`warn_left_out`).

    Raises:
        EmovcError: ``utts`` is not empty but no clip of it can be used.
        CacheWriteError: a clip's arrays cannot be written to ``folder`` (one line naming it).
    """
    return _each_clip(utts, lambda u: _cached_or_computed(u, compute, tuple(arrays), folder,
                                                          stamp), what, progress)


def cache_clips(utts: Sequence[Utterance], compute: Callable[[Utterance], Arrays],
                arrays: Sequence[str], folder: Path, what: str, progress: bool = True,
                stamp: Callable[[Utterance], str] = file_stamp,
                ) -> tuple[list[tuple[Utterance, Path]], dict[str, str]]:
    """As :func:`load_clips`, but keeping no clip's arrays in memory: each clip's file in
    ``folder`` is made current (computed and stored when it is not) and its path returned,
    for a recipe that reads its examples from disk batch by batch (the vocoder, whose corpus
    of waveforms does not fit in memory). A current file is recognised by its ``source``
    stamp alone, without reading its arrays.

    Returns:
        ``([(utt, path of its .npz), ...] in the order of utts, {path: one-line reason})``.

    Raises:
        EmovcError: ``utts`` is not empty but no clip of it can be used.
        CacheWriteError: a clip's arrays cannot be written to ``folder``.
    """
    return _each_clip(utts, lambda u: _current_file(u, compute, tuple(arrays), folder, stamp),
                      what, progress)


def cached_arrays(utt: Utterance, compute: Callable[[Utterance], Arrays],
                  arrays: Sequence[str], folder: Path,
                  stamp: Callable[[Utterance], str] = file_stamp) -> Arrays:
    """One clip's arrays, read from ``folder`` when current, else computed and stored (what
    :func:`load_clips` does for each clip; for a recipe that needs another recipe's cached
    arrays of a clip while it computes its own).

    Raises:
        EmovcError, OSError: what ``compute`` raises (a clip that cannot be used).
        CacheWriteError: the arrays cannot be written to ``folder``.
    """
    return _cached_or_computed(utt, compute, tuple(arrays), folder, stamp)


def _each_clip(utts: Sequence[Utterance], get: Callable[[Utterance], object], what: str,
               progress: bool) -> tuple[list[tuple[Utterance, Any]], dict[str, str]]:
    """``get(utt)`` of every clip, with a progress bar; the clips it refuses (an
    :class:`~emovc.errors.EmovcError` or ``OSError``) are left out with their reason."""
    from tqdm.auto import tqdm

    kept: list[tuple[Utterance, Any]] = []
    left_out: dict[str, str] = {}
    for utt in tqdm(utts, desc=what, unit="clip", disable=not progress, dynamic_ncols=True):
        try:
            got = get(utt)
        except CacheWriteError:
            raise
        except (EmovcError, OSError) as exc:  # one bad take must not cost the whole run
            left_out[utt.path] = (str(exc).splitlines() or [""])[0] or type(exc).__name__
            continue
        kept.append((utt, got))
    if utts and not kept:
        raise EmovcError(f"no usable clip for the {what}: all {len(utts)} failed, e.g. "
                         f"{left_out_example(left_out)}")
    return kept, left_out


def _cached_or_computed(utt: Utterance, compute: Callable[[Utterance], Arrays],
                        arrays: tuple[str, ...], folder: Path | None,
                        stamp: Callable[[Utterance], str]) -> Arrays:
    """One clip's arrays; raises what ``compute`` (or the stamp of a missing file) raises, or
    :class:`CacheWriteError`."""
    if folder is None:
        return compute(utt)
    source = stamp(utt)  # OSError: the file is gone
    path = folder / f"{safe_name(utt.utt_id)}.npz"
    data = read_npz(path, (*arrays, "source"))
    if data is not None and str(data["source"]) == source:
        return {k: data[k] for k in arrays}
    got = compute(utt)
    _write(path, {k: got[k] for k in arrays}, source, folder)
    return {k: got[k] for k in arrays}


def _current_file(utt: Utterance, compute: Callable[[Utterance], Arrays],
                  arrays: tuple[str, ...], folder: Path,
                  stamp: Callable[[Utterance], str]) -> Path:
    """The path of one clip's current cache file (computed and written when it is not)."""
    source = stamp(utt)  # OSError: the file is gone
    path = folder / f"{safe_name(utt.utt_id)}.npz"
    if stored_source(path, arrays) != source:
        got = compute(utt)
        _write(path, {k: got[k] for k in arrays}, source, folder)
    return path


def _write(path: Path, arrays: Arrays, source: str, folder: Path) -> None:
    """Write a clip's arrays and ``source`` stamp atomically.

    Raises:
        CacheWriteError: it cannot be written (one line naming the folder).
    """
    try:
        write_npz(path, {**arrays, "source": np.asarray(source)})
    except OSError as exc:
        raise CacheWriteError(
            f"cannot write the clip cache {folder}: {exc.strerror or exc}; free space there, "
            "make it writable or choose another folder (setting cache_dir)") from exc


def warn_left_out(left_out: dict[str, str], what: str) -> None:
    """One :class:`~emovc.errors.EmovcWarning` for all the clips left out of the ``what``
    (none: no warning)."""
    if left_out:
        warnings.warn(f"{len(left_out)} clip(s) left out of the {what} (their audio cannot be "
                      f"used), e.g. {left_out_example(left_out)}", EmovcWarning, stacklevel=3)
