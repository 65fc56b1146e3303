"""emovc — expressive voice conversion.

Change *how* something is said (emotion conversion) and *who* says it (voice cloning),
keeping the words. Public API::

    >>> from emovc import load_audio, save_audio
    >>> from emovc.errors import EmovcError

Heavier entry points (``EmotionConverter``, ``EmotionRecognizer``, ``VoiceCloner``) live in
``emovc.pipelines`` and are imported lazily so ``import emovc`` stays fast.
"""

from __future__ import annotations

import warnings

# pysptk (a dependency) imports pkg_resources at import time, which prints a deprecation
# warning about pysptk itself to every user of emovc's Python API; only that one is hidden
warnings.filterwarnings("ignore", message="pkg_resources is deprecated as an API",
                        category=UserWarning)

from emovc.audio.io import load_audio, save_audio  # noqa: E402
from emovc.errors import EmovcError  # noqa: E402

__version__ = "0.1.0"

_LAZY = {
    "EmotionConverter": "emovc.pipelines.conversion",
    "EmotionRecognizer": "emovc.pipelines.recognition",
    "VoiceCloner": "emovc.pipelines.cloning",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'emovc' has no attribute {name!r}")


__all__ = ["EmovcError", "load_audio", "save_audio", "__version__", *_LAZY]
