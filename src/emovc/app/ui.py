"""The Gradio interface: layout and thin handlers that call :class:`AppBackend`.

Handlers turn every :class:`~emovc.errors.EmovcError` into a readable status line (and a
toast); any other exception is logged on the server and shown as a one-line internal error
naming its type only — never a stack trace or its message in the browser.

Each browser session (Gradio's ``session_hash``: one per page load) has its own conversions and
uploaded reference voices in the backend; they are forgotten an hour after the session's
connection ends (Gradio's unload event: the page was closed or reloaded, or the network dropped
or the laptop slept, after which the same tab reconnects and keeps its state) unless it is used
again before then.

This module is the layout (the four tabs and their handlers); the handlers' plumbing (error
lines and toasts, session keys, the evaluate tab's links) is in :mod:`emovc.app.ui_handlers`,
whose names are importable from here as before.
"""

from __future__ import annotations

from abc import ABCMeta
from collections.abc import Callable

import gradio as gr
from gradio.component_meta import ComponentMeta

from emovc.app.limits import APP_SR
from emovc.app.services import AUTO, AppBackend
from emovc.app.ui_handlers import browser_host as _browser_host
from emovc.app.ui_handlers import file_url, readable_error, report_links, session_key
from emovc.app.ui_handlers import guard as _guard
from emovc.data.emotions import EMOTIONS
from emovc.errors import EmovcError

#: the cloning styles of emovc.pipelines.cloning.STYLES and its default least reference
#: speech, CloneConfig.min_reference_s (not imported here: the cloning pipeline loads
#: WORLD/PocketSphinx, and the UI must build even where cloning is missing)
CLONE_STYLES = ("voice", "balanced", "clear")
MIN_REFERENCE_S = 2.0

AUDIO_SOURCES = ["upload", "microphone"]
# (min, max, step) of the convert tab's pitch-level and envelope-gain sliders; a model's default
# (its meta.json) must lie on the grid, or the browser snaps it to a neighbour
PITCH_SLIDER = (0.0, 1.0, 0.025)
GAIN_SLIDER = (0.0, 2.0, 0.05)
VOICE_QUALITY_SLIDER = (0.0, 3.0, 0.25)
#: the page's own style (passed to launch): the listening-test summary is a table
CSS = "#evaluate-ratings-summary textarea { font-family: monospace; }"


class _NoStubs(ComponentMeta):
    """gradio's component metaclass without its stub writer, which writes a ``.pyi`` type
    stub next to the module of every component class defined (for gradio's custom-component
    projects): for a class without ``__init__`` or ``EVENTS`` of its own that is all its
    ``__new__`` adds."""

    def __new__(mcs, name: str, bases: tuple, attrs: dict) -> type:
        if "__init__" in attrs or "EVENTS" in attrs:
            raise TypeError(f"{name}: gradio's metaclass must handle __init__ and EVENTS")
        return ABCMeta.__new__(mcs, name, bases, attrs)


class ModelDefaultSlider(gr.Slider, metaclass=_NoStubs):
    """A slider of a setting whose empty value (``None``) means "the chosen model's
    default", as the backend takes it. It is built empty, so that gradio's ↺ button (which
    resets a slider to the value it was built with) empties it — the convert tab then shows
    the model's value — and an API call that leaves the setting out gets the model's default.
    The browser shows gradio's own slider (this is a template of it)."""

    is_template = True

    def preprocess(self, payload: float | None) -> float | None:
        """The value passed to the handler, ``None`` when empty."""
        return None if payload is None else super().preprocess(payload)

    def postprocess(self, value: float | None) -> float | None:
        """The value shown, ``None`` (empty) for none."""
        return None if value is None else super().postprocess(value)


