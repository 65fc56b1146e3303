"""The mono mix every command reads: channels averaged (:func:`to_mono`), refused if they cancel
(one phase-inverted) or hold NaN/Inf samples, warned about if they hold different sounds, and a
DC offset beyond :data:`DC_LIMIT` removed — from statistics gathered block by block
(:class:`MixStats`), so a long file is mixed as a stream (:func:`emovc.audio.io.load_audio`), or
at once from decoded audio (:func:`mono_mix`)."""

from __future__ import annotations

import os
import warnings

import numpy as np

from emovc.audio.channels import ChannelEnvelopes, different_channels_note
from emovc.errors import AudioError, EmovcWarning


def to_mono(data: np.ndarray) -> np.ndarray:
    """The mono mix ``(n_samples,)`` float32 of ``(n_samples, n_channels)`` audio."""
    wav = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    return np.ascontiguousarray(wav, dtype=np.float32)


# a mean beyond this (-40 dBFS) is a recording's DC offset, and is removed (8 of the 251
# LibriSpeech train-clean-100 clips of the development data have one, up to 0.26; RAVDESS and
# VCTK none)
DC_LIMIT = 0.01
CANCEL_DB = 20.0  # a mono mix this far below its channels means they cancel


class MixStats:
    """Running statistics of ``(n, channels)`` float32 audio fed in blocks: its mono mix's
    mean (the DC offset), whether its channels cancel when mixed and whether any sample is
    NaN or Inf (such blocks are counted but not summed: one Inf made the offset, and so
    every sample after its removal, non-finite)."""

    def __init__(self, channels: int):
        self.channels = channels
        self.n = 0
        self.finite = True
        self._sum = np.zeros(channels)
        self._sq = np.zeros(channels)
        self._mix_sum = self._mix_sq = 0.0
        self._envelopes = ChannelEnvelopes(channels) if channels > 1 else None

    def feed(self, block: np.ndarray) -> None:
        self.n += block.shape[0]
        if not self.finite or not np.isfinite(block).all():
            self.finite = False
            return
        mix = to_mono(block).astype(np.float64)
        self._mix_sum += float(mix.sum())
        self._mix_sq += float(np.dot(mix, mix))
        if self.channels > 1:
            b = block.astype(np.float64)
            self._sum += b.sum(axis=0)
            self._sq += np.einsum("ij,ij->j", b, b)
            self._envelopes.feed(b)

    @property
    def mean(self) -> float:
        """Mean of the mono mix."""
        return self._mix_sum / self.n if self.n else 0.0

    def without_dc(self, mix: np.ndarray) -> np.ndarray:
        """A block of the mono mix less the DC offset when it is beyond :data:`DC_LIMIT`."""
        return mix - np.float32(self.mean) if abs(self.mean) > DC_LIMIT else mix

    def check(self, path: str | os.PathLike) -> None:
        """Raise if the file is empty, has NaN or Inf samples, or if the mono mix is
        :data:`CANCEL_DB` below its channels' mean power while they are not silent (one
        channel phase-inverted); warn (:class:`~emovc.errors.EmovcWarning`) if the channels
        hold different sounds (:mod:`emovc.audio.channels`)."""
        if self.n == 0:
            raise AudioError(f"audio file has no samples: {path}")
        if not self.finite:
            raise AudioError(f"{path} contains NaN or Inf samples")
        if self.channels < 2:
            return
        chan = float(np.mean(self._sq / self.n - (self._sum / self.n) ** 2))
        mixed = self._mix_sq / self.n - self.mean**2
        if chan > 1e-8 and mixed < chan * 10 ** (-CANCEL_DB / 10):
            drop = 10 * np.log10(chan / max(mixed, 1e-30))
            how = (f"the mix is {drop:.0f} dB below them" if drop < 120
                   else "the mix is silent")
            raise AudioError(f"{path}: its {self.channels} channels cancel when mixed to mono "
                             f"({how}; is one phase-inverted?); save one channel and use that")
        powers = self._sq / self.n - (self._sum / self.n) ** 2
        note = different_channels_note(path, self.channels,
                                       self._envelopes.least_correlation(powers))
        if note:
            warnings.warn(note, EmovcWarning, stacklevel=4)


def mono_mix(data: np.ndarray, path: str | os.PathLike) -> np.ndarray:
    """The mono float32 ``(n,)`` every command reads from decoded ``(n, channels)`` audio of
    ``path``: channels mixed (refused if they cancel, or if any sample is NaN or Inf) and a
    DC offset beyond :data:`DC_LIMIT` removed (as :func:`~emovc.audio.io.load_audio` does
    while decoding)."""
    stats = MixStats(data.shape[1])
    stats.feed(data)
    stats.check(path)
    return stats.without_dc(to_mono(data))
