"""Cost of the SV2TTS recipes' validation (held-out loss, alignment and mel images, audio)
against their training steps, on one CPU thread.

Synthesizer: the VCTK dev copy (``vctk4``, 40 clips, held out as ``train-voice`` holds them
out; its preprocessing is cached under ``$EMOVC_CACHE/sv2tts``, so the first run preprocesses
it), the docs' tiny smoke-run model and the full-size one. Vocoder: random 16 kHz data (the
cost does not depend on it), tiny and full-size WaveRNN, its default 0.5-s validation sample.
Prints one line per model. Skips (exit 0) when the folder (``--data``, default
``$EMOVC_DATA/vctk4``, see ``benchmarks/_data.py``) is absent or holds no audio.

    .venv/bin/python benchmarks/bench_sv2tts_validation.py [--data FOLDER] [--steps 3]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

from _data import ENV_HELP, data_dir, missing

DATA = data_dir("vctk4")
# the smoke-run sizes of docs/cloning.md (--set 'model={...}')
TINY_TACOTRON = dict(embed_dim=32, encoder_convs=1, attention_dim=16, location_filters=4,
                     location_kernel=7, prenet_dim=32, rnn_dim=64, postnet_dim=32,
                     postnet_layers=2)


def _timed(fn, repeat: int = 1) -> float:
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat


def _step(module, opt) -> None:
    opt.zero_grad()
    module.training_step(None, 0).backward()
    opt.step()


def _measure(module, steps: int, strip: str) -> tuple[float, float, float, float]:
    """``(training step, first validation, later validation, validation without the
    attribute ``strip``)``, seconds."""
    import torch

    opt = torch.optim.Adam(module.model.parameters(), 1e-4)
    _step(module, opt)
    train = _timed(lambda: _step(module, opt), steps)
    module.eval()
    first = _timed(lambda: module.validation_step(None, 0))  # renders a target once
    later = _timed(lambda: module.validation_step(None, 0))
    setattr(module, strip, None)
    bare = _timed(lambda: module.validation_step(None, 0))
    return train, first, later, bare


def synthesizer(data: Path, steps: int) -> None:
    import tempfile

    import torch

    from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
    from emovc.training import synthesizer as tsyn
    from emovc.training.sv2tts_diagnostics import SynthesizerDiagnostics

    cfg = tsyn.build_config(str(data), "unused", overrides={"batch_size": 4})
    train, val = tsyn.split_corpus(cfg, tsyn.load_corpus(cfg, progress=False))
    for label, mc in (("tiny", TacotronConfig(**TINY_TACOTRON)), ("full-size", TacotronConfig())):
        torch.manual_seed(0)
        with tempfile.TemporaryDirectory() as out:
            m = tsyn.SynthesizerModule(Tacotron(mc), train, 4, 1e-3, val=val,
                                       diagnostics=SynthesizerDiagnostics(cfg.mel, out))
            m.log = m.log_dict = lambda *a, **k: None
            ts, first, later, loss = _measure(m, steps, "diagnostics")
        print(f"synthesizer {label}: training step {ts:.2f} s (batch 4); validation "
              f"{first:.2f} s the first time, {later:.2f} s later, of which the held-out loss "
              f"({len(val)} utterances) {loss:.2f} s", flush=True)


def vocoder(steps: int) -> None:
    import numpy as np
    import torch

    from emovc.models.vocoder import WaveRNN, WaveRNNConfig
    from emovc.training import vocoder as tvoc
    from emovc.training.sv2tts_diagnostics import VOCODER_SECONDS

    rng = np.random.default_rng(0)
    pairs = [(rng.normal(-4, 1, (400, 80)).astype(np.float32),
              rng.uniform(-.5, .5, 400 * 200).astype(np.float32)) for _ in range(12)]
    for label, mc in (("tiny", WaveRNNConfig.tiny(n_mels=80, hop_length=200)),
                      ("full-size", WaveRNNConfig())):
        torch.manual_seed(0)
        m = tvoc.VocoderModule(WaveRNN(mc), tvoc.SegmentSampler(pairs, 200, 8, 32,
                                                                only=range(11)),
                               1e-4, val=tvoc.SegmentSampler(pairs, 200, 8, 32, only=[11]),
                               clip=tvoc.ValidationClip("x", *pairs[11], 16000, None))
        m.log = lambda *a, **k: None
        ts, _, later, loss = _measure(m, steps, "clip")
        print(f"vocoder {label}: training step {ts:.2f} s (batch 32 x 8 frames); validation "
              f"{later:.2f} s, of which the held-out NLL {loss:.2f} s and "
              f"{VOCODER_SECONDS:g} s of generated audio {later - loss:.2f} s", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=ENV_HELP)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--steps", type=int, default=3, help="training steps timed per model")
    args = ap.parse_args()
    why = missing(args.data)
    if why:
        print(f"skipped: {why}")
        return 0
    import torch

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    synthesizer(args.data, args.steps)
    vocoder(args.steps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