def build_ui(backend: AppBackend) -> gr.Blocks:
    """The four-tab app bound to ``backend`` (not launched)."""
    with gr.Blocks(title="emovc toolbox", analytics_enabled=False) as demo:
        gr.Markdown("## emovc — expressive voice conversion toolbox\n"
                    "Convert the emotion of a recording, recognise emotions, clone a voice "
                    f"(with consent) and evaluate runs. Clips: up to "
                    f"{backend.limits.max_duration_s:g} s and {backend.limits.max_upload_mb:g} MB; "
                    f"outputs are {APP_SR // 1000} kHz mono, as `emovc convert` writes them.")
        missing = backend.missing()
        tabs = (("convert", "Convert emotion", _convert_tab),
                ("recognise", "Recognise emotion", _recognise_tab),
                ("clone", "Clone voice", _clone_tab), ("evaluate", "Evaluate", _evaluate_tab))
        for key, title, build in tabs:
            with gr.Tab(title, id=key):
                if key in missing:
                    gr.Markdown(f"**⚠ Not available: {missing[key]}.**",
                                elem_id=f"{key}-missing")
                build(backend, demo)

        def end_session(request: gr.Request) -> None:
            """The browser session's connection ended (tab closed or reloaded, or a dropped
            network): its state is forgotten after a grace period unless the tab comes back."""
            backend.end_session(session_key(request))

        demo.unload(end_session)
    return demo


NO_CONVERTER = "⚠ no emotion conversion model is installed in this emovc build"


