"""STFT magnitude, (fast) Griffin-Lim phase reconstruction and log-mel spectrograms in torch.

Everything is batched and vectorised over frames (``torch.stft``/``torch.istft``); the only
Python loop is over Griffin-Lim iterations. NumPy inputs give NumPy outputs; torch inputs keep
their device and dtype. Frames are centred (``center=True``, reflect padding) with a periodic
Hann window, so ``stft_magnitude`` equals ``abs(librosa.stft(..., pad_mode="reflect"))``.

Griffin-Lim is written here rather than taken from torchaudio (not a dependency) or librosa
(NumPy, single-threaded, no batching); its fast variant is the accelerated projection of
Perraudin, Balazs & Søndergaard (2013): ``t_n = c_n + alpha * (c_n - c_{n-1})``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from emovc.config import PlainConfig
from emovc.errors import AudioError, ConfigError


@dataclass(frozen=True)
class STFTConfig(PlainConfig):
    """Short-time Fourier transform settings.

    Attributes:
        sample_rate: audio sample rate in Hz.
        n_fft: FFT size in samples (``n_fft // 2 + 1`` frequency bins).
        hop_length: hop between frames in samples.
        win_length: Hann window length in samples (``None`` = ``n_fft``).
    """

    sample_rate: int = 16000
    n_fft: int = 512
    hop_length: int = 128
    win_length: int | None = None

    def __post_init__(self) -> None:
        win = self.win
        if self.n_fft < 2 or not 0 < self.hop_length <= win <= self.n_fft:
            raise ConfigError(
                f"need 0 < hop_length <= win_length <= n_fft, got hop {self.hop_length}, "
                f"win {win}, n_fft {self.n_fft}"
            )

    @property
    def win(self) -> int:
        """Effective window length in samples."""
        return self.n_fft if self.win_length is None else int(self.win_length)

    @property
    def n_bins(self) -> int:
        """Frequency bins, ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1


def _as_batch(wav: np.ndarray | torch.Tensor, min_len: int) -> tuple[torch.Tensor, bool]:
    """``(n,)`` (or ``(1, n)``) NumPy, ``(n,)`` or ``(B, n)`` torch audio -> float ``(B, n)``
    tensor and whether the input was NumPy (a NumPy batch is refused: its NumPy result is
    one clip's)."""
    is_np = not isinstance(wav, torch.Tensor)
    if is_np:  # the user-facing path; tensors come from emovc's own training code
        arr = np.asarray(wav)
        if not np.issubdtype(arr.dtype, np.floating):
            raise AudioError(f"expected float audio in [-1, 1], got dtype {arr.dtype} (integer "
                             "PCM: divide by 32768, or load files with emovc.load_audio)")
        if not np.all(np.isfinite(arr)):
            raise AudioError("audio contains NaN or Inf samples")
    x = torch.from_numpy(np.asarray(wav, dtype=np.float32)) if is_np else wav
    if not x.is_floating_point():
        raise AudioError(f"expected float audio, got dtype {x.dtype}")
    if x.ndim not in (1, 2):
        raise AudioError(f"expected audio of shape (n,) or (B, n), got {tuple(x.shape)}")
    if x.ndim == 2 and x.shape[1] < min_len <= x.shape[0]:  # channels-last stereo, say
        raise AudioError(f"audio of shape {tuple(x.shape)} reads as {x.shape[0]} clips of "
                         f"{x.shape[1]} samples; mix channels-last audio to mono first "
                         "(emovc.audio.processing.as_mono)")
    if is_np and x.ndim == 2 and x.shape[0] != 1:  # only its first row came back
        raise AudioError(f"expected NumPy audio of shape (n,), got {tuple(x.shape)}; mix "
                         "channels to mono first (emovc.audio.processing.as_mono), or pass a "
                         "(B, n) torch tensor for a batch")
    if x.shape[-1] < min_len:
        raise AudioError(f"audio too short: {x.shape[-1]} samples, need at least {min_len}")
    return (x.unsqueeze(0) if x.ndim == 1 else x), is_np


def _window(cfg: STFTConfig, like: torch.Tensor) -> torch.Tensor:
    return torch.hann_window(cfg.win, dtype=like.dtype, device=like.device)


def _stft(x: torch.Tensor, cfg: STFTConfig) -> torch.Tensor:
    """Complex STFT ``(B, n) -> (B, F, T)``."""
    return torch.stft(x, cfg.n_fft, cfg.hop_length, cfg.win, _window(cfg, x), center=True,
                      pad_mode="reflect", return_complex=True)


def _istft(spec: torch.Tensor, cfg: STFTConfig, length: int | None) -> torch.Tensor:
    """Inverse STFT ``(B, F, T) -> (B, n)`` (least-squares overlap-add)."""
    win = _window(cfg, spec.real)
    return torch.istft(spec, cfg.n_fft, cfg.hop_length, cfg.win, win, center=True,
                       length=length)


def stft_magnitude(wav: np.ndarray | torch.Tensor, cfg: STFTConfig = STFTConfig(),
                   ) -> np.ndarray | torch.Tensor:
    """Linear STFT magnitude.

    Args:
        wav: ``(n,)`` NumPy waveform or ``(n,)``/``(B, n)`` torch tensor at ``cfg.sample_rate``.
        cfg: STFT settings.

    Returns:
        NumPy input: ``(n_fft // 2 + 1, 1 + n // hop)`` float32 array. Torch input:
        ``(B, F, T)`` tensor (``(F, T)`` for a 1-D tensor).
    """
    x, is_np = _as_batch(wav, cfg.n_fft // 2 + 1)
    mag = _stft(x, cfg).abs()
    if is_np:
        return mag[0].numpy()
    return mag[0] if wav.ndim == 1 else mag


def spectral_convergence(mag: np.ndarray | torch.Tensor, wav: np.ndarray | torch.Tensor,
                         cfg: STFTConfig = STFTConfig()) -> float:
    """``||mag - |STFT(wav)| ||_F / ||mag||_F`` (lower is better; 0 = consistent)."""
    target = torch.as_tensor(mag, dtype=torch.float32)
    est = torch.as_tensor(stft_magnitude(wav, cfg), dtype=torch.float32)
    t = min(target.shape[-1], est.shape[-1])
    target, est = target[..., :t], est[..., :t]
    return float(torch.linalg.vector_norm(target - est) / torch.linalg.vector_norm(target))


def griffin_lim(mag: np.ndarray | torch.Tensor, cfg: STFTConfig = STFTConfig(), n_iter: int = 32,
                momentum: float = 0.99, init_phase: np.ndarray | torch.Tensor | None = None,
                length: int | None = None, seed: int = 0) -> np.ndarray | torch.Tensor:
    """Phase reconstruction from an STFT magnitude by (fast) Griffin-Lim.

    Args:
        mag: ``(F, T)`` NumPy or ``(F, T)``/``(B, F, T)`` torch linear magnitude,
            ``F = n_fft // 2 + 1``.
        cfg: the STFT settings that produced ``mag``.
        n_iter: number of projection iterations.
        momentum: Perraudin et al. acceleration ``alpha``; 0 = plain Griffin-Lim, 0.99 = fast.
        init_phase: optional initial phase in radians, same shape as ``mag`` (e.g. the phase of
            the source signal in conversion); default: uniform random phase drawn from
            ``seed``, the same ``(F, T)`` draw for every batch item.
        length: output length in samples (default ``(T - 1) * hop_length``).
        seed: random-phase seed (deterministic output).

    Returns:
        NumPy input: ``(n,)`` float32 waveform. Torch input: ``(B, n)`` (``(n,)`` for 2-D input).
    """
    is_np = not isinstance(mag, torch.Tensor)
    s = torch.as_tensor(np.asarray(mag, dtype=np.float32) if is_np else mag)
    if is_np and s.ndim != 2:  # a NumPy result is one waveform
        raise ConfigError(f"NumPy magnitude must be (F, T) with F = {cfg.n_bins}, got "
                          f"{tuple(s.shape)} (pass a (B, F, T) torch tensor for a batch)")
    given = tuple(s.shape)  # named in the error as given, before a batch axis is added
    squeeze = s.ndim == 2
    s = s.unsqueeze(0) if squeeze else s
    if s.ndim != 3 or s.shape[1] != cfg.n_bins:
        raise ConfigError(f"magnitude must be (F, T) or (B, F, T) with F = {cfg.n_bins}, "
                          f"got {given}")
    if not 0.0 <= momentum < 1.0 + 1e-9:
        raise ConfigError(f"momentum must be in [0, 1], got {momentum}")
    angles = _initial_angles(s, init_phase, seed)
    coef = momentum / (1.0 + momentum)  # c_n + a(c_n - c_{n-1}) ∝ c_n - a/(1+a) c_{n-1}
    prev = torch.zeros_like(angles)
    for _ in range(n_iter):
        rebuilt = _stft(_istft(s * angles, cfg, length), cfg)
        step = rebuilt - coef * prev if coef else rebuilt
        prev = rebuilt
        angles = torch.sgn(step)  # unit phasors (sgn(0) = 0: such a bin stays silent)
    wav = _istft(s * angles, cfg, length)
    if is_np:
        return wav[0].numpy().astype(np.float32)
    return wav[0] if squeeze else wav


def _initial_angles(s: torch.Tensor, init_phase, seed: int) -> torch.Tensor:
    if init_phase is None:
        # one (F, T) draw shared by the batch: batched and single calls give the same output
        gen = torch.Generator().manual_seed(seed)
        phase = 2 * np.pi * torch.rand(s.shape[1:], generator=gen, dtype=s.dtype)
        phase = phase.to(s.device).expand_as(s)
    else:
        phase = torch.as_tensor(init_phase, dtype=s.dtype, device=s.device)
        if phase.shape not in (s.shape, s.shape[1:]):
            raise ConfigError(f"init_phase shape {tuple(phase.shape)} != magnitude shape "
                              f"{tuple(s.shape)}")
        phase = phase.expand_as(s)
    return torch.polar(torch.ones_like(s), phase)


@lru_cache(maxsize=8)
def _mel_basis(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> torch.Tensor:
    import librosa  # imported lazily: it is slow to import and only needed for mel

    fb = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    return torch.from_numpy(fb)


def mel_spectrogram(wav: np.ndarray | torch.Tensor, sr: int = 16000, n_mels: int = 80,
                    n_fft: int = 1024, hop_length: int = 256, fmin: float = 0.0,
                    fmax: float | None = None, floor: float = 1e-5) -> np.ndarray | torch.Tensor:
    """Log-mel spectrogram: ``log(max(mel_fb @ |STFT|, floor))`` (natural log of magnitude).

    Args:
        wav: ``(n,)`` NumPy or ``(n,)``/``(B, n)`` torch waveform at ``sr`` Hz.
        sr: sample rate in Hz.
        n_mels: mel bands (Slaney-normalised librosa filterbank, ``fmin``..``fmax`` Hz).
        n_fft: FFT/window size in samples.
        hop_length: hop in samples.
        floor: magnitude floor before the log.

    Returns:
        ``(n_mels, 1 + n // hop_length)`` float32 (NumPy in, NumPy out) or ``(B, n_mels, T)``.
    """
    cfg = STFTConfig(sample_rate=sr, n_fft=n_fft, hop_length=hop_length)
    mag = stft_magnitude(wav, cfg)
    m = torch.as_tensor(mag)
    fb = _mel_basis(sr, n_fft, n_mels, float(fmin), fmax).to(m.device, m.dtype)
    logmel = torch.log(torch.clamp(torch.matmul(fb, m), min=floor))
    return logmel.numpy() if isinstance(mag, np.ndarray) else logmel
