"""Splitting the text of a voice clone into sentences, each synthesised on its own."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from emovc.errors import ConfigError, EmovcError

#: words written with a full stop that rarely end a sentence. A small rule instead of a library:
#: NLTK's Punkt needs a data download and pySBD is unmaintained (last release 2021); espeak-ng
#: reads these words correctly inside a sentence, so not splitting there is what matters.
ABBREVIATIONS = frozenset("""
    mr mrs ms mx dr prof st jr sr rev gen col capt lt sgt cmdr adm gov sen pres supt insp
    mt ft ave blvd rd hwy vs etc approx dept inc ltd corp bros cf
""".split())  # not "sat", "sun", "wed", "jan", "al": ordinary words and names end sentences
#: abbreviations only when a number follows ("No. 5", "Vol. 2", "p. 12")
NUMBER_ABBREVIATIONS = frozenset("no nos vol vols pp p ch fig figs sec art op".split())
#: the refusal of text without words, by every speaker of text (the cloners, the front-end)
EMPTY_TEXT = "text is empty; give the words to speak, e.g. \"Hello.\""


def check_text(text: object) -> str:
    """``text`` itself, when it is a string (the words to speak).

    Raises:
        ConfigError: anything else (``None``, bytes, numbers, lists ...).
    """
    if not isinstance(text, str):
        raise ConfigError(f"text must be a string (the words to speak), got "
                          f"{type(text).__name__}")
    return text


def text_sentences(text: object) -> list[str]:
    """The sentences of ``text`` (:func:`split_sentences`), each synthesised on its own.

    Raises:
        ConfigError: ``text`` is not a string (:func:`check_text`).
        EmovcError: it has no words: empty or blank (:data:`EMPTY_TEXT`), or without a letter
            or digit (punctuation, emoji: "nothing to pronounce").
    """
    sentences = split_sentences(check_text(text))
    if not sentences:
        if not text.strip():
            raise EmovcError(EMPTY_TEXT)
        raise EmovcError(f"text {shortened(text)} has nothing to pronounce: no letter or digit "
                         "in it; give the words to speak, e.g. \"Hello.\"")
    return sentences


def shortened(text: str, width: int = 40) -> str:
    """``text`` in quotes, on one line, shortened to about ``width`` characters."""
    text = " ".join(text.split())
    return f'"{text if len(text) <= width else text[:width - 1].rstrip() + "…"}"'


def split_sentences(text: str) -> list[str]:
    """Split text at sentence punctuation (``. ! ? ;`` followed by a space) so each part is
    synthesised separately; a full stop after an abbreviation (:data:`ABBREVIATIONS`,
    "No." before a number, a single initial, dotted forms such as "e.g." or "p.m.") is not
    a sentence end."""
    text = text.strip()
    parts, start = [], 0
    for end in re.finditer(r"[.!?;]+(?=\s)", text):
        if end.group() == "." and _is_abbreviation(text[start:end.start()], text[end.end():]):
            continue
        parts.append(text[start:end.end()].strip())
        start = end.end()
    parts.append(text[start:].strip())
    return [p for p in parts if re.search(r"\w", p)]


def _is_abbreviation(before: str, after: str) -> bool:
    """Whether the last word of ``before`` (its full stop removed) is an abbreviation, given
    the text ``after`` the full stop."""
    words = before.split()
    word = words[-1].lstrip("([{\"'“‘").lower() if words else ""
    if word in ABBREVIATIONS or re.fullmatch(r"[^\W\d_]", word):  # "Dr", "J" (an initial)
        return True
    if re.fullmatch(r"(?:[^\W\d_]\.)+[^\W\d_]", word):  # "e.g", "i.e", "p.m", "u.s"
        return True
    return word in NUMBER_ABBREVIATIONS and after.lstrip()[:1].isdigit()


def join_with_pauses(pieces: Iterable[np.ndarray], pause_s: float, sr: int) -> np.ndarray:
    """Sentences' audio (float32 ``(n_i,)`` at ``sr`` Hz) joined with ``pause_s`` seconds of
    silence between them: float32 ``(n,)``."""
    pause = np.zeros(int(round(pause_s * sr)), dtype=np.float32)
    out: list[np.ndarray] = []
    for piece in pieces:
        out += [pause, piece] if out else [piece]
    return np.concatenate(out).astype(np.float32, copy=False)
