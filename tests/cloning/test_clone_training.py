"""SV2TTS training recipes: validation logging, exact resume, per-rank batches, config checks."""

from __future__ import annotations

import numpy as np

from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
from emovc.models.synthesizer.text import EOS, SYMBOLS
from emovc.models.vocoder import WaveRNN, WaveRNNConfig
from emovc.training import synthesizer as tsyn
from emovc.training import vocoder as tvoc

MEL = {"sr": 16000, "n_mels": 20, "n_fft": 160, "hop_length": 40}


def _utterances(n: int = 4) -> list[tsyn.Utterance]:
    """``n`` random utterances: 12 phoneme ids + EOS, a one-hot 16-d speaker, 9-14 mel frames."""
    rng = np.random.default_rng(0)
    return [tsyn.Utterance(list(rng.integers(2, len(SYMBOLS), 12)) + [SYMBOLS.index(EOS)],
                           np.eye(16, dtype=np.float32)[i % 16],
                           rng.normal(-4.0, 1.0, (9 + i, 20)).astype(np.float32))
            for i in range(n)]


def _pairs(n: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n`` random (mel (10+i, 20), waveform (40 · (10+i),)) pairs (hop 40)."""
    rng = np.random.default_rng(1)
    return [(rng.normal(-4.0, 1.0, (10 + i, 20)).astype(np.float32),
             rng.uniform(-0.5, 0.5, 40 * (10 + i)).astype(np.float32)) for i in range(n)]


def _logged(module) -> list[str]:
    """Names ``module`` logs (its ``log``/``log_dict`` replaced by recorders)."""
    names: list[str] = []
    module.log = lambda name, value, **kw: names.append(name)
    module.log_dict = lambda d, **kw: names.extend(d)
    return names


def test_validation_logs_under_val_only() -> None:
    """Validation used to call training_step, which logged train/* a second time (eval-mode
    values at the same step)."""
    syn = tsyn.SynthesizerModule(Tacotron(TacotronConfig.tiny()), _utterances(), 2, 1e-3)
    names = _logged(syn)
    syn.validation_step(0, 0)
    assert names and all(n.startswith("val/") for n in names), names
    voc = tvoc.VocoderModule(WaveRNN(WaveRNNConfig.tiny()),
                             tvoc.SegmentSampler(_pairs(), 40, 4, 2), 1e-3)
    names = _logged(voc)
    voc.validation_step(0, 0)
    assert names and all(n.startswith("val/") for n in names), names
