"""Acoustic features: WORLD vocoder parameters, F0/CWT prosody, STFT/Griffin-Lim, statistics.

Submodules: :mod:`emovc.features.world`, :mod:`emovc.features.f0`,
:mod:`emovc.features.spectral`, :mod:`emovc.features.stats`. See ``docs/features.md``.
"""

from emovc.features.f0 import (
    LogF0Stats,
    continuous_log_f0,
    convert_f0_gaussian,
    cwt_decompose,
    cwt_reconstruct,
    logf0_group_stats,
    logf0_stats,
)
from emovc.features.spectral import (
    STFTConfig,
    griffin_lim,
    mel_spectrogram,
    spectral_convergence,
    stft_magnitude,
)
from emovc.features.stats import FeatureStats, compute_group_stats, compute_stats
from emovc.features.world import (
    WorldConfig,
    WorldFeatures,
    analyze,
    analyze_f0,
    decode_aperiodicity,
    decode_envelope,
    encode_aperiodicity,
    encode_envelope,
    resynthesize,
    synthesize,
)

__all__ = [
    "FeatureStats", "LogF0Stats", "STFTConfig", "WorldConfig", "WorldFeatures", "analyze",
    "analyze_f0", "compute_group_stats", "compute_stats", "continuous_log_f0",
    "convert_f0_gaussian", "cwt_decompose", "cwt_reconstruct", "decode_aperiodicity",
    "decode_envelope", "encode_aperiodicity", "encode_envelope", "griffin_lim",
    "logf0_group_stats", "logf0_stats", "mel_spectrogram", "resynthesize", "spectral_convergence",
    "stft_magnitude", "synthesize",
]
