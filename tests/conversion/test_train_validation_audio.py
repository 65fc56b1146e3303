"""Validation audio of a pair outside angry/sad/happy (it used to write none)."""

from __future__ import annotations

from pathlib import Path

from emovc.audio import save_audio
from emovc.data.synthetic import EMOTION_VOICES, synthesize

from .conftest import FAST, TINY_CYCLEGAN


def test_cyclegan_pair_outside_the_preferred_targets_writes_validation_audio(tmp_path):
    from emovc.training.cyclegan import build_config, train

    corpus = tmp_path / "corpus"
    for actor in ("01", "17"):
        for emo, code in (("neutral", "01"), ("calm", "02")):
            for s in ("01", "02"):
                wav = synthesize(EMOTION_VOICES[emo], duration=1.0, seed=int(actor + s))
                save_audio(corpus / f"Actor_{actor}" / f"03-01-{code}-01-{s}-01-{actor}.wav",
                           wav, 16000)
    run = tmp_path / "run"
    cfg = build_config(str(corpus), str(run), "neutral", "calm", max_steps=4,
                       overrides={**FAST, "model": dict(TINY_CYCLEGAN),
                                  "cache_dir": str(tmp_path / "cache")})
    train(cfg)
    names = sorted(p.name for p in (run / "audio").glob("*.wav"))
    assert names == ["step000004_neutral_to_calm.wav"], names
    assert Path(run / "model.pt").is_file()