def _convert_tab(backend: AppBackend, demo: gr.Blocks) -> None:
    try:
        models = backend.converter_names()
    except EmovcError:
        models = []
    with gr.Row():
        with gr.Column():
            audio_in = gr.Audio(sources=AUDIO_SOURCES, type="filepath", label="input speech",
                                elem_id="convert-input")
            model = gr.Dropdown(models, value=models[0] if models else None,
                                label="model / method", elem_id="convert-model")
            source = gr.Dropdown([AUTO, *EMOTIONS], value=AUTO, label="source emotion "
                                 "(auto-detected on upload; editable)", elem_id="convert-source")
            target = gr.Dropdown(list(EMOTIONS), value=None, label="target emotion",
                                 elem_id="convert-target")
            intensity = gr.Slider(0.0, 1.0, value=1.0, step=0.05, label="intensity "
                                  "(0 = unchanged, 1 = full conversion)",
                                  elem_id="convert-intensity")
            pitch = ModelDefaultSlider(*PITCH_SLIDER[:2], step=PITCH_SLIDER[2],
                                       label="pitch level (share of the emotion's mean-pitch "
                                       "change; lower keeps more of the voice)",
                                       elem_id="convert-pitch-level")
            gain = ModelDefaultSlider(*GAIN_SLIDER[:2], step=GAIN_SLIDER[2],
                                      label="envelope gain (above 1 exaggerates the emotion's "
                                      "spectral change: more emotion, less of the voice)",
                                      elem_id="convert-envelope-gain")
            render = gr.Dropdown([], value=None, label="rendering (source: the change applied "
                                 "to the recording's own samples, STFT filter + PSOLA; world: "
                                 "WORLD resynthesis)", elem_id="convert-renderer")
            vq = ModelDefaultSlider(*VOICE_QUALITY_SLIDER[:2], step=VOICE_QUALITY_SLIDER[2],
                                    label="voice quality (cycle-to-cycle jitter and shimmer "
                                    "the source rendering adds; 1 = the training speakers' "
                                    "difference between the two emotions, 0 = off, more "
                                    "sounds rougher)", elem_id="convert-voice-quality")
            button = gr.Button("Convert", variant="primary", elem_id="convert-button")
        with gr.Column():
            audio_out = gr.Audio(type="filepath", label="converted", interactive=False,
                                 buttons=["download"], elem_id="convert-output")
            status = gr.Textbox("" if models else NO_CONVERTER, label="status",
                                interactive=False, elem_id="convert-status")
    plot = gr.Plot(label="input vs output: spectrogram and F0", show_label=False,
                   elem_id="convert-plot")

    def on_model(name: str | None, current: str | None = None) -> tuple:
        """Emotion choices, default pitch level, envelope gain, renderer and voice quality of
        the selected model (loads it: lazily, on page load/change); a ``current`` source the
        new model takes is kept (a pairwise model's follows from the target: auto-detect)."""
        unchanged = (gr.Dropdown(), gr.Dropdown(), gr.Slider(), gr.Slider(), gr.Dropdown(),
                     gr.Slider())
        if not name:
            return (*unchanged, NO_CONVERTER)
        try:
            srcs, tgts = backend.converter_emotions(name)
            level = backend.converter_pitch_level(name)
            env = backend.converter_envelope_gain(name)
            renderers, renderer = backend.converter_renderers(name)
            quality = backend.converter_voice_quality(name)
            pairwise = backend.source_follows_target(name)
        except Exception as exc:
            return (*unchanged, readable_error(exc, backend.work.root))
        keep = current if current in srcs and not pairwise else AUTO
        world = bool(renderers)  # envelope gain, rendering: the WORLD-feature models' own
        # a pairwise model's source is the other emotion of its pair: nothing to choose
        return (gr.Dropdown(choices=[AUTO, *srcs], value=keep, interactive=not pairwise),
                gr.Dropdown(choices=tgts, value=None), gr.Slider(value=level),
                gr.Slider(value=env, interactive=world),
                gr.Dropdown(choices=renderers, value=renderer, interactive=world),
                gr.Slider(value=quality or 0.0,
                          interactive=quality is not None and renderer == "source"), "")

    def on_render(renderer: str | None, name: str | None):
        """The voice-quality slider: the source renderer's, for models with its statistics."""
        try:
            usable = renderer == "source" and backend.converter_voice_quality(name) is not None
        except EmovcError:  # no model, or it cannot be loaded: the model picker says so
            usable = False
        return gr.Slider(interactive=usable)

    def on_upload(path: str | None, name: str | None) -> tuple:
        """The source emotion the recogniser detects in a new upload or recording (an
        unusable one: the message, in the status box and a toast)."""
        if not path:
            return gr.Dropdown(), ""
        try:
            label, msg = backend.detect_source(path, name)
            return gr.Dropdown(value=label), msg
        except Exception as exc:
            message = readable_error(exc, backend.work.root)
            gr.Warning(message, duration=10)
            return gr.Dropdown(value=AUTO), message

    def model_default(setting: str) -> Callable:
        """Handler of a model-default slider's release: its ↺ button empties it (gradio
        resets a slider to the value it was built with, and these are built empty), then
        it shows the chosen model's ``setting``; any other value stays."""
        def show(value: float | None, name: str | None):
            if value is not None or not name:
                return gr.skip()
            try:
                return defaults_of(name)[setting]
            except EmovcError:  # the model cannot be loaded: the model picker says so
                return gr.skip()
        show.__name__ = f"{setting}_default"
        return show

    def defaults_of(name: str) -> dict[str, float]:
        """The convert settings of model ``name`` when nothing is chosen."""
        quality = backend.converter_voice_quality(name)
        return {"pitch_level": backend.converter_pitch_level(name),
                "envelope_gain": backend.converter_envelope_gain(name),
                "voice_quality": 0.0 if quality is None else quality}

    def convert(path, name, src, tgt, amount, pitch_level=None, envelope_gain=None,
                renderer=None, quality=None, request: gr.Request = None,
                progress=gr.Progress()) -> tuple:
        res = backend.convert(path, tgt, src, amount, name, lambda f, d: progress(f, desc=d),
                              pitch_level=pitch_level, envelope_gain=envelope_gain,
                              renderer=renderer or None,
                              voice_quality=quality if renderer else None,
                              session=session_key(request))
        return str(res.output), res.figure, res.summary

    model.change(on_model, [model, source], [source, target, pitch, gain, render, vq, status])
    # the added voice quality is the source renderer's; WORLD's rendering ignores it
    render.change(on_render, [render, model], vq)
    for slider, setting in ((pitch, "pitch_level"), (gain, "envelope_gain"),
                            (vq, "voice_quality")):
        slider.release(model_default(setting), [slider, model], slider, api_visibility="private",
                       show_progress="hidden", queue=False)
    demo.load(on_model, model, [source, target, pitch, gain, render, vq, status])
    audio_in.upload(on_upload, [audio_in, model], [source, status])
    audio_in.stop_recording(on_upload, [audio_in, model], [source, status])
    button.click(_guard(3, convert, backend.work.root),
                 [audio_in, model, source, target, intensity, pitch, gain, render, vq],
                 [audio_out, plot, status])


def _recognise_tab(backend: AppBackend, demo: gr.Blocks) -> None:
    with gr.Row():
        with gr.Column():
            audio_in = gr.Audio(sources=AUDIO_SOURCES, type="filepath", label="speech",
                                elem_id="recognise-input")
            button = gr.Button("Recognise", variant="primary", elem_id="recognise-button")
            status = gr.Textbox(label="result", interactive=False, elem_id="recognise-status")
        plot = gr.Plot(label="emotion probabilities", show_label=False,
                       elem_id="recognise-plot")

    def recognise(path, progress=gr.Progress()) -> tuple:
        res = backend.recognise(path, lambda f, d: progress(f, desc=d))
        return res.figure, res.summary

    button.click(_guard(2, recognise, backend.work.root), audio_in, [plot, status])


