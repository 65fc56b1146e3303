"""The web app's words and small helpers around its backend (:mod:`emovc.app.services`):
notes on a detected source and a clone's similarity, provenance tags, the English-text
check, errors with the work dir's paths hidden, the warnings of one request collected for the
page, and one line per recognition window."""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np

from emovc.app.convert_options import ConvertOptions
from emovc.app.limits import APP_SR, hide_paths
from emovc.data.emotions import normalize_emotion
from emovc.errors import ConfigError, EmovcError, EmovcWarning
from emovc.pipelines.ser_windows import WindowLabel


def detection_note(label: str, probs: dict[str, float]) -> str:
    """What the UI says about a detected source ``label`` given the recogniser's ``probs``."""
    heard = max(probs, key=probs.get)
    if heard == label:
        return f"detected {label} (recogniser: {heard} {probs[heard]:.0%})"
    return (f"detected {label}: the recogniser is unsure (top guess {heard} "
            f"{probs[heard]:.0%}), and {label} is the choice with the least expected level "
            "error; set the source if you know it")


def similarity_note(similarity: float) -> str:
    """The clone summary's words on the speaker similarity (NaN: the output was too short)."""
    if np.isnan(similarity):
        return ("no speaker similarity: the output is too short for a speaker embedding "
                "(under 0.5 s)")
    return (f"speaker similarity to the reference {similarity:.2f} (cosine, 1 = same voice; "
            "flattering: the clone is built from this recording's own sounds, and another "
            "recording of the speaker typically scores ~0.1 less)")


def no_progress(fraction: float, desc: str) -> None:
    """Default progress callback: ignore."""


def provenance(what: str) -> str:
    from emovc import __version__

    return f"emovc {__version__}: {what}"


def at_app_rate(wav: np.ndarray, sr: int) -> np.ndarray:
    from emovc.audio.io import resample

    return resample(wav, sr, APP_SR)


def conversion_tag(conv, model: str, source: str | None, target: str, intensity: float,
                    opts: ConvertOptions) -> str:
    """The provenance tag of a conversion: ``emovc convert``'s (the model's SHA-256 and
    every setting: :meth:`~emovc.pipelines.conversion.EmotionConverter.provenance_tag`), or
    the app's own for a converter without one."""
    if hasattr(conv, "provenance_tag"):
        return conv.provenance_tag(source or "", normalize_emotion(target), intensity,
                                   **opts.call_kwargs())
    return provenance(f"emotion conversion {source or '?'} -> {target}, model {model}, "
                       f"intensity {intensity}, {opts.describe(exact=True)}")


def clone_tag(cloner, references: list[str], emotion: str | None) -> str:
    """The provenance tag of a clone: ``emovc clone``'s (the reference names, the emotion and
    the cloning method: :func:`emovc.pipelines.cloning.provenance_tag`)."""
    try:
        from emovc.pipelines.cloning import provenance_tag
    except ImportError:  # a stand-in cloner where the cloning pipeline is missing
        extra = f", emotion {emotion}" if emotion else ""
        return provenance(f"cloned voice (synthetic speech{extra}; speaker consent confirmed)")
    method = "neural SV2TTS" if getattr(cloner, "neural", None) is not None else "unit selection"
    return provenance_tag([Path(name) for name in references], emotion, method)


def check_english(text: str) -> None:
    """Refuse text without a letter or digit the cloner's English voice can speak, in words a
    web user can act on (the cloner's own refusal points to ``FrontendConfig.voice``, a
    Python setting): the rule of
    :func:`emovc.pipelines.frontend.nothing_else_to_pronounce`.

    Raises:
        ConfigError: every letter of ``text`` is of another script than Latin.
    """
    from emovc.pipelines.frontend import foreign_letters, nothing_else_to_pronounce

    foreign = foreign_letters(text)
    if nothing_else_to_pronounce(text, foreign):
        shown = " ".join(foreign[:12]) + (" …" if len(foreign) > 12 else "")
        raise ConfigError(f"the text has no letters the cloner's English voice can pronounce "
                          f"({shown}): the app speaks English only; type the text in Latin "
                          "letters")


@contextmanager
def hiding_paths(root: Path) -> Iterator[None]:
    """Re-raise an :class:`EmovcError` with the paths inside ``root`` shown by their file
    names (:func:`~emovc.app.limits.hide_paths`)."""
    try:
        yield
    except EmovcError as exc:
        message = hide_paths(str(exc), root)
        if message == str(exc):
            raise
        try:
            hidden = type(exc)(message)
        except TypeError:  # an error class with other arguments
            hidden = EmovcError(message)
        raise hidden from None


