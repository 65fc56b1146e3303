"""Inference settings of an emotion converter: validated once, stored as plain data.

A model's defaults come from its ``meta.json`` (``"inference"``); a conversion may override
some of them per call (:meth:`ConversionSettings.with_overrides`). Every field is checked
whenever a settings object is made, so a bad value — in a call, on the command line, in the
toolbox or in a hand-edited ``meta.json`` — is a one-line :class:`~emovc.errors.ConfigError`
naming the setting and its valid range.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from emovc.errors import ConfigError
from emovc.features.voice_quality import check_stats
from emovc.models.conversion.converters import check_envelope_gain, check_intensity, check_range
from emovc.models.conversion.render import check_renderer


@dataclass(frozen=True)
class ConversionSettings:
    """How a WORLD-feature model converts (SpectroGANs use ``pitch_level`` only).

    Attributes:
        pitch_level: share (0..1) of the conversion's change of mean F0 that is kept.
        envelope_smoothing_ms: moving-average window (0..1000 ms) of the envelope change.
        envelope_gain: factor (0..3) on the (smoothed) envelope change.
        renderer: ``"world"`` (WORLD synthesis) or ``"source"`` (the input's own samples).
        voice_quality: factor (0..3) on the per-cycle jitter and shimmer the source renderer
            adds (0 = off); needs ``voice_quality_stats``.
        voice_quality_stats: ``{emotion: {"jitter": j, "shimmer_db": s}}`` (eGeMAPS means).
    """

    pitch_level: float = 1.0
    envelope_smoothing_ms: float = 0.0
    envelope_gain: float = 1.0
    renderer: str = "world"
    voice_quality: float = 0.0
    voice_quality_stats: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        checked = {
            "pitch_level": check_intensity(self.pitch_level, "pitch level"),
            "envelope_smoothing_ms": check_range(self.envelope_smoothing_ms,
                                                 "envelope smoothing", 0.0, 1000.0, " ms"),
            "envelope_gain": check_envelope_gain(self.envelope_gain),
            "renderer": check_renderer(self.renderer),
            "voice_quality": check_range(self.voice_quality, "voice quality", 0.0, 3.0),
            "voice_quality_stats": check_stats(self.voice_quality_stats),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_meta(cls, inference: dict) -> ConversionSettings:
        """The settings a model's ``meta.json`` ``"inference"`` block names (other keys are
        ignored; missing ones keep the defaults above)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in inference.items() if k in names})

    def with_overrides(self, **overrides) -> ConversionSettings:
        """A validated copy with the given fields replaced; ``None`` values keep the current
        one (a per-call argument left unset)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def tag(self) -> str:
        """Provenance of the settings that differ from 'as converted, WORLD synthesis', e.g.
        ``", smoothing 100 ms, envelope gain 1.15, renderer source, voice quality 1"``."""
        parts = [f"smoothing {self.envelope_smoothing_ms:g} ms" if self.envelope_smoothing_ms
                 else "",
                 f"envelope gain {self.envelope_gain:g}" if self.envelope_gain != 1.0 else "",
                 f"renderer {self.renderer}" if self.renderer != "world" else "",
                 f"voice quality {self.voice_quality:g}"
                 if self.renderer == "source" and self.voice_quality else ""]
        return "".join(f", {p}" for p in parts if p)


class Setting:
    """Attribute of a converter that reads one field of its ``settings`` and, on assignment,
    replaces ``settings`` by a validated copy (so ``conv.envelope_gain = 5`` fails at once,
    with the same message as the command line's)."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        return self if obj is None else getattr(obj.settings, self.name)

    def __set__(self, obj, value) -> None:
        obj.settings = replace(obj.settings, **{self.name: value})


def check_spectrogan_settings(st: ConversionSettings) -> None:
    """Raise if ``st`` sets a WORLD-model-only setting for a SpectroGAN."""
    if st.envelope_gain != 1.0:
        raise ConfigError("envelope gain applies to the WORLD-feature models only; "
                          "this is a SpectroGAN (use intensity)")
    if st.renderer != "world":
        raise ConfigError("renderer applies to the WORLD-feature models only; this is "
                          "a SpectroGAN (it renders by Griffin-Lim)")
    if st.voice_quality != 0.0:
        raise ConfigError("voice quality applies to the WORLD-feature models' source "
                          "renderer only; this is a SpectroGAN")
    if st.envelope_smoothing_ms != 0.0:
        raise ConfigError("envelope smoothing applies to the WORLD-feature models only; "
                          "this is a SpectroGAN")
