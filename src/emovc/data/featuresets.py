"""Feature sets computed by ``emovc prepare``: names, configs, extractors, array docs.

* ``world``: WORLD vocoder parameters (:class:`~emovc.features.world.WorldConfig`),
* ``mel``: log-mel spectrogram for the emotion recogniser (:class:`MelConfig`).

Each extractor maps a preprocessed ``(n,)`` float32 16 kHz waveform to a dict of arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from emovc.config import PlainConfig
from emovc.data.cache import cache_key
from emovc.data.preprocess import PreprocessConfig
from emovc.errors import EmovcError, choice_error
from emovc.features.f0 import continuous_log_f0
from emovc.features.spectral import mel_spectrogram
from emovc.features.world import WorldConfig, analyze, encode_aperiodicity, encode_envelope


@dataclass(frozen=True)
class MelConfig(PlainConfig):
    """Log-mel settings of the ``mel`` feature set (see ``features.spectral.mel_spectrogram``)."""

    sample_rate: int = 16000
    n_mels: int = 80
    n_fft: int = 1024
    hop_length: int = 256
    fmin: float = 0.0
    fmax: float | None = None


def _extract_world(wav: np.ndarray, cfg: WorldConfig) -> dict[str, np.ndarray]:
    feats = analyze(wav.astype(np.float64), cfg)
    lf0, vuv = continuous_log_f0(feats.f0)
    return {"f0": feats.f0, "mcep": encode_envelope(feats.sp, cfg),
            "coded_ap": encode_aperiodicity(feats.ap, cfg), "lf0": lf0, "vuv": vuv}


def _extract_mel(wav: np.ndarray, cfg: MelConfig) -> dict[str, np.ndarray]:
    return {"mel": mel_spectrogram(wav, sr=cfg.sample_rate, n_mels=cfg.n_mels, n_fft=cfg.n_fft,
                                   hop_length=cfg.hop_length, fmin=cfg.fmin, fmax=cfg.fmax)}


@dataclass(frozen=True)
class FeatureSet:
    """A named group of arrays computed together from the preprocessed waveform."""

    name: str
    config_type: type
    extract: Callable[[np.ndarray, object], dict[str, np.ndarray]]
    arrays: dict[str, str]  # name → shape/unit description (documented in config.json)

    def default_config(self):
        return self.config_type()


FEATURE_SETS: dict[str, FeatureSet] = {
    "world": FeatureSet("world", WorldConfig, _extract_world, {
        "f0": "(T,) float32 F0 in Hz, 0 = unvoiced; frame_period ms hop",
        "mcep": "(T, mcep_dim) float32 coded spectral envelope (encode_envelope)",
        "coded_ap": "(T, k) float32 band aperiodicity in dB (encode_aperiodicity)",
        "lf0": "(T,) float32 continuous natural-log F0 (continuous_log_f0)",
        "vuv": "(T,) bool voicing",
        "trim": "(2,) int64 kept sample range [start, end) of the loaded 16 kHz waveform",
    }),
    "mel": FeatureSet("mel", MelConfig, _extract_mel, {
        "mel": "(n_mels, T) float32 natural-log mel magnitude, hop_length samples hop",
        "trim": "(2,) int64 kept sample range [start, end) of the loaded 16 kHz waveform",
    }),
}


def parse_feature_sets(spec: str | Iterable[str]) -> list[str]:
    """``"world,mel"`` or ``["world"]`` → validated list of names (order kept, no repeats)."""
    names = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec)]
    names = list(dict.fromkeys(n for n in names if n))
    if not names:
        raise EmovcError(f"no feature set given; valid choices: {', '.join(FEATURE_SETS)}")
    for n in names:
        if n not in FEATURE_SETS:
            raise choice_error("feature set", n, FEATURE_SETS)
    return names


def default_key(feature_set: str, preprocess_cfg: PreprocessConfig = PreprocessConfig()) -> str:
    """Cache key of ``feature_set`` with default settings."""
    cfg = FEATURE_SETS[feature_set].default_config()
    return cache_key(feature_set, cfg.to_dict(), preprocess_cfg.to_dict())
