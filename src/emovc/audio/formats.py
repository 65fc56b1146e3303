"""The audio file formats of emovc: the extensions it reads (:data:`SUPPORTED_EXTENSIONS`:
libsndfile's wav/flac/ogg/aiff, and mp3) and writes (:data:`WRITE_FORMATS`, with their
libsndfile format names), the rate it reads and writes by default (:data:`DEFAULT_SR`, Hz), and
the checks of a path against them before any decoding (:func:`check_audio_path`) or writing
(:func:`check_write_target`); shared by :mod:`emovc.audio.io` and :mod:`emovc.audio.writing`."""

from __future__ import annotations

import os
from pathlib import Path

from emovc.errors import AudioError, output_exists

DEFAULT_SR = 16000
SUPPORTED_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".aifc")
WRITE_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}


def check_audio_path(path: str | os.PathLike) -> Path:
    """``path`` as a ``Path`` to read: an existing, non-empty file of a
    :data:`SUPPORTED_EXTENSIONS` extension (its content is not read).

    Raises:
        AudioError: missing, a folder, another extension, or empty (one line naming it).
    """
    p = Path(path)
    if not p.exists():
        raise AudioError(f"file not found: {p}")
    if p.is_dir():
        raise AudioError(f"expected an audio file, got a folder: {p}")
    if p.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise AudioError(
            f"unsupported audio format {p.suffix or '(none)'!r} for {p}; "
            f"supported: {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    if p.stat().st_size == 0:
        raise AudioError(f"empty file: {p}")
    return p


def check_write_target(p: Path, force: bool) -> str:
    """The lower-case extension of ``p``, a file to write: one of :data:`WRITE_FORMATS`, and
    absent unless ``force``.

    Raises:
        AudioError: an extension emovc cannot write.
        OutputExistsError: ``p`` exists and ``force`` is false.
    """
    ext = p.suffix.lower()
    if ext not in WRITE_FORMATS:
        raise AudioError(
            f"cannot write {ext or '(no extension)'!r}: {p}; use one of {', '.join(WRITE_FORMATS)}"
        )
    if p.exists() and not force:
        raise output_exists(p)
    return ext
