"""SV2TTS training recipes: validation logging, exact resume, per-rank batches, config checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

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


def _weights(path) -> dict:
    from emovc.models.checkpoint import load_checkpoint

    return load_checkpoint(path)["state_dict"]


def _assert_same_weights(a, b) -> None:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for k, v in wa.items():
        assert torch.equal(v, wb[k]), k


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_synthesizer_resume_continues_exactly(tmp_path) -> None:
    """3 steps + resume to 5 == 5 straight steps (the batch generator restarted from the seed
    at every start, and validation drew from it: weights differed by up to 0.016)."""
    data = _utterances()
    tiny = {"model": TacotronConfig.tiny(dropout=0.5).to_dict(), "mel": MEL,
            "batch_size": 2, "threads": 1}

    def run(folder: str, steps: int):
        cfg = tsyn.build_config("unused", str(tmp_path / folder), steps, overrides=tiny)
        return tsyn.train(cfg, data=data)

    run("a", 3)
    _assert_same_weights(run("a", 5), run("b", 5))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_vocoder_resume_continues_exactly(tmp_path) -> None:
    pairs = _pairs()
    tiny = {"model": WaveRNNConfig.tiny().to_dict(), "mel": MEL, "batch_size": 2,
            "seq_frames": 4, "threads": 1}

    def run(folder: str, steps: int):
        cfg = tvoc.build_config("unused", str(tmp_path / folder), steps, overrides=tiny)
        return tvoc.train(cfg, data=pairs)

    run("a", 3)
    _assert_same_weights(run("a", 5), run("b", 5))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_speaker_encoder_resume_continues_exactly(tmp_path) -> None:
    from emovc.training import speaker_encoder as tge2e

    rng = np.random.default_rng(2)
    mels = {s: [rng.random((30 + 5 * i, 40), dtype=np.float32) for i in range(3)]
            for s in ("a", "b", "c")}
    tiny = {"model": {**tge2e.GE2EConfig().to_dict(), "hidden": 16, "layers": 1,
                      "embedding": 8, "partial_frames": 20},
            "speakers": 2, "utterances": 2, "threads": 1}

    def run(folder: str, steps: int):
        cfg = tge2e.build_config("unused", str(tmp_path / folder), steps, overrides=tiny)
        return tge2e.train(cfg, data=(mels, [], []))

    run("a", 3)
    _assert_same_weights(run("a", 5), run("b", 5))


def test_ranks_draw_different_batches() -> None:
    """With devices=N every process seeded the same generator and trained on the same batch;
    now each rank draws its own, and rank 0 draws what a one-device run does."""
    from emovc.training import speaker_encoder as tge2e

    syn = tsyn.SynthesizerModule(Tacotron(TacotronConfig.tiny()), _utterances(8), 2, 1e-3)

    def ids(rng) -> list[int]:
        return syn._batch(rng)["ids"].sum(1).tolist()

    assert ids(syn.rng(3, 0)) != ids(syn.rng(3, 1))
    assert ids(syn.rng(3)) == ids(syn.rng(3, 0)) == ids(syn.rng(3, 0))
    seg = tvoc.SegmentSampler(_pairs(), 40, 4, 2)
    assert not torch.equal(seg.sample(seg.rng(3, 0))[1], seg.sample(seg.rng(3, 1))[1])
    assert torch.equal(seg.sample(seg.rng(3))[1], seg.sample(seg.rng(3, 0))[1])
    rng = np.random.default_rng(2)
    mels = {s: [rng.random((30, 4), dtype=np.float32) for _ in range(3)] for s in "abcd"}
    part = tge2e.PartialSampler(mels, 2, 2, 20)
    assert not torch.equal(part.sample(part.rng(3, 0)), part.sample(part.rng(3, 1)))
