"""The Gradio layer: builds with fake pipelines; handlers turn errors into messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from emovc.app.services import AUTO, AppBackend
from emovc.errors import AudioError

gr = pytest.importorskip("gradio")


def test_readable_error_passes_emovc_messages_and_hides_tracebacks() -> None:
    from emovc.app.ui import readable_error

    assert readable_error(AudioError("clip 'a.wav' is too long")) == "⚠ clip 'a.wav' is too long"
    msg = readable_error(RuntimeError("boom\n  File x.py, line 3"))
    assert msg == "⚠ internal error (RuntimeError); see the server log"


def test_an_internal_error_names_no_server_path(caplog) -> None:
    """An internal error's first line was shown, with the work dir's paths hidden but not
    others: a missing model named the server's cache folder. Its type is shown; the server
    log has the whole error."""
    from emovc.app.ui import readable_error

    missing = "/home/user/.cache/emovc/models/m2m/model.pt"
    exc = FileNotFoundError(2, "No such file or directory", missing)
    with caplog.at_level("ERROR", logger="emovc.app"):
        msg = readable_error(exc, Path("/tmp/emovc-app-1"))
    assert msg == "⚠ internal error (FileNotFoundError); see the server log"
    assert missing in caplog.text


def test_an_emovc_error_names_an_installed_file_inside_its_package() -> None:
    """A damaged bundled model is an EmovcError naming the model's full path in
    site-packages: the browser now sees it inside its package."""
    import emovc
    from emovc.app.ui import readable_error
    from emovc.errors import ConfigError

    model = Path(emovc.__file__).parent / "pretrained" / "m2m-ravdess" / "model.pt"
    msg = readable_error(ConfigError("bundled model m2m-ravdess is corrupted (checksum "
                                     f"mismatch): {model}"), Path("/tmp/emovc-app-1"))
    assert msg.endswith("mismatch): emovc/pretrained/m2m-ravdess/model.pt")


def test_guard_returns_message_in_status_slot() -> None:
    from emovc.app.ui import _guard

    def handler(x, progress=None):
        raise AudioError(f"bad {x}")

    wrapped = _guard(3, handler)
    with pytest.warns(UserWarning, match="bad clip"):  # gr.Warning outside a request
        *kept, message = wrapped("clip")
    assert message == "⚠ bad clip"
    assert list(__import__("inspect").signature(wrapped).parameters) == ["x", "progress"]
    # the other outputs are left as they were: an earlier good result stays on the page
    assert all(isinstance(k, dict) and k.get("__type__") == "update" and len(k) == 1
               for k in kept) and len(kept) == 2
    assert kept[0] == gr.skip()


def test_build_ui_has_four_tabs(backend: AppBackend) -> None:
    from emovc.app.ui import build_ui

    demo = build_ui(backend)
    labels = [b.label for b in demo.blocks.values() if isinstance(b, gr.Tab)]
    assert labels == ["Convert emotion", "Recognise emotion", "Clone voice", "Evaluate"]
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"convert-button", "recognise-button", "clone-button", "evaluate-button"} <= ids


def test_build_ui_without_models_says_so(work, factories) -> None:
    from emovc.app.ui import build_ui

    factories.converter_names = lambda: []
    factories.missing = lambda: {"clone": "voice cloning is not installed in this emovc build"}
    demo = build_ui(AppBackend(work, factories=factories))
    by_id = {getattr(b, "elem_id", None): b for b in demo.blocks.values()}
    assert "no emotion conversion model is installed" in by_id["convert-status"].value
    assert "Not available: voice cloning is not installed" in by_id["clone-missing"].value
    assert "recognise-missing" not in by_id



def _handler(demo, name: str):
    """Call the demo's handler ``name`` the way gradio does for a request of a browser
    session: ``gr.Request`` and ``gr.Progress`` parameters filled in."""
    from gradio.helpers import special_args

    fn = next(f.fn for f in demo.fns.values() if f.name == name)

    def call(*inputs, session: str):
        args = special_args(fn, list(inputs), gr.Request(session_hash=session))[0]
        return fn(*args)

    return call


def test_each_browser_session_has_its_own_state(backend: AppBackend, upload) -> None:
    """The handlers key the backend's state by gradio's session_hash, and the unload event (the
    connection ended) ends that session: its state is dropped after the grace period."""
    from emovc.app.services import AUTO
    from emovc.app.ui import build_ui, session_key

    demo = build_ui(backend)
    convert, clone = _handler(demo, "convert"), _handler(demo, "clone")
    evaluate, unload = _handler(demo, "evaluate"), _handler(demo, "end_session")
    status = convert(str(upload(emotion="calm")), "fake-calm-angry", AUTO, "angry", 1.0, 1.0,
                     1.0, None, 0.0, session="tab-1")[-1]
    assert "RTF" in status
    clone(str(upload("ref.wav")), True, "Kids.", "none", "voice", session="tab-1")
    with pytest.warns(UserWarning, match="nothing to evaluate yet"):
        assert "nothing to evaluate yet" in evaluate(None, None, session="tab-2")[-1]
    assert "report ready" in evaluate(None, None, session="tab-1")[-1]
    assert backend.session("tab-1").uploads.voices()
    assert not backend.session("tab-2").uploads.voices()
    unload(session="tab-1")  # kept for a reconnecting tab, forgotten after the grace period
    assert "tab-1" in backend.sessions
    backend.sessions.grace_s = 0
    assert "tab-1" not in backend.sessions and "tab-2" in backend.sessions
    assert session_key(gr.Request(session_hash="abc")) == "abc"
    assert session_key(None) != session_key(None)  # no session: never shared


def test_cli_help() -> None:
    from emovc.cli import app_cmds

    cli = typer.Typer()
    app_cmds.register(cli)
    cli.command("noop")(lambda: None)  # a second command keeps "app" a subcommand
    out = CliRunner().invoke(cli, ["app", "--help"])
    assert out.exit_code == 0
    for option in ("--host", "--port", "--max-upload-mb", "--max-duration-s", "--work-dir",
                   "127.0.0.1"):
        assert option in out.output


def test_bundled_converter_defaults_lie_on_the_slider_grids() -> None:
    """The convert tab shows each model's default pitch level, envelope gain and voice quality
    on a slider; a value between the slider's steps would be snapped by the browser and
    converted wrongly."""
    from emovc.app.ui import GAIN_SLIDER, PITCH_SLIDER, VOICE_QUALITY_SLIDER
    from emovc.pretrained.registry import available, inference_defaults

    models = available("emotion-converter")
    assert models
    for m in models:
        defaults = inference_defaults(m.path)
        for key, (lo, hi, step), default in (("pitch_level", PITCH_SLIDER, 1.0),
                                             ("envelope_gain", GAIN_SLIDER, 1.0),
                                             ("voice_quality", VOICE_QUALITY_SLIDER, 0.0)):
            value = float(defaults.get(key, default))
            assert lo <= value <= hi, (m.name, key, value)
            steps = (value - lo) / step
            assert abs(steps - round(steps)) < 1e-6, (m.name, key, value, step)


def test_voice_quality_slider_of_a_missing_model_or_a_bug(work, factories) -> None:
    """A model that is not installed leaves the slider inactive; any other error was
    swallowed the same way and now reaches gradio (and the server log)."""
    from emovc.app.ui import build_ui

    demo = build_ui(AppBackend(work, factories=factories))
    on_render = _handler(demo, "on_render")
    assert on_render("source", "", session="s").interactive is False  # ModelNotInstalled

    def broken(name):
        raise ZeroDivisionError("a bug")

    factories.converter = broken
    on_render = _handler(build_ui(AppBackend(work, factories=factories)), "on_render")
    with pytest.raises(ZeroDivisionError):
        on_render("source", "fake-calm-angry", session="s")


class Defaults:
    """A fake converter with defaults of its own, like m2m-ravdess (0.125 / 1.15 / 1)."""

    source_emotions = target_emotions = ["calm", "angry", "sad"]
    pitch_level, envelope_gain = 0.125, 1.15
    renderers, renderer = ("world", "source"), "source"
    voice_quality = 1.0
    voice_quality_stats = {"calm": {"jitter": 0.01, "shimmer_db": 0.5}}
    detects_source = True

    def fixed_source(self, target):
        return None

    def convert(self, wav, sr, target, source=None, intensity=1.0, pitch_level=1.0,
                envelope_gain=1.0, renderer=None, voice_quality=None, name="audio"):
        self.passed = (pitch_level, envelope_gain, renderer, voice_quality)
        return wav


def _by_id(demo) -> dict:
    return {getattr(b, "elem_id", None): b for b in demo.blocks.values()}


def test_model_setting_sliders_reset_to_the_models_defaults(work, factories, upload) -> None:
    """Gradio's ↺ reset a slider to the value it was built with (pitch level 1, envelope
    gain 1, voice quality 0), not to the chosen model's default, and the API defaults were
    those values too. The sliders are built empty: ↺ empties one, which then shows the
    model's value, and an API call without them gets the model's defaults."""
    from emovc.app import ui
    from emovc.app.ui import build_ui

    # a component class makes gradio write a type stub next to its module, unless kept from it
    assert not Path(ui.__file__).with_suffix(".pyi").exists()
    conv = Defaults()
    factories.converter = lambda name: conv
    demo = build_ui(AppBackend(work, factories=factories))
    ids = {"convert-pitch-level": "pitch_level", "convert-envelope-gain": "envelope_gain",
           "convert-voice-quality": "quality"}
    config = {c["props"].get("elem_id"): c["props"]
              for c in demo.get_config_file()["components"]}
    assert [config[e].get("value") for e in ids] == [None, None, None]  # None: left out
    params = {p["parameter_name"]: p for p in
              demo.get_api_info()["named_endpoints"]["/convert"]["parameters"]}
    for name in ids.values():
        assert params[name]["parameter_has_default"] and params[name]["parameter_default"] is None
    for elem, value in (("convert-pitch-level", 0.125), ("convert-envelope-gain", 1.15),
                        ("convert-voice-quality", 1.0)):
        slider = _by_id(demo)[elem]
        assert slider.preprocess(None) is None and slider.preprocess(0.5) == 0.5
        show = _handler(demo, f"{ids[elem].replace('quality', 'voice_quality')}_default")
        assert show(None, "fake", session="s") == value  # ↺: the model's value
        assert show(0.5, "fake", session="s") == gr.skip()  # a value the user set stays
    convert = _handler(demo, "convert")
    status = convert(str(upload(emotion="calm")), "fake", "calm", "angry", 1.0, None, None,
                     "source", None, session="s")[-1]
    assert conv.passed == (0.125, 1.15, "source", 1.0), status


def test_a_pairwise_model_locks_the_source(backend: AppBackend) -> None:
    """The pairwise model's source list offered calm and angry, though its source is always
    the other emotion of the pair."""
    from emovc.app.ui import build_ui

    on_model = _handler(build_ui(backend), "on_model")
    source = on_model("fake-calm-angry", "angry", session="s")[0]
    assert source.value == AUTO and source.interactive is False


def test_an_upload_error_is_also_a_toast(backend: AppBackend, work) -> None:
    """The docs promise a toast for every error; the upload's detection filled only the
    status box."""
    from emovc.app.ui import build_ui

    notes = work.subdir("uploads") / "notes.wav"
    notes.write_text("not audio")
    on_upload = _handler(build_ui(backend), "on_upload")
    with pytest.warns(UserWarning, match="'notes.wav' is not a readable audio file"):
        source, status = on_upload(str(notes), "fake-calm-angry", session="s")
    assert status.startswith("⚠ 'notes.wav' is not a readable") and source.value == AUTO


def test_evaluate_links_data_files_and_the_listening_test(backend: AppBackend, upload) -> None:
    from emovc.app.ui import build_ui

    demo = build_ui(backend)
    _handler(demo, "convert")(str(upload(emotion="calm")), "fake-calm-angry", AUTO, "angry",
                              1.0, None, None, None, None, session="s")
    links, frame, status = _handler(demo, "evaluate")(None, None, session="s")
    assert "report ready" in status
    for name in ("report.html", "metrics.json", "per_utterance.csv"):
        assert f"/{name}\"" in links
    assert 'id="eval-listening-link"' in links and "this machine only" in links
    ratings, summary = _handler(demo, "listening_results")(session="s")
    assert ratings is None and "no ratings yet" in summary


def test_browser_host() -> None:
    from emovc.app.ui import _browser_host

    assert _browser_host(gr.Request(headers={"host": "lab-pc:7860"})) == "lab-pc"
    assert _browser_host(gr.Request(headers={"host": "[::1]:7860"})) == "::1"
    assert _browser_host(None) is None
