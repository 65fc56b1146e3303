"""Loudness normalisation, silence trimming and speech sanity checks (mono float32).

The checks of the samples themselves (sample rate, mono layout, float range) are in
:mod:`emovc.audio.samples`; their names are importable from here as before.
"""

from __future__ import annotations

import numpy as np

from emovc.audio.samples import (  # noqa: F401 — re-exported: imported from here
    MAX_CHANNELS,
    MAX_INPUT_PEAK,
    MIN_SAMPLE_RATE,
    as_mono,
    check_float_samples,
    check_sample_rate,
    checked_mono_at,
)
from emovc.errors import AudioError

MIN_DURATION_S = 0.5  # shorter clips carry too few frames for WORLD/CWT analysis
# Active speech level below which input is treated as silence, for every command alike: real
# takes can be very quiet (RAVDESS has takes at -61 dBFS) and every stage that needs a level
# normalises it first.
SILENCE_DBFS = -80.0


def rms_dbfs(wav: np.ndarray) -> float:
    """RMS level of ``wav`` in dB relative to full scale (−inf-safe: floor at −200 dB)."""
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if wav.size else 0.0
    return 20.0 * np.log10(max(rms, 1e-10))


def frame_power(wav: np.ndarray, frame: int, block_frames: int = 4096) -> np.ndarray:
    """Mean power (float64) of each whole ``frame``-sample frame of ``(n,)`` ``wav``.

    Computed ``block_frames`` frames at a time (each frame's mean is the same either way), so
    a long input costs no float64 copy of itself."""
    n = len(wav) // frame
    out = np.empty(n, np.float64)
    for s in range(0, n, block_frames):
        e = min(n, s + block_frames)
        out[s:e] = np.mean(np.square(wav[s * frame:e * frame].reshape(e - s, frame),
                                     dtype=np.float64), axis=1)
    return out


def active_rms_dbfs(wav: np.ndarray, sr: int, frame_ms: float = 20.0) -> float:
    """RMS level (dBFS) over the loudest 50 % of 20 ms frames — a cheap speech-level meter.

    Unlike whole-file RMS it ignores pauses, so quiet takes with long silences (RAVDESS
    actors 09/20) are measured by their speech, similar in spirit to ITU-R P.56 active level.
    """
    hop = level_hop(sr, frame_ms)
    if len(wav) // hop < 2:
        return rms_dbfs(wav)
    return active_level_of(frame_power(wav, hop))


def level_hop(sr: int, frame_ms: float = 20.0) -> int:
    """Frame length in samples of :func:`active_rms_dbfs` at ``sr`` Hz."""
    return max(1, int(sr * frame_ms / 1000))


def active_level_of(powers: np.ndarray) -> float:
    """:func:`active_rms_dbfs` from the frames' mean powers (at least 2 frames)."""
    return 10.0 * np.log10(max(float(louder_half(powers).mean()), 1e-20))


