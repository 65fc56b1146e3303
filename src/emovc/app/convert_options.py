"""The convert tab's settings of one conversion: the chosen model's defaults, the user's
choices, checked (one-line :class:`~emovc.errors.ConfigError` for a bad value or a setting
the model does not offer).

Converters are duck-typed here, as the app's model cache holds them: an
:class:`~emovc.pipelines.conversion.EmotionConverter`, or any object with a ``convert`` method
(tests use fakes). A converter offers the rendering settings (``renderer``, ``voice_quality``)
only if it has a non-empty ``renderers``.
"""

from __future__ import annotations

from dataclasses import dataclass

from emovc.errors import ConfigError, choice_error
from emovc.pipelines.conversion_settings import ConversionSettings


def default_pitch_level(conv) -> float:
    """The converter's default pitch level (1 if it does not say)."""
    return float(getattr(conv, "pitch_level", 1.0))


def default_envelope_gain(conv) -> float:
    """The converter's default envelope gain (1 if it does not say)."""
    return float(getattr(conv, "envelope_gain", 1.0))


def offered_renderers(conv) -> tuple[list[str], str | None]:
    """``(renderers, default)``; ``([], None)`` for a converter without a choice."""
    names = list(getattr(conv, "renderers", ()))
    return names, (getattr(conv, "renderer", None) if names else None)


def default_voice_quality(conv) -> float | None:
    """The converter's default voice quality, ``None`` if it offers no renderer choice or has
    no voice-quality statistics (a trained run: the setting would be refused)."""
    if not offered_renderers(conv)[0] or not getattr(conv, "voice_quality_stats", None):
        return None
    return float(getattr(conv, "voice_quality", 0.0))


@dataclass(frozen=True)
class ConvertOptions:
    """Checked settings of one conversion. ``renderer`` and ``voice_quality`` are ``None``
    for a converter that offers no renderer choice (e.g. a SpectroGAN)."""

    pitch_level: float
    envelope_gain: float
    renderer: str | None = None
    voice_quality: float | None = None

    @classmethod
    def resolve(cls, conv, model: str, pitch_level: float | None = None,
                envelope_gain: float | None = None, renderer: str | None = None,
                voice_quality: float | None = None) -> ConvertOptions:
        """The user's values, ``None`` (or an empty renderer) taking the model's default;
        each checked by :class:`~emovc.pipelines.conversion_settings.ConversionSettings`, as
        the command line's are."""
        st = ConversionSettings(
            pitch_level=default_pitch_level(conv) if pitch_level is None else pitch_level,
            envelope_gain=default_envelope_gain(conv) if envelope_gain is None
            else envelope_gain)
        renderers, default_renderer = offered_renderers(conv)
        if not renderers:
            if renderer:
                raise ConfigError(f"{model} has no choice of renderer (WORLD-feature models "
                                  "only)")
            if voice_quality is not None:
                raise ConfigError(f"{model} has no voice-quality setting (the source renderer "
                                  "of WORLD-feature models only)")
            return cls(st.pitch_level, st.envelope_gain)
        renderer = renderer or default_renderer
        if renderer not in renderers:
            raise choice_error("renderer", renderer, renderers)
        st = st.with_overrides(renderer=renderer, voice_quality=default_voice_quality(conv)
                               if voice_quality is None else voice_quality)
        return cls(st.pitch_level, st.envelope_gain, st.renderer, st.voice_quality)

    def call_kwargs(self) -> dict:
        """Keyword arguments of the converter's ``convert`` (rendering ones only if offered)."""
        kwargs = {"pitch_level": self.pitch_level, "envelope_gain": self.envelope_gain}
        if self.renderer is not None:  # voice quality only where it applies (source)
            kwargs |= {"renderer": self.renderer, "voice_quality":
                       self.voice_quality if self.renderer == "source" else None}
        return kwargs

    def describe(self, exact: bool = False) -> str:
        """``"pitch level 0.125, envelope gain 1.15, renderer source, voice quality 1"``; the
        voice quality only where it applies (source rendering). ``exact``: the numbers as
        Python prints them (file provenance) instead of shortest form (status line)."""
        num = str if exact else (lambda v: f"{v:g}")
        text = f"pitch level {num(self.pitch_level)}, envelope gain {num(self.envelope_gain)}"
        if self.renderer is not None:
            text += f", renderer {self.renderer}"
        if self.renderer == "source":
            text += f", voice quality {self.voice_quality:g}"
        return text
