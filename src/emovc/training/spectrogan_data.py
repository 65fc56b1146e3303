"""Training data for SpectroGAN: RAVDESS file lists and in-memory banks of spectrogram images.

Every clip is trimmed, loudness-normalised (-23 dBFS active level), turned into a normalised
log-magnitude image once (a few MB per emotion) and kept in memory; training batches are random
``freq_size × crop_frames`` crops. Batches are a pure function of ``(seed, iteration, rank)`` so
a resumed run draws exactly the batches an uninterrupted run would have drawn.

Clips that cannot be used (unreadable, shorter than 0.5 s or silent: the limits of
:func:`~emovc.audio.check_speech`, which ``emovc convert`` applies to its input) are left out
with one summary line per reason, as the WORLD trainers' catalog reports them
(:func:`load_emotions`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import librosa
import numpy as np

from emovc.audio import load_audio, normalize_loudness, trim_silence
from emovc.audio.processing import MIN_DURATION_S, SILENCE_DBFS, active_rms_dbfs
from emovc.data.catalogs.base import ScanLog, iter_audio
from emovc.data.emotions import EMOTIONS, normalize_emotion
from emovc.errors import AudioError, ConfigError, EmovcError
from emovc.features.stats import FeatureStats, compute_stats
from emovc.models.spectrogan.representation import Normalizer, SpecConfig, analyze
from emovc.training.feature_cache import report_left_out  # the WORLD trainers' wording

_RAVDESS = re.compile(r"^03-01-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
T = TypeVar("T")
UNREADABLE = "unreadable audio"


def ravdess_files(data_dir: str | Path, emotion: str, actors: Sequence[int]) -> list[Path]:
    """RAVDESS speech files of one emotion spoken by ``actors`` (sorted).

    Args:
        data_dir: folder holding ``Actor_XX/03-01-EE-II-SS-RR-AA.<ext>`` files.
        emotion: canonical or alias emotion label.
        actors: actor numbers to keep.

    Raises:
        ConfigError: no matching file.
    """
    code = EMOTIONS.index(normalize_emotion(emotion)) + 1
    keep = set(int(a) for a in actors)
    out = []
    # iter_audio follows symlinked folders (a corpus "view" of links), which glob("**") does
    # not in Python 3.11
    for p in sorted(iter_audio(Path(data_dir))):
        m = _RAVDESS.match(p.stem)
        if m and int(m.group(1)) == code and int(m.group(5)) in keep:
            out.append(p)
    if not out:
        raise ConfigError(f"no RAVDESS {emotion!r} files for actors {sorted(keep)} under "
                          f"{data_dir} (expected Actor_XX/03-01-EE-II-SS-RR-AA.flac)")
    return out


def ravdess_actors(data_dir: str | Path, emotion: str) -> list[int]:
    """Actor numbers (sorted) with RAVDESS takes of ``emotion`` under ``data_dir`` (files
    named as :func:`ravdess_files` reads them)."""
    code = EMOTIONS.index(normalize_emotion(emotion)) + 1
    found = (_RAVDESS.match(p.stem) for p in iter_audio(Path(data_dir)))
    return sorted({int(m.group(5)) for m in found if m and int(m.group(1)) == code})


def prepare_wav(wav: np.ndarray, sr: int) -> np.ndarray:
    """Trim leading/trailing silence and normalise the active level to -23 dBFS."""
    return normalize_loudness(trim_silence(wav, sr), sr)


def log_magnitude(wav: np.ndarray, cfg: SpecConfig) -> np.ndarray:
    """``(n_bins, T)`` log-magnitude of a clip (``wav`` at ``cfg.sample_rate``), prepared."""
    return analyze(prepare_wav(wav, cfg.sample_rate), cfg)[0]


def clip_problem(wav: np.ndarray, sr: int) -> str | None:
    """Why a loaded clip cannot be trained on, or ``None``: shorter than 0.5 s or silent, the
    limits of :func:`~emovc.audio.check_speech` (worded per kind, so that a summary groups
    the clips)."""
    if len(wav) < MIN_DURATION_S * sr:
        return f"shorter than {MIN_DURATION_S:g} s"
    if active_rms_dbfs(wav, sr) < SILENCE_DBFS:
        return f"silent (speech level below {SILENCE_DBFS:g} dBFS)"
    return None


def load_usable(paths: Sequence[Path], sr: int, analyse: Callable[[np.ndarray], T],
                log: ScanLog) -> dict[Path, T]:
    """``{path: analyse(waveform at sr)}`` of the clips of ``paths`` that can be trained on, in
    their order; every other clip goes to ``log`` under its reason (:data:`UNREADABLE`,
    :func:`clip_problem`, or the message of an :class:`~emovc.errors.AudioError` that
    ``analyse`` raises)."""
    out: dict[Path, T] = {}
    for path in paths:
        try:
            wav = load_audio(path, sr)
        except AudioError:
            log.skip(UNREADABLE, path)
            continue
        why = clip_problem(wav, sr)
        if why is None:
            try:
                out[path] = analyse(wav)
                continue
            except AudioError as err:
                why = str(err).splitlines()[0]
        log.skip(why, path)
    return out


def load_emotions(data_dir: str | Path, emotions: Sequence[str], actors: Sequence[int], sr: int,
                  analyse: Callable[[np.ndarray], T],
                  report: Callable[[str], None] | None = None) -> list[dict[Path, T]]:
    """Per emotion, ``{path: analyse(waveform)}`` of the RAVDESS takes of ``actors`` that can be
    trained on (:func:`load_usable`); the others are reported in one line per reason
    (:func:`report_left_out`). On a corpus without such clips every take is kept, in the
    order of :func:`ravdess_files`.

    Raises:
        ConfigError: an emotion without files (:func:`ravdess_files`).
        EmovcError: an emotion none of whose takes can be used.
    """
    files = [ravdess_files(data_dir, e, actors) for e in emotions]
    log = ScanLog(root=str(data_dir))
    out = [load_usable(fs, sr, analyse, log) for fs in _loading_bar(files)]
    report_left_out(log, str(data_dir), report)
    for emotion, fs, got in zip(emotions, files, out, strict=True):
        if not got:
            raise EmovcError(f"no usable RAVDESS {emotion!r} takes of actors {sorted(actors)} "
                             f"under {data_dir}: all {len(fs)} left out (see the lines above)")
    return out


def _loading_bar(files: list[list[Path]]):
    """``files`` with a bar over the emotions on a terminal (nothing in a log file)."""
    from emovc.training.progress import loading_bar

    return loading_bar(files, "loading clips", "emotion")


def pooled_stats(*domains: Sequence[np.ndarray]) -> FeatureStats:
    """Per-bin statistics over all frames of all domains (so the domains' difference stays)."""
    return compute_stats([m.T for dom in domains for m in dom])


class ImageBank:
    """Normalised images of one domain with random fixed-size crops.

    Args:
        images: ``(freq_size, T_i)`` float32 images in [-1, 1].
    """

    def __init__(self, images: list[np.ndarray]) -> None:
        if not images:
            raise ConfigError("empty image bank")
        self.images = images

    @classmethod
    def from_log_mags(cls, mags: Sequence[np.ndarray], norm: Normalizer) -> ImageBank:
        """Build from ``(n_bins, T_i)`` log-magnitudes."""
        return cls([norm.to_image(m) for m in mags])

    def crops(self, rng: np.random.Generator, n: int, frames: int, rows: int | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
        """Random ``rows × frames`` crops (short clips are padded with silence).

        Returns:
            ``(n, 1, rows, frames)`` float32 crops and ``(n, rows)`` float32 row positions in
            the full image, mapped to [-1, 1] (the generator's ``freq_pos``).
        """
        full = self.images[0].shape[0]
        rows = full if rows is None else min(int(rows), full)
        out = np.full((n, 1, rows, frames), -1.0, dtype=np.float32)
        pos = np.zeros((n, rows), dtype=np.float32)
        for i in range(n):
            img = self.images[int(rng.integers(len(self.images)))]
            r0 = int(rng.integers(full - rows + 1))
            t = img.shape[1]
            if t <= frames:
                off = int(rng.integers(frames - t + 1))
                out[i, 0, :, off:off + t] = img[r0:r0 + rows]
            else:
                start = int(rng.integers(t - frames + 1))
                out[i, 0] = img[r0:r0 + rows, start:start + frames]
            pos[i] = -1.0 + 2.0 * np.arange(r0, r0 + rows) / max(full - 1, 1)
        return out, pos


def batch_rng(seed: int, iteration: int, rank: int = 0) -> np.random.Generator:
    """The generator that draws the batch of ``iteration`` on process ``rank``."""
    return np.random.default_rng([int(seed), int(iteration), int(rank)])


def parallel_pairs(data_dir: str | Path, source: str, target: str, actors: Sequence[int]
                   ) -> list[tuple[Path, Path]]:
    """RAVDESS (source take, target take) pairs with the same actor, intensity, sentence and
    repetition (the corpus is parallel)."""
    code = f"{EMOTIONS.index(normalize_emotion(target)) + 1:02d}"
    out = []
    for src in ravdess_files(data_dir, source, actors):
        parts = src.stem.split("-")
        parts[2] = code
        tgt = src.with_name("-".join(parts) + src.suffix)
        if tgt.is_file():
            out.append((src, tgt))
    return out


def _dtw_path(src_img: np.ndarray, tgt_img: np.ndarray) -> np.ndarray:
    """``(K, 2)`` optimal DTW path (source frame, target frame) between two ``(F, T)`` images."""
    _, path = librosa.sequence.dtw(X=src_img, Y=tgt_img, metric="euclidean")
    return np.asarray(path, dtype=np.int64)


def aligned_target(src_img: np.ndarray, tgt_img: np.ndarray) -> np.ndarray:
    """``tgt_img`` warped onto the frames of ``src_img`` by DTW (both ``(F, T)`` images).

    Each source frame gets the mean of the target frames the optimal path maps to it.
    """
    path = _dtw_path(src_img, tgt_img)
    out = np.zeros_like(src_img, dtype=np.float64)
    np.add.at(out.T, path[:, 0], tgt_img.T[path[:, 1]])
    count = np.bincount(path[:, 0], minlength=src_img.shape[1])
    return (out / np.maximum(count, 1)).astype(np.float32)


class PairBank:
    """Source images with DTW-aligned target images, cropped at the same place."""

    def __init__(self, pairs: list[tuple[np.ndarray, np.ndarray]]) -> None:
        if not pairs:
            raise ConfigError("no parallel pairs for the paired warm start")
        self.x = ImageBank([a for a, _ in pairs])
        self.y = [b for _, b in pairs]

    def crops(self, rng: np.random.Generator, n: int, frames: int, rows: int | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(inputs, aligned targets, freq positions)`` like :meth:`ImageBank.crops`."""
        state = rng.bit_generator.state
        x, pos = self.x.crops(rng, n, frames, rows)
        rng.bit_generator.state = state  # replay the same draws on the aligned targets
        y, _ = ImageBank(self.y).crops(rng, n, frames, rows)
        return x, y, pos


def ravdess_group(path: Path) -> str:
    """Parallel-group key of a RAVDESS file: actor, intensity, statement, repetition."""
    parts = path.stem.split("-")
    return "-".join([parts[6], parts[3], parts[4], parts[5]])


def ravdess_actor(path: Path) -> str:
    """Actor of a RAVDESS file (``"01"``..``"24"``)."""
    return path.stem.split("-")[6]


def clip_features(raw: np.ndarray, cfg: SpecConfig, world
                  ) -> tuple[np.ndarray, np.ndarray, float]:
    """``(log_mag (n_bins, T), f0 (T_w,) Hz, active level dBFS)`` of one training clip
    (``raw`` at ``cfg.sample_rate``).

    The level is measured on the recording as it is (vocal effort); log-magnitude and F0 on the
    trimmed, loudness-normalised clip (``world``: the :class:`WorldConfig` of the F0 track).
    """
    from emovc.features.world import analyze_f0

    wav = prepare_wav(raw, cfg.sample_rate)
    f0, _ = analyze_f0(wav.astype(np.float64), world)
    return analyze(wav, cfg)[0], f0, active_rms_dbfs(raw, cfg.sample_rate)


def frame_map(src_img: np.ndarray, tgt_img: np.ndarray) -> np.ndarray:
    """``(T_src,)`` int32: for each source frame, the DTW-aligned target frame (the middle one
    of those the optimal path maps to it); both images ``(F, T)``."""
    path = _dtw_path(src_img, tgt_img)
    n = src_img.shape[1]
    total = np.bincount(path[:, 0], weights=path[:, 1], minlength=n).astype(np.int64)
    count = np.bincount(path[:, 0], minlength=n)
    return (total // np.maximum(count, 1)).astype(np.int32)


class MultiBank:
    """Images of several emotions with optional DTW maps between parallel takes.

    Args:
        images: per emotion, the ``(F, T_i)`` images.
        groups: per emotion, the parallel-group key of each image (same order).
        paired: pre-compute frame maps for every ordered pair of takes in a group.
    """

    def __init__(self, images: list[list[np.ndarray]], groups: list[list[str]],
                 paired: bool = False) -> None:
        self.banks = [ImageBank(imgs) for imgs in images]
        self.pairs: list[tuple[int, int, int, int, np.ndarray]] = []
        if not paired:
            return
        where: dict[str, dict[int, int]] = {}
        for e, keys in enumerate(groups):
            for i, key in enumerate(keys):
                where.setdefault(key, {})[e] = i
        for members in where.values():
            for s, i in members.items():
                for t, j in members.items():
                    if s != t:
                        self.pairs.append((s, i, t, j, frame_map(images[s][i], images[t][j])))

    def crops(self, rng: np.random.Generator, domains: np.ndarray, frames: int,
              rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One crop per entry of ``domains`` (``(B,)`` emotion indices), as
        :meth:`ImageBank.crops`: ``(B, 1, rows, frames)`` and ``(B, rows)``."""
        parts = [self.banks[int(d)].crops(rng, 1, frames, rows) for d in domains]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def paired_crops(self, rng: np.random.Generator, n: int, frames: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``n`` random (source crop, aligned target crop) pairs of full-height images.

        Returns:
            ``x (n, 1, F, frames)``, ``y`` (same), source and target emotion indices ``(n,)``.
        """
        f = self.banks[0].images[0].shape[0]
        x = np.full((n, 1, f, frames), -1.0, dtype=np.float32)
        y = x.copy()
        src, tgt = np.zeros(n, np.int64), np.zeros(n, np.int64)
        for k in range(n):
            s, i, t, j, fmap = self.pairs[int(rng.integers(len(self.pairs)))]
            a = self.banks[s].images[i]
            n_t = a.shape[1]
            start = int(rng.integers(max(n_t - frames, 0) + 1))
            idx = np.arange(start, min(start + frames, n_t))
            x[k, 0, :, :idx.size] = a[:, idx]
            y[k, 0, :, :idx.size] = self.banks[t].images[j][:, fmap[idx]]
            src[k], tgt[k] = s, t
        return x, y, src, tgt
