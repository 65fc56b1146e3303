"""The vocoder's training examples: (log-mel, waveform) pairs read window by window.

A vocoder learns from the waveforms themselves, so its corpus is as large as the audio
(float32: 230 MB per hour at 16 kHz; tens of GB for a LibriSpeech subset). Its recipe
(:func:`emovc.training.vocoder.load_corpus`, and :func:`emovc.training.gta.load_corpus` for
ground-truth-aligned mels) therefore writes each clip's pair to the per-clip cache
(:func:`~emovc.training.clip_cache.cache_clips`) and trains from :class:`ClipWindows`, which
keeps only where each array lies in its file and reads the few frames and samples of a
window when a batch asks for them; memory stays flat whatever the corpus size.
:class:`PairWindows` serves pairs already in memory (``train(cfg, data=pairs)``, tests) the
same way. Both give the same windows of the same pairs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from emovc.errors import EmovcError

CACHE_VERSION = 1  # bump when the ground-truth pair of a clip changes for the same settings

Pair = tuple[np.ndarray, np.ndarray]


def cache_settings(mel: dict) -> dict:
    """What a clip's cached ground-truth pair depends on besides its audio: the mel settings
    and the preprocessing (the speech check, loudness normalisation; no trimming)."""
    return {"mel": dict(mel), "check": "check_speech", "loudness": "normalize_loudness",
            "dtype": "float32", "version": CACHE_VERSION}


def stored_pair(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``{"mel", "wav"}`` as the cache stores them: float32, C order (what
    :class:`ClipWindows` reads; the values of the float32 windows the sampler cuts)."""
    return {k: np.ascontiguousarray(arrays[k], dtype=np.float32) for k in ("mel", "wav")}


def segment(wav: np.ndarray, start: int, stop: int) -> np.ndarray:
    """``wav[start:stop]`` with zeros where the range leaves the waveform (``start`` may be
    -1: the "previous" sample of the first one)."""
    lo, hi = max(start, 0), min(stop, len(wav))
    body = wav[lo:hi] if hi > lo else wav[:0]
    return np.pad(body, (lo - start, stop - start - (lo - start) - len(body)))


class PairWindows:
    """Windows of ``(mel (T, M), wav (≥ T · hop,))`` pairs held in memory."""

    def __init__(self, pairs: Sequence[Pair]) -> None:
        self.pairs = list(pairs)
        self.frames = [len(m) for m, _ in self.pairs]

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> Pair:
        return self.pairs[i]

    def window(self, i: int, start: int, seq: int, hop: int) -> Pair:
        """Frames ``start .. start + seq`` of pair ``i`` and their samples, with the one
        before (``seq · hop + 1``; zeros outside the waveform), float32."""
        mel, wav = self.pairs[i]
        return (np.asarray(mel[start: start + seq], np.float32),
                segment(np.asarray(wav, np.float32), start * hop - 1, (start + seq) * hop))


class ClipWindows:
    """Windows of the (mel, wav) pairs cached one ``.npz`` per clip, read from disk.

    Only each array's place in its file is kept (:func:`emovc.data.cache.npz_layout`; a few
    numbers per clip); :meth:`window` reads a window's mel frames and samples alone, and
    ``clips[i]`` a whole pair.

    Args:
        files: the clips' cache files, each holding a float32 ``mel (T, M)`` and ``wav (n,)``.

    Raises:
        EmovcError: a file that is not such a cache file (one line naming it).
    """

    def __init__(self, files: Sequence[str | os.PathLike]) -> None:
        from emovc.data.cache import npz_layout

        self.files = [str(f) for f in files]
        n = len(self.files)
        self.frames = np.zeros(n, np.int64)
        self.n_mels = np.zeros(n, np.int64)
        self.samples = np.zeros(n, np.int64)
        self.mel_at = np.zeros(n, np.int64)
        self.wav_at = np.zeros(n, np.int64)
        for i, path in enumerate(self.files):
            try:
                lay = npz_layout(path)
                (self.mel_at[i], (self.frames[i], self.n_mels[i]), mel_t) = lay["mel"]
                (self.wav_at[i], (self.samples[i],), wav_t) = lay["wav"]
            except (OSError, ValueError, KeyError) as exc:
                raise EmovcError(f"vocoder cache file {path} cannot be read ({exc}); delete "
                                 "it and run again") from None
            if mel_t != np.float32 or wav_t != np.float32:
                raise EmovcError(f"vocoder cache file {path} does not hold float32 arrays; "
                                 "delete it and run again")

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> Pair:
        from emovc.data.cache import read_npz

        data = read_npz(self.files[i], ("mel", "wav"))
        if data is None:
            raise EmovcError(f"vocoder cache file {self.files[i]} cannot be read")
        return data["mel"], data["wav"]

    def window(self, i: int, start: int, seq: int, hop: int) -> Pair:
        """As :meth:`PairWindows.window`, read from clip ``i``'s file."""
        m, f32 = int(self.n_mels[i]), np.dtype(np.float32)
        lo, hi = max(start * hop - 1, 0), min((start + seq) * hop, int(self.samples[i]))
        with open(self.files[i], "rb") as f:
            f.seek(int(self.mel_at[i]) + start * m * f32.itemsize)
            mel = np.frombuffer(f.read(seq * m * f32.itemsize), f32)
            f.seek(int(self.wav_at[i]) + lo * f32.itemsize)
            body = np.frombuffer(f.read(max(hi - lo, 0) * f32.itemsize), f32)
        if len(mel) != seq * m or len(body) != max(hi - lo, 0):
            raise EmovcError(f"vocoder cache file {self.files[i]} changed while training; "
                             "run again")
        return mel.reshape(seq, m), segment(body, start * hop - 1 - lo, (start + seq) * hop - lo)