class _WarningRouter:
    """The process's warning hook while the app runs: an
    :class:`~emovc.errors.EmovcWarning` raised where a request collects warnings
    (:func:`collected_warnings`: a context variable, so each request's thread, and what it
    runs in a copy of its context) goes to that request's list; every other warning goes
    to the hook that was in place before (:attr:`passed_to`: the server log).

    Installed once and left in place (:meth:`install`), not per request: Python keeps one
    hook and one filter list for the whole process, and ``warnings.catch_warnings`` is not
    thread-safe (overlapping requests restored each other's hooks and filters, so a
    request's warnings reached the server log, and the hooks chained up for good)."""

    def __init__(self) -> None:
        self.passed_to: Callable[..., object] | None = None
        self._lock = threading.Lock()
        self._forwarding = threading.local()

    def install(self) -> None:
        """Make this the process's warning hook and show every EmovcWarning (Python's
        default filter shows a warning once per place and text: a repeat in a later request
        would be lost); a no-op when both are in place. The hook in place is passed on to,
        also when another one replaced this (a test's ``pytest.warns``, say); other
        filters already in front of the ``always`` one (``ignore``, ``error``) still
        apply."""
        with self._lock:
            if warnings.showwarning is not self:
                self.passed_to = warnings.showwarning
                warnings.showwarning = self
            if not any(f[0] == "always" and f[1] is None and f[2] is EmovcWarning
                       and f[3] is None for f in warnings.filters):
                warnings.simplefilter("always", EmovcWarning)

    def __call__(self, message, category, filename, lineno, file=None, line=None) -> None:
        notes = _COLLECTED.get()
        if notes is not None and issubclass(category, EmovcWarning):
            notes.append(str(message))
            return
        if getattr(self._forwarding, "active", False) or self.passed_to is None:
            # the hook passed to leads back here (one installed over this one, then passed
            # to by a re-install): shown as Python shows it, not passed round in circles
            print(warnings.formatwarning(message, category, filename, lineno, line),
                  end="", file=file or sys.stderr)
            return
        self._forwarding.active = True
        try:
            self.passed_to(message, category, filename, lineno, file, line)
        finally:
            self._forwarding.active = False


_COLLECTED: ContextVar[list[str] | None] = ContextVar("emovc_app_warnings", default=None)
WARNING_ROUTER = _WarningRouter()
"""The app's one warning hook (:class:`_WarningRouter`)."""


def route_warnings() -> None:
    """Install :data:`WARNING_ROUTER` (idempotent): the app does at start, and
    :func:`collected_warnings` on each use (a backend without the server, or after a
    test's ``warnings.catch_warnings`` put the previous hook back)."""
    WARNING_ROUTER.install()


@contextmanager
def collected_warnings() -> Iterator[list[str]]:
    """Collect the :class:`~emovc.errors.EmovcWarning` messages raised inside the context
    (this thread, or what runs in a copy of its context) — the library's warnings about what
    one request works on (an upload that may not be speech or is noisy, clone references
    that are noisy or sound like two voices) — for the page, instead of the server log;
    other warnings, and every warning of other requests, go where they went before. A
    warning repeated in a later request is collected again.

    Safe with overlapping requests in threads: nothing process-wide is changed per
    request (:class:`_WarningRouter`). What Python cannot give: a warning raised while
    another thread is inside ``warnings.catch_warnings(record=True)`` (library code that
    records warnings) reaches that block's list rather than this one."""
    route_warnings()
    notes: list[str] = []
    token = _COLLECTED.set(notes)
    try:
        yield notes
    finally:
        _COLLECTED.reset(token)


def with_warnings(summary: str, notes: list[str], root: Path) -> str:
    """``summary`` followed by one ``⚠`` line per collected warning (:func:`collected_warnings`),
    with the work dir's paths hidden (:func:`~emovc.app.limits.hide_paths`)."""
    return "\n".join([summary, *(f"⚠ {hide_paths(note, root)}" for note in notes)])


def window_line(window: WindowLabel, root: Path) -> str:
    """``"  0:00-0:20  calm 31%  sad 22%  neutral 15%"`` (the window's three most likely
    emotions), or why the window was skipped."""
    def clock(t: float) -> str:
        return f"{int(t // 60)}:{int(t % 60):02d}"

    span = f"  {clock(window.start_s)}-{clock(window.end_s)}  "
    if not window.probs:
        return span + f"skipped: {hide_paths(window.error, root)}"
    best = sorted(window.probs.items(), key=lambda kv: -kv[1])[:3]
    return span + "  ".join(f"{label} {p:.0%}" for label, p in best)
