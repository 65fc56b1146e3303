"""The convert tab's side of :class:`~emovc.app.services.AppBackend`: the conversion models'
choices and defaults (emotions, pitch level, envelope gain, renderer, voice quality), the source
emotion of an upload detected by the model's own rule, and the conversion of an upload into
``outputs/`` with its comparison figure and summary (the converter's warnings, one ``⚠`` line
each)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from emovc.app.convert_options import (
    ConvertOptions,
    default_envelope_gain,
    default_pitch_level,
    default_voice_quality,
    offered_renderers,
)
from emovc.app.limits import APP_SR, load_upload
from emovc.app.models import ModelNotInstalled, ProgressFn
from emovc.app.notes import (
    collected_warnings,
    conversion_tag,
    detection_note,
    no_progress,
    with_warnings,
)
from emovc.app.plots import comparison_figure
from emovc.app.results import ConvertResult
from emovc.app.session import LOCAL_SESSION
from emovc.app.workdir import safe_stem
from emovc.audio import save_audio
from emovc.audio.clipping import warn_if_clipped
from emovc.data.emotions import EMOTIONS, normalize_emotion
from emovc.errors import ConfigError
from emovc.models.conversion.converters import check_intensity
from emovc.pipelines.source_choice import choose_source, recognise_long

AUTO = "auto-detect"  # source-emotion choice: let the recogniser decide


class ConvertService:
    """Mixin of :class:`~emovc.app.services.AppBackend` for the convert tab; the class using it
    sets ``work`` (:class:`~emovc.app.workdir.WorkDir`), ``limits``, ``models``
    (:class:`~emovc.app.models.ModelCache`) and has ``session(key)``."""

    def converter_names(self) -> list[str]:
        """Selectable conversion models ([] when none is installed)."""
        return list(self.models.factories.converter_names())

    def converter_pitch_level(self, model: str) -> float:
        """Default pitch level of ``model`` (1 if it does not say)."""
        return default_pitch_level(self.models.converter(model))

    def converter_envelope_gain(self, model: str) -> float:
        """Default envelope gain of ``model`` (1 if it does not say)."""
        return default_envelope_gain(self.models.converter(model))

    def converter_renderers(self, model: str) -> tuple[list[str], str | None]:
        """``(renderers, default)`` of ``model`` (``([], None)`` for one without a choice,
        e.g. a SpectroGAN)."""
        return offered_renderers(self.models.converter(model))

    def converter_voice_quality(self, model: str) -> float | None:
        """Default voice quality of ``model`` (jitter/shimmer added by the source renderer),
        ``None`` for one without a choice of renderer (e.g. a SpectroGAN)."""
        return default_voice_quality(self.models.converter(model))

    def converter_emotions(self, model: str) -> tuple[list[str], list[str]]:
        """``(source emotions, target emotions)`` of ``model`` (all emotions if it can't say)."""
        conv = self.models.converter(model)
        sources = list(getattr(conv, "source_emotions", EMOTIONS))
        targets = list(getattr(conv, "target_emotions", EMOTIONS))
        return sources, targets

    def source_follows_target(self, model: str) -> bool:
        """Whether no source is set or detected for ``model`` before the target is chosen:
        its conversion never runs the recogniser (the converter's ``detects_source``), e.g.
        a pairwise model, whose source for each target is the pair's other emotion."""
        return not self.models.converter(model).detects_source

    def detect_source(self, audio: str | None, model: str | None = None) -> tuple[str, str]:
        """Source emotion of ``audio`` by ``model``'s own rule
        (:meth:`emovc.pipelines.conversion.EmotionConverter.source_from_probs` on the app's
        recogniser's probabilities, which the note quotes); without a model the recogniser's
        choice among all emotions (:func:`emovc.pipelines.source_choice.choose_source`).

        Returns:
            ``(label, note)``, e.g. ``("calm", "detected calm (recogniser: calm 71%)")``;
            ``(AUTO, note)`` for a model that detects none (:meth:`source_follows_target`).
        """
        wav = load_upload(audio, self.limits, self.work)
        if model and self.source_follows_target(model):
            conv = self.models.converter(model)
            if conv.fixed_source(conv.target_emotions[0]) is None:
                return AUTO, f"{model} does not use the source emotion"
            return AUTO, (f"{model} converts between {' and '.join(conv.source_emotions)}: the "
                          "source is the one that is not the target")
        probs = recognise_long(self.models.recognizer(), wav, APP_SR)
        if not model:
            label = choose_source(probs, list(EMOTIONS))
        else:
            label = self.models.converter(model).source_from_probs(probs)
        return label, detection_note(label, probs)

    def _auto_source(self, wav: np.ndarray, model: str, target: str) -> str | None:
        """The source for converting ``wav`` to ``target`` by the converter's rule (a pairwise
        model's other emotion, else detected by the app's recogniser among the model's
        sources other than the target); ``None`` (the converter decides) when no recogniser
        is installed."""
        conv = self.models.converter(model)
        tgt = normalize_emotion(target)
        fixed = conv.fixed_source(tgt)
        if fixed is not None:
            return fixed
        try:
            recognizer = self.models.recognizer()
        except ModelNotInstalled:
            return None
        return conv.detect_source(wav, APP_SR, exclude=tgt, recognizer=recognizer)

    def convert(self, audio: str | None, target: str, source: str | None, intensity: float,
                model: str, progress: ProgressFn = no_progress,
                pitch_level: float | None = None,
                envelope_gain: float | None = None,
                renderer: str | None = None,
                voice_quality: float | None = None,
                session: str = LOCAL_SESSION) -> ConvertResult:
        """Convert the emotion of an uploaded clip; writes ``outputs/<name>-<target>-*.wav``.
        ``pitch_level``: share (0..1) of the conversion's change of mean pitch that is kept;
        ``envelope_gain``: factor (0..3) on its change of the spectral envelope, above 1 =
        more emotion, less of the voice (both as in
        :meth:`emovc.pipelines.conversion.EmotionConverter.convert`); ``None``: the model's
        defaults (:meth:`converter_pitch_level`, :meth:`converter_envelope_gain`);
        ``renderer``: ``"world"`` or ``"source"`` for a model that offers the choice
        (:meth:`converter_renderers`), ``None``/``""``: the model's own; ``voice_quality``:
        factor (0..3) on the jitter and shimmer the source renderer adds (same models;
        ``None``: the model's own, :meth:`converter_voice_quality`). The conversion is recorded
        for ``session``'s :meth:`evaluate`. The warnings ``emovc convert`` gives (a clipped
        upload, measured on the file, then the converter's: a noisy one) end the summary, one
        ``⚠`` line each."""
        if not model:
            raise ModelNotInstalled("no emotion conversion model is installed")
        if not target:
            raise ConfigError(f"choose a target emotion ({', '.join(EMOTIONS)})")
        progress(0.05, "checking the upload")
        wav = load_upload(audio, self.limits, self.work)
        intensity = check_intensity(intensity)
        progress(0.15, f"loading model {model}")
        conv = self.models.converter(model)
        opts = ConvertOptions.resolve(conv, model, pitch_level, envelope_gain, renderer,
                                      voice_quality)
        if source in (None, "", AUTO):
            src = self._auto_source(wav, model, target)
        else:
            src = normalize_emotion(source)
            if src == normalize_emotion(target):  # e.g. the source detected on upload
                raise ConfigError(f"source and target are both {src}: nothing to convert; "
                                  f"set the source emotion to {AUTO} (it then picks one of "
                                  "the others) or to the recording's real emotion, or choose "
                                  "another target")
        progress(0.35, f"converting to {target}")
        inp = self.work.inside(audio)
        with collected_warnings() as notes:  # e.g. a clipped or noisy input: for the page
            # measured on the file, as `emovc convert` does: load_upload's samples are
            # resampled and freed of DC, which moves the flat tops off full scale
            warn_if_clipped(inp)
            start = time.perf_counter()
            out = np.asarray(conv.convert(wav, APP_SR, target, source=src, intensity=intensity,
                                          name=str(inp), **opts.call_kwargs()),
                             dtype=np.float32)
            seconds = time.perf_counter() - start
        progress(0.75, "saving and plotting")
        name = safe_stem(Path(str(audio)).name)
        path = self.work.new_file("outputs", f"{name}-{target}")
        save_audio(path, out, APP_SR, comment=conversion_tag(conv, model, src, target,
                                                              intensity, opts))
        self.session(session).run.add_conversion(wav, path, target=target, source=src)
        fig = comparison_figure(wav, out, APP_SR, labels=(f"input ({src or '?'})",
                                                          f"output ({target})"))
        rtf = seconds / max(len(wav) / APP_SR, 1e-9)
        summary = (f"{src or 'input'} → {target} with {model} at intensity {intensity:g}, "
                   f"{opts.describe()}: {len(out) / APP_SR:.2f} s of audio "
                   f"({APP_SR // 1000} kHz mono) in {seconds:.2f} s (RTF {rtf:.2f})")
        progress(1.0, "done")
        return ConvertResult(path, fig, seconds, src, with_warnings(summary, notes,
                                                                    self.work.root))
