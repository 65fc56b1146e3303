"""Speaker-consistency loss for the WORLD-feature converters: a differentiable d-vector proxy.

The speaker similarity the benchmarks report is the resemblyzer (GE2E) cosine between the
waveforms of the source and of the conversion. WORLD synthesis is not differentiable, so the
loss embeds a *proxy* of the waveform's mel spectrogram, computed from the features directly:

1. decode the coded envelope to the log power spectrum — both of emovc's codings (pyworld's
   ``code_spectral_envelope`` and SPTK's mel-cepstrum) are linear in the log domain, so this is
   one ``(D, n_bins)`` matrix ``A`` and offset ``b`` measured once from the decoder itself;
2. multiply voiced frames by a harmonic comb at their F0 (Gaussian lobes of ``comb_hz`` standard
   deviation, scaled to unit mean), the excitation WORLD will apply;
3. project onto resemblyzer's 40 mel bands at 10 ms hops, keep the voiced frames only (the
   encoder's voice-activity trimming), scale every segment to a typical speech level;
4. embed the frames with the frozen GE2E network shipped in the ``resemblyzer`` wheel.

Loss: ``1 - cos(e(G(x, t)), e(x))`` per segment, source embedding detached. Checked against
the real metric on 128 WORLD conversions of RAVDESS actors 17-20 (two converters, four target
emotions; ``benchmarks/diag_speaker_proxy.py``): Pearson r = 0.82 between the proxy cosine
(128-frame segments, as in training) and resemblyzer's cosine on the synthesised audio. In a
first check with overlapping 0.64 s windows, r was 0.86, 0.69 without the comb and 0.44 without
the voiced-frame selection.

Written here rather than taken from a library: no package differentiates a speaker encoder
through vocoder parameters.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_sequence

from emovc.features.world import WorldConfig, decode_envelope
from emovc.models.speaker_encoder import GE2E

# level of the proxy frames: mean log of the per-frame mel power sum, measured over all frames
# of one RAVDESS take (actor 17) after resemblyzer's -30 dBFS normalisation. The LSTM is not
# scale-invariant, so the proxy is fed at a speech-like level. (The louder 70 % of the frames
# of 15 takes of actors 17-19 average -0.8 +- 0.5; the r = 0.82 check above used -1.95.)
LOG_LEVEL = -1.95
MIN_FRAMES = 8


def envelope_decoder(world: WorldConfig, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """``(A (dim, n_bins), b (n_bins,))`` with ``log(decode_envelope(c)) = c @ A + b``."""
    zero = np.log(decode_envelope(np.zeros((1, dim)), world))[0]
    basis = np.log(decode_envelope(np.eye(dim), world)) - zero
    return basis, zero


class SpeakerProxy(nn.Module):
    """Frozen GE2E embedding of normalised conversion features (see module docstring).

    Args:
        encoder: GE2E network (its weights are frozen here).
        world: WORLD settings of the features (sample rate, FFT size, frame period, coding).
        mcep_std: ``(D,)`` normaliser scale of the coded envelope.
        mcep_ref: ``(D,)`` reference speaker mean added back before decoding.
        lf0_ref: ``(mean, std)`` reference speaker log-F0 (natural log, Hz) for the comb.
        comb_hz: standard deviation of each harmonic lobe in Hz.
    """

    def __init__(self, encoder: GE2E, world: WorldConfig, mcep_std: np.ndarray,
                 mcep_ref: np.ndarray, lf0_ref: tuple[float, float], comb_hz: float = 30.0):
        super().__init__()
        import librosa

        dim = len(mcep_std)
        a, b = envelope_decoder(world, dim)
        fb = librosa.filters.mel(sr=world.sample_rate, n_fft=world.fft_size,
                                 n_mels=encoder.cfg.n_mels)
        freqs = np.arange(world.n_bins) * world.sample_rate / world.fft_size
        for name, arr in (("A", a), ("b", b), ("fb", fb.T), ("freqs", freqs),
                          ("std", mcep_std), ("ref", mcep_ref)):
            self.register_buffer(name, torch.as_tensor(np.asarray(arr), dtype=torch.float32),
                                 persistent=False)
        self.lf0_ref, self.comb_hz = (float(lf0_ref[0]), float(lf0_ref[1])), float(comb_hz)
        self.step = max(1, round(encoder.cfg.hop_ms / world.frame_period))
        # frozen; train and eval mode compute the same (no dropout or normalisation layers),
        # train mode only keeps Lightning from warning about a module left in eval mode
        self.encoder = encoder.train().requires_grad_(False)

    def comb(self, f0: torch.Tensor) -> torch.Tensor:
        """``(B, T, n_bins)`` harmonic weights for F0 ``(B, T)`` in Hz (1 where unvoiced)."""
        f = f0.clamp_min(1.0)[..., None]
        d = torch.remainder(self.freqs + f / 2, f) - f / 2
        lobes = torch.exp(-0.5 * (d / self.comb_hz) ** 2) * f / (np.sqrt(2 * np.pi) * self.comb_hz)
        return torch.where(f0[..., None] > 0, lobes, torch.ones_like(lobes))

    def mel(self, feats: torch.Tensor, voiced: torch.Tensor) -> torch.Tensor:
        """Proxy power mel ``(B, T', n_mels)`` at 10 ms of ``feats (B, D+1, T)`` =
        [normalised mcep; normalised log-F0] with ``voiced (B, T)`` flags."""
        d = self.A.shape[0]
        feats, voiced = feats[..., :: self.step], voiced[..., :: self.step]
        mcep = feats[:, :d].transpose(1, 2) * self.std + self.ref
        lf0 = feats[:, d].detach() * self.lf0_ref[1] + self.lf0_ref[0]
        f0 = torch.where(voiced > 0, torch.exp(lf0), torch.zeros_like(lf0))
        power = torch.exp(mcep @ self.A + self.b) * self.comb(f0)
        return power @ self.fb

    def embed(self, feats: torch.Tensor, voiced: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(embeddings (B', E), kept (B,) bool)``: segments with >= 8 voiced 10 ms frames."""
        mel = self.mel(feats, voiced)
        frames = voiced[..., :: self.step] > 0
        kept = frames.sum(-1) >= MIN_FRAMES
        seqs = [r * torch.exp(LOG_LEVEL - torch.log(r.sum(-1) + 1e-8).mean())
                for r in (mel[i, frames[i]] for i in kept.nonzero().flatten().tolist())]
        if not seqs:
            return mel.new_zeros((0, self.encoder.cfg.embedding)), kept
        # the LSTM takes the packed variable-length voiced frames; its last state per segment
        return self.encoder(pack_sequence(seqs, enforce_sorted=False)), kept

    def loss(self, fake: torch.Tensor, source: torch.Tensor, voiced: torch.Tensor,
             ) -> torch.Tensor:
        """Mean ``1 - cos`` between proxy embeddings of ``fake`` and ``source`` (both
        ``(B, D+1, T)``; ``voiced (B, T)`` the source's voicing); 0 if no segment qualifies."""
        e_fake, kept = self.embed(fake, voiced)
        if not bool(kept.any()):
            return fake.sum() * 0.0
        with torch.no_grad():
            e_src, _ = self.embed(source, voiced)
        return (1.0 - (e_fake * e_src).sum(-1)).mean()
