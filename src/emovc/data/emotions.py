"""The canonical emotion label set shared by every corpus, model and command.

Corpus catalogs map their own codes onto these names (e.g. RAVDESS "05" → ``angry``,
CREMA-D "ANG" → ``angry``, ESD "Surprise" → ``surprised``).
"""

from __future__ import annotations

from emovc.errors import ConfigError, choice_error

EMOTIONS: tuple[str, ...] = (
    "neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised",
)

_ALIASES = {
    "neu": "neutral", "neutral": "neutral", "n": "neutral",
    "cal": "calm", "calm": "calm",
    "hap": "happy", "happy": "happy", "happiness": "happy", "joy": "happy", "h": "happy",
    "amused": "happy", "amusement": "happy",
    "sad": "sad", "sadness": "sad", "sa": "sad",
    "ang": "angry", "angry": "angry", "anger": "angry", "a": "angry",
    "fea": "fearful", "fear": "fearful", "fearful": "fearful", "f": "fearful",
    "dis": "disgust", "disgust": "disgust", "disgusted": "disgust", "d": "disgust",
    "sur": "surprised", "surprise": "surprised", "surprised": "surprised", "su": "surprised",
    "ps": "surprised",  # TESS "pleasant surprise"
}


def normalize_emotion(label: str) -> str:
    """Map a corpus- or user-provided label onto the canonical set (case-insensitive).

    Raises:
        ConfigError: the label is unknown or not a string; the message lists the valid emotions.

    >>> normalize_emotion("Anger")
    'angry'
    """
    _check_is_name(label, EMOTIONS)
    key = label.strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    raise choice_error("emotion", label, EMOTIONS)


def check_emotion(label: str, allowed: list[str], what: str = "emotion") -> str:
    """``label`` normalised (:func:`normalize_emotion`) and required to be one of ``allowed``
    (e.g. the emotions a model converts from).

    Raises:
        ConfigError: unknown, not a string or not allowed; the message names ``what`` and
            lists ``allowed``.

    >>> check_emotion("Anger", ["calm", "angry"], "target emotion")
    'angry'
    """
    _check_is_name(label, allowed, what)
    try:
        emo = normalize_emotion(label)
    except ValueError:  # EmovcError is one
        raise choice_error(what, label, allowed) from None
    if emo not in allowed:
        raise choice_error(what, label, allowed)
    return emo


def _check_is_name(label: object, allowed, what: str = "emotion") -> None:
    """Refuse a ``label`` that is not a string (``None``, a number...), listing ``allowed``."""
    if not isinstance(label, str):
        raise ConfigError(f"{what} must be a name, got {label!r} ({type(label).__name__}); "
                          f"valid choices: {', '.join(str(a) for a in allowed)}")


def emotion_index(label: str) -> int:
    """Index of ``label`` (after normalisation) in :data:`EMOTIONS`."""
    return EMOTIONS.index(normalize_emotion(label))
