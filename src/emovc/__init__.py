"""emovc — expressive voice conversion.

Change *how* something is said (emotion conversion) and *who* says it (voice cloning),
keeping the words. Public API::

    >>> from emovc import EmotionConverter, EmotionRecognizer, VoiceCloner
    >>> from emovc import load_audio, load_audio_with_rate, save_audio
    >>> from emovc import available_models, EmovcError, AudioError, ConfigError

- ``EmotionConverter`` (``emovc.pipelines.conversion``): change the emotion of speech.
- ``EmotionRecognizer`` (``emovc.pipelines.recognition``): classify the emotion of speech.
- ``VoiceCloner`` (``emovc.pipelines.cloning``): say a text in a reference speaker's voice.
- ``load_audio`` / ``save_audio``: mono float audio files, resampled on load, written
  atomically; ``load_audio_with_rate``: a file at its own rate, returned with that rate.
- ``available_models(kind=None)``: the bundled models (name, kind, loading class, one-line
  description, model card), the names ``from_pretrained`` takes.
- Errors: every problem with the caller's input raises :class:`EmovcError` with a one-line
  message; :class:`AudioError` (bad audio), :class:`ConfigError` (bad settings, models),
  :class:`OutputExistsError` (an output exists, ``force`` not given) and
  :class:`OutputPathError` (an output path that cannot be written) are its subclasses;
  :class:`EmovcWarning` is the category of emovc's warnings.

The three pipeline classes are imported on first use, so ``import emovc`` stays fast.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

# pysptk (a dependency) imports pkg_resources at import time, which prints a deprecation
# warning about pysptk itself to every user of emovc's Python API; only that one is hidden
warnings.filterwarnings("ignore", message="pkg_resources is deprecated as an API",
                        category=UserWarning)

from emovc.audio.io import load_audio, load_audio_with_rate, save_audio  # noqa: E402
from emovc.errors import (  # noqa: E402
    AudioError,
    ConfigError,
    EmovcError,
    EmovcWarning,
    OutputExistsError,
    OutputPathError,
)
from emovc.pretrained.listing import ModelInfo, available_models  # noqa: E402

__version__ = "0.1.0"

if TYPE_CHECKING:  # what type checkers see; at run time these load on first use (__getattr__)
    from emovc.pipelines.cloning import VoiceCloner
    from emovc.pipelines.conversion import EmotionConverter
    from emovc.pipelines.recognition import EmotionRecognizer

_LAZY = {
    "EmotionConverter": "emovc.pipelines.conversion",
    "EmotionRecognizer": "emovc.pipelines.recognition",
    "VoiceCloner": "emovc.pipelines.cloning",
}


def __getattr__(name: str) -> Any:
    """The pipeline classes of ``_LAZY``, imported on first use (they import torch)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'emovc' has no attribute {name!r}")


def __dir__() -> list[str]:  # the public names, lazy classes included (tab completion)
    return sorted(__all__)


# spelled out (not *_LAZY), so type checkers read it
__all__ = ["AudioError", "ConfigError", "EmotionConverter", "EmotionRecognizer", "EmovcError",
           "EmovcWarning", "ModelInfo", "OutputExistsError", "OutputPathError", "VoiceCloner",
           "__version__", "available_models", "load_audio", "load_audio_with_rate",
           "save_audio"]
