"""Do a clone's references sound like one speaker? (a warning, never an error)

References of two people make a clone that mixes their voices. Their bundled-encoder
(resemblyzer GE2E) embeddings are compared, each reference against the mean of the others
(against the other one, with two), by two tests (:class:`MixedCheck`):

- *similarity*: a cosine below :data:`MIN_SIMILARITY`;
- *male-female axis*: a cosine below :data:`SAME_VOICE_SIMILARITY` and a gap above
  :data:`MAX_AXIS_GAP` along the direction from the encoder's male to its female voices
  (:func:`gender_axis`: the difference of the mean embeddings of LibriSpeech's female and male
  speakers, scaled so that those means lie 2 apart).

The similarity test alone missed most mixes of a man and a woman: one speaker's emotional
takes score as low as two people's read speech (RAVDESS actors' pairs across emotions: 4 %
below 0.5; a man's and a woman's LibriSpeech clips: 38 % above it), so no threshold tells
them apart. The axis does: one actor's emotional takes stay close along it, a man and a woman
lie far apart (on held-out speakers: 0.2-3.8 % of cross-gender mixes missed, 0-1.0 % of one
speaker's reference sets flagged; before, 31-100 % and 0-5.6 %). Measured and tuned by
``benchmarks/diag_mixed_references.py`` (docs/cloning.md, "Mixed references").
"""

from __future__ import annotations

import functools
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emovc.errors import ConfigError, EmovcWarning

#: the male-female axis of the bundled encoder's embeddings, ``(256,)`` float32 (card.md)
AXIS_FILE = Path(__file__).resolve().parents[1] / "pretrained" / "speaker-axes" / "gender.npy"
#: cosine below which a reference is taken for another speaker, whatever the axis says
MIN_SIMILARITY = 0.42
#: cosine at and above which references are taken for one speaker, whatever the axis says
SAME_VOICE_SIMILARITY = 0.70
#: gap along the male-female axis (its units: the mean female and male speakers lie 2 apart)
#: above which references below SAME_VOICE_SIMILARITY are taken for two speakers
MAX_AXIS_GAP = 1.0


@functools.cache
def gender_axis() -> np.ndarray:
    """The bundled encoder's male-female axis ``(256,)``: ``(a - b) @ gender_axis()`` is how
    far embedding ``a`` lies from ``b`` towards the female voices (2 = from the mean male
    speaker to the mean female one of the LibriSpeech speakers it was measured on).

    Raises:
        ConfigError: the file is missing, unreadable (empty, truncated, not a ``.npy``) or
            not a ``(256,)`` vector of finite numbers (a damaged install).
    """
    try:
        axis = np.load(AXIS_FILE)
    except Exception as exc:  # whatever the damage: empty is EOFError, a zip BadZipFile, ...
        raise ConfigError(f"cannot read the speaker axis {AXIS_FILE} ({_unread(exc)}); "
                          "reinstall emovc") from None
    if (not isinstance(axis, np.ndarray) or axis.shape != (256,) or axis.dtype.kind not in "fiu"
            or not np.all(np.isfinite(axis))):
        raise ConfigError(f"{AXIS_FILE} is not a (256,) vector; reinstall emovc")
    return axis.astype(np.float64)


def _unread(exc: Exception) -> str:
    """Why :func:`numpy.load` could not read the axis file, in a few words: numpy's own
    message would pass on its advice to load a git-LFS pointer or an HTML page "unsafely"
    with ``allow_pickle``, or quote 150 characters of a damaged header (review 42b L3)."""
    if isinstance(exc, FileNotFoundError):
        return "not found"
    if isinstance(exc, EOFError) or str(exc).startswith("EOF"):
        return "empty or truncated"
    if isinstance(exc, (ValueError, pickle.UnpicklingError)):
        return "not a .npy array file"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


