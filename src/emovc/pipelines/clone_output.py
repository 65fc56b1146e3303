"""What a clone is written with: the output path checked before any work
(:data:`WRITE_EXTENSIONS`), the speaker's consent required, and the provenance tag that marks
every cloned file as synthetic speech."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from emovc.audio.io import WRITE_FORMATS
from emovc.errors import AudioError, ConfigError, EmovcError
from emovc.fileio import check_output_file

#: output formats clone_to_file can write (those of emovc.audio.save_audio)
WRITE_EXTENSIONS = tuple(WRITE_FORMATS)


def check_output(out: str | os.PathLike, force: bool = False) -> Path:
    """Check an output audio path before any work; returns it as a ``Path``.

    Raises:
        EmovcError: ``out`` is a folder, its extension cannot be written
            (:data:`WRITE_EXTENSIONS`), or it exists and ``force`` is false.
    """
    if not isinstance(out, (str, os.PathLike)):
        raise ConfigError(f"output must be a file path, got {type(out).__name__}")
    return check_output_file(out, WRITE_EXTENSIONS, force, "audio", error=AudioError)


def require_consent(consent: object) -> None:
    """Refuse to clone without the reference speaker's consent: ``consent`` must be ``True``
    itself (not a truthy string such as ``"no"``)."""
    if consent is not True:
        raise EmovcError(f"cloning a voice needs the speaker's consent: consent must be True "
                         f"(got {consent!r}); confirm with --consent (Python: consent=True) that "
                         f"the reference speaker agreed to have their voice cloned")


def provenance_tag(references: Sequence[Path], emotion: str | None,
                   method: str = "unit selection") -> str:
    """Metadata comment marking a file as synthetic (written into every cloned file), naming
    the references, the emotion and the cloning method."""
    from emovc import __version__

    names = ", ".join(dict.fromkeys(p.name for p in references)) or "in-memory audio"
    extra = f", emotion {emotion}" if emotion else ""
    return (f"emovc {__version__}: cloned voice (synthetic speech from reference {names}"
            f"{extra}, by {method}; speaker consent confirmed)")
