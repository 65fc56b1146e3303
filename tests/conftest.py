"""Shared fixtures: synthetic speech files (tests never need ../shared)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from emovc.audio import save_audio
from emovc.data.synthetic import SyntheticVoice, synthesize

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def speech() -> np.ndarray:
    """2 s of synthetic speech at 16 kHz, float32."""
    return synthesize(SyntheticVoice(), duration=2.0, seed=1)


@pytest.fixture()
def speech_file(tmp_path: Path, speech: np.ndarray) -> Path:
    """The ``speech`` fixture saved as a 16 kHz wav file."""
    return save_audio(tmp_path / "speech.wav", speech, 16000)


def shared_data(name: str) -> Path:
    """Path of a ../shared corpus, or skip the test when it is absent (fresh clones)."""
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"{path} not available")
    return path


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    """Tests use tiny tensors; one thread avoids oversubscription on shared 2-core CI boxes."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture()
def fit_sessions() -> Iterator[list[int]]:
    """Training batches run by each Lightning ``Trainer.fit`` of the test, one entry per fit,
    in order. A resumed session must train only the steps after its checkpoint: equal final
    weights alone cannot tell a resume from a deterministic restart at step 0. (Its own
    patch: a test's ``monkeypatch.undo()`` leaves the counting on.)"""
    import lightning as L

    sessions: list[int] = []

    class _Count(L.Callback):
        def on_train_start(self, trainer, module) -> None:
            sessions.append(0)

        def on_train_batch_end(self, *args) -> None:
            sessions[-1] += 1

    real = L.Trainer.fit

    def fit(self, *args, **kwargs):
        self.callbacks.append(_Count())
        return real(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(L.Trainer, "fit", fit)
        yield sessions


@pytest.fixture(scope="module")
def tiny_spectrogan():
    """An untrained calm <-> angry SpectroGAN converter without a prosody stage (small
    windows, 4 Griffin-Lim iterations): the input checks and warnings of the conversion
    path without a trained model."""
    import torch

    from emovc.data.synthetic import EMOTION_VOICES
    from emovc.features.stats import compute_stats
    from emovc.models.spectrogan import Generator, GeneratorConfig, SpecConfig, analyze
    from emovc.pipelines.spectrogan import InferenceConfig, SpectroGANConverter

    spec = SpecConfig(n_fft=512, hop_length=128, freq_size=256)
    torch.manual_seed(0)
    gens = [Generator(GeneratorConfig((4, 8, 8), 1)) for _ in range(2)]
    stats = compute_stats([analyze(synthesize(EMOTION_VOICES["calm"], 1.0, seed=3), spec)[0].T])
    return SpectroGANConverter(("calm", "angry"), gens[0], gens[1], spec, stats,
                               InferenceConfig(window_frames=32, overlap_frames=8, gl_iters=4))
