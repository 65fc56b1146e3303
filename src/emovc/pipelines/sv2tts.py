"""Neural SV2TTS cloning (Jia et al., 2018): GE2E embedding → Tacotron 2 → WaveRNN.

Needs a synthesizer and a vocoder trained with :mod:`emovc.training.synthesizer` and
:mod:`emovc.training.vocoder` (GPU + a multi-speaker transcribed corpus; see
``docs/cloning.md``). Load a folder holding ``synthesizer.pt`` and ``vocoder.pt``::

    cloner = NeuralCloner.from_folder("runs/sv2tts")          # device="auto": a GPU if any
    wav, sr = cloner.clone([(ref_wav, 16000)], "Hello there.")

The two checkpoints must share their mel settings (sample rate, FFT size, hop, bands);
the audio comes out at that sample rate (``NeuralCloner.sample_rate``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from emovc.errors import ConfigError, EmovcError
from emovc.models.checkpoint import load_checkpoint
from emovc.models.device import resolve_device
from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
from emovc.models.synthesizer.text import phonemes_to_ids
from emovc.models.vocoder import WaveRNN, WaveRNNConfig
from emovc.pipelines.frontend import EspeakFrontend
from emovc.pipelines.speaker import SpeakerEncoder

SYNTH_KIND, VOCODER_KIND = "synthesizer/tacotron", "vocoder/wavernn"
#: mel settings both checkpoints record (``extra["mel"]``) and must agree on
MEL_KEYS = ("sr", "n_fft", "hop_length", "n_mels")


class NeuralCloner:
    """Speaker-conditioned Tacotron 2 + WaveRNN inference; audio at ``sample_rate`` Hz.

    Args:
        synthesizer, vocoder: the models (moved to ``device``).
        symbols: the synthesizer's phoneme symbol table.
        encoder: speaker encoder (default: the bundled GE2E); it stays on the CPU (0.14 s
            for 10 s of reference on one core).
        sample_rate: the models' mel settings' rate, Hz.
        max_seconds: the most audio of one synthesis, seconds.
        device: where the synthesizer and vocoder run: ``"auto"`` (a CUDA GPU when torch
            sees one, else the CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``
            (:func:`~emovc.models.device.resolve_device`). Audio comes back as numpy.

    Raises:
        ConfigError: the models' band counts differ, or an unknown or unavailable device.
    """

    def __init__(self, synthesizer: Tacotron, vocoder: WaveRNN, symbols: list[str],
                 encoder: SpeakerEncoder | None = None, sample_rate: int = 16000,
                 max_seconds: float = 20.0, *, device: str | torch.device = "auto") -> None:
        if synthesizer.cfg.n_mels != vocoder.cfg.n_mels:
            raise ConfigError(f"synthesizer makes {synthesizer.cfg.n_mels} mel bands but the "
                              f"vocoder expects {vocoder.cfg.n_mels}")
        self.device = resolve_device(device)
        self.synthesizer = synthesizer.to(self.device).eval()
        self.vocoder = vocoder.to(self.device).eval()
        self.symbols, self.sample_rate, self.max_seconds = symbols, sample_rate, max_seconds
        self.encoder = encoder or SpeakerEncoder.from_pretrained()
        self.frontend = EspeakFrontend()

    @classmethod
    def from_folder(cls, folder: str | os.PathLike, device: str | torch.device = "auto",
                    ) -> NeuralCloner:
        """Load ``synthesizer.pt`` and ``vocoder.pt`` from ``folder`` onto ``device`` (see
        the class).

        Raises:
            ConfigError: an unknown or unavailable device (before anything is read), the
                checkpoints' mel settings differ (:func:`check_mel_settings`), or the models
                disagree with them.
        """
        device = resolve_device(device)
        root = Path(folder)
        syn = load_checkpoint(root / "synthesizer.pt", SYNTH_KIND)
        voc = load_checkpoint(root / "vocoder.pt", VOCODER_KIND)
        mel = check_mel_settings(syn["extra"].get("mel"), voc["extra"].get("mel"))
        taco = Tacotron(TacotronConfig(**syn["config"]))
        taco.load_state_dict(syn["state_dict"])
        wavernn = WaveRNN(WaveRNNConfig(**voc["config"]))
        wavernn.load_state_dict(voc["state_dict"])
        _check_models(taco, wavernn, mel)
        return cls(taco, wavernn, list(syn["extra"]["symbols"]), sample_rate=int(mel["sr"]),
                   device=device)

    def embed(self, references: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
        """Speaker embedding ``(256,)`` of ``(wav (n,), sr)`` references (one speaker)."""
        if not references:
            raise EmovcError("no reference audio given")
        return self.encoder.embed_speaker([w for w, _ in references], references[0][1])

    def synthesize(self, speaker: np.ndarray, text: str) -> tuple[np.ndarray, int]:
        """Speak ``text`` (at most ``max_seconds``) with a ``(256,)`` speaker embedding;
        returns ``(float32 (n,), sample_rate)``."""
        ids = phonemes_to_ids(self.frontend.phonemes(text), self.symbols)
        hop = self.vocoder.cfg.hop_length
        mel = self.synthesizer.infer(
            torch.tensor(ids, device=self.device),
            torch.as_tensor(speaker, dtype=torch.float32, device=self.device),
            max_frames=int(self.max_seconds * self.sample_rate / hop))
        wav = self.vocoder.generate(mel).cpu().numpy().astype(np.float32)
        return wav, self.sample_rate

    def clone(self, references: Sequence[tuple[np.ndarray, int]], text: str,
              ) -> tuple[np.ndarray, int]:
        """Speak ``text`` (at most ``max_seconds``) with the voice of ``(wav, sr)`` references;
        returns ``(float32 (n,), sample_rate)``."""
        return self.synthesize(self.embed(references), text)


def check_mel_settings(synth: dict | None, vocoder: dict | None) -> dict:
    """The shared mel settings of a synthesizer and a vocoder checkpoint.

    Args:
        synth, vocoder: the checkpoints' ``extra["mel"]`` dicts (``sr`` Hz, ``n_fft`` and
            ``hop_length`` in samples, ``n_mels``).

    Raises:
        ConfigError: a setting of :data:`MEL_KEYS` missing or different (one line naming
            both values).
    """
    synth, vocoder = dict(synth or {}), dict(vocoder or {})
    for key in MEL_KEYS:
        for name, mel in (("synthesizer.pt", synth), ("vocoder.pt", vocoder)):
            if key not in mel:
                raise ConfigError(f"{name} does not record its mel setting {key!r}; export it "
                                  "with emovc's synthesizer/vocoder training")
        if synth[key] != vocoder[key]:
            raise ConfigError(f"synthesizer and vocoder use different mel settings: {key} = "
                              f"{synth[key]} in synthesizer.pt but {vocoder[key]} in "
                              "vocoder.pt; train them with the same mel settings")
    return synth


def _check_models(synthesizer: Tacotron, vocoder: WaveRNN, mel: dict) -> None:
    """The models' band count and the vocoder's upsampling must match ``mel``."""
    if synthesizer.cfg.n_mels != mel["n_mels"]:
        raise ConfigError(f"synthesizer makes {synthesizer.cfg.n_mels} mel bands but its mel "
                          f"settings say n_mels = {mel['n_mels']}")
    if vocoder.cfg.hop_length != mel["hop_length"]:
        raise ConfigError(f"vocoder upsamples by hop_length {vocoder.cfg.hop_length} but the "
                          f"mel settings say hop_length = {mel['hop_length']}")
