"""The source-emotion side of :class:`~emovc.pipelines.conversion.EmotionConverter`: which
emotions a model converts from and to, and the source of a conversion — given, fixed by a
pairwise model's pair, or detected by the emotion recogniser
(:func:`~emovc.pipelines.source_choice.choose_source`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from emovc.data.emotions import and_list, check_model_emotion, normalize_emotion
from emovc.errors import EmovcError
from emovc.pipelines.conversion_checks import keeping_torch_rng
from emovc.pipelines.source_choice import choose_source, recognise_long


class SourceEmotions:
    """Mixin of :class:`~emovc.pipelines.conversion.EmotionConverter` for its emotions; the
    class using it sets ``backend`` (a loaded converter) and ``_recognizer`` (``None`` until
    :meth:`detect_source` loads the bundled recogniser)."""

    @property
    def uses_source(self) -> bool:
        """Whether conversion depends on the source emotion (WORLD models and many-to-many
        SpectroGANs with a prosody stage); if so an unknown source is detected."""
        return hasattr(self.backend, "world") or self.backend.normalizer is not None

    @property
    def source_emotions(self) -> list[str]:
        """Emotions the source may be spoken in."""
        return list(self.backend.source_emotions)

    @property
    def target_emotions(self) -> list[str]:
        """Emotions the model converts to."""
        return list(self.backend.target_emotions)

    def detect_source(self, wav: np.ndarray, sr: int, exclude: str | None = None,
                      recognizer=None) -> str:
        """Source emotion of ``wav`` by the recogniser, among :attr:`source_emotions` other
        than ``exclude`` (the target: converting to the emotion the recogniser already hears
        would change little; the toolbox uses the same rule).

        Not simply the recogniser's top label, which is unreliable on ordinary read speech:
        the emotion that minimises the expected level error under its probabilities, with a
        prior on neutral and calm (:func:`emovc.pipelines.source_choice.choose_source`).
        Beyond 20 s the recogniser's probabilities are averaged over 20 s windows
        (:func:`~emovc.pipelines.source_choice.recognise_long`).

        Args:
            wav: mono ``(n,)`` float waveform in [-1, 1].
            sr: its sample rate in Hz (the recogniser resamples it).
            exclude: an emotion name (aliases such as ``"anger"`` accepted) not to return.
            recognizer: the recogniser to ask (``predict(wav, sr) -> {emotion: p}``, e.g. one
                the caller already loaded); ``None``: the bundled default, loaded on first
                use and kept.

        Returns:
            the chosen emotion's canonical name, one of :attr:`source_emotions`.

        Raises:
            ConfigError: ``exclude`` is not an emotion name (lists the valid ones).
            EmovcError: no recogniser is available, or no emotion is left to choose."""
        allowed = self._candidates(exclude)
        if recognizer is None and self._recognizer is None:
            try:
                from emovc.pipelines.recognition import EmotionRecognizer
                with keeping_torch_rng():
                    self._recognizer = EmotionRecognizer.from_pretrained("default")
            except (ImportError, EmovcError) as exc:  # recogniser missing: ask the user
                raise EmovcError("source emotion unknown and no emotion recogniser available "
                                 f"({exc}); {self._pass_source()}") from None
        probs = recognise_long(self._recognizer if recognizer is None else recognizer, wav, sr)
        return self._choose(probs, allowed)

    def source_from_probs(self, probs: Mapping[str, float], exclude: str | None = None) -> str:
        """:meth:`detect_source`'s choice for a recording the recogniser already scored
        ``probs`` (``{emotion: p}``, e.g. from
        :func:`~emovc.pipelines.source_choice.recognise_long`), among
        :attr:`source_emotions` other than ``exclude``.

        Raises:
            ConfigError: ``exclude`` is not an emotion name.
            EmovcError: ``probs`` covers none of the source emotions, or no emotion is left
                to choose."""
        return self._choose(probs, self._candidates(exclude))

    def _candidates(self, exclude: str | None) -> list[str]:
        """The source emotions other than ``exclude`` (an emotion name, aliases accepted).

        Raises:
            ConfigError: ``exclude`` is not an emotion name (lists the valid ones).
            EmovcError: no emotion is left."""
        if exclude is not None:  # an unknown name lists the valid ones; aliases normalised
            exclude = normalize_emotion(exclude)
        allowed = [e for e in self.source_emotions if e != exclude]
        if not allowed:  # e.g. a hand-made one-emotion model asked for that emotion
            raise EmovcError(f"this model converts from {and_list(self.source_emotions)} only, "
                             f"and {exclude} is the target: there is no other emotion to "
                             "convert from")
        return allowed

    def _choose(self, probs: Mapping[str, float], allowed: list[str]) -> str:
        """The source among ``allowed`` for the recogniser's ``probs`` (the level-error rule
        of :func:`~emovc.pipelines.source_choice.choose_source`)."""
        if not any(e in probs for e in self.source_emotions):
            raise EmovcError("the recogniser's labels do not cover this model's source emotions; "
                             f"{self._pass_source()}")
        return choose_source(probs, allowed, self.source_level_db, emotions=self.source_emotions)

    def _pass_source(self) -> str:
        """The hint of an error that asks for the source emotion, in the Python argument's
        words with the command line's option in parentheses."""
        return (f"pass source= one of {', '.join(self.source_emotions)} "
                "(command line: --from)")

    def source_level_db(self, emotion: str) -> float:
        """Average speech level of ``emotion`` relative to the model's first source emotion,
        in dB (0 for every emotion when the model has no level offsets)."""
        normalizer = getattr(self.backend, "normalizer", None)
        if normalizer is None:
            return 0.0
        return normalizer.level_change_db(self.source_emotions[0], emotion)

    def fixed_source(self, target: str) -> str | None:
        """The only possible source for ``target`` of a pairwise model (the other emotion of
        its pair), else ``None``."""
        fixed = getattr(self.backend, "fixed_source", None)
        if fixed is not None:
            return fixed(target)
        pair = self.source_emotions
        if len(pair) == 2 and sorted(pair) == sorted(self.target_emotions) and target in pair:
            return pair[1] if target == pair[0] else pair[0]
        return None

    @property
    def detects_source(self) -> bool:
        """Whether a conversion without ``source`` runs the emotion recogniser for some
        target (models whose conversion depends on the source, unless their pair fixes it
        for every target)."""
        return self.uses_source and any(self.fixed_source(t) is None
                                        for t in self.target_emotions)

    def resolve_emotions(self, wav: np.ndarray, sr: int, target: str, source: str | None,
                         ) -> tuple[str, str]:
        """Validated ``(source, target)``; ``source=None`` is the pair's other emotion for a
        pairwise model, else detected (:meth:`detect_source`)."""
        tgt = check_model_emotion(target, self.target_emotions, "target")
        if source is not None:
            return check_model_emotion(source, self.source_emotions, "source"), tgt
        fixed = self.fixed_source(tgt)
        if fixed is not None:
            return fixed, tgt
        return self.detect_source(wav, sr, exclude=tgt), tgt

    def _named_source(self, target: str, source: str | None) -> str | None:
        """The source of a conversion that does not depend on one: ``source`` normalised,
        else a pairwise model's other emotion, else ``None``."""
        if source is not None:
            return check_model_emotion(source, self.source_emotions, "source")
        return self.fixed_source(check_model_emotion(target, self.target_emotions, "target"))