def louder_half(powers: np.ndarray) -> np.ndarray:
    """The louder half of ``(frames,)`` ``powers`` (at least 1), ascending: the frames
    :func:`active_rms_dbfs` measures (and :mod:`emovc.audio.noise`, for noise alone)."""
    return np.sort(powers)[powers.shape[0] // 2:]


def loudness_gain(level: float, target_dbfs: float) -> float | None:
    """Linear gain taking active level ``level`` (dBFS) to ``target_dbfs``; ``None`` for a
    silent signal (no gain applied to noise floors)."""
    if level < SILENCE_DBFS - 40:
        return None
    return 10.0 ** ((target_dbfs - level) / 20.0)


BS1770_BLOCK_S = 0.4  # one BS.1770 gating block: the shortest clip with an integrated loudness


def integrated_loudness(wav: np.ndarray, sr: int) -> float:
    """Integrated ITU-R BS.1770 loudness in LUFS (pyloudnorm) of ``wav`` ``(n,)`` or ``(n,
    channels)`` (up to 5 channels, weighted as the standard sums them) at ``sr`` Hz; NaN for
    a clip shorter than one 400 ms gating block, ``-inf`` for digital silence."""
    import pyloudnorm

    if len(wav) < int(BS1770_BLOCK_S * sr):
        return float("nan")
    return float(pyloudnorm.Meter(sr).integrated_loudness(np.asarray(wav, np.float64)))


def normalize_loudness(wav: np.ndarray, sr: int, target_dbfs: float = -23.0,
                       peak_limit: float = 0.99) -> np.ndarray:
    """Scale ``wav`` so its active speech level is ``target_dbfs``; peaks stay ≤ ``peak_limit``.

    Silent input is returned unchanged (no gain applied to noise floors).
    """
    gain = loudness_gain(active_rms_dbfs(wav, sr), target_dbfs)
    if gain is None:
        return wav.astype(np.float32, copy=True)
    out = wav.astype(np.float64) * gain
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > peak_limit:
        out *= peak_limit / peak
    return out.astype(np.float32)


def soft_limit(wav: np.ndarray, ceiling: float = 0.977, knee: float = 0.6) -> np.ndarray:
    """Soft peak limiter: if any sample exceeds ``ceiling``, samples below ``knee`` pass
    unchanged and larger magnitudes are compressed smoothly (tanh) so that ``|y| < ceiling``;
    otherwise ``wav`` passes unchanged. float32 out.

    Keeps the loudness of speech whose sparse peaks exceed full scale, where scaling the whole
    signal down would make it quieter (e.g. a loud input converted to angry speech).
    """
    x = np.asarray(wav, dtype=np.float32)
    if not x.size or np.abs(x).max() <= ceiling:  # nothing to limit: the samples pass unchanged
        return x.copy()
    return soft_compress(x, ceiling, knee)


def soft_compress(x: np.ndarray, ceiling: float = 0.977, knee: float = 0.6) -> np.ndarray:
    """:func:`soft_limit`'s curve on float32 ``x`` whatever its peak: magnitudes above
    ``knee`` are compressed (tanh) below ``ceiling``, the rest pass (a copy)."""
    a = np.abs(x)
    over = a > knee
    room = ceiling - knee
    y = x.copy()
    y[over] = np.sign(x[over]) * (knee + room * np.tanh((a[over] - knee) / room))
    return y


def trim_silence(wav: np.ndarray, sr: int, top_db: float = 35.0, pad_ms: float = 50.0,
                 method: str = "energy") -> np.ndarray:
    """Remove leading/trailing silence.

    Args:
        wav: mono waveform ``(n,)``.
        sr: sample rate in Hz.
        top_db: (energy) threshold below the clip's peak frame energy, in dB.
        pad_ms: silence kept on each side so plosive onsets and releases survive.
        method: ``"energy"`` (librosa.effects.trim) or ``"vad"`` (WebRTC VAD, needs
            8/16/32/48 kHz input).
    """
    start, end = trim_bounds(wav, sr, top_db, pad_ms, method)
    return wav[start:end]


def trim_bounds(wav: np.ndarray, sr: int, top_db: float = 35.0, pad_ms: float = 50.0,
                method: str = "energy") -> tuple[int, int]:
    """Sample range ``[start, end)`` that :func:`trim_silence` keeps (same arguments)."""
    if method == "vad":
        start, end = _vad_bounds(wav, sr)
    elif method == "energy":
        start, end = speech_bounds(wav, top_db)
    else:
        raise AudioError(f"unknown trim method {method!r}; valid choices: energy, vad")
    pad = int(sr * pad_ms / 1000)
    return max(0, start - pad), min(len(wav), end + pad)


TRIM_FRAME, TRIM_HOP = 512, 128  # speech_bounds' frames (librosa.effects.trim's RMS frames)


def speech_bounds(wav: np.ndarray, top_db: float = 35.0) -> tuple[int, int]:
    """``(start, end)`` samples of ``wav`` from its first to its last frame within ``top_db`` of
    the loudest frame (librosa.effects.trim's rule: centred 512-sample RMS frames, hop 128);
    ``(0, 0)`` when no frame is."""
    import librosa

    wav = np.asarray(wav)
    db = librosa.amplitude_to_db(_trim_rms(wav), ref=np.max, top_db=None)
    loud = np.flatnonzero(db > -top_db)
    if loud.size == 0:
        return 0, 0
    return int(loud[0] * TRIM_HOP), min(wav.shape[-1], int((loud[-1] + 1) * TRIM_HOP))


def _trim_rms(wav: np.ndarray, block_frames: int = 2048) -> np.ndarray:
    """librosa.feature.rms of ``wav`` (centred, zero-padded) computed ``block_frames`` frames
    at a time: librosa frames the whole signal into a copy four times its size (150 MB for
    10 minutes at 16 kHz); each frame's value is the same either way."""
    import librosa

    half = TRIM_FRAME // 2
    n_frames = 1 + wav.shape[0] // TRIM_HOP
    if n_frames <= block_frames:
        return librosa.feature.rms(y=wav, frame_length=TRIM_FRAME, hop_length=TRIM_HOP)[0]
    out = []
    for j0 in range(0, n_frames, block_frames):
        j1 = min(n_frames, j0 + block_frames)
        lo, hi = j0 * TRIM_HOP - half, (j1 - 1) * TRIM_HOP + TRIM_FRAME - half
        seg = wav[max(lo, 0):min(hi, wav.shape[0])]
        seg = np.pad(seg, (max(-lo, 0), max(hi - wav.shape[0], 0)))
        out.append(librosa.feature.rms(y=seg, frame_length=TRIM_FRAME, hop_length=TRIM_HOP,
                                       center=False)[0])
    return np.concatenate(out)


def fit_pause(seg: np.ndarray, n: int, at_start: bool) -> np.ndarray:
    """``seg`` cut or extended to ``n`` samples, keeping the end next to the speech."""
    if len(seg) >= n:
        return seg[len(seg) - n:] if at_start else seg[:n]
    if len(seg) == 0:
        return np.zeros(n, np.float32)
    if at_start:  # grows leftwards from seg[0]: seg[0], seg[1], ... mirrored
        fill = np.resize(np.r_[seg, seg[::-1]], n - len(seg))[::-1]
        return np.r_[fill, seg]
    fill = np.resize(np.r_[seg[::-1], seg], n - len(seg))  # grows rightwards from seg[-1]
    return np.r_[seg, fill]


def keep_unvoiced_source(y: np.ndarray, x: np.ndarray, voiced: np.ndarray, hop: int,
                         tempo: float = 1.0, margin: int = 2, min_frames: int = 4,
                         ramp: int = 40) -> np.ndarray:
    """``y``, a vocoder rendering of ``x``'s frames on a grid ``tempo`` times slower, with
    ``x``'s own samples in its unvoiced stretches (pauses, breaths, unvoiced consonants).

    For converters that change voiced frames only: there the rendering reproduces unchanged
    features, and a WORLD round trip of those frames is measurably worse than the original
    (RAVDESS, MCD to the real target take on frames unvoiced in both: 6.3 dB as recorded,
    7.6 dB after WORLD analysis/synthesis; docs/conversion.md).

    Args:
        y: ``(m,)`` rendering, ``m ≈ len(x) * tempo``.
        x: ``(n,)`` source waveform at the same level and sample rate.
        voiced: ``(T,)`` voicing of ``x``'s analysis frames (``hop`` samples apart).
        tempo: duration factor of the rendering (frame ``k`` starts at ``k * hop * tempo``).
        margin: frames left to the rendering next to voiced frames, so that weakly voiced
            edges never bring the source's pitch next to the converted one.
        min_frames: shorter unvoiced runs (after the margins) stay rendered.
        ramp: cross-fade length in samples where a run meets voiced frames.

    Each run's source samples are fitted to its output length by keeping their centre
    (tempo < 1) or extending them with mirrored copies (tempo > 1); a leading (trailing) run
    keeps or extends its end (start), next to the speech.

    Returns:
        float32 ``(m,)``.
    """
    out = np.asarray(y, dtype=np.float32).copy()
    v = np.asarray(voiced) > 0
    fade = np.linspace(0.0, 1.0, ramp + 2, dtype=np.float32)[1:-1]
    edges = np.diff(np.r_[0, (~v).astype(np.int8), 0])
    for k, j in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        k0, k1 = k + (margin if k > 0 else 0), j - (margin if j < len(v) else 0)
        s0, s1 = k0 * hop, min(k1 * hop, len(x))
        o0, o1 = int(round(s0 * tempo)), min(int(round(s1 * tempo)), len(out))
        if k1 - k0 < min_frames or s1 <= s0 or o1 - o0 <= 2 * ramp:
            continue
        m, seg = o1 - o0, np.asarray(x[s0:s1], dtype=np.float32)
        if k0 > 0 and k1 < len(v) and len(seg) >= m:  # inside: the centre of the stretch
            seg = seg[(len(seg) - m) // 2:][:m]
        else:  # a leading pause keeps the samples next to the speech, as does a trailing one
            seg = fit_pause(seg, m, at_start=k0 == 0)
        w = np.ones(m, np.float32)
        if k0 > 0:
            w[:ramp] = fade
        if k1 < len(v):
            w[m - ramp:] = fade[::-1]
        out[o0:o1] = w * seg + (1.0 - w) * out[o0:o1]
    return out


def _vad_bounds(wav: np.ndarray, sr: int, frame_ms: int = 30,
                aggressiveness: int = 2) -> tuple[int, int]:
    import webrtcvad

    if sr not in (8000, 16000, 32000, 48000):
        raise AudioError(f"VAD trimming needs 8, 16, 32 or 48 kHz audio, got {sr} Hz")
    vad = webrtcvad.Vad(aggressiveness)
    hop = sr * frame_ms // 1000
    pcm = (np.clip(wav, -1, 1) * 32767).astype(np.int16)
    flags = [vad.is_speech(pcm[i: i + hop].tobytes(), sr)
             for i in range(0, len(pcm) - hop + 1, hop)]
    idx = np.flatnonzero(flags)
    if idx.size == 0:
        return 0, len(wav)
    return int(idx[0] * hop), int((idx[-1] + 1) * hop)


def check_speech(wav: np.ndarray, sr: int, *, min_duration: float = MIN_DURATION_S,
                 name: str = "audio", silence_dbfs: float = SILENCE_DBFS) -> np.ndarray:
    """Validate that ``wav`` (mono ``(n,)`` float samples at ``sr`` Hz) is usable speech input;
    returns it unchanged (use :func:`as_mono` first to accept ``(n, channels)`` audio).

    ``silence_dbfs``: active speech level (dBFS) below which the input counts as silent;
    the default, :data:`SILENCE_DBFS`, accepts very quiet but real takes.

    Raises:
        AudioError: not 1-D, ``sr`` not a positive integer, shorter than ``min_duration``
            seconds, non-finite, far beyond full scale (integer PCM passed as float: samples
            are floats in [-1, 1]), or silent.
    """
    shape = np.shape(wav)
    if len(shape) != 1:
        raise AudioError(f"{name} must be mono audio of shape (n,), got shape {shape}")
    sr = check_sample_rate(sr)
    dur = len(wav) / sr
    if dur < min_duration:
        raise AudioError(f"{name} is too short: {dur:.2f} s (need at least {min_duration:g} s)")
    check_float_samples(wav, name)
    if active_rms_dbfs(wav, sr) < silence_dbfs:
        raise AudioError(f"{name} is silent (speech level below {silence_dbfs:g} dBFS)")
    return wav


PEAK_LIMIT = 0.977  # -0.2 dBFS ceiling of the soft limiter
