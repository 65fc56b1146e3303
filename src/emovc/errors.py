"""User-facing errors.

Every problem a user can cause (bad path, unsupported format, audio too short, unknown
emotion, model mismatch, ...) raises :class:`EmovcError` (or a subclass) with a one-line
message that names the problem and, where there is a choice, the valid choices. The CLI
prints that line and exits non-zero without a traceback.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterable


class EmovcError(ValueError):
    """A problem with the user's input, described in one line."""


class AudioError(EmovcError):
    """Unreadable, unsupported, silent or too-short audio."""


class ConfigError(EmovcError):
    """Unknown option value, model/feature mismatch, bad config."""


class OutputExistsError(EmovcError):
    """An output file exists and overwriting it was not asked for (``force=True``,
    ``--force``); every writer raises this one class."""


class OutputPathError(EmovcError, OSError):
    """An output path that cannot be written (a folder above it is a file, it is a folder,
    or its folder cannot be created or written); the message names the path the caller gave.
    Also an :class:`OSError`, which such failures were before."""


OVERWRITE_HINT = "use --force to overwrite; force=True in Python"


def output_exists(path: object) -> OutputExistsError:
    """The error every writer raises for an existing output (one wording everywhere)."""
    return OutputExistsError(f"output exists: {path} ({OVERWRITE_HINT})")


class EmovcWarning(UserWarning):
    """Something the user should know that does not stop the work (clipped samples written,
    references that sound like several speakers); the command line shows it as one
    ``emovc: warning:`` line."""


def call_recording_warnings(fn: Callable, *args):
    """``fn(*args)`` in a worker process with its warnings recorded instead of printed there;
    returns ``(result, records)`` for :func:`reissue_warnings` in the calling process, whose
    warning filters and format (the command line's one line) then apply, and where a
    Python caller can catch them. Submit it to a pool as ``(call_recording_warnings, fn,
    *args)``; ``fn`` must be picklable (module level)."""
    with warnings.catch_warnings(record=True) as caught:
        result = fn(*args)
    return result, [(_importable(w.category), str(w.message)) for w in caught]


def _importable(category: type[Warning]) -> type[Warning]:
    """``category``, or :class:`UserWarning` when it cannot be pickled by reference (a
    class made inside a function), so the records always reach the caller."""
    module = sys.modules.get(getattr(category, "__module__", ""))
    return category if getattr(module, category.__qualname__, None) is category else UserWarning


def reissue_warnings(records: Iterable[tuple[type[Warning], str]]) -> None:
    """Warn again, in this process, what a worker recorded (:func:`call_recording_warnings`)."""
    for category, message in records:
        warnings.warn(message, category, stacklevel=2)


def warn_every_time(message: str, category: type[Warning] = EmovcWarning,
                    stacklevel: int = 1) -> None:
    """``warnings.warn(message, category, stacklevel)``, shown on every call: Python's default
    filter shows a warning once per place and text (the caller module's registry), which hid
    the same warning about a second call with the same input (a second clone of the same
    text cut at its limit). The caller's filters still apply ("ignore", "error", "once",
    ``pytest.warns``), and the command line still shows it as one ``emovc: warning:`` line.
    ``stacklevel`` counts as for :func:`warnings.warn` (1: the function calling this)."""
    frame = sys._getframe(1)
    for _ in range(stacklevel - 1):
        if frame.f_back is None:
            break
        frame = frame.f_back
    warnings.warn_explicit(message, category, frame.f_code.co_filename, frame.f_lineno,
                           module=frame.f_globals.get("__name__", "<string>"), registry=None)


def left_out_example(left_out: dict[str, str]) -> str:
    """The first of ``{path: reason}`` clips left out of a corpus, for a message's "e.g.":
    its reason, with the path in front unless the reason names it already.

    >>> left_out_example({"a.wav": "a.wav is silent", "b.wav": "too short"})
    'a.wav is silent'
    """
    path, why = next(iter(left_out.items()))
    return why if path in why else f"{path}: {why}"


def choice_error(kind: str, value: object, choices: Iterable[object]) -> ConfigError:
    """Build an error for an unknown choice, listing the valid ones.

    >>> str(choice_error("emotion", "bored", ["angry", "sad"]))
    "unknown emotion 'bored'; valid choices: angry, sad"
    """
    valid = ", ".join(str(c) for c in choices)
    return ConfigError(f"unknown {kind} {value!r}; valid choices: {valid}")


def broken_pool_error(exc: BaseException) -> EmovcError:
    """A one-line error for a process pool whose worker died (``BrokenProcessPool``).

    Spawned workers import the calling script again, so a script that starts the work at
    module level (no ``if __name__ == "__main__":`` guard) breaks every worker; a worker
    killed for memory looks the same.
    """
    return EmovcError("a worker process stopped before finishing (in a script, start the work "
                      "under `if __name__ == \"__main__\":`, since spawned workers import the "
                      f"script again; or it ran out of memory): pass workers=1 to work in this "
                      f"process ({type(exc).__name__})")
