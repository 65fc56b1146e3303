"""Conversion features: WORLD analysis into the frame features the converters model.

Per frame (WORLD grid, ``frame_period`` ms) a converter sees

- ``mcep``: ``(T, D)`` coded spectral envelope (``pyworld.code_spectral_envelope``, c0 first);
- ``lf0``: ``(T,)`` continuous natural-log F0 (interpolated through unvoiced frames);
- ``vuv``: ``(T,)`` voicing flags (kept from the source at conversion time);
- ``cap``: ``(T, k)`` coded (band) aperiodicity, for validation audio only; at conversion the
  source's full aperiodicity is reused.

Audio is loudness-normalised before analysis so that c0 is comparable across recordings.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pyworld

from emovc.audio import normalize_loudness
from emovc.audio.processing import active_rms_dbfs, loudness_gain
from emovc.features.f0 import continuous_log_f0
from emovc.features.world import (
    WorldConfig,
    WorldFeatures,
    encode_aperiodicity,
    encode_envelope,
)
from emovc.features.world_parallel import f0_parallel, world_pool

ANALYSIS_DBFS = -23.0
# DIO's decimation at conversion time. Measured on 6 RAVDESS takes (actor 18): speed 2 makes
# DIO 3x faster and, after StoneMask, its F0 stays within 1-4 cents RMS of full-rate DIO with
# < 0.7 % of frames changing voicing (speed 4: up to 53 cents); training features use 1.
CONVERSION_DIO_SPEED = 2
# Longest impulse response WORLD synthesis needs at conversion time. The analysis FFT size is set
# by CheapTrick's 3-period window at the F0 floor (1024 at 16 kHz for 71 Hz), but the envelope
# it produces is smooth (liftered at F0), so a 32 ms response (512 points at 16 kHz) synthesises
# it as well: the envelope is sampled on every other bin, D4C writes its aperiodicity directly at
# that size, and synthesis, decoding and aperiodicity interpolation take half the time.
SYNTHESIS_RESPONSE_S = 0.03


@dataclass
class FrameFeatures:
    """Converter input features of one utterance (see module docstring for shapes)."""

    mcep: np.ndarray
    lf0: np.ndarray
    vuv: np.ndarray
    cap: np.ndarray

    @property
    def n_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.lf0.shape[0])


@dataclass
class DeferredWorld:
    """WORLD parameters whose aperiodicity is still being estimated on the WORLD pool.

    D4C is the slowest analysis step and its result is needed only at synthesis, so the
    conversion pipeline lets it run on the pool while it codes the envelope and runs the
    (single-threaded) generator. Reading :attr:`ap` (or :meth:`result`) waits for it, so it
    can be passed wherever :class:`WorldFeatures` is read.
    """

    f0: np.ndarray
    sp: np.ndarray
    jobs: list
    stride: int
    _ap: np.ndarray | None = field(default=None, init=False, repr=False)

    @property
    def ap(self) -> np.ndarray:
        """``(T, fft_size // 2 + 1)`` aperiodicity (blocks until D4C has finished)."""
        if self._ap is None:
            if not self.jobs:
                raise ValueError("aperiodicity was not estimated (analysis ran with ap_stride=0)")
            ap_c = np.concatenate([j.result() for j in self.jobs])
            self._ap = _upsample_frames(ap_c, self.stride, self.f0.shape[0])
        return self._ap

    @property
    def n_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.f0.shape[0])

    def result(self) -> WorldFeatures:
        """The complete :class:`WorldFeatures`."""
        return WorldFeatures(f0=self.f0, sp=self.sp, ap=self.ap)