@functools.cache
def _usable_axis() -> np.ndarray | None:
    """:func:`gender_axis`, or ``None`` with one :class:`~emovc.errors.EmovcWarning` when it
    cannot be read: the mixed-reference check is a warning, so a damaged install falls back
    to the similarity test alone rather than stopping a clone."""
    try:
        return gender_axis()
    except ConfigError as exc:
        warnings.warn(f"{exc}; until then the mixed-reference check uses the similarity alone",
                      EmovcWarning, stacklevel=2)
        return None


@dataclass(frozen=True)
class MixedCheck:
    """The rule that takes a reference for another speaker than the others (the module's
    docstring; the defaults are the measured ones).

    Attributes:
        min_similarity: cosine below which a reference is flagged.
        same_voice_similarity: cosine at and above which it is not (the axis test's guard).
        max_axis_gap: axis gap above which a reference under ``same_voice_similarity`` is
            flagged (``inf``: the similarity test alone).
    """

    min_similarity: float = MIN_SIMILARITY
    same_voice_similarity: float = SAME_VOICE_SIMILARITY
    max_axis_gap: float = MAX_AXIS_GAP

    def measure(self, embeddings: np.ndarray, axis: np.ndarray | None = None,
                ) -> tuple[np.ndarray, np.ndarray]:
        """``(similarity (..., N), axis gap (..., N))`` of each of ``(..., N, D)`` unit
        embeddings (``N ≥ 2`` references, in any number of leading sets) against the
        normalised mean of the others; ``axis``: the male-female axis ``(D,)`` (default:
        :func:`gender_axis`)."""
        e = np.asarray(embeddings, dtype=np.float64)
        rest = (e.sum(axis=-2, keepdims=True) - e) / (e.shape[-2] - 1)
        rest /= np.maximum(np.linalg.norm(rest, axis=-1, keepdims=True), 1e-12)
        sims = np.einsum("...d,...d->...", e, rest)
        if axis is None and np.isfinite(self.max_axis_gap):
            axis = _usable_axis()
        if axis is None:  # the similarity test alone
            return sims, np.zeros_like(sims)
        return sims, np.abs((e - rest) @ axis)

    def flags(self, sims: np.ndarray, gaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(flagged, by the axis test alone)``, boolean arrays of :meth:`measure`'s shape,
        for its values."""
        by_axis = (sims < self.same_voice_similarity) & (gaps > self.max_axis_gap)
        return (sims < self.min_similarity) | by_axis, by_axis & (sims >= self.min_similarity)

    def mixed(self, embeddings: np.ndarray) -> bool:
        """Whether any of the ``(N, D)`` references is flagged."""
        return bool(self.flags(*self.measure(embeddings))[0].any())


def speaker_mismatch(embeddings: np.ndarray, names: list[str],
                     check: MixedCheck = MixedCheck()) -> str:
    """A one-line warning when the references sound like more than one speaker, else ``""``.

    Args:
        embeddings: ``(N, 256)`` unit embeddings of the bundled speaker encoder (its axis is
            used), one per reference, ``N ≥ 2``.
        names: how to call each reference in the message.
        check: the rule (:class:`MixedCheck`).
    """
    sims, gaps = check.measure(embeddings)
    flagged, by_axis = check.flags(sims, gaps)
    sims = np.round(sims, 2) + 0.0  # as shown: no "-0.00"
    axis_words = "their voices lie far apart on the speaker encoder's male-female axis"
    usual = "one speaker's read speech usually scores 0.75 or more, emotional takes less"
    if len(sims) == 2:
        if not flagged.any():
            return ""
        why = f"; {axis_words}" if by_axis.any() else f"; {usual}"
        return (f"{names[0]} and {names[1]} may be different speakers (similarity "
                f"{sims[0]:.2f}{why}); if they are, the clone mixes their voices")
    odd = [f"{names[i]} ({sims[i]:.2f}{', far on the male-female axis' if by_axis[i] else ''})"
           for i in np.flatnonzero(flagged)]
    if not odd:
        return ""
    return (f"{', '.join(odd)} may be {'another speaker' if len(odd) == 1 else 'other speakers'}"
            f" than the other references (similarity to their mean; {usual}); if so, the "
            "clone mixes their voices")
