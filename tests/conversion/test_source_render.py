"""Renderer ``"source"``: the converted change applied to the input's own samples."""

import json
import shutil

import numpy as np
import pytest
import pyworld
import soundfile as sf

from emovc.errors import ConfigError
from emovc.features.world import WorldConfig, encode_envelope
from emovc.models.conversion.features import analyze_for_conversion
from emovc.models.conversion.render import filter_envelope, render_on_source
from emovc.pipelines.conversion import EmotionConverter

CFG = WorldConfig()


def _features(x):
    feats, world, _ = analyze_for_conversion(x, CFG, ap_stride=0, with_cap=False, defer_ap=True)
    return feats, world


def test_analysis_without_aperiodicity_says_so_when_it_is_read(calm):
    _, world = _features(calm)
    with pytest.raises(ValueError, match="aperiodicity was not estimated"):
        world.ap  # noqa: B018


def test_a_flat_envelope_change_is_a_plain_gain(calm):
    t = calm.shape[0] // 80 + 1
    bins = CFG.fft_size // 2 + 1
    flat = np.ones((t, bins))
    change = encode_envelope(4.0 * flat, CFG) - encode_envelope(flat, CFG)
    y = filter_envelope(calm, change, CFG)  # power x4 = amplitude x2
    np.testing.assert_allclose(y, 2.0 * calm, atol=2e-3 * np.abs(calm).max())


def test_unchanged_features_give_the_input_back_exactly(calm):
    feats, _ = _features(calm)
    y = render_on_source(calm, feats, feats.mcep.copy(), feats.lf0.copy(), CFG)
    np.testing.assert_array_equal(y, calm.astype(np.float32))


def test_pitch_and_tempo_change_on_the_input_samples(calm):
    feats, _ = _features(calm)
    y = render_on_source(calm, feats, feats.mcep, feats.lf0 + np.log(1.25), CFG, tempo=1.2)
    assert y.shape == (round(calm.shape[0] * 1.2),) and np.isfinite(y).all()

    def median_f0(x):
        f0, _ = pyworld.dio(x.astype(np.float64), 16000, frame_period=5.0)
        return np.median(f0[f0 > 0])

    assert median_f0(y) / median_f0(calm) == pytest.approx(1.25, rel=0.04)


def test_converter_renders_on_source_when_asked(stargan_run, calm, tmp_path):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    assert conv.renderer == "world"
    world = conv.convert(calm, 16000, "angry", source="calm")
    conv.renderer = "source"
    y = conv.convert(calm, 16000, "angry", source="calm")
    assert y.shape == world.shape and np.isfinite(y).all() and not np.allclose(y, world)
    from emovc.audio import save_audio

    inp = save_audio(tmp_path / "in.wav", calm, 16000)
    out, _ = conv.convert_file(inp, tmp_path / "out.wav", "angry", source="calm")
    assert sf.SoundFile(str(out)).comment.endswith("intensity 1.0, renderer source)")
    with pytest.raises(ConfigError, match="unknown renderer 'praat'.*world.*source") as e:
        conv.renderer = "praat"
    assert "\n" not in str(e.value)


