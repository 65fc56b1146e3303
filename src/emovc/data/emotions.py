"""The canonical emotion label set shared by every corpus, model and command.

Corpus catalogs map their own codes onto these names (e.g. RAVDESS "05" → ``angry``,
CREMA-D "ANG" → ``angry``, ESD "Surprise" → ``surprised``).
"""

from __future__ import annotations

import difflib

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


#: how alike (difflib's ratio) an unknown name must be to an emotion name to be taken for a
#: misspelling of it: "hapy"/"happy" 0.89, "saad"/"sad" 0.86, "suprised"/"surprised" 0.94;
#: names such as "Carl"/"calm" (0.75) or "Sadie"/"sad" (0.75) stay names
LOOKALIKE = 0.8
# the spellings an unknown name is compared with: the emotions and their aliases of 4 letters
# or more (the short codes, "a", "sa", "hap", would find a misspelling in any short name)
_SPELLINGS = {name: emo for name, emo in _ALIASES.items() if len(name) >= 4} | {
    e: e for e in EMOTIONS}


def misspelt_emotion(label: str) -> str | None:
    """The emotion ``label``, not a known name, looks like a misspelling of (case-insensitive:
    ``"Hapy"`` → ``"happy"``, ``"saad"`` → ``"sad"``, ``"Angr"`` → ``"angry"``), ``None``
    for a known name or one like none (:data:`LOOKALIKE`).

    >>> misspelt_emotion("hapy"), misspelt_emotion("happy"), misspelt_emotion("alice")
    ('happy', None, None)
    """
    key = label.strip().lower()
    if key in _ALIASES:
        return None
    close = difflib.get_close_matches(key, _SPELLINGS, n=1, cutoff=LOOKALIKE)
    return _SPELLINGS[close[0]] if close else None


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
    emo = _known(label, allowed, what)
    if emo not in allowed:
        raise choice_error(what, label, allowed)
    return emo


def emotion_list(value: object, setting: str = "emotions") -> list[str]:
    """``value`` (``--set emotions=[...]``) as canonical labels: the emotions a converter
    learns to convert between, so 2 or more distinct known ones, in the given order.

    Raises:
        ConfigError: a single name (the message shows the list form), not a list, an
            unknown label (the valid ones listed), fewer than 2 labels, or one listed twice.

    >>> emotion_list(["Calm", "anger"])
    ['calm', 'angry']
    """
    example = f"--set '{setting}=[calm, angry]'"
    if isinstance(value, str):
        raise ConfigError(f"{setting} must be a list of 2 or more emotions, got the single "
                          f"name {value!r}; write a list such as {example}")
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{setting} must be a list of 2 or more emotions such as {example}, "
                          f"got {value!r}")
    labels = [normalize_emotion(e) for e in value]
    twice = sorted({e for e in labels if labels.count(e) > 1})
    if len(labels) < 2 or twice:
        why = f" ({', '.join(twice)} twice)" if twice else ""
        raise ConfigError(f"{setting} must be 2 or more distinct emotions, got "
                          f"[{', '.join(labels)}]{why}; valid choices: {', '.join(EMOTIONS)}")
    return labels


def check_model_emotion(label: str, allowed: list[str], role: str) -> str:
    """``label`` normalised and required to be one of a model's ``allowed`` emotions;
    ``role``: ``"source"`` (the emotions it converts from) or ``"target"`` (to).

    Raises:
        ConfigError: not a string or not an emotion name ("unknown target emotion 'angy';
            valid choices: ..." with ``allowed``), or an emotion the model lacks ("this
            model converts to calm and angry only, not to 'sad'").

    >>> check_model_emotion("Anger", ["calm", "angry"], "target")
    'angry'
    """
    emo = _known(label, allowed, f"{role} emotion")
    if emo not in allowed:
        way = "to" if role == "target" else "from"
        raise ConfigError(f"this model converts {way} {and_list(allowed)} only, not {way} "
                          f"{label!r}")
    return emo


def and_list(names: list[str]) -> str:
    """``["calm", "angry", "sad"]`` as ``"calm, angry and sad"``."""
    names = list(names)
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def _known(label: object, allowed: list[str], what: str) -> str:
    """``label`` normalised (:func:`normalize_emotion`); an unknown name or a non-string is
    refused naming ``what`` and listing ``allowed``."""
    _check_is_name(label, allowed, what)
    try:
        return normalize_emotion(label)
    except ValueError:  # EmovcError is one
        raise choice_error(what, label, allowed) from None


def _check_is_name(label: object, allowed, what: str = "emotion") -> None:
    """Refuse a ``label`` that is not a string (``None``, a number...), listing ``allowed``."""
    if not isinstance(label, str):
        raise ConfigError(f"{what} must be a name, got {label!r} ({type(label).__name__}); "
                          f"valid choices: {', '.join(str(a) for a in allowed)}")


def emotion_index(label: str) -> int:
    """Index of ``label`` (after normalisation) in :data:`EMOTIONS`."""
    return EMOTIONS.index(normalize_emotion(label))