def synthesis_config(cfg: WorldConfig, fft_size: int | None = None) -> WorldConfig:
    """``cfg`` with the (smaller) FFT size used for synthesis at conversion time.

    ``fft_size=None`` picks the smallest power of two covering :data:`SYNTHESIS_RESPONSE_S`
    (512 at 16 kHz), never more than ``cfg.fft_size``; the F0 floor is raised to the one that
    size supports (it is not used by synthesis, only checked by :class:`WorldConfig`).
    """
    if fft_size is None:
        fft_size = 1 << int(np.ceil(np.log2(SYNTHESIS_RESPONSE_S * cfg.sample_rate)))
    n = min(int(fft_size), cfg.fft_size)
    if n == cfg.fft_size:
        return cfg
    floor = pyworld.get_cheaptrick_f0_floor(cfg.sample_rate, n)
    return replace(cfg, fft_size=n, f0_floor=max(cfg.f0_floor, float(np.ceil(floor * 100) / 100)))


def _upsample_frames(a: np.ndarray, k: int, n: int) -> np.ndarray:
    """Linear interpolation of a track estimated on every ``k``-th frame back to ``n`` frames."""
    if k == 1:
        return a
    pos = np.minimum(np.arange(n) / k, a.shape[0] - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, a.shape[0] - 1)
    w = (pos - lo)[:, None]
    return a[lo] * (1.0 - w) + a[hi] * w


