"""Phone labels, statistics-mapped fallback units and the cloning styles (synthetic audio)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from emovc.errors import ConfigError
from emovc.features.phones import PHONES, PhoneRecognizer
from emovc.features.world import WorldConfig, analyze, encode_envelope
from emovc.models.synthesizer import unit_selection as us
from emovc.models.synthesizer.mapping import map_envelope
from emovc.pipelines.cloning import STYLES, CloneConfig, VoiceCloner
from emovc.pipelines.frontend import EspeakFrontend


@pytest.fixture(scope="module")
def hello() -> np.ndarray:
    wav, _ = EspeakFrontend().synthesize("Hello world, how are you?")
    return wav


def test_phone_recogniser_labels_speech_and_silence(hello) -> None:
    padded = np.concatenate([np.zeros(8000, np.float32), hello, np.zeros(8000, np.float32)])
    n = WorldConfig().n_frames(len(padded))
    labels = PhoneRecognizer().frame_labels(padded, n, 5.0)
    assert labels.shape == (n,) and labels.min() >= 0 and labels.max() < len(PHONES)
    speech = slice(100 + 20, 100 + len(hello) // 80 - 20)
    assert np.mean(labels[speech] > 0) > 0.7  # phones inside the speech
    assert np.mean(labels[:80] == 0) > 0.8  # silence in the leading 0.5 s pad
    heard = {PHONES[i] for i in labels[speech]}
    assert len(heard & {"HH", "AH", "EH", "L", "OW", "W", "ER", "D", "AW", "Y", "UW", "AA"}) >= 3


def test_phone_mismatch_adds_its_weight(reference_wav) -> None:
    wcfg = WorldConfig()
    cfg = us.UnitSelectionConfig(phone_weight=0.0)
    units = us.analyse_reference([reference_wav], cfg, wcfg)
    assert units.phones is None
    n = len(units.match)
    units.phones = np.arange(n) % 3
    query = units.match[:50]
    labels = np.zeros(50, np.int64)
    plain = us.target_costs(query, units, cfg, labels, slice(0, 50))
    weighted = us.target_costs(query, units, replace(cfg, phone_weight=2.5), labels,
                               slice(0, 50))
    expected = np.broadcast_to(2.5 * (units.phones[None, :] != 0), plain.shape)
    np.testing.assert_allclose(weighted - plain, expected, atol=1e-9)


def test_fallback_cost_switches_between_reference_and_mapped_units(reference_wav) -> None:
    wcfg = WorldConfig()
    cfg = us.UnitSelectionConfig(phone_weight=0.0)
    units = us.analyse_reference([reference_wav], cfg, wcfg)
    n = len(units.match)
    query = us.matching_features(us._analyse(reference_wav[:24000], wcfg, False), cfg, wcfg)
    assert us.select_units(query, units, cfg).max() < n
    everywhere = us.select_units(query, units, replace(cfg, fallback_cost=0.0))
    np.testing.assert_array_equal(everywhere, n + np.arange(len(query)))
    never = us.select_units(query, units, replace(cfg, fallback_cost=1e6))
    assert never.max() < n


def test_map_envelope_moves_statistics_to_the_reference(hello, reference_wav) -> None:
    wcfg = WorldConfig()
    src, ref = analyze(hello, wcfg), analyze(reference_wav, wcfg)
    mapped = map_envelope(src.sp, src.f0, ref.sp, ref.f0, wcfg, dim=24)
    mc = encode_envelope(mapped, wcfg, dim=24)[src.f0 > 0]
    ref_mc = encode_envelope(ref.sp, wcfg, dim=24)[ref.f0 > 0]
    src_mc = encode_envelope(src.sp, wcfg, dim=24)[src.f0 > 0]
    before = np.abs(src_mc.mean(0)[1:] - ref_mc.mean(0)[1:]).mean()
    after = np.abs(mc.mean(0)[1:] - ref_mc.mean(0)[1:]).mean()
    assert after < 0.2 * before
    # the frame-to-frame content (which phone) is the front-end's
    corr = np.corrcoef(mc[:, 1], src_mc[:, 1])[0, 1]
    assert corr > 0.9


@pytest.mark.parametrize("style", list(STYLES))
def test_every_style_clones(style: str, reference_wav) -> None:
    cloner = VoiceCloner(CloneConfig.for_style(style))
    wav, sr = cloner.clone([(reference_wav, 16000)], "Hello world, how are you?")
    front, _ = cloner.frontend.synthesize("Hello world, how are you?")
    assert sr == 16000 and np.isfinite(wav).all() and np.abs(wav).max() > 0.01
    assert abs(len(wav) - len(front)) <= 2 * 80  # timing follows the front-end


def test_clear_style_keeps_front_end_content(hello, reference_wav) -> None:
    wcfg = WorldConfig()
    clear = CloneConfig.for_style("clear").units
    units = us.analyse_reference([reference_wav], clear, wcfg)
    out = us.convert(hello, units, clear, wcfg)
    a = encode_envelope(analyze(out, wcfg).sp, wcfg, dim=13)[:, 1:]
    b = encode_envelope(analyze(hello, wcfg).sp, wcfg, dim=13)[:, 1:]
    t = min(len(a), len(b))
    a, b = a[:t] - a[:t].mean(0), b[:t] - b[:t].mean(0)
    assert np.mean(np.sum(a * b, 1)) / np.sqrt(np.mean(np.sum(a * a, 1)) *
                                               np.mean(np.sum(b * b, 1))) > 0.5


def test_unknown_style_and_bad_fallback_config() -> None:
    with pytest.raises(ConfigError, match="valid choices: voice, balanced, clear"):
        CloneConfig.for_style("loud")
    with pytest.raises(ConfigError, match="render='waveform'"):
        us.UnitSelectionConfig(render="world", fallback_cost=1.0)


def test_cli_clone_style(tmp_path, reference_wav) -> None:
    import typer

    from emovc.audio import save_audio
    from emovc.cli.clone_cmds import register

    app = typer.Typer()
    register(app)
    ref = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    out = tmp_path / "clear.wav"
    args = ["clone", "-r", str(ref), "-t", "Hi there.", "-o", str(out), "--consent"]
    with pytest.raises(ConfigError, match="unknown cloning style 'loud'"):
        app(args=[*args, "--style", "loud"], standalone_mode=False)
    assert not out.exists()
    app(args=[*args, "--style", "clear"], standalone_mode=False)
    assert out.is_file()


def test_frontend_reports_its_phonemes() -> None:
    from emovc.features.phones import UNKNOWN, espeak_phone_index

    wav, sr, phones = EspeakFrontend().synthesize_with_phones("The birch canoe slid.")
    assert phones and all(a < b for _, a, b in phones)
    assert all(b1 <= a2 + 1e-9 for (_, _, b1), (_, a2, _) in zip(phones, phones[1:], strict=False))
    assert phones[-1][2] <= len(wav) / sr + 0.01
    cmu = [PHONES[i] for i in (espeak_phone_index(n) for n, _, _ in phones) if i != UNKNOWN]
    assert len(cmu) >= 0.9 * len(phones)  # the table covers what espeak-ng says
    speech = [p for p in cmu if p != "SIL"]
    assert speech[:4] == ["DH", "AH", "B", "ER"]  # "the bir..."


def test_espeak_phone_names_map_to_cmu() -> None:
    from emovc.features.phones import UNKNOWN, espeak_phone_index

    names = {"'3:": "ER", "@2": "AH", "tS": "CH", ",aI": "AY", "N": "NG", "_:": "SIL"}
    assert {k: PHONES[espeak_phone_index(k)] for k in names} == names
    assert espeak_phone_index("Q!") == UNKNOWN


def test_unknown_front_end_phones_pay_no_phone_cost(reference_wav) -> None:
    from emovc.features.phones import UNKNOWN

    wcfg, cfg = WorldConfig(), us.UnitSelectionConfig(phone_weight=0.0)
    units = us.analyse_reference([reference_wav], cfg, wcfg)
    units.phones = np.ones(len(units.match), np.int64)
    query = units.match[:10]
    plain = us.target_costs(query, units, cfg, np.full(10, UNKNOWN), slice(0, 10))
    weighted = us.target_costs(query, units, replace(cfg, phone_weight=3.0),
                               np.full(10, UNKNOWN), slice(0, 10))
    np.testing.assert_allclose(weighted, plain)
