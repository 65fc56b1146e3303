"""Validation audio of a pair outside angry/sad/happy (it used to write none)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    assert names == ["source_03-01-01-01-01-01-17.wav", "step000004_neutral_to_calm.wav"], names
    assert Path(run / "model.pt").is_file()


def test_stargan_validation_audio_is_what_convert_makes_beside_its_source(corpus, cache_root,
                                                                          tmp_path):
    """The clips were WORLD renderings peak-normalised to -0.9 dBFS, without the tempo,
    level, pause and limiter stage of `emovc convert`, and the take itself was not written."""
    import numpy as np

    from emovc.audio import load_audio
    from emovc.pipelines.conversion import EmotionConverter
    from emovc.training.stargan import train

    from .conftest import stargan_config

    run = tmp_path / "run"
    model = train(stargan_config(corpus, run, cache_root, 4))  # validates at step 4, the end
    sources = sorted((run / "audio").glob("source_*.wav"))
    assert [p.name for p in sources] == ["source_03-01-02-01-01-01-17.wav"]
    take = load_audio(corpus / "Actor_17" / "03-01-02-01-01-01-17.wav", 16000)
    np.testing.assert_allclose(load_audio(sources[0], 16000), take, atol=1e-4)
    want = EmotionConverter.from_pretrained(model).convert(take, 16000, "angry", source="calm")
    got = load_audio(run / "audio" / "step000004_calm_to_angry.wav", 16000)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_the_source_clip_written_meanwhile_by_another_process_is_no_error(tmp_path,
                                                                         monkeypatch):
    """Two processes may both find source_NAME.wav missing; the one that writes second
    replaced it (it raised OutputExistsError, and the other processes then hung)."""
    import numpy as np

    from emovc.training.validation_audio import write_source_clip

    wav = synthesize(EMOTION_VOICES["calm"], duration=0.5, seed=1)
    path = write_source_clip(tmp_path, "take", wav, 16000)
    real, asked = Path.exists, []

    def first_not_yet(self):  # the race: the clip was written just after this check
        asked.append(self)
        return len(asked) > 1 and real(self)

    monkeypatch.setattr(Path, "exists", first_not_yet)
    assert write_source_clip(tmp_path, "take", np.zeros_like(wav), 16000) == path


@pytest.mark.parametrize("trainer", ["stargan", "cyclegan"])
def test_only_the_first_process_exports_and_renders_validation_audio(trainer, monkeypatch):
    """Under --devices N every process runs validation_step: only rank 0 exports model.pt
    and renders the validation audio (N-fold conversions, and racing writes, before)."""
    import importlib
    from types import SimpleNamespace

    mod = importlib.import_module(f"emovc.training.{trainer}")
    calls = []
    monkeypatch.setattr(mod, "export", lambda *a: calls.append("export"))
    monkeypatch.setattr(mod, "write_validation_audio", lambda *a, **k: calls.append("audio"))
    cls = mod.StarGANModule if trainer == "stargan" else mod.CycleGANModule
    fake = SimpleNamespace(trainer=SimpleNamespace(is_global_zero=False),
                           data=SimpleNamespace(val_groups=[]),
                           cfg=SimpleNamespace(run_dir="run", source="a", target="b"))
    cls.validation_step(fake, None, 0)
    assert calls == []
    fake.trainer.is_global_zero = True
    cls.validation_step(fake, None, 0)
    assert calls == ["export", "audio"]