def analyze_world(x: np.ndarray, cfg: WorldConfig, ap_stride: int = 2,
                  defer_ap: bool = False, dio_speed: int = 1, ap_fft_size: int | None = None,
                  ) -> WorldFeatures | DeferredWorld:
    """WORLD analysis with the aperiodicity estimated on every ``ap_stride``-th frame.

    Same as :func:`emovc.features.world.analyze` except that D4C (the most expensive step,
    ~1/3 of analysis + synthesis time) runs on a ``ap_stride`` times coarser grid and is
    linearly interpolated back: aperiodicity varies slowly, and this keeps conversion fast on
    2 cores. With ``defer_ap`` the D4C jobs are left running and a :class:`DeferredWorld` is
    returned (same values once resolved); ``ap_stride=0`` skips D4C (for renderers that keep
    the input's own excitation; reading ``ap`` then raises). ``dio_speed``: DIO decimation.
    ``ap_fft_size``: FFT size of the aperiodicity (default ``cfg.fft_size``; conversion uses
    the synthesis size, see :func:`synthesis_config`). The envelope is always at
    ``cfg.fft_size``.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    f0, t = f0_parallel(x, cfg, dio_speed=dio_speed)
    fs, n = cfg.sample_rate, f0.shape[0]
    k = max(1, int(ap_stride))
    n_ap = f0.shape[0] if ap_stride > 0 else 0
    c = np.ascontiguousarray
    # CheapTrick and D4C only need F0 and work frame by frame: pyworld releases the GIL, so
    # each runs as two frame halves on the two threads of the WORLD pool, CheapTrick first
    # (its envelope is needed next), D4C queued behind it. (WORLD adds a tiny random safeguard
    # to each analysis window, reseeded per call, so split D4C differs from one-piece D4C
    # only in near-silent frames: 7e-5 peak difference in converted RAVDESS audio.)
    pool, h = world_pool(), n // 2
    sp_jobs = [pool.submit(pyworld.cheaptrick, x, c(f0[a:b]), c(t[a:b]), fs,
                           fft_size=cfg.fft_size) for a, b in ((0, h), (h, n))]
    fk, tk = f0[:n_ap:k], t[:n_ap:k]
    hk = fk.shape[0] // 2 if fk.shape[0] >= 2 else fk.shape[0]
    ap_fft = cfg.fft_size if ap_fft_size is None else int(ap_fft_size)
    ap_jobs = [pool.submit(pyworld.d4c, x, c(fk[a:b]), c(tk[a:b]), fs, fft_size=ap_fft)
               for a, b in ((0, hk), (hk, fk.shape[0])) if b > a]
    deferred = DeferredWorld(f0=f0, sp=np.concatenate([j.result() for j in sp_jobs]),
                             jobs=ap_jobs, stride=k)
    return deferred if defer_ap else deferred.result()


def analysis_gain(wav: np.ndarray, sr: int, peak_limit: float = 0.99) -> float:
    """The linear factor :func:`analyze_for_conversion` applies to ``(n,)`` ``wav`` at ``sr``
    Hz when it normalises it itself: its active level to :data:`ANALYSIS_DBFS`, peaks at most
    ``peak_limit`` (:func:`~emovc.audio.normalize_loudness`); 1 for silence."""
    gain = loudness_gain(active_rms_dbfs(wav, sr), ANALYSIS_DBFS)
    if gain is None:
        return 1.0
    peak = float(np.max(np.abs(wav))) * gain if wav.size else 0.0
    return gain * (peak_limit / peak if peak > peak_limit else 1.0)


def analyze_for_conversion(wav: np.ndarray, cfg: WorldConfig, ap_stride: int = 2,
                           with_cap: bool = True, with_mcep: bool = True,
                           defer_ap: bool = False, dio_speed: int = 1,
                           ap_fft_size: int | None = None, gain: float | None = None,
                           ) -> tuple[FrameFeatures, WorldFeatures | DeferredWorld, float]:
    """Loudness-normalise and analyse one waveform.

    Args:
        wav: ``(n,)`` float32 audio at ``cfg.sample_rate`` Hz.
        cfg: WORLD settings (``mcep_dim`` coefficients incl. c0).
        ap_stride: aperiodicity frame stride (see :func:`analyze_world`).
        with_cap: also code the aperiodicity (``cap``; ``(T, 0)`` when false — conversion
            reuses the full aperiodicity and skips it).
        with_mcep: also code the envelope (``mcep``; ``(T, 0)`` when false — a prosody-only
            conversion keeps the full envelope and skips it).
        defer_ap: return a :class:`DeferredWorld` whose aperiodicity is still being
            estimated (needs ``with_cap=False``); call ``.result()`` before synthesis.
        dio_speed: DIO decimation; conversion uses :data:`CONVERSION_DIO_SPEED`.
        ap_fft_size: FFT size of the returned aperiodicity (see :func:`analyze_world`).
        gain: a fixed linear factor applied instead of normalising ``wav``'s own loudness
            (a window of a long input gets the whole input's, :func:`analysis_gain`);
            ``None``: ``wav`` is brought to :data:`ANALYSIS_DBFS` itself.

    Returns:
        ``(frame_features, world_features, gain)`` where ``gain`` is the linear factor that was
        applied to ``wav`` before analysis (divide the synthesis by it to restore the level).

    Raises:
        AudioError: too short, not finite, or no voiced frame.
    """
    x = np.asarray(wav, dtype=np.float32)
    if gain is None:
        y = normalize_loudness(x, cfg.sample_rate, target_dbfs=ANALYSIS_DBFS)
        gain = float(np.sqrt((y.astype(np.float64) ** 2).mean() + 1e-20)
                     / np.sqrt((x.astype(np.float64) ** 2).mean() + 1e-20))
    else:
        y = (x.astype(np.float64) * float(gain)).astype(np.float32)
    if defer_ap and with_cap:
        raise ValueError("defer_ap needs with_cap=False (coding the aperiodicity waits for it)")
    world = analyze_world(y, cfg, ap_stride, defer_ap=defer_ap, dio_speed=dio_speed,
                          ap_fft_size=ap_fft_size)
    lf0, vuv = continuous_log_f0(world.f0)
    mcep = encode_envelope(world.sp, cfg) if with_mcep else np.zeros((lf0.shape[0], 0))
    cap = (encode_aperiodicity(world.ap, synthesis_config(cfg, ap_fft_size or cfg.fft_size))
           if with_cap else np.zeros((lf0.shape[0], 0)))
    feats = FrameFeatures(mcep=mcep.astype(np.float32), lf0=lf0.astype(np.float32),
                          vuv=vuv, cap=cap.astype(np.float32))
    return feats, world, gain
