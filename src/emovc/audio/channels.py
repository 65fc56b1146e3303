"""Do a file's channels hold one sound? A check made while its channels are mixed to mono.

Every command reads a multi-channel file as its mono mix (:mod:`emovc.audio.io`). That is right
for one voice recorded on several microphones, and wrong for a file whose channels hold
different voices (an interview on two tracks): the mix is two people talking at once.

The channels' *sample* correlation cannot tell the two apart: one voice on two spaced
microphones correlates at -0.40 with a 1 ms delay and 0.19 in a room (VCTK p225, constructed
cases), as low as two different voices (0.0). Their *loudness envelopes* (RMS of 1024-sample
frames) can: one voice stays at 0.90 or more (panned, 1-5 ms delays, two microphones in a
room with 0.4-0.8 s of reverberation, independent noise at 20 dB SNR), while two voices
(p225 | p226) stay at 0.08 or below — at once, alternating turns (-0.36), in a room, or with
each voice leaking into the other channel 15 dB down. :data:`MIN_ENVELOPE_CORRELATION` sits
between with room both ways; heavier leakage (6 dB down: 0.62) is not flagged, the mix
being mostly one voice there anyway. A channel far quieter than the loudest
(:data:`QUIET_CHANNEL_DB`: silent, hum, a noise floor) counts for nothing in the mix and is
left out of the check.
"""

from __future__ import annotations

import numpy as np

ENVELOPE_FRAME = 1024  # samples (at the file's rate) per envelope frame
MIN_ENVELOPE_CORRELATION = 0.5
QUIET_CHANNEL_DB = 20.0


class ChannelEnvelopes:
    """Running sums of the channels' loudness envelopes of ``(n, channels)`` audio fed in
    blocks: per frame of :data:`ENVELOPE_FRAME` samples, each channel's standard deviation
    (its RMS less any DC); their sums and cross products, so memory stays flat."""

    def __init__(self, channels: int):
        self.frames = 0
        self._rest = np.zeros((0, channels), np.float64)
        self._sum = np.zeros(channels)
        self._cross = np.zeros((channels, channels))

    def feed(self, block: np.ndarray) -> None:
        """Add a ``(m, channels)`` block (finite samples)."""
        x = np.concatenate([self._rest, np.asarray(block, np.float64)])
        k = x.shape[0] // ENVELOPE_FRAME
        self._rest = x[k * ENVELOPE_FRAME:]
        if k:
            env = x[:k * ENVELOPE_FRAME].reshape(k, ENVELOPE_FRAME, -1).std(axis=1)
            self.frames += k
            self._sum += env.sum(axis=0)
            self._cross += env.T @ env

    def least_correlation(self, powers: np.ndarray) -> float | None:
        """The lowest envelope correlation between two channels within
        :data:`QUIET_CHANNEL_DB` of the loudest (``powers``: each channel's mean power);
        ``None`` with fewer than two such channels or three frames."""
        powers = np.asarray(powers, np.float64)
        loud = np.flatnonzero(powers > powers.max() * 10 ** (-QUIET_CHANNEL_DB / 10))
        if loud.size < 2 or self.frames < 3 or powers.max() <= 0:
            return None
        mean = self._sum / self.frames
        cov = self._cross / self.frames - np.outer(mean, mean)
        std = np.sqrt(np.maximum(np.diag(cov), 1e-30))
        corr = (cov / np.outer(std, std))[np.ix_(loud, loud)]
        return float(corr[np.triu_indices(loud.size, 1)].min())


def different_channels_note(path, channels: int, correlation: float | None) -> str:
    """One line warning that the channels of ``path`` hold different sounds when their least
    envelope ``correlation`` is below :data:`MIN_ENVELOPE_CORRELATION`; else ``""``."""
    if correlation is None or correlation >= MIN_ENVELOPE_CORRELATION:
        return ""
    return (f"{path}: its {channels} channels hold different sounds (their loudness "
            f"correlates at {correlation:.2f}: two voices, an interview on two tracks?) and "
            "are mixed to mono; if one voice is wanted, save its channel and use that")