def _clone_tab(backend: AppBackend, demo: gr.Blocks) -> None:
    with gr.Row():
        with gr.Column():
            ref = gr.Audio(sources=AUDIO_SOURCES, type="filepath",
                           label="reference voice (clean speech of one speaker: at least "
                                 f"{MIN_REFERENCE_S:g} s once pauses are trimmed)",
                           elem_id="clone-ref")
            consent = gr.Checkbox(False, label="The speaker of the reference agreed that their "
                                  "voice may be cloned for this purpose.", elem_id="clone-consent")
            text = gr.Textbox(label="text to speak", lines=2, elem_id="clone-text",
                              placeholder="Kids are talking by the door.")
            emotion = gr.Dropdown(["none", *EMOTIONS], value="none",
                                  label="emotion (optional)", elem_id="clone-emotion")
            style = gr.Radio(list(CLONE_STYLES), value="voice", elem_id="clone-style",
                             label="style: voice = most like the speaker, clear = easiest "
                                   "to understand, balanced = in between")
            button = gr.Button("Clone", variant="primary", elem_id="clone-button")
        with gr.Column():
            audio_out = gr.Audio(type="filepath", label="cloned speech", interactive=False,
                                 buttons=["download"], elem_id="clone-output")
            status = gr.Textbox(label="status", interactive=False, elem_id="clone-status")
            plot = gr.Plot(label="speaker map", show_label=False, elem_id="clone-plot")

    def clone(path, agreed, words, emo, how, request: gr.Request,
              progress=gr.Progress()) -> tuple:
        res = backend.clone([path], words, emo, agreed, lambda f, d: progress(f, desc=d),
                            style=how, session=session_key(request))
        return str(res.output), res.figure, res.summary

    button.click(_guard(3, clone, backend.work.root), [ref, consent, text, emotion, style],
                 [audio_out, plot, status])


def _evaluate_tab(backend: AppBackend, demo: gr.Blocks) -> None:
    gr.Markdown("Evaluate the conversions made in this browser tab since it was (re)loaded, "
                "or upload a run folder written by `emovc convert` (audio files + "
                "`conversions.csv`) and, for `emovc convert FOLDER -o OUT`, whose sources "
                "live outside OUT, FOLDER as the source folder. The report opens from the "
                "app's work directory.")
    with gr.Row():
        files = gr.File(file_count="directory", label="run folder (optional)", height=150,
                        elem_id="evaluate-files")
        sources = gr.File(file_count="directory", height=150, elem_id="evaluate-sources",
                          label="source folder (optional: files listed outside the run "
                                "folder)")
    button = gr.Button("Evaluate", variant="primary", elem_id="evaluate-button")
    status = gr.Textbox(label="status", interactive=False, elem_id="evaluate-status")
    links = gr.HTML(elem_id="evaluate-links")
    with gr.Row():
        with gr.Column():
            results = gr.Button("Listening-test results", elem_id="evaluate-ratings-button")
            ratings = gr.File(label="ratings so far (CSV: one row per answer)",
                              interactive=False, elem_id="evaluate-ratings-file")
        summary = gr.Textbox(label="listening-test summary (as emovc listen-summary)",
                             lines=6, max_lines=30, interactive=False,
                             elem_id="evaluate-ratings-summary")
    report = gr.HTML(elem_id="evaluate-report")

    def evaluate(paths, source_paths=None, request: gr.Request = None,
                 progress=gr.Progress()) -> tuple:
        res = backend.evaluate(paths, lambda f, d: progress(f, desc=d),
                               session=session_key(request),
                               browser_host=_browser_host(request), sources=source_paths)
        frame = (f'<iframe src="{file_url(res.report)}" title="evaluation report" '
                 'style="width:100%;height:640px;border:1px solid #ddd"></iframe>')
        return report_links(res, backend.host), frame, res.summary

    def listening_results(request: gr.Request) -> tuple:
        res = backend.listening_results(session=session_key(request))
        return (str(res.ratings) if res.ratings else None), res.summary

    button.click(_guard(3, evaluate, backend.work.root), [files, sources],
                 [links, report, status])
    results.click(_guard(2, listening_results, backend.work.root), None, [ratings, summary])
