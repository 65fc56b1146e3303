"""End to end: start ``emovc app`` in-process and drive it with headless Chromium.

Uses the real bundled pipelines. Set ``EMOVC_SCREENSHOTS=docs/img`` to also save one
screenshot per tab (``app_convert.png`` ...), palette-quantised to stay small.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from urllib.parse import urljoin

import numpy as np
import pytest
import soundfile as sf

from emovc.audio import save_audio
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import EmovcError

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 150_000  # per wait; model loading on a busy 2-core machine
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
                       " (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def running():
    from emovc.app.limits import UploadLimits
    from emovc.app.server import launch

    factories = None
    if os.environ.get("EMOVC_APP_E2E_FAKES"):  # development aid: the fakes of conftest.py
        import importlib.util

        spec = importlib.util.spec_from_file_location("fakes", Path(__file__).with_name(
            "conftest.py"))
        fakes = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(fakes)
        factories = fakes.fake_factories()
    running = launch(port=0, limits=UploadLimits(max_upload_mb=5, max_duration_s=30),
                     factories=factories, quiet=True)
    yield running
    running.close()


@pytest.fixture(scope="module")
def page(running):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(running.url)
        page.wait_for_selector("#convert-input")
        yield page
        browser.close()


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("clips")
    notes = tmp / "notes.wav"
    notes.write_text("this is a text file, not audio")
    return {
        "calm": save_audio(tmp / "calm.wav", synthesize(EMOTION_VOICES["calm"], 3.0, seed=1)),
        "angry": save_audio(tmp / "angry.wav", synthesize(EMOTION_VOICES["angry"], 2.5, seed=2)),
        "voice": save_audio(tmp / "voice.wav", synthesize(EMOTION_VOICES["neutral"], 4.0, seed=3)),
        "notes": notes,
    }


def _screenshot(page, name: str) -> None:
    folder = os.environ.get("EMOVC_SCREENSHOTS")
    if not folder:
        return
    from PIL import Image

    page.evaluate("document.querySelectorAll('.toast-wrap').forEach(t => t.remove())")
    page.wait_for_timeout(300)
    png = page.screenshot(full_page=True)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if len(png) > 280_000:  # docs images stay < 300 KB: 256-colour palette
        image = image.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    Path(folder).mkdir(parents=True, exist_ok=True)
    image.save(Path(folder) / name, optimize=True)


def _upload(page, elem: str, path: Path) -> None:
    page.locator(f"#{elem} input[type=file]").set_input_files(str(path))


def _pick(page, elem: str, option: str) -> None:
    box = page.locator(f"#{elem} input")
    box.click()
    listbox = box.get_attribute("aria-controls")  # options of this dropdown only
    page.locator(f"li[id^='{listbox}-option'][aria-label='{option}']").click()


def _status(page, elem: str) -> str:
    return page.input_value(f"#{elem} textarea")


def _click_and_wait(page, button: str, elem: str, text: str) -> str:
    """Click ``button`` and wait for status box ``elem`` to change to a message containing
    ``text`` — or to an error ("⚠ ..."), which fails at once with the message."""
    before = _status(page, elem)
    page.locator(f"#{button}").click()
    return _wait_status(page, elem, text, before)


def _wait_status(page, elem: str, text: str, before: str = "") -> str:
    page.wait_for_function(
        "([sel, text, before]) => { const v = document.querySelector(sel)?.value || '';"
        " return v !== before && (v.includes(text) || v.includes('⚠')); }",
        arg=[f"#{elem} textarea", text, before])
    status = _status(page, elem)
    assert text in status, status
    return status


def _wait_plot(page, elem: str) -> None:
    page.locator(f"#{elem} img").first.wait_for()  # matplotlib figures arrive as <img>


def _output_audio(page, elem: str) -> np.ndarray:
    """Download the audio shown by output component ``elem`` and decode it."""
    link = page.locator(f"#{elem} a[download]")
    link.wait_for(state="attached")
    response = page.request.get(link.get_attribute("href"))
    assert response.ok, response.status
    wav, sr = sf.read(io.BytesIO(response.body()))
    assert sr == 16000
    return wav


def _skip_if_missing(page, running, tab: str, elem: str) -> None:
    """A tab without its model must say so (banner + message on use), then the test skips."""
    message = running.backend.missing().get(tab)
    if message is None:
        return
    assert "Not available" in page.inner_text(f"#{tab}-missing")
    _click_and_wait(page, elem, f"{tab}-status", "⚠")
    pytest.skip(f"{tab} tab: {message}")


def test_convert_tab(page, running, clips) -> None:
    _skip_if_missing(page, running, "convert", "convert-button")
    _upload(page, "convert-input", clips["calm"])
    note = _wait_status(page, "convert-status", "detected")
    model = page.input_value("#convert-model input")
    sources, targets = running.backend.converter_emotions(model)  # cached: same process
    if "calm" in sources:  # the source is editable: the synthetic clip is a calm caricature
        _pick(page, "convert-source", "calm")
    source = page.input_value("#convert-source input")
    targets = [t for t in targets if t != source]
    target = "angry" if "angry" in targets else targets[0]
    _pick(page, "convert-target", target)
    summary = _click_and_wait(page, "convert-button", "convert-status", "RTF")
    wav = _output_audio(page, "convert-output")
    assert 0.7 < len(wav) / 16000 / 3.0 < 1.4, (len(wav), note, summary)  # models may retime
    assert np.std(wav) > 0.01 and f"→ {target}" in summary
    if running.backend.converter_renderers(model)[1] == "source":  # the slider reaches it
        assert f"voice quality {running.backend.converter_voice_quality(model):g}" in summary
    _wait_plot(page, "convert-plot")
    _screenshot(page, "app_convert.png")


def test_recognise_tab_rejects_non_audio_then_works(page, running, clips) -> None:
    page.get_by_role("tab", name="Recognise emotion").click()
    _skip_if_missing(page, running, "recognise", "recognise-button")
    _upload(page, "recognise-input", clips["notes"])
    message = _click_and_wait(page, "recognise-button", "recognise-status", "⚠")
    assert "not a readable audio file" in message and "Traceback" not in message
    page.locator("#recognise-input button[aria-label='Clear']").click()
    _upload(page, "recognise-input", clips["angry"])
    result = _click_and_wait(page, "recognise-button", "recognise-status", "most likely:")
    assert result.split(":")[1].split("(")[0].strip() in page.content()
    _wait_plot(page, "recognise-plot")
    _screenshot(page, "app_recognise.png")


def _clone_emotion(running) -> str:
    """An emotion the cloner can apply (through the default converter), else "none"."""
    try:
        from emovc.pipelines.conversion import DEFAULT_MODEL

        targets = running.backend.converter_emotions(DEFAULT_MODEL)[1]
    except (ImportError, EmovcError):  # default converter not bundled
        return "none"
    return "angry" if "angry" in targets else targets[0]


def test_clone_tab(page, running, clips) -> None:
    page.get_by_role("tab", name="Clone voice").click()
    _skip_if_missing(page, running, "clone", "clone-button")
    _upload(page, "clone-ref", clips["voice"])
    text = "Kids are talking by the door."
    page.locator("#clone-text textarea").fill(text)
    refused = _click_and_wait(page, "clone-button", "clone-status", "⚠")  # no consent yet
    assert "consent" in refused
    page.locator("#clone-consent input").check()
    emotion = _clone_emotion(running)
    _pick(page, "clone-emotion", emotion)
    summary = _click_and_wait(page, "clone-button", "clone-status", "speaker similarity")
    wav = _output_audio(page, "clone-output")
    seconds = len(wav) / 16000
    assert 0.03 * len(text) < seconds < 0.3 * len(text), (seconds, summary)
    assert np.std(wav) > 0.01
    _wait_plot(page, "clone-plot")
    _screenshot(page, "app_clone.png")


def test_evaluate_tab(page, running) -> None:
    page.get_by_role("tab", name="Evaluate").click()
    _skip_if_missing(page, running, "evaluate", "evaluate-button")
    if not _converted(running):  # the convert test could not run
        message = _click_and_wait(page, "evaluate-button", "evaluate-status", "⚠")
        assert "nothing to evaluate yet" in message
        pytest.skip("no conversions in this session to evaluate")
    _click_and_wait(page, "evaluate-button", "evaluate-status", "report ready")
    link = page.locator("#eval-report-link")
    response = page.request.get(urljoin(page.url, link.get_attribute("href")))
    assert response.ok and "text/html" in response.headers["content-type"]
    page.frame_locator("#evaluate-report iframe").locator("body").wait_for()
    _screenshot(page, "app_evaluate.png")


def _converted(running) -> bool:
    """Whether a browser session made a conversion (only this module's pages use the app)."""
    sessions = running.backend.sessions
    return any(sessions.get(key).run.rows for key in sessions.keys())


def test_another_browser_sees_none_of_this_ones_state(page, running) -> None:
    """A second browser's evaluate tab has none of the first one's conversions, and closing
    it ends its session in the backend (gradio's unload event; its state is kept for the
    grace period, in case the tab only lost its connection)."""
    before = set(running.backend.sessions.keys())
    other = page.context.browser.new_page()  # a context of its own: another browser
    other.set_default_timeout(TIMEOUT_MS)
    other.goto(running.url)
    other.get_by_role("tab", name="Evaluate").click()
    _skip_if_missing(other, running, "evaluate", "evaluate-button")
    message = _click_and_wait(other, "evaluate-button", "evaluate-status", "⚠")
    assert "nothing to evaluate yet" in message
    (key,) = set(running.backend.sessions.keys()) - before
    other.close()
    for _ in range(100):  # the server sees the heartbeat stream close
        if running.backend.sessions.ended(key):
            break
        page.wait_for_timeout(100)
    assert running.backend.sessions.ended(key)
    assert not any(running.backend.sessions.ended(k) for k in before)
    assert before <= set(running.backend.sessions.keys())  # the first browser's stays


def test_convert_settings_follow_the_model(page, running) -> None:
    """Settings a model cannot use are locked: a SpectroGAN's envelope gain, and the voice
    quality of a model without its statistics even on the source renderer."""
    page.get_by_role("tab", name="Convert emotion").click()  # the page is shared
    _skip_if_missing(page, running, "convert", "convert-button")

    def wait_enabled(elem: str, enabled: bool) -> None:
        page.wait_for_function(
            "([sel, on]) => { const e = document.querySelector(sel);"
            " return e !== null && e.disabled === !on; }",
            arg=[f"#{elem} input[type=range]", enabled])

    names = running.backend.converter_names()
    if "spectrogan-ravdess" in names:
        _pick(page, "convert-model", "spectrogan-ravdess")
        wait_enabled("convert-envelope-gain", False)
        wait_enabled("convert-voice-quality", False)
    if "cyclegan-calm-angry" in names:
        _pick(page, "convert-model", "cyclegan-calm-angry")
        wait_enabled("convert-envelope-gain", True)
        _pick(page, "convert-renderer", "source")
        page.wait_for_timeout(500)  # the renderer's change event
        wait_enabled("convert-voice-quality", False)  # no jitter/shimmer statistics


def test_slider_reset_goes_to_the_models_default(page, running) -> None:
    """Gradio's ↺ button set a slider back to the value it was built with (pitch level 1,
    envelope gain 1, voice quality 0), not to the chosen model's default."""
    page.get_by_role("tab", name="Convert emotion").click()  # the page is shared
    _skip_if_missing(page, running, "convert", "convert-button")
    backend = running.backend
    for model in backend.converter_names():
        _pick(page, "convert-model", model)
        defaults = {"convert-pitch-level": backend.converter_pitch_level(model),
                    "convert-envelope-gain": backend.converter_envelope_gain(model),
                    "convert-voice-quality": backend.converter_voice_quality(model)}
        for elem, default in defaults.items():
            number = f"#{elem} input[type=number]"
            page.wait_for_function(  # the model's defaults arrive with its change event
                "([sel, v]) => Number(document.querySelector(sel)?.value) === v",
                arg=[number, default or 0.0])
            slider = page.locator(f"#{elem} input[type=range]")
            if slider.is_disabled():
                continue
            slider.fill("0.5" if default != 0.5 else "0.25")
            slider.dispatch_event("pointerup")
            page.wait_for_function("([sel, v]) => Number(document.querySelector(sel)?.value)"
                                   " !== v", arg=[number, default])
            page.locator(f"#{elem} button[aria-label='Reset to default value']").click()
            page.wait_for_function(
                "([sel, v]) => Number(document.querySelector(sel)?.value) === v",
                arg=[number, default])
