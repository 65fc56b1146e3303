"""Speaker-conditioned Tacotron 2 (Shen et al., 2018) as used by SV2TTS (Jia et al., 2018).

Phoneme ids → convolutional + BiLSTM encoder → (concatenated GE2E speaker embedding) →
location-sensitive attention → autoregressive LSTM decoder emitting ``reduction`` mel frames
per step + a stop token → 5-layer convolutional post-net (residual).

Shapes: ``B`` batch, ``L`` phoneme ids, ``T`` mel frames, ``M`` mel channels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from emovc.models.synthesizer.text import SYMBOLS


@dataclass(frozen=True)
class TacotronConfig:
    """Architecture of the synthesizer (defaults = Tacotron 2 / SV2TTS sizes).

    Attributes:
        n_symbols: phoneme table size.
        embed_dim: symbol embedding width (= encoder width).
        encoder_convs: convolution layers before the BiLSTM.
        speaker_dim: speaker embedding width (256 for GE2E).
        attention_dim: attention hidden width.
        location_filters: location-feature filters.
        location_kernel: location-feature kernel size (frames of the previous alignment).
        prenet_dim: decoder pre-net width (two layers, dropout 0.5 also at inference).
        rnn_dim: attention/decoder LSTM width.
        n_mels: mel channels.
        reduction: mel frames emitted per decoder step.
        postnet_dim: post-net channels.
        postnet_layers: post-net layers.
        dropout: encoder/post-net dropout.
    """

    n_symbols: int = len(SYMBOLS)
    embed_dim: int = 512
    encoder_convs: int = 3
    speaker_dim: int = 256
    attention_dim: int = 128
    location_filters: int = 32
    location_kernel: int = 31
    prenet_dim: int = 256
    rnn_dim: int = 1024
    n_mels: int = 80
    reduction: int = 2
    postnet_dim: int = 512
    postnet_layers: int = 5
    dropout: float = 0.5

    @classmethod
    def tiny(cls, **kw) -> TacotronConfig:
        """A few-ten-thousand-parameter config for tests and smoke runs."""
        base = dict(embed_dim=32, encoder_convs=1, speaker_dim=16, attention_dim=16,
                    location_filters=4, location_kernel=7, prenet_dim=32, rnn_dim=64,
                    n_mels=20, postnet_dim=32, postnet_layers=2, dropout=0.0)
        return cls(**{**base, **kw})

    def to_dict(self) -> dict:
        return asdict(self)


def _conv_bn(c_in: int, c_out: int, k: int, act: bool, p: float) -> nn.Sequential:
    layers = [nn.Conv1d(c_in, c_out, k, padding=k // 2), nn.BatchNorm1d(c_out)]
    return nn.Sequential(*layers, *([nn.Tanh()] if act else []), nn.Dropout(p))


class Encoder(nn.Module):
    """ids ``(B, L)`` → memory ``(B, L, embed_dim)``."""

    def __init__(self, cfg: TacotronConfig) -> None:
        super().__init__()
        d = cfg.embed_dim
        self.embedding = nn.Embedding(cfg.n_symbols, d, padding_idx=0)
        self.convs = nn.ModuleList(
            [nn.Sequential(nn.Conv1d(d, d, 5, padding=2), nn.BatchNorm1d(d), nn.ReLU(),
                           nn.Dropout(cfg.dropout)) for _ in range(cfg.encoder_convs)])
        self.lstm = nn.LSTM(d, d // 2, batch_first=True, bidirectional=True)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.embedding(ids).transpose(1, 2)
        for conv in self.convs:
            x = conv(x)
        packed = nn.utils.rnn.pack_padded_sequence(x.transpose(1, 2), lengths.cpu(),
                                                   batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                  total_length=ids.shape[1])
        return out


class LocationAttention(nn.Module):
    """Location-sensitive additive attention (Chorowski et al., 2015)."""

    def __init__(self, cfg: TacotronConfig, memory_dim: int) -> None:
        super().__init__()
        a = cfg.attention_dim
        self.query = nn.Linear(cfg.rnn_dim, a, bias=False)
        self.memory = nn.Linear(memory_dim, a, bias=False)
        self.location_conv = nn.Conv1d(2, cfg.location_filters, cfg.location_kernel,
                                       padding=cfg.location_kernel // 2, bias=False)
        self.location = nn.Linear(cfg.location_filters, a, bias=False)
        self.v = nn.Linear(a, 1, bias=True)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, memory: torch.Tensor,
                weights_cat: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """query ``(B, rnn)``, keys ``(B, L, A)``, memory ``(B, L, D)``, weights_cat ``(B, 2, L)``
        (previous and cumulative alignment), mask ``(B, L)`` True = padding →
        context ``(B, D)``, weights ``(B, L)``."""
        loc = self.location(self.location_conv(weights_cat).transpose(1, 2))
        energies = self.v(torch.tanh(self.query(query)[:, None] + keys + loc)).squeeze(-1)
        energies = energies.masked_fill(mask, -1e9)
        w = F.softmax(energies, dim=1)
        return torch.bmm(w[:, None], memory).squeeze(1), w


class Tacotron(nn.Module):
    """Speaker-conditioned Tacotron 2."""

    def __init__(self, cfg: TacotronConfig = TacotronConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        mem = cfg.embed_dim + cfg.speaker_dim
        self.encoder = Encoder(cfg)
        self.prenet = nn.ModuleList([nn.Linear(cfg.n_mels, cfg.prenet_dim),
                                     nn.Linear(cfg.prenet_dim, cfg.prenet_dim)])
        self.attention_rnn = nn.LSTMCell(cfg.prenet_dim + mem, cfg.rnn_dim)
        self.attention = LocationAttention(cfg, mem)
        self.decoder_rnn = nn.LSTMCell(cfg.rnn_dim + mem, cfg.rnn_dim)
        self.frame_proj = nn.Linear(cfg.rnn_dim + mem, cfg.n_mels * cfg.reduction)
        self.stop_proj = nn.Linear(cfg.rnn_dim + mem, cfg.reduction)
        n = cfg.postnet_layers
        self.postnet = nn.Sequential(*[
            _conv_bn(cfg.n_mels if i == 0 else cfg.postnet_dim,
                     cfg.n_mels if i == n - 1 else cfg.postnet_dim, 5, i < n - 1, cfg.dropout)
            for i in range(n)])

    def _prenet(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.prenet:  # dropout stays on at inference (Tacotron 2, sec. 2.3)
            x = F.dropout(F.relu(layer(x)), p=0.5, training=True)
        return x

    def encode(self, ids: torch.Tensor, lengths: torch.Tensor,
               speaker: torch.Tensor) -> torch.Tensor:
        """Encoder memory with the speaker embedding appended: ``(B, L, embed + speaker)``."""
        enc = self.encoder(ids, lengths)
        return torch.cat([enc, speaker[:, None].expand(-1, enc.shape[1], -1)], dim=-1)

    def _init_state(self, memory: torch.Tensor) -> dict:
        b, n_in, d = memory.shape
        z = memory.new_zeros
        return {"ah": z(b, self.cfg.rnn_dim), "ac": z(b, self.cfg.rnn_dim),
                "dh": z(b, self.cfg.rnn_dim), "dc": z(b, self.cfg.rnn_dim),
                "w": z(b, n_in), "wcum": z(b, n_in), "ctx": z(b, d)}

    def _step(self, prev: torch.Tensor, s: dict, memory: torch.Tensor, keys: torch.Tensor,
              mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = torch.cat([self._prenet(prev), s["ctx"]], -1)
        s["ah"], s["ac"] = self.attention_rnn(x, (s["ah"], s["ac"]))
        cat = torch.stack([s["w"], s["wcum"]], 1)
        s["ctx"], s["w"] = self.attention(s["ah"], keys, memory, cat, mask)
        s["wcum"] = s["wcum"] + s["w"]
        s["dh"], s["dc"] = self.decoder_rnn(torch.cat([s["ah"], s["ctx"]], -1), (s["dh"], s["dc"]))
        out = torch.cat([s["dh"], s["ctx"]], -1)
        frames = self.frame_proj(out).view(-1, self.cfg.reduction, self.cfg.n_mels)
        return frames, self.stop_proj(out), s["w"]

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor, speaker: torch.Tensor,
                mels: torch.Tensor) -> dict[str, torch.Tensor]:
        """Teacher-forced pass.

        Args:
            ids: ``(B, L)`` phoneme ids (0 = padding).
            lengths: ``(B,)`` valid ids per row.
            speaker: ``(B, speaker_dim)`` speaker embeddings.
            mels: ``(B, T, M)`` target log-mel frames, ``T`` a multiple of ``reduction``.

        Returns:
            ``mel`` and ``mel_post`` ``(B, T, M)``, ``stop`` logits ``(B, T)``,
            ``alignment`` ``(B, T / reduction, L)``.
        """
        r = self.cfg.reduction
        memory = self.encode(ids, lengths, speaker)
        keys = self.attention.memory(memory)
        mask = torch.arange(ids.shape[1], device=ids.device)[None] >= lengths[:, None]
        s = self._init_state(memory)
        prev = mels.new_zeros(mels.shape[0], self.cfg.n_mels)
        outs, stops, aligns = [], [], []
        for t in range(mels.shape[1] // r):
            frames, stop, w = self._step(prev, s, memory, keys, mask)
            outs.append(frames)
            stops.append(stop)
            aligns.append(w)
            prev = mels[:, (t + 1) * r - 1]
        mel = torch.cat(outs, 1)
        post = mel + self.postnet(mel.transpose(1, 2)).transpose(1, 2)
        return {"mel": mel, "mel_post": post, "stop": torch.cat(stops, 1),
                "alignment": torch.stack(aligns, 1)}

    @torch.no_grad()
    def infer(self, ids: torch.Tensor, speaker: torch.Tensor, max_frames: int = 2000,
              stop_threshold: float = 0.5) -> torch.Tensor:
        """Free-running synthesis of one utterance: ids ``(L,)``, speaker ``(D,)`` →
        log-mel ``(T, M)`` (see :meth:`infer_until_stop`, which also says whether the stop
        token ended it)."""
        return self.infer_until_stop(ids, speaker, max_frames, stop_threshold)[0]

    @torch.no_grad()
    def infer_until_stop(self, ids: torch.Tensor, speaker: torch.Tensor, max_frames: int = 2000,
                         stop_threshold: float = 0.5) -> tuple[torch.Tensor, bool]:
        """Free-running synthesis of one utterance until the stop token or ``max_frames``.

        Args:
            ids: ``(L,)`` phoneme ids, on the model's device.
            speaker: ``(D,)`` speaker embedding, on the model's device.
            max_frames: mel frames at most (whole decoder steps of ``reduction`` frames, at
                least one step).
            stop_threshold: stop probability that ends the utterance.

        Returns:
            log-mel ``(T, M)`` on the model's device, and whether the stop token ended it
            (``False``: cut at ``max_frames``).
        """
        ids, speaker = ids[None], speaker[None]
        lengths = torch.tensor([ids.shape[1]], device=ids.device)
        memory = self.encode(ids, lengths, speaker)
        keys = self.attention.memory(memory)
        mask = torch.zeros(1, ids.shape[1], dtype=torch.bool, device=ids.device)
        s = self._init_state(memory)
        prev = memory.new_zeros(1, self.cfg.n_mels)
        outs, stopped = [], False
        for _ in range(max(1, max_frames // self.cfg.reduction)):
            frames, stop, _ = self._step(prev, s, memory, keys, mask)
            outs.append(frames)
            prev = frames[:, -1]
            if torch.sigmoid(stop).max() > stop_threshold:
                stopped = True
                break
        mel = torch.cat(outs, 1)
        return (mel + self.postnet(mel.transpose(1, 2)).transpose(1, 2))[0], stopped

def tacotron_loss(out: dict[str, torch.Tensor], mels: torch.Tensor, mel_lengths: torch.Tensor,
                  ) -> tuple[torch.Tensor, dict[str, float]]:
    """Masked L1+L2 mel loss (before and after the post-net) + stop-token BCE.

    Args:
        out: :meth:`Tacotron.forward` output.
        mels: ``(B, T, M)`` targets; mel_lengths ``(B,)`` valid frames.
    """
    t = mels.shape[1]
    valid = (torch.arange(t, device=mels.device)[None] < mel_lengths[:, None]).float()
    m = valid[..., None]
    denom = m.sum() * mels.shape[2]

    def mel_err(pred: torch.Tensor) -> torch.Tensor:
        diff = (pred - mels) * m
        return (diff.abs().sum() + (diff ** 2).sum()) / denom

    stop_target = (torch.arange(t, device=mels.device)[None] >= mel_lengths[:, None] - 1).float()
    stop = F.binary_cross_entropy_with_logits(out["stop"], stop_target)
    mel = mel_err(out["mel"]) + mel_err(out["mel_post"])
    return mel + stop, {"mel": mel.item(), "stop": stop.item()}
