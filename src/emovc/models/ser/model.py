"""The SER model: linear functionals heads, a log-mel CNN, or an ensemble of both.

:class:`SerModel` maps precomputed clip features (see :mod:`emovc.models.ser.cache`) to
class probabilities and round-trips through a plain-data checkpoint
(kind ``"emotion-recognizer"``, loadable with ``weights_only=True``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from emovc.errors import ConfigError
from emovc.models.checkpoint import load_checkpoint, save_checkpoint
from emovc.models.ser.cnn import CnnConfig, EmotionCNN
from emovc.models.ser.features import SerFeatureConfig
from emovc.models.ser.functional import NORM_MODES, LinearHead

KIND = "emotion-recognizer"
METHODS = ("linear", "cnn", "ensemble")


@dataclass
class MelCnn:
    """A trained :class:`EmotionCNN` with its per-mel-band input statistics ``(n_mels,)``."""

    net: EmotionCNN
    mel_mean: np.ndarray
    mel_std: np.ndarray

    @torch.no_grad()
    def predict_proba(self, mels: list[np.ndarray]) -> np.ndarray:
        """Probabilities ``(N, C)`` for log-mels ``(n_mels, T_i)``, one utterance at a time
        (so results do not depend on how inputs are batched)."""
        self.net.eval()
        out = []
        for mel in mels:
            x = (np.asarray(mel, np.float32) - self.mel_mean[:, None]) / self.mel_std[:, None]
            x = np.pad(x, ((0, 0), (0, max(0, 16 - x.shape[1]))), mode="edge")
            out.append(torch.softmax(self.net(torch.from_numpy(x)[None]), -1)[0].double())
        return torch.stack(out).numpy()


@dataclass
class SerModel:
    """Emotion classifier over clip features.

    Attributes:
        labels: emotion names, in output order.
        features: preprocessing/feature settings.
        heads: linear functionals heads by norm mode (``"utterance"``, ``"speaker"``).
        cnn: the log-mel CNN, if any.
        cnn_weight: weight of the CNN probabilities in the ensemble (0 = linear only,
            1 = CNN only) in per-utterance mode.
        speaker_cnn_weight: the same with speaker normalisation (the speaker-normalised
            linear head is stronger, so it usually deserves a smaller CNN weight); ``None``
            = ``cnn_weight``.
        info: plain-data training facts saved with the checkpoint.
    """

    labels: tuple[str, ...]
    features: SerFeatureConfig
    heads: dict[str, LinearHead] = field(default_factory=dict)
    cnn: MelCnn | None = None
    cnn_weight: float = 0.0
    speaker_cnn_weight: float | None = None
    info: dict = field(default_factory=dict)

    @property
    def method(self) -> str:
        """``"linear"``, ``"cnn"`` or ``"ensemble"``."""
        if self.cnn is None:
            return "linear"
        return "cnn" if not self.heads or self.cnn_weight >= 1.0 else "ensemble"

    @property
    def needed_features(self) -> tuple[str, ...]:
        """Keys of the clip-feature dicts this model reads (``"egemaps"``, ``"compare"``,
        ``"mel"``)."""
        keys = {h.feature_set for h in self.heads.values()}
        if self.cnn is not None:
            keys.add("mel")
        return tuple(sorted(keys))

    def predict_proba(self, feats: list[dict[str, np.ndarray]],
                      groups: np.ndarray | None = None, speaker_norm: bool = False
                      ) -> np.ndarray:
        """Class probabilities ``(N, C)``.

        Args:
            feats: one feature dict per clip.
            groups: speaker label per clip (``speaker_norm`` only; default: one speaker).
            speaker_norm: use the speaker-normalised head (needs several clips per speaker).
        """
        mode = "speaker" if speaker_norm else "utterance"
        if speaker_norm and not self.heads:
            raise ConfigError("speaker_norm needs a linear or ensemble recogniser (it "
                              "normalises the functionals of the linear head); this one is a "
                              "CNN alone, which normalises each clip itself: leave it off")
        weight = self.cnn_weight
        if speaker_norm and self.speaker_cnn_weight is not None:
            weight = self.speaker_cnn_weight
        p_lin = p_cnn = None
        if self.heads and weight < 1.0:
            if mode not in self.heads:
                raise ConfigError(f"this model has no {mode}-normalised head; "
                                  f"available: {', '.join(self.heads)}")
            head = self.heads[mode]
            x = np.stack([f[head.feature_set] for f in feats])
            p_lin = head.predict_proba(x, groups)
        if self.cnn is not None and weight > 0.0:
            p_cnn = self.cnn.predict_proba([f["mel"] for f in feats])
        if p_lin is None:
            return p_cnn
        if p_cnn is None:
            return p_lin
        return (1.0 - weight) * p_lin + weight * p_cnn

    def save(self, path: str | os.PathLike, extra: dict | None = None) -> Path:
        """Write an atomic, plain-data checkpoint."""
        state: dict[str, torch.Tensor] = {}
        for mode, head in self.heads.items():
            state.update(head.state_dict(f"linear.{mode}"))
        config = {
            "labels": list(self.labels), "features": self.features.to_dict(),
            "method": self.method, "cnn_weight": float(self.cnn_weight),
            "speaker_cnn_weight": (None if self.speaker_cnn_weight is None
                                   else float(self.speaker_cnn_weight)),
            "info": self.info,
            "linear": {m: {"feature_set": h.feature_set} for m, h in self.heads.items()},
            "cnn": None,
        }
        if self.cnn is not None:
            config["cnn"] = self.cnn.net.cfg.to_dict()
            state.update({f"cnn.net.{k}": v for k, v in self.cnn.net.state_dict().items()})
            state["cnn.mel_mean"] = torch.from_numpy(self.cnn.mel_mean.astype(np.float32))
            state["cnn.mel_std"] = torch.from_numpy(self.cnn.mel_std.astype(np.float32))
        return save_checkpoint(path, kind=KIND, config=config, state_dict=state, extra=extra)

    @classmethod
    def from_checkpoint(cls, ckpt: dict) -> SerModel:
        """Build from a loaded checkpoint dict (see :func:`load`)."""
        cfg, state = ckpt["config"], ckpt["state_dict"]
        heads = {m: LinearHead.from_state_dict(state, f"linear.{m}", d["feature_set"], m)
                 for m, d in cfg["linear"].items() if m in NORM_MODES}
        cnn = None
        if cfg.get("cnn"):
            net = EmotionCNN(CnnConfig.from_dict(cfg["cnn"]))
            net.load_state_dict({k[len("cnn.net."):]: v for k, v in state.items()
                                 if k.startswith("cnn.net.")})
            net.eval()
            cnn = MelCnn(net, state["cnn.mel_mean"].numpy(), state["cnn.mel_std"].numpy())
        return cls(tuple(cfg["labels"]), SerFeatureConfig.from_dict(cfg["features"]), heads,
                   cnn, float(cfg.get("cnn_weight", 0.0)), cfg.get("speaker_cnn_weight"),
                   dict(cfg.get("info", {})))


def load(path: str | os.PathLike) -> tuple[SerModel, dict]:
    """Load a SER checkpoint file; returns the model and the checkpoint's ``extra`` dict."""
    ckpt = load_checkpoint(path, KIND)
    return SerModel.from_checkpoint(ckpt), ckpt.get("extra", {})
