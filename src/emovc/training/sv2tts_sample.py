"""Which utterances an SV2TTS run trains and validates on: a seeded sample spread over the
speakers (``max_utterances``) of its corpus (:func:`corpus_sample`, one function for the
three recipes, so that the synthesizer and a ``gta`` vocoder of one corpus, ``max_utterances``
and seed take the same utterances), the held-out validation utterances (``val_utterances``),
the one shown at each validation (:func:`typical`) and the cap on an utterance's length
(``max_seconds``).

Spreading goes round the speakers, in a seeded order, taking a seeded random utterance of
each in turn, so ``n`` utterances of ``S`` speakers give each speaker ``n // S`` or one more
(a speaker with fewer gives all of them and the others make up the rest).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from emovc.errors import EmovcError, EmovcWarning

T = TypeVar("T")
#: the seed streams of the two draws (``[seed, stream]``): the sample and the held-out set
SAMPLE_STREAM, HOLD_OUT_STREAM = 1, 2
HOLD_OUT_SHARE = 10  # at most one utterance in this many is held out


def spread(groups: Sequence[str], n: int, rng: np.random.Generator) -> list[int]:
    """Indices of ``n`` items (all when there are fewer) spread evenly over the ``groups``
    (one key per item: a speaker), sorted: round the groups in an order drawn with ``rng``,
    a random remaining item of each in turn."""
    by_group: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    queues = [list(rng.permutation(by_group[g])) for g in sorted(by_group)]
    queues = [queues[k] for k in rng.permutation(len(queues))]
    picked: list[int] = []
    while len(picked) < min(n, len(groups)):
        for q in queues:
            if q and len(picked) < n:
                picked.append(int(q.pop()))
    return sorted(picked)


def sample_utterances(utts: Sequence[T], n: int | None, seed: int,
                      speaker=lambda u: u.speaker) -> list[T]:
    """``n`` of ``utts`` spread over their speakers (:func:`spread`, drawn from ``seed``),
    in their order; all of them when ``n`` is ``None`` or not below their number."""
    if n is None or n >= len(utts):
        return list(utts)
    rng = np.random.default_rng([seed, SAMPLE_STREAM])
    return [utts[i] for i in spread([speaker(u) for u in utts], n, rng)]


def corpus_sample(data_dir: str, corpus: str, n: int | None, seed: int,
                  transcribed: bool = False) -> tuple[list, list]:
    """``(sample, untranscribed)``: ``n`` utterances of the corpus at ``data_dir`` (layout
    ``corpus``, a catalog name or ``"auto"``), as catalogued, spread over the speakers
    (:func:`sample_utterances`, drawn from ``seed``; all when ``n`` is ``None``); with
    ``transcribed``, of those with a transcript, the others returned as ``untranscribed``
    (else ``[]``). The synthesizer and a ``gta`` vocoder both draw with ``transcribed``:
    with the same corpus, ``n`` and ``seed`` they take the same utterances.

    Raises:
        EmovcError: no corpus or no usable utterance
            (:func:`~emovc.data.catalogs.catalog_corpus`).
    """
    from emovc.data.catalogs import catalog_corpus

    utts = list(catalog_corpus(data_dir, corpus))
    left_out = [u for u in utts if not u.text] if transcribed else []
    if transcribed:
        utts = [u for u in utts if u.text]
    return sample_utterances(utts, n, seed), left_out


def typical(lengths: Sequence[float]) -> int:
    """Index of the length nearest the median of ``lengths`` (the first on a tie): the clip
    a run shows at each validation, a typical one rather than a one-word clip or the
    longest."""
    values = np.asarray(lengths, np.float64)
    return int(np.argmin(np.abs(values - np.median(values))))


def hold_out(items: Sequence[T], speakers: Sequence[str], n: int, seed: int,
             ) -> tuple[list[T], list[T]]:
    """``(train, held out)``: ``min(n, len(items) // 10)`` items spread over the speakers
    (:func:`spread`, drawn from ``seed``) held out, the rest to train on, both in the order of
    ``items``. A corpus of fewer than 10 items holds none out."""
    k = min(n, len(items) // HOLD_OUT_SHARE)
    if k <= 0:
        return list(items), []
    rng = np.random.default_rng([seed, HOLD_OUT_STREAM])
    out = set(spread(speakers, k, rng))
    return ([x for i, x in enumerate(items) if i not in out],
            [x for i, x in enumerate(items) if i in out])


def cap_length(items: Sequence[T], frames: Sequence[int], max_frames: int | None,
               seconds_per_frame: float, what: str) -> list[T]:
    """``items`` whose ``frames`` are at most ``max_frames`` (``None``: all); those left out
    get one :class:`~emovc.errors.EmovcWarning` naming how many, the longest and the setting
    ``max_seconds``.

    Raises:
        EmovcError: every item is longer.
    """
    if max_frames is None:
        return list(items)
    kept = [x for x, n in zip(items, frames, strict=True) if n <= max_frames]
    over = len(items) - len(kept)
    if not over:
        return kept
    cap, longest = max_frames * seconds_per_frame, max(frames) * seconds_per_frame
    if not kept:
        raise EmovcError(f"every utterance of the {what} is longer than max_seconds "
                         f"({cap:.4g} s of speech; the longest {longest:.1f} s): raise it with "
                         "--set max_seconds=SECONDS")
    warnings.warn(f"{over} of {len(items)} utterance(s) of the {what} are longer than "
                  f"max_seconds ({cap:.4g} s of speech after trimming; the longest "
                  f"{longest:.1f} s) and are left out (a batch is padded to its longest "
                  "utterance); --set max_seconds=SECONDS changes the cap",
                  EmovcWarning, stacklevel=3)
    return kept


def say(line: str) -> None:
    """A run's status line on stderr (as its progress lines)."""
    print(line, file=sys.stderr, flush=True)
