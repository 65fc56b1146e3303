"""In-memory training data for the WORLD-feature converters.

:class:`ConversionData` loads cached features (:mod:`emovc.training.feature_cache`), fits the
:class:`~emovc.models.conversion.normalizer.EmotionNormalizer` on the training speakers,
normalises every utterance with its own (emotion-corrected) statistics and serves random
fixed-length segments. Batches are drawn by :class:`SegmentSampler` from a generator seeded
with the global step, so a resumed run sees exactly the batches an uninterrupted one would.

For parallel corpora (RAVDESS: same speaker, sentence, intensity and repetition in every
emotion) it also pre-computes DTW frame maps between the takes of each parallel group, used by
the optional aligned ("paired") loss of the many-to-many trainer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import librosa
import numpy as np

from emovc.errors import EmovcError
from emovc.features.f0 import voiced_span_seconds
from emovc.models.conversion.features import FrameFeatures
from emovc.models.conversion.normalizer import (
    EmotionNormalizer,
    UtteranceStats,
    fit_level_offsets,
    fit_normalizer,
)
from emovc.training.feature_cache import CachedUtterance, load_cached, read_index, speech_levels


@dataclass
class Utt:
    """One normalised training utterance: ``x (C, T)`` float32 = [mcep_n; lf0_n; vuv].

    ``raw`` keeps the unnormalised features (validation audio).
    """

    row: CachedUtterance
    x: np.ndarray
    voiced: np.ndarray
    raw: FrameFeatures = field(repr=False)
    stats: UtteranceStats = field(repr=False)


def _missing_emotions(missing: list[str], have: list[str]) -> str:
    """The message for emotions the training speakers have no takes of: choose 2 or more
    of those they have, or (fewer than 2) add takes, since a converter needs 2 emotions."""
    head = (f"no training utterances of {', '.join(missing)} in the corpus (its training "
            f"speakers have: {', '.join(have) or 'none'})")
    if len(have) < 2:
        return (f"{head}; a converter needs training takes of 2 or more emotions: add another "
                "emotion's takes, or other training speakers (--set train_speakers=[...])")
    return (f"{head}; choose among those: --from/--to (cyclegan) or --set "
            f"'emotions=[{', '.join(have)}]' (stargan; 2 or more of them)")


class ConversionData:
    """Normalised utterances of a feature cache, grouped by emotion and parallel group.

    Args:
        cache_folder: folder written by :func:`~emovc.training.feature_cache.build_cache`.
        emotions: label set of the model (rows of its condition/classifier).
        train_speakers: speakers used for training and for fitting the normaliser.
        val_speakers: speakers kept for validation samples only.
        frame_period: WORLD frame period in ms.
        normalizer: reuse these statistics instead of fitting (e.g. when resuming).
        layout: optional ``(x (D+2, T), vuv (T,)) -> (C', T)`` re-arrangement of the channels
            (the CycleGAN trainer replaces log-F0 by its CWT scales).
    """

    def __init__(self, cache_folder: str | Path, emotions: list[str], train_speakers: list[str],
                 val_speakers: list[str], frame_period: float = 5.0,
                 normalizer: EmotionNormalizer | None = None, layout=None):
        index = read_index(cache_folder)
        rows = [r for r in index if r.emotion in emotions]
        raw = {r.key: load_cached(cache_folder, r.key) for r in rows
               if r.speaker in train_speakers or r.speaker in val_speakers}
        if not any(r.speaker in train_speakers for r in rows):
            raise EmovcError(f"no training utterances of speakers {train_speakers} in the cache")
        self.emotions = list(emotions)
        self.train_speakers, self.val_speakers = list(train_speakers), list(val_speakers)
        stats = {k: UtteranceStats.of(f.mcep, f.lf0, f.vuv) for k, f in raw.items()}
        train_rows = [r for r in rows if r.speaker in train_speakers]
        if normalizer is None:
            items = [(r.speaker, r.emotion, stats[r.key],
                      voiced_span_seconds(raw[r.key].vuv, frame_period)) for r in train_rows]
            frames = [raw[r.key].mcep[raw[r.key].vuv] for r in train_rows]
            normalizer = fit_normalizer(items, self.emotions, frames)
            levels = speech_levels(train_rows)
            normalizer.off_level = fit_level_offsets(
                [(r.speaker, r.emotion, levels[r.key]) for r in train_rows], self.emotions)
        self.normalizer = normalizer
        self.layout = layout
        self.train = [self._make(r, raw[r.key], stats[r.key]) for r in train_rows]
        self.val = [self._make(r, raw[r.key], stats[r.key]) for r in rows
                    if r.speaker in val_speakers and r.key in raw]
        self.by_emotion = [[u for u in self.train if u.row.emotion == e] for e in self.emotions]
        missing = [e for e, utts in zip(self.emotions, self.by_emotion, strict=True) if not utts]
        if missing:
            have = sorted({r.emotion for r in index if r.speaker in train_speakers})
            raise EmovcError(_missing_emotions(missing, have))
        self.groups = _parallel_groups(self.train)
        self.val_groups = _parallel_groups(self.val)

    def _make(self, row: CachedUtterance, f, st: UtteranceStats) -> Utt:
        spk = self.normalizer.speaker_stats(st, row.emotion)
        m, lf = self.normalizer.normalize(f.mcep, f.lf0, spk)
        x = np.concatenate([m.T, lf[None], f.vuv[None].astype(np.float32)], 0)
        if self.layout is not None:
            x = self.layout(x, f.vuv)
        return Utt(row, np.ascontiguousarray(x, dtype=np.float32), np.flatnonzero(f.vuv), f, st)

    def clip_paths(self) -> dict[str, list[str]]:
        """The audio files of the training and the validation utterances (``train``, ``val``)."""
        return {"train": [u.row.path for u in self.train], "val": [u.row.path for u in self.val]}

    def emotion_means(self, n: int) -> np.ndarray:
        """``(n_emotions, n)`` average voiced-frame value of the first ``n`` channels per emotion
        (mean over training utterances of their voiced-frame means; zeros if absent)."""
        out = np.zeros((len(self.emotions), n), dtype=np.float32)
        for i, utts in enumerate(self.by_emotion):
            if utts:
                out[i] = np.mean([u.x[:n, u.voiced].mean(1) if u.voiced.size else u.x[:n].mean(1)
                                  for u in utts], 0)
        return out

    @property
    def n_channels(self) -> int:
        """Input channels (``D + 2`` = mcep, log-F0, voicing, unless re-arranged)."""
        return int(self.train[0].x.shape[0])


def _parallel_groups(utts: list[Utt]) -> list[dict[str, Utt]]:
    groups: dict[tuple, dict] = defaultdict(dict)
    for u in utts:
        r = u.row
        if r.sentence and r.repetition:
            groups[(r.speaker, r.sentence, r.intensity, r.repetition)][r.emotion] = u
    return [g for g in groups.values() if len(g) > 1]


def dtw_map(src: np.ndarray, tgt: np.ndarray, dims: slice = slice(1, 25)) -> np.ndarray:
    """For every source frame the index of its DTW-aligned target frame.

    Args:
        src: ``(C, T_s)`` normalised features; ``dims`` (mcep c1..c24 by default) drive the
            Euclidean alignment cost.
        tgt: ``(C, T_t)``.

    Returns:
        ``(T_s,)`` int target frame indices (median of the frames a source frame is matched to).
    """
    _, path = librosa.sequence.dtw(src[dims], tgt[dims], metric="euclidean")
    path = path[::-1]
    out = np.zeros(src.shape[1], dtype=np.int64)
    buckets: dict[int, list[int]] = defaultdict(list)
    for i, j in path:
        buckets[int(i)].append(int(j))
    for i, js in buckets.items():
        out[i] = int(np.median(js))
    return out


class SegmentSampler:
    """Deterministic random segments: ``batch(step)`` always returns the same arrays.

    Args:
        data: the utterances.
        segment: frames per segment.
        batch_size: segments per batch.
        seed: base seed.
    """

    def __init__(self, data: ConversionData, segment: int, batch_size: int, seed: int = 0):
        self.data, self.segment, self.batch_size, self.seed = data, segment, batch_size, seed
        self._maps: dict[tuple[str, str], np.ndarray] = {}

    def rng(self, step: int, rank: int = 0) -> np.random.Generator:
        """Generator of a given step on process ``rank`` (independent streams per step and
        process, so ``--devices N`` trains on N different batches; rank 0 draws what a
        single-device run draws)."""
        return np.random.default_rng([self.seed, step] if rank == 0 else [self.seed, step, rank])

    def _crop(self, u: Utt, rng: np.random.Generator) -> tuple[int, np.ndarray]:
        t, n = u.x.shape[1], self.segment
        centre = int(rng.choice(u.voiced)) if u.voiced.size else t // 2
        start = int(np.clip(centre - n // 2 + rng.integers(-n // 4, n // 4 + 1), 0, max(t - n, 0)))
        seg = u.x[:, start:start + n]
        if seg.shape[1] < n:
            seg = np.pad(seg, ((0, 0), (0, n - seg.shape[1])), mode="edge")
        return start, seg

    def real(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``(B, C, segment)`` segments of random utterances with the given emotion rows."""
        out = []
        for e in labels:
            pool = self.data.by_emotion[int(e)]
            out.append(self._crop(pool[int(rng.integers(len(pool)))], rng)[1])
        return np.stack(out)

    def pairs(self, rng: np.random.Generator, same_prob: float = 0.0,
              groups: list[dict[str, Utt]] | None = None, focus: int | None = None,
              focus_prob: float = 0.0,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Parallel pairs ``(x_src, y_tgt_aligned, src_labels, tgt_labels)``.

        ``x_src``/``y`` are ``(B, C, segment)``; ``y`` is the target take warped onto the source
        frames by DTW. Without parallel groups ``y`` is ``x_src`` (and unused). ``focus``
        (an emotion index): a pair whose group has that emotion and another one targets it with
        probability ``focus_prob`` (from one of the others); the draws are unchanged without it.
        """
        groups = self.data.groups if groups is None else groups
        want = self.data.emotions[focus] if focus is not None else None
        xs, ys, ls, lt = [], [], [], []
        for _ in range(self.batch_size):
            if groups:
                g = groups[int(rng.integers(len(groups)))]
                emos = sorted(g)
                if want in g and len(g) > 1 and rng.random() < focus_prob:
                    rest = [e for e in emos if e != want]
                    a, b = rest[int(rng.integers(len(rest)))], want
                else:
                    a = emos[int(rng.integers(len(emos)))]
                    b = a if rng.random() < same_prob else emos[int(rng.integers(len(emos)))]
                ua, ub = g[a], g[b]
                start, x = self._crop(ua, rng)
                idx = self._map(ua, ub)[start:start + self.segment]
                idx = np.pad(idx, (0, self.segment - idx.size), mode="edge")
                y = ub.x[:, idx]
            else:
                e = int(rng.integers(len(self.data.emotions)))
                a = b = self.data.emotions[e]
                x = y = self.real(np.array([e]), rng)[0]
            xs.append(x)
            ys.append(y)
            ls.append(self.data.emotions.index(a))
            lt.append(self.data.emotions.index(b))
        return np.stack(xs), np.stack(ys), np.array(ls), np.array(lt)

    def _map(self, ua: Utt, ub: Utt) -> np.ndarray:
        key = (ua.row.key, ub.row.key)
        if key not in self._maps:
            self._maps[key] = (np.arange(ua.x.shape[1]) if ua is ub else dtw_map(ua.x, ub.x))
        return self._maps[key]
