"""User-facing errors.

Every problem a user can cause (bad path, unsupported format, audio too short, unknown
emotion, model mismatch, ...) raises :class:`EmovcError` (or a subclass) with a one-line
message that names the problem and, where there is a choice, the valid choices. The CLI
prints that line and exits non-zero without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


class EmovcError(ValueError):
    """A problem with the user's input, described in one line."""


class AudioError(EmovcError):
    """Unreadable, unsupported, silent or too-short audio."""


class ConfigError(EmovcError):
    """Unknown option value, model/feature mismatch, bad config."""


def choice_error(kind: str, value: object, choices: Iterable[object]) -> ConfigError:
    """Build an error for an unknown choice, listing the valid ones.

    >>> str(choice_error("emotion", "bored", ["angry", "sad"]))
    "unknown emotion 'bored'; valid choices: angry, sad"
    """
    valid = ", ".join(str(c) for c in choices)
    return ConfigError(f"unknown {kind} {value!r}; valid choices: {valid}")