def test_renderer_default_comes_from_meta_json(stargan_run, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copyfile(stargan_run, folder / "model.pt")
    (folder / "meta.json").write_text(json.dumps({"inference": {"renderer": "source"}}))
    assert EmotionConverter.from_pretrained(str(folder)).renderer == "source"
    (folder / "meta.json").write_text(json.dumps({"inference": {"renderer": "psola"}}))
    with pytest.raises(ConfigError, match="unknown renderer 'psola'"):
        EmotionConverter.from_pretrained(str(folder))


def test_cli_renderer_option(stargan_run, calm, tmp_path, capsys):
    from emovc.audio import save_audio
    from emovc.cli import main as cli_main

    if "emovc.cli.convert_cmds" not in cli_main.COMMAND_MODULES:
        cli_main.COMMAND_MODULES.append("emovc.cli.convert_cmds")
    inp = save_audio(tmp_path / "in.wav", calm, 16000)
    args = ["convert", str(inp), "--to", "sad", "--from", "calm", "--model", str(stargan_run),
            "-o", str(tmp_path / "out.wav"), "--renderer"]
    assert cli_main.main(args + ["source"]) == 0
    assert sf.SoundFile(str(tmp_path / "out.wav")).comment.endswith("renderer source)")
    assert cli_main.main(args + ["vocoder", "--force"]) == 2
    assert "unknown renderer 'vocoder'" in capsys.readouterr().err


def test_renderer_per_call_overrides_the_default(stargan_run, calm):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    assert conv.renderers == ("world", "source")
    per_call = conv.convert(calm, 16000, "angry", source="calm", renderer="source")
    assert conv.renderer == "world"  # the default is left alone
    conv.renderer = "source"
    np.testing.assert_array_equal(per_call, conv.convert(calm, 16000, "angry", source="calm"))
    with pytest.raises(ConfigError, match="unknown renderer 'x'"):
        conv.convert(calm, 16000, "angry", source="calm", renderer="x")


VQ_STATS = {"calm": {"jitter": 0.016, "shimmer_db": 1.07},
            "angry": {"jitter": 0.03, "shimmer_db": 1.4}}


def test_voice_quality_adds_the_target_emotions_irregularity(stargan_run, calm, tmp_path):
    from emovc.errors import EmovcError

    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copyfile(stargan_run, folder / "model.pt")
    (folder / "meta.json").write_text(json.dumps({"inference": {
        "renderer": "source", "voice_quality": 1.0, "voice_quality_stats": VQ_STATS}}))
    conv = EmotionConverter.from_pretrained(str(folder))
    assert (conv.voice_quality, conv.voice_quality_stats) == (1.0, VQ_STATS)
    rough = conv.convert(calm, 16000, "angry", source="calm")
    np.testing.assert_array_equal(rough, conv.convert(calm, 16000, "angry", source="calm"))
    conv.voice_quality = 0.0
    plain = conv.convert(calm, 16000, "angry", source="calm")
    assert rough.shape == plain.shape and not np.allclose(rough, plain)
    # no statistics for the target (sad): nothing added
    conv.voice_quality = 1.0
    sad = conv.convert(calm, 16000, "sad", source="calm")
    conv.voice_quality = 0.0
    np.testing.assert_array_equal(sad, conv.convert(calm, 16000, "sad", source="calm"))
    # WORLD's rendering has no cycles to perturb: the setting does not apply there
    world = conv.convert(calm, 16000, "angry", source="calm", renderer="world")
    conv.voice_quality = 1.0
    np.testing.assert_array_equal(world, conv.convert(calm, 16000, "angry", source="calm",
                                                      renderer="world"))
    from emovc.audio import save_audio

    inp = save_audio(tmp_path / "in.wav", calm, 16000)
    out, _ = conv.convert_file(inp, tmp_path / "out.wav", "angry", source="calm")
    assert sf.SoundFile(str(out)).comment.endswith("renderer source, voice quality 1)")
    with pytest.raises(EmovcError, match="voice quality must be between 0 and 3"):
        conv.voice_quality = 5
    # per call: overrides the default for that call only, in the file's provenance too
    assert conv.voice_quality == 1.0
    np.testing.assert_array_equal(plain, conv.convert(calm, 16000, "angry", source="calm",
                                                      voice_quality=0.0))
    assert conv.voice_quality == 1.0
    out, _ = conv.convert_file(inp, tmp_path / "out0.wav", "angry", source="calm",
                               voice_quality=0.0)
    assert sf.SoundFile(str(out)).comment.endswith("renderer source)")
    with pytest.raises(EmovcError, match="voice quality must be between 0 and 3"):
        conv.convert(calm, 16000, "angry", source="calm", voice_quality=-1)
