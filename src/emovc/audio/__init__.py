"""Audio layer: loading/saving, loudness, silence trimming, windowed processing.

All waveforms in emovc are mono ``float32`` numpy arrays of shape ``(n_samples,)`` in
``[-1, 1]`` at an explicit sample rate (16 kHz by default).
"""

from emovc.audio.chunking import overlap_add, process_in_windows, split_windows
from emovc.audio.io import (
    SUPPORTED_EXTENSIONS,
    audio_info,
    load_audio,
    load_audio_with_rate,
    save_audio,
)
from emovc.audio.processing import check_speech, normalize_loudness, rms_dbfs, trim_silence
from emovc.audio.voicing import check_voiced_speech

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "audio_info",
    "check_speech",
    "check_voiced_speech",
    "load_audio",
    "load_audio_with_rate",
    "normalize_loudness",
    "overlap_add",
    "process_in_windows",
    "rms_dbfs",
    "save_audio",
    "split_windows",
    "trim_silence",
]
