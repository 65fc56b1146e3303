"""Neural SV2TTS cloning (Jia et al., 2018): GE2E embedding → Tacotron 2 → WaveRNN.

Needs a synthesizer and a vocoder trained with :mod:`emovc.training.synthesizer` and
:mod:`emovc.training.vocoder` (GPU + a multi-speaker transcribed corpus; see
``docs/cloning.md``). Load a folder holding ``synthesizer.pt`` and ``vocoder.pt``::

    cloner = NeuralCloner.from_folder("runs/sv2tts")
    wav, sr = cloner.clone([(ref_wav, 16000)], "Hello there.")
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from emovc.errors import ConfigError, EmovcError
from emovc.models.checkpoint import load_checkpoint
from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
from emovc.models.synthesizer.text import phonemes_to_ids
from emovc.models.vocoder import WaveRNN, WaveRNNConfig
from emovc.pipelines.frontend import EspeakFrontend
from emovc.pipelines.speaker import SpeakerEncoder

SYNTH_KIND, VOCODER_KIND = "synthesizer/tacotron", "vocoder/wavernn"


class NeuralCloner:
    """Speaker-conditioned Tacotron 2 + WaveRNN inference on 16 kHz speech."""

    def __init__(self, synthesizer: Tacotron, vocoder: WaveRNN, symbols: list[str],
                 encoder: SpeakerEncoder | None = None, sample_rate: int = 16000,
                 max_seconds: float = 20.0) -> None:
        if synthesizer.cfg.n_mels != vocoder.cfg.n_mels:
            raise ConfigError(f"synthesizer makes {synthesizer.cfg.n_mels} mel bands but the "
                              f"vocoder expects {vocoder.cfg.n_mels}")
        self.synthesizer, self.vocoder = synthesizer.eval(), vocoder.eval()
        self.symbols, self.sample_rate, self.max_seconds = symbols, sample_rate, max_seconds
        self.encoder = encoder or SpeakerEncoder.from_pretrained()
        self.frontend = EspeakFrontend()

    @classmethod
    def from_folder(cls, folder: str | os.PathLike) -> NeuralCloner:
        """Load ``synthesizer.pt`` and ``vocoder.pt`` from ``folder``."""
        root = Path(folder)
        syn = load_checkpoint(root / "synthesizer.pt", SYNTH_KIND)
        voc = load_checkpoint(root / "vocoder.pt", VOCODER_KIND)
        taco = Tacotron(TacotronConfig(**syn["config"]))
        taco.load_state_dict(syn["state_dict"])
        wavernn = WaveRNN(WaveRNNConfig(**voc["config"]))
        wavernn.load_state_dict(voc["state_dict"])
        return cls(taco, wavernn, list(syn["extra"]["symbols"]),
                   sample_rate=int(syn["extra"]["mel"]["sr"]))

    def clone(self, references: Sequence[tuple[np.ndarray, int]], text: str,
              ) -> tuple[np.ndarray, int]:
        """Speak ``text`` (at most ``max_seconds``) with the voice of ``(wav, sr)`` references."""
        if not references:
            raise EmovcError("no reference audio given")
        speaker = self.encoder.embed_speaker([w for w, _ in references], references[0][1])
        ids = phonemes_to_ids(self.frontend.phonemes(text), self.symbols)
        hop = self.vocoder.cfg.hop_length
        mel = self.synthesizer.infer(torch.tensor(ids), torch.from_numpy(speaker),
                                     max_frames=int(self.max_seconds * self.sample_rate / hop))
        wav = self.vocoder.generate(mel).numpy().astype(np.float32)
        return wav, self.sample_rate
