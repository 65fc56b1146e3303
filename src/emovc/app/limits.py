"""Upload limits and validation for audio that arrives through the web app.

Checks run cheapest first — presence, location, size, extension, header duration — so a
20-minute or non-audio upload is refused before anything is decoded. Messages name the file
(never its server path) and the limit that was hit.
"""

from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from emovc.app.workdir import WorkDir
from emovc.audio import SUPPORTED_EXTENSIONS, check_speech, load_audio
from emovc.errors import AudioError, ConfigError

APP_SR = 16000  # every pipeline works at 16 kHz; uploads are resampled to it
MB = 2**20  # bytes: gradio's refusal of a larger upload counts in these ("19.1 Mb" for 20e6)


@dataclass(frozen=True)
class UploadLimits:
    """What one uploaded or recorded clip may be.

    Attributes:
        max_upload_mb: largest accepted file, in MB of 2^20 bytes (the unit of the browser's
            own message for a file over the limit, which says "Mb").
        max_duration_s: longest accepted clip, in seconds.
        min_duration_s: shortest clip with enough speech to work on, in seconds.
    """

    max_upload_mb: float = 20.0
    max_duration_s: float = 60.0
    min_duration_s: float = 0.5

    def __post_init__(self) -> None:
        for name, value in (("--max-upload-mb", self.max_upload_mb),
                            ("--max-duration-s", self.max_duration_s)):
            if not math.isfinite(value):  # inf would pass every check below
                raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")
        if not self.max_upload_mb > 0 or not self.max_duration_s > 0:
            raise ConfigError("upload limits must be positive (--max-upload-mb, --max-duration-s)")
        if self.min_duration_s >= self.max_duration_s:
            raise ConfigError(f"--max-duration-s must exceed {self.min_duration_s} s")

    @property
    def max_bytes(self) -> int:
        """``max_upload_mb`` in bytes."""
        return int(self.max_upload_mb * MB)


def check_upload(path: str | os.PathLike | None, limits: UploadLimits, work: WorkDir,
                 what: str = "audio") -> Path:
    """Validate an uploaded file without decoding its samples.

    Args:
        path: the file the web framework stored (``None`` when nothing was given).
        limits: size and duration limits.
        work: the app's work dir; ``path`` must resolve inside it.
        what: how the message calls the input ("audio", "reference 2", ...).

    Returns:
        the resolved path.

    Raises:
        AudioError: missing, too large, not audio, or too long/short (a one-line message).
        PathOutsideWorkDir: the path lies outside the work dir.
    """
    if path is None or str(path) == "":
        raise AudioError(f"no {what} given: upload or record a clip first")
    p = work.inside(path)
    name = p.name
    if not p.is_file():
        raise AudioError(f"{what} {name!r} is missing; upload it again")
    size = p.stat().st_size
    if size > limits.max_bytes:
        raise AudioError(f"{what} {name!r} is too large: {size / MB:.1f} MB "
                         f"(limit {limits.max_upload_mb:g} MB)")
    if p.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise AudioError(f"{what} {name!r} is not a supported audio file; "
                         f"supported: {', '.join(SUPPORTED_EXTENSIONS)}")
    duration = _header_duration(p)
    if duration is not None:
        _check_duration(duration, limits, what, name)
    return p


def load_upload(path: str | os.PathLike | None, limits: UploadLimits, work: WorkDir,
                what: str = "audio") -> np.ndarray:
    """Validate and decode an upload as mono float32 at 16 kHz, shape ``(n,)``.

    Raises:
        AudioError: as :func:`check_upload`, or undecodable, silent or too short.
    """
    p = check_upload(path, limits, work, what)
    try:
        wav = load_audio(p, sr=APP_SR)
    except AudioError as exc:
        if _header_duration(p) is None:  # an mp3 neither libsndfile nor librosa can decode
            raise _unreadable(p) from None
        raise AudioError(f"{what}: {hide_paths(str(exc), work.root)}") from None
    _check_duration(len(wav) / APP_SR, limits, what, p.name)  # headerless formats (mp3)
    check_speech(wav, APP_SR, min_duration=limits.min_duration_s, name=f"{what} {p.name!r}")
    return wav


def _header_duration(p: Path) -> float | None:
    """Duration from the container header, ``None`` where libsndfile can't read it (mp3)."""
    try:
        return float(sf.info(str(p)).duration)
    except (sf.SoundFileError, OSError):  # libsndfile cannot open it
        if p.suffix.lower() == ".mp3":
            return None
        raise _unreadable(p) from None


def _unreadable(p: Path) -> AudioError:
    return AudioError(f"{p.name!r} is not a readable audio file "
                      f"(expected {', '.join(SUPPORTED_EXTENSIONS)})")


def _check_duration(seconds: float, limits: UploadLimits, what: str, name: str) -> None:
    if seconds > limits.max_duration_s:
        raise AudioError(f"{what} {name!r} is too long: {_mmss(seconds)} "
                         f"(limit {limits.max_duration_s:g} s); trim it first")
    if seconds < limits.min_duration_s:
        raise AudioError(f"{what} {name!r} is too short: {seconds:.2f} s "
                         f"(need at least {limits.min_duration_s:g} s of speech)")


def _mmss(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


def hide_paths(message: str, root: str | os.PathLike) -> str:
    """``message`` with every path inside the folder ``root`` (the work dir) shown by its
    file name only, in quotes (``'a.wav'``; ``root`` itself: "the app's work dir"): library
    messages name files by their full paths, which the browser must not see."""
    top = str(root).rstrip("/\\")
    base = re.escape(top) + r"(?![\w-]|\.\w)"  # not a longer name: /tmp/app-1 in /tmp/app-12

    def name(match: re.Match) -> str:
        path = match.group(1).rstrip(".,;:")
        inner = path.rstrip("/\\")
        shown = ("the app's work dir" if inner == top
                 else repr(re.split(r"[/\\]", inner)[-1]))
        return shown + match.group(1)[len(path):]

    quoted = re.sub(rf"""['"]({base}[^'"]*)['"]""", name, message)  # 'a path with spaces'
    return re.sub(rf"""({base}(?:[/\\](?:[^\s'"(),;]|:(?!\s|$))*)*)""", name, quoted)


def installed_folders() -> list[str]:
    """The folders Python imports from (site-packages, a source checkout's ``src``), each
    ending in a path separator, the deepest first."""
    folders = {str(Path(entry)) for entry in sys.path
               if entry and os.path.isabs(entry) and len(Path(entry).parts) > 2}
    return [f.rstrip("/\\") + os.sep for f in sorted(folders, key=len, reverse=True)]


def hide_installed_paths(message: str) -> str:
    """``message`` with the paths of installed files shown inside their package
    (``emovc/pretrained/m2m-ravdess/model.pt``, ``resemblyzer/pretrained.pt``): where Python
    is installed on the server is no business of the browser's."""
    for folder in installed_folders():
        message = message.replace(folder, "")
    return message
