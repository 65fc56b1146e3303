"""``threads`` of the SV2TTS recipes holds for the whole run, as it does for ``emovc train``
(SpectroGAN sets it before reading its corpus) and ``emovc ser train``: the corpus
preprocessing (the speaker encoder's embeddings, a ``gta`` vocoder's synthesizer pass) ran on
torch's default thread count (every core), and only the fit on ``threads``."""

from __future__ import annotations

import json

import pytest
import torch

from emovc.cli.main import main
from emovc.models.checkpoint import save_checkpoint
from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
from emovc.models.synthesizer.text import SYMBOLS
from emovc.models.vocoder import WaveRNNConfig
from emovc.pipelines.sv2tts_encoder import choose_encoder
from emovc.training import gta
from emovc.training import synthesizer as tsyn
from emovc.training import synthesizer_data as tdata

OTHER = 3  # torch's thread count before the run (its default is the number of cores)


@pytest.fixture()
def threads_seen(monkeypatch):
    """The torch thread counts the corpus preprocessing ran on (per clip), with torch set to
    OTHER threads before the run and restored after it."""
    seen: list[int] = []
    preprocess, gta_mel = tdata._preprocess, gta.gta_mel
    monkeypatch.setattr(tdata, "_preprocess", lambda *a, **k: seen.append(
        torch.get_num_threads()) or preprocess(*a, **k))
    monkeypatch.setattr(gta, "gta_mel", lambda *a, **k: seen.append(
        torch.get_num_threads()) or gta_mel(*a, **k))
    before = torch.get_num_threads()
    torch.set_num_threads(OTHER)
    yield seen
    torch.set_num_threads(before)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("recipe", ["synthesizer", "vocoder"])
def test_the_corpus_is_preprocessed_on_the_runs_threads(recipe, tmp_path, transcribed_corpus,
                                                        ge2e_checkpoint, threads_seen) -> None:
    corpus = transcribed_corpus(tmp_path / "corpus")
    encoder = ge2e_checkpoint(tmp_path / "enc.pt")
    if recipe == "synthesizer":
        model = TacotronConfig.tiny(speaker_dim=8, n_mels=80).to_dict()
        settings = {"model": model, "encoder": str(encoder)}
    else:  # on a (random, tiny) synthesizer's ground-truth-aligned mels
        syn = Tacotron(TacotronConfig.tiny(speaker_dim=8, n_mels=80))
        path = save_checkpoint(tmp_path / "syn.pt", kind=tsyn.KIND, config=syn.cfg.to_dict(),
                               state_dict=syn.state_dict(),
                               extra={"mel": tsyn.MEL, "symbols": SYMBOLS,
                                      "encoder": choose_encoder(encoder, "test").record()})
        settings = {"model": WaveRNNConfig.tiny(n_mels=80, hop_length=200).to_dict(),
                    "seq_frames": 4, "val_seconds": 0, "gta": str(path)}
    sets = [x for k, v in {**settings, "batch_size": 2, "threads": 1,
                           "cache_dir": str(tmp_path / "cache")}.items()
            for x in ("--set", f"{k}={json.dumps(v)}")]
    assert main(["train-voice", recipe, str(corpus), "-o", str(tmp_path / "run"),
                 "--max-steps", "1", *sets]) == 0
    assert threads_seen and set(threads_seen) == {1}, threads_seen
    assert torch.get_num_threads() == 1  # the fit's, as before
