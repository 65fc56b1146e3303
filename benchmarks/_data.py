"""Where the benchmarks find their data and the judge cache, and which pairs a limited run takes.

Two environment variables move them (for a checkout whose ``../shared`` is elsewhere, or to
keep the judges' cache out of the repository):

- ``EMOVC_DATA``: the data root, default ``<repo>/../shared/data``. The scripts read its
  ``ravdess16k`` (RAVDESS speech at 16 kHz, ``Actor_NN/*.flac``), ``vctk4`` and
  ``librispeech-clips`` folders.
- ``EMOVC_JUDGE_CACHE``: the cache of the judge-E/C mirrors (``judge_egemaps.py``), default
  ``<repo>/.cache/judge``; a missing or outdated cache is built there on first use.

A script that cannot run without a folder stops with one line naming it (:func:`require`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
# emovc.audio.io.SUPPORTED_EXTENSIONS
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".aifc")
ENV_HELP = ("environment: EMOVC_DATA = data root (default <repo>/../shared/data, with "
            "ravdess16k, vctk4, librispeech-clips); EMOVC_JUDGE_CACHE = cache of the judge "
            "mirrors (default <repo>/.cache/judge)")

T = TypeVar("T")


def data_root() -> Path:
    """``$EMOVC_DATA``, else ``<repo>/../shared/data``."""
    env = os.environ.get("EMOVC_DATA")
    return Path(env).expanduser() if env else ROOT.parent / "shared" / "data"


def data_dir(name: str) -> Path:
    """The corpus folder ``name`` (e.g. ``"ravdess16k"``) under :func:`data_root`."""
    return data_root() / name


def judge_cache() -> Path:
    """``$EMOVC_JUDGE_CACHE``, else ``<repo>/.cache/judge``."""
    env = os.environ.get("EMOVC_JUDGE_CACHE")
    return Path(env).expanduser() if env else ROOT / ".cache" / "judge"


def missing(folder: str | os.PathLike, pattern: str = "**/*") -> str | None:
    """``None`` when ``folder`` holds an audio file matching ``pattern``, else one line saying
    what is wrong (the folder is absent, or has no such audio)."""
    folder = Path(folder)
    if not folder.is_dir():
        hint = " (EMOVC_DATA sets the data root)" if data_root() in folder.parents else ""
        return f"{folder} not found{hint}"
    if not any(p.suffix.lower() in AUDIO_SUFFIXES for p in folder.glob(pattern)):
        return f"no {'audio' if pattern == '**/*' else pattern} files under {folder}"
    return None


def require(*folders: str | os.PathLike, pattern: str = "**/*") -> None:
    """Exit with :func:`missing`'s line for the first of ``folders`` without its audio."""
    for folder in folders:
        why = missing(folder, pattern)
        if why:
            sys.exit(why)


def stratified(items: Sequence[T], n: int, key: Callable[[T], Hashable]) -> list[T]:
    """At most ``n`` of ``items``, spread over the groups ``key`` puts them in (e.g. the target
    emotions): the groups take turns (round-robin, in order of first appearance) in giving one
    more item, and each group gives evenly spaced items of its own, starting at a different
    offset per group (so that the groups do not all give their first item). Returned in the
    items' order; ``n <= 0`` or ``n >= len(items)``: every item, as given."""
    if n <= 0 or n >= len(items):
        return list(items)
    groups: dict[Hashable, list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(key(item), []).append(i)
    quota = dict.fromkeys(groups, 0)
    left = n
    while left:
        for g, members in groups.items():
            if left and quota[g] < len(members):
                quota[g] += 1
                left -= 1
    picked = []
    for offset, (g, members) in enumerate(groups.items()):
        k, size = quota[g], len(members)
        # item j of k: at (j + offset / n_groups) * size / k; distinct, since size / k >= 1
        picked += [members[(j * len(groups) + offset) * size // (k * len(groups))]
                   for j in range(k)]
    return [items[i] for i in sorted(picked)]
