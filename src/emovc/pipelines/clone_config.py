"""Settings of :class:`~emovc.pipelines.cloning.VoiceCloner`: :class:`CloneConfig` (front-end,
unit selection, reference preparation, output level and sentence pauses), checked field by field
(one-line :class:`~emovc.errors.ConfigError` messages), and the similarity ↔ intelligibility
presets of the offline path (:data:`STYLES`, :meth:`CloneConfig.for_style`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

from emovc.errors import ConfigError, choice_error
from emovc.models.synthesizer import unit_selection as us
from emovc.pipelines.frontend import FrontendConfig

#: similarity ↔ intelligibility trade-off of the offline path (measured in docs/cloning.md):
#: "voice" = the reference's own units (most like the speaker, often hard to understand),
#: "clear" = the front-end re-synthesised in the speaker's F0/envelope statistics (every phone
#: kept, less like the speaker), "balanced" = reference units where they match the text's
#: phones well, statistics-mapped front-end frames elsewhere.
STYLES = {
    "voice": {"phone_weight": 2.0, "fallback_cost": None},
    "balanced": {"phone_weight": 4.0, "fallback_cost": 3.5},
    "clear": {"phone_weight": 0.0, "fallback_cost": 0.0},
}


@dataclass(frozen=True)
class CloneConfig:
    """Settings of the offline cloning path.

    Attributes:
        frontend: espeak-ng voice settings (a voice folder's synthesizer reads the text with
            the voice it was trained on: another one is refused).
        units: unit-selection settings.
        min_reference_s: total reference speech required after trimming, seconds.
        max_reference_s: reference speech used at most (longer input is cut), seconds.
        denoise: spectral-gating noise reduction of the references (``noisereduce``).
        target_dbfs: output/reference active speech level.
        pause_s: silence inserted between sentences.
    """

    frontend: FrontendConfig = field(default_factory=FrontendConfig)
    units: us.UnitSelectionConfig = field(default_factory=us.UnitSelectionConfig)
    min_reference_s: float = 2.0
    max_reference_s: float = 60.0
    denoise: bool = False
    target_dbfs: float = -23.0
    pause_s: float = 0.25

    def __post_init__(self) -> None:
        """Refuse wrong types and out-of-range values with one-line ConfigErrors."""
        _check_instance("frontend", self.frontend, FrontendConfig)
        _check_instance("units", self.units, us.UnitSelectionConfig)
        _check_instance("denoise", self.denoise, bool)
        _check_number("min_reference_s", self.min_reference_s, 0.0, math.inf, "seconds ≥ 0")
        _check_number("max_reference_s", self.max_reference_s, max(self.min_reference_s, 1e-9),
                      math.inf, f"seconds ≥ min_reference_s ({self.min_reference_s:g}), > 0")
        _check_number("target_dbfs", self.target_dbfs, -70.0, 0.0, "dBFS in [-70, 0]")
        _check_number("pause_s", self.pause_s, 0.0, math.inf, "seconds ≥ 0")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def for_style(cls, style: str = "voice", **kwargs) -> CloneConfig:
        """Config of one :data:`STYLES` preset (other ``CloneConfig`` fields as ``kwargs``)."""
        if not isinstance(style, str) or style not in STYLES:
            raise choice_error("cloning style", style, tuple(STYLES))
        names = [f.name for f in fields(cls) if f.name != "units"]
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            raise ConfigError(f"unknown CloneConfig field {unknown[0]!r}; valid fields: "
                              f"{', '.join(names)}")
        units = replace(us.UnitSelectionConfig(), **STYLES[style])
        return cls(units=units, **kwargs)


def _check_instance(name: str, value: object, kind: type) -> None:
    """``CloneConfig.<name>`` must be a ``kind``."""
    if not isinstance(value, kind):
        raise ConfigError(f"CloneConfig.{name} must be a {kind.__name__}, "
                          f"got {type(value).__name__}")


def _check_number(name: str, value: object, low: float, high: float, expected: str) -> None:
    """``CloneConfig.<name>`` must be a real number in ``[low, high]`` (``expected`` says so)."""
    ok = (isinstance(value, (int, float, np.integer, np.floating))
          and not isinstance(value, bool) and low <= float(value) <= high)
    if not ok:
        raise ConfigError(f"CloneConfig.{name} must be a number of {expected}, got {value!r}")
