"""GE2E speaker encoder: shapes, bundled weights = resemblyzer, loss decreases in training."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch

from emovc.models.speaker_encoder import GE2E, GE2EConfig, ge2e_loss, mel_frames, partial_slices
from emovc.pipelines.speaker import SpeakerEncoder, embedding_map
from emovc.training.speaker_encoder import GE2EModule, PartialSampler

TINY = GE2EConfig(hidden=32, layers=1, embedding=16, partial_frames=40)


def test_ge2e_shapes_and_unit_norm() -> None:
    model = GE2E(TINY)
    emb = model(torch.rand(6, 40, 40))
    assert emb.shape == (6, 16)
    assert torch.allclose(emb.norm(dim=1), torch.ones(6), atol=1e-5)
    assert (emb >= 0).all()


def test_ge2e_loss_known_answer() -> None:
    # perfectly separated orthogonal speakers + large w → loss near 0; identical → log(S)
    e = torch.eye(3)[:, None, :].repeat(1, 4, 1)
    assert ge2e_loss(e, torch.tensor([20.0]), torch.tensor([-5.0])) < 1e-3
    same = torch.ones(3, 4, 3) / 3 ** 0.5
    assert ge2e_loss(same, torch.tensor([10.0]), torch.tensor([0.0])).item() == pytest.approx(
        np.log(3), abs=1e-4)


def test_partial_slices_match_resemblyzer() -> None:
    from resemblyzer import VoiceEncoder

    for n in (8000, 16000 * 3 + 123, 16000 * 7):
        _, ref = VoiceEncoder.compute_partial_slices(n, rate=1.3, min_coverage=0.75)
        assert partial_slices(n) == ref


def test_bundled_weights_equal_resemblyzer(speech: np.ndarray) -> None:
    from resemblyzer import VoiceEncoder, preprocess_wav

    ours = SpeakerEncoder.from_pretrained("resemblyzer")
    theirs = VoiceEncoder("cpu", verbose=False)
    a = ours.embed(speech, 16000)
    b = theirs.embed_utterance(preprocess_wav(speech, source_sr=16000))
    assert a.shape == (256,)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_embedding_separates_synthetic_speakers(speaker_clips) -> None:
    enc = SpeakerEncoder.from_pretrained()
    low = [enc.embed(w, 16000) for w in speaker_clips["low"][:2]]
    high = enc.embed(speaker_clips["high"][0], 16000)
    assert float(low[0] @ low[1]) > float(low[0] @ high)


def test_silence_has_no_voice(speech: np.ndarray) -> None:
    """Silence is refused by both encoders (it used to embed, and two silences scored 1.0)."""
    from emovc.errors import AudioError
    from emovc.evaluation.speaker import SpeakerEncoder as EvalEncoder

    silence = np.zeros(32000, np.float32)
    for enc in (SpeakerEncoder.from_pretrained(), EvalEncoder()):
        with pytest.raises(AudioError, match="silent"):
            enc.similarity(silence, silence, 16000)
        assert enc.similarity(speech, speech, 16000) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.filterwarnings("ignore:You defined a `validation_step`", "ignore:.*LeafSpec")
def test_ge2e_training_reduces_loss(speaker_clips, tmp_path) -> None:
    torch.manual_seed(0)
    mels = {s: [np.log(mel_frames(w, TINY) + 1e-6) for w in clips]
            for s, clips in speaker_clips.items()}
    sampler = PartialSampler(mels, speakers=3, utterances=4, frames=TINY.partial_frames, seed=0)
    model = GE2E(TINY)

    def mean_loss() -> float:  # over 20 random batches: one batch is far too noisy
        with torch.no_grad():
            return float(np.mean([ge2e_loss(model(sampler.sample(sampler.rng(i))).view(3, 4, -1),
                                            model.similarity_weight,
                                            model.similarity_bias).item() for i in range(20)]))

    before = mean_loss()
    module = GE2EModule(model, sampler, lr=3e-3)
    trainer = L.Trainer(max_steps=80, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False,
                        limit_val_batches=0, default_root_dir=tmp_path)
    trainer.fit(module, torch.utils.data.DataLoader(range(80), batch_size=None))
    assert mean_loss() < 0.5 * before


def test_embedding_map_pca(tmp_path) -> None:
    rng = np.random.default_rng(0)
    emb = np.abs(rng.normal(size=(6, 8)))
    path, used = embedding_map(emb, list("aabbcc"), tmp_path / "map.png", method="pca")
    assert used == "pca" and path.stat().st_size > 0


def test_embedding_map_of_few_points_does_not_use_umap(tmp_path) -> None:
    """Three clips: 'auto' picks PCA (UMAP's neighbourhood needs more points, and crashed),
    an explicit 'umap' is a one-line error."""
    from emovc.errors import ConfigError

    emb = np.abs(np.random.default_rng(0).normal(size=(3, 8)))
    _, used = embedding_map(emb, list("abc"), tmp_path / "m.png", method="auto")
    assert used == "pca"
    with pytest.raises(ConfigError, match="UMAP needs at least 15 embeddings"):
        embedding_map(emb, list("abc"), tmp_path / "u.png", method="umap")


def test_project_pca_for_small_sets_and_at_least_three_points() -> None:
    from emovc.errors import ConfigError
    from emovc.pipelines.speaker import project

    x = np.random.default_rng(0).normal(size=(7, 16))
    pts, method = project(x)
    assert pts.shape == (7, 2) and method == "pca"
    top = np.linalg.svd(x - x.mean(0), full_matrices=False)[2][0]  # first principal axis
    np.testing.assert_allclose(np.abs(pts[:, 0]), np.abs((x - x.mean(0)) @ top), rtol=1e-6)
    with pytest.raises(ConfigError, match="need at least 3 embeddings for a map, got 2"):
        project(x[:2])


def test_project_uses_umap_when_installed(monkeypatch) -> None:
    import importlib.machinery
    import sys
    import types

    from emovc.pipelines.speaker import UMAP_MIN_POINTS, project

    class FakeUMAP:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

        def fit_transform(self, x):
            return x[:, :2] * 0 + 7

    fake = types.ModuleType("umap")
    fake.__spec__ = importlib.machinery.ModuleSpec("umap", None)
    fake.UMAP = FakeUMAP
    monkeypatch.setitem(sys.modules, "umap", fake)
    pts, method = project(np.ones((UMAP_MIN_POINTS, 4)))
    assert method == "umap" and np.all(pts == 7)
    monkeypatch.setitem(sys.modules, "umap", None)  # "not installed"
    assert project(np.eye(UMAP_MIN_POINTS))[1] == "tsne"


def test_file_embeddings_name_the_file_they_refuse(tmp_path) -> None:
    from emovc.audio import save_audio
    from emovc.errors import AudioError

    path = save_audio(tmp_path / "quiet.wav", np.zeros(32000, np.float32))
    with pytest.raises(AudioError, match=r"quiet\.wav is silent"):
        SpeakerEncoder.from_pretrained().embed_files([path])
