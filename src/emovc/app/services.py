"""What the web app does, without any UI code: each method takes plain values (file paths,
labels, numbers) and returns a result dataclass, raising :class:`~emovc.errors.EmovcError`
with a readable one-line message for anything the user can fix.

Methods that read or add per-session state (a conversion for the evaluate tab, an uploaded
reference voice for the speaker map) take a ``session`` key: the UI passes the browser session's
id, and callers without browser sessions (scripts, tests) share :data:`LOCAL_SESSION`.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from emovc.app.convert_options import (
    ConvertOptions,
    default_envelope_gain,
    default_pitch_level,
    default_voice_quality,
    offered_renderers,
)
from emovc.app.limits import APP_SR, UploadLimits, hide_paths, load_upload
from emovc.app.listening_test import ListeningTest, link_host, page_url
from emovc.app.models import Factories, ModelCache, ModelNotInstalled, ProgressFn, default_factories
from emovc.app.notes import (
    at_app_rate,
    check_english,
    clone_tag,
    collected_warnings,
    conversion_tag,
    detection_note,
    hiding_paths,
    no_progress,
    similarity_note,
    window_line,
    with_warnings,
)
from emovc.app.plots import comparison_figure, embedding_map_figure, probability_figure
from emovc.app.report_files import hide_report_paths
from emovc.app.results import (
    CloneResult,
    ConvertResult,
    EvaluateResult,
    ListeningResult,
    RecogniseResult,
)
from emovc.app.session import MAX_SESSIONS, SESSION_GRACE_S, BrowserSession, Sessions
from emovc.app.voices import KnownVoices
from emovc.app.workdir import WorkDir, safe_stem
from emovc.audio import save_audio
from emovc.data.emotions import EMOTIONS, normalize_emotion
from emovc.errors import AudioError, ConfigError, EmovcError
from emovc.evaluation.speaker import cosine
from emovc.fileio import copy_atomic
from emovc.models.conversion.converters import check_intensity
from emovc.pipelines.ser_windows import SER_WINDOW_S
from emovc.pipelines.source_choice import choose_source, recognise_long
from emovc.pipelines.speaker import project

AUTO = "auto-detect"  # source-emotion choice: let the recogniser decide
LOCAL_SESSION = "local"
"""The session key of callers without browser sessions (the methods' default)."""
REPORT_DATA = ("metrics.json", "per_utterance.csv", "per_emotion.csv")
"""The data files ``emovc evaluate`` writes next to ``report.html`` (the app links them)."""
RATINGS_GLOB = "runs/*/listening/ratings.csv"
"""Where the listening tests' ratings lie in the work dir."""


class AppBackend:
    """State and operations of one app instance.

    Models, the synthetic voices of the speaker map and the listening test are shared by all
    sessions; conversions and uploaded reference voices are kept per session (:attr:`sessions`).

    Args:
        work: the app's work dir; every file read or written lives inside it.
        limits: upload size/duration limits.
        factories: pipeline factories (default: the real bundled pipelines).
        max_sessions: most sessions kept at once (see :class:`~emovc.app.session.Sessions`).
        session_grace_s: how long an ended session is kept for its tab to reconnect.
        clock: the sessions' clock (seconds, monotonic; tests pass their own).
        host: the interface the app listens on; its listening tests listen there too.
    """

    def __init__(self, work: WorkDir, limits: UploadLimits = UploadLimits(),
                 factories: Factories | None = None, max_sessions: int = MAX_SESSIONS,
                 session_grace_s: float = SESSION_GRACE_S,
                 clock: Callable[[], float] = time.monotonic, host: str = "127.0.0.1") -> None:
        self.work = work
        self.limits = limits
        self.host = host
        self.models = ModelCache(factories or default_factories())
        self.voices = KnownVoices(lambda wav, sr: self.models.embedder()(wav, sr))
        self.sessions = Sessions(max_sessions, session_grace_s, clock)
        self._listening: Any = None  # the running listening-test server, if any
        self._current: ListeningTest | None = None  # the test it serves
        self._tests: list[ListeningTest] = []  # every test this app started
        self._listening_lock = threading.Lock()

    def session(self, key: str = LOCAL_SESSION) -> BrowserSession:
        """The state of session ``key`` (created if new): its conversions and uploads."""
        return self.sessions.get(key)

    def end_session(self, key: str) -> None:
        """Session ``key``'s browser connection ended (tab closed or reloaded, or a dropped
        network): its conversions and uploads are forgotten after the sessions' grace period
        unless the tab comes back and uses them first (:meth:`Sessions.end`); its files stay
        in the work dir until the purge."""
        self.sessions.end(key)

    def missing(self) -> dict[str, str]:
        """``{tab: message}`` for tabs whose pipeline or model is not installed."""
        return dict(self.models.factories.missing())

    # --- convert -------------------------------------------------------------------------
    def converter_names(self) -> list[str]:
        """Selectable conversion models ([] when none is installed)."""
        return list(self.models.factories.converter_names())

    def converter_pitch_level(self, model: str) -> float:
        """Default pitch level of ``model`` (1 if it does not say)."""
        return default_pitch_level(self.models.converter(model))

    def converter_envelope_gain(self, model: str) -> float:
        """Default envelope gain of ``model`` (1 if it does not say)."""
        return default_envelope_gain(self.models.converter(model))

    def converter_renderers(self, model: str) -> tuple[list[str], str | None]:
        """``(renderers, default)`` of ``model`` (``([], None)`` for one without a choice,
        e.g. a SpectroGAN)."""
        return offered_renderers(self.models.converter(model))

    def converter_voice_quality(self, model: str) -> float | None:
        """Default voice quality of ``model`` (jitter/shimmer added by the source renderer),
        ``None`` for one without a choice of renderer (e.g. a SpectroGAN)."""
        return default_voice_quality(self.models.converter(model))

    def converter_emotions(self, model: str) -> tuple[list[str], list[str]]:
        """``(source emotions, target emotions)`` of ``model`` (all emotions if it can't say)."""
        conv = self.models.converter(model)
        sources = list(getattr(conv, "source_emotions", EMOTIONS))
        targets = list(getattr(conv, "target_emotions", EMOTIONS))
        return sources, targets

    def source_follows_target(self, model: str) -> bool:
        """Whether no source is set or detected for ``model`` before the target is chosen:
        its conversion never runs the recogniser (the converter's ``detects_source``), e.g.
        a pairwise model, whose source for each target is the pair's other emotion."""
        return not self.models.converter(model).detects_source

    def detect_source(self, audio: str | None, model: str | None = None) -> tuple[str, str]:
        """Source emotion of ``audio`` by ``model``'s own rule
        (:meth:`emovc.pipelines.conversion.EmotionConverter.source_from_probs` on the app's
        recogniser's probabilities, which the note quotes); without a model the recogniser's
        choice among all emotions (:func:`emovc.pipelines.source_choice.choose_source`).

        Returns:
            ``(label, note)``, e.g. ``("calm", "detected calm (recogniser: calm 71%)")``;
            ``(AUTO, note)`` for a model that detects none (:meth:`source_follows_target`).
        """
        wav = load_upload(audio, self.limits, self.work)
        if model and self.source_follows_target(model):
            conv = self.models.converter(model)
            if conv.fixed_source(conv.target_emotions[0]) is None:
                return AUTO, f"{model} does not use the source emotion"
            return AUTO, (f"{model} converts between {' and '.join(conv.source_emotions)}: the "
                          "source is the one that is not the target")
        probs = recognise_long(self.models.recognizer(), wav, APP_SR)
        if not model:
            label = choose_source(probs, list(EMOTIONS))
        else:
            label = self.models.converter(model).source_from_probs(probs)
        return label, detection_note(label, probs)

    def _auto_source(self, wav: np.ndarray, model: str, target: str) -> str | None:
        """The source for converting ``wav`` to ``target`` by the converter's rule (a pairwise
        model's other emotion, else detected by the app's recogniser among the model's
        sources other than the target); ``None`` (the converter decides) when no recogniser
        is installed."""
        conv = self.models.converter(model)
        tgt = normalize_emotion(target)
        fixed = conv.fixed_source(tgt)
        if fixed is not None:
            return fixed
        try:
            recognizer = self.models.recognizer()
        except ModelNotInstalled:
            return None
        return conv.detect_source(wav, APP_SR, exclude=tgt, recognizer=recognizer)

    def convert(self, audio: str | None, target: str, source: str | None, intensity: float,
                model: str, progress: ProgressFn = no_progress,
                pitch_level: float | None = None,
                envelope_gain: float | None = None,
                renderer: str | None = None,
                voice_quality: float | None = None,
                session: str = LOCAL_SESSION) -> ConvertResult:
        """Convert the emotion of an uploaded clip; writes ``outputs/<name>-<target>-*.wav``.
        ``pitch_level``: share (0..1) of the conversion's change of mean pitch that is kept;
        ``envelope_gain``: factor (0..3) on its change of the spectral envelope, above 1 =
        more emotion, less of the voice (both as in
        :meth:`emovc.pipelines.conversion.EmotionConverter.convert`); ``None``: the model's
        defaults (:meth:`converter_pitch_level`, :meth:`converter_envelope_gain`);
        ``renderer``: ``"world"`` or ``"source"`` for a model that offers the choice
        (:meth:`converter_renderers`), ``None``/``""``: the model's own; ``voice_quality``:
        factor (0..3) on the jitter and shimmer the source renderer adds (same models;
        ``None``: the model's own, :meth:`converter_voice_quality`). The conversion is recorded
        for ``session``'s :meth:`evaluate`. The converter's warnings (a noisy upload: the
        warning ``emovc convert`` gives) end the summary, one ``⚠`` line each."""
        if not model:
            raise ModelNotInstalled("no emotion conversion model is installed")
        if not target:
            raise ConfigError(f"choose a target emotion ({', '.join(EMOTIONS)})")
        progress(0.05, "checking the upload")
        wav = load_upload(audio, self.limits, self.work)
        intensity = check_intensity(intensity)
        progress(0.15, f"loading model {model}")
        conv = self.models.converter(model)
        opts = ConvertOptions.resolve(conv, model, pitch_level, envelope_gain, renderer,
                                      voice_quality)
        if source in (None, "", AUTO):
            src = self._auto_source(wav, model, target)
        else:
            src = normalize_emotion(source)
            if src == normalize_emotion(target):  # e.g. the source detected on upload
                raise ConfigError(f"source and target are both {src}: nothing to convert; "
                                  f"set the source emotion to {AUTO} (it then picks one of "
                                  "the others) or to the recording's real emotion, or choose "
                                  "another target")
        progress(0.35, f"converting to {target}")
        start = time.perf_counter()
        with collected_warnings() as notes:  # e.g. a noisy input: for the page
            out = np.asarray(conv.convert(wav, APP_SR, target, source=src, intensity=intensity,
                                          name=str(self.work.inside(audio)),
                                          **opts.call_kwargs()), dtype=np.float32)
        seconds = time.perf_counter() - start
        progress(0.75, "saving and plotting")
        name = safe_stem(Path(str(audio)).name)
        path = self.work.new_file("outputs", f"{name}-{target}")
        save_audio(path, out, APP_SR, comment=conversion_tag(conv, model, src, target,
                                                              intensity, opts))
        self.session(session).run.add_conversion(wav, path, target=target, source=src)
        fig = comparison_figure(wav, out, APP_SR, labels=(f"input ({src or '?'})",
                                                          f"output ({target})"))
        rtf = seconds / max(len(wav) / APP_SR, 1e-9)
        summary = (f"{src or 'input'} → {target} with {model} at intensity {intensity:g}, "
                   f"{opts.describe()}: {len(out) / APP_SR:.2f} s of audio "
                   f"({APP_SR // 1000} kHz mono) in {seconds:.2f} s (RTF {rtf:.2f})")
        progress(1.0, "done")
        return ConvertResult(path, fig, seconds, src, with_warnings(summary, notes,
                                                                    self.work.root))

    # --- recognise -----------------------------------------------------------------------
    def recognise(self, audio: str | None, progress: ProgressFn = no_progress
                  ) -> RecogniseResult:
        """Emotion probabilities of an uploaded clip, as ``emovc ser predict`` gives them
        (:meth:`~emovc.pipelines.recognition.EmotionRecognizer.predict_file_windows`): a clip
        over 20 s is classified in 20 s windows, their probabilities averaged (the summary
        lists each window's), and one that may not be speech is classified all the same, the
        library's warning that its labels are a guess in the summary."""
        progress(0.1, "checking the upload")
        load_upload(audio, self.limits, self.work)  # the app's limits, in the app's words
        path = self.work.inside(audio)
        progress(0.3, "loading the recogniser")
        rec = self.models.recognizer()
        progress(0.5, "recognising")
        with self._paths_hidden(), collected_warnings() as notes:
            found = rec.predict_file_windows(path)
        probs = {k: float(v) for k, v in found.probs.items()}
        best = max(probs, key=probs.get)
        lines = [f"most likely: {best} ({probs[best]:.0%})"]
        if found.windows:
            lines.append(f"the mean of {len(found.windows)} windows of up to "
                         f"{SER_WINDOW_S:g} s, as emovc ser predict classifies a long clip:")
            lines += [window_line(w, self.work.root) for w in found.windows]
        progress(1.0, "done")
        return RecogniseResult(probs, probability_figure(probs),
                               with_warnings("\n".join(lines), notes, self.work.root))

    def _paths_hidden(self) -> AbstractContextManager:
        """A context in which an :class:`EmovcError` names files inside the work dir by their
        names only (:func:`~emovc.app.limits.hide_paths`): library messages give full
        paths."""
        return hiding_paths(self.work.root)

    # --- clone ---------------------------------------------------------------------------
    def clone(self, references: Sequence[str | None], text: str, emotion: str | None,
              consent: bool, progress: ProgressFn = no_progress,
              style: str = "voice", session: str = LOCAL_SESSION) -> CloneResult:
        """Speak ``text`` in the voice of the reference clip(s); needs the speaker's consent.

        ``style``: ``voice`` (most like the speaker), ``balanced`` or ``clear`` (most
        intelligible), see :data:`emovc.pipelines.cloning.STYLES`. The speaker map shows the
        synthetic voices and ``session``'s earlier references; the first reference joins them.
        The cloner's warnings (a noisy reference, reference speech cut at its limit,
        references of several voices, letters the voice cannot say, a sentence cut at its
        length limit) end the summary, one ``⚠`` line each, as ``emovc clone`` prints them.
        """
        if not consent:
            raise ConfigError("confirm that the speaker of the reference consented to cloning "
                              "their voice (tick the consent box)")
        text = (text or "").strip()
        if not text:
            raise ConfigError("enter the text the cloned voice should say")
        if len(text) > 500:
            raise ConfigError(f"text is too long: {len(text)} characters (limit 500)")
        check_english(text)
        refs = [r for r in references if r]
        if not refs:
            raise AudioError("no reference given: upload or record the voice to clone")
        progress(0.05, "checking the reference")
        wavs = [load_upload(r, self.limits, self.work, what=f"reference {i + 1}")
                for i, r in enumerate(refs)]
        emo = None if emotion in (None, "", "none") else normalize_emotion(emotion)
        progress(0.15, "loading the voice cloner")
        cloner = self.models.cloner(style)
        progress(0.3, "synthesising")
        start = time.perf_counter()
        with collected_warnings() as notes:  # e.g. a noisy or clipped reference: for the page
            out, sr = cloner.clone([(w, APP_SR) for w in wavs], text, emotion=emo)
        out = at_app_rate(np.asarray(out, dtype=np.float32), int(sr))
        seconds = time.perf_counter() - start
        path = self.work.new_file("outputs", f"clone-{emo or 'plain'}")
        save_audio(path, out, APP_SR, comment=clone_tag(cloner, [Path(str(r)).name for r in refs],
                                                         emo))
        progress(0.75, "comparing speakers")
        similarity, fig = self._speaker_map(wavs[0], out, Path(str(refs[0])).name,
                                            self.session(session))
        summary = (f"{len(out) / APP_SR:.2f} s of speech in {seconds:.2f} s; "
                   f"{similarity_note(similarity)}")
        progress(1.0, "done")
        return CloneResult(path, similarity, fig, seconds,
                           with_warnings(summary, notes, self.work.root))

    def _speaker_map(self, ref: np.ndarray, out: np.ndarray, ref_name: str,
                     state: BrowserSession) -> tuple[float, Figure]:
        """``(cosine similarity of reference and output, map figure)``; the similarity is NaN
        and the output left off the map when it is too short to embed (under 0.5 s, e.g.
        "Hi": the encoder's minimum, :data:`emovc.pipelines.speaker.MIN_SPEECH_S`)."""
        embed = self.models.embedder()
        e_ref = embed(ref, APP_SR)
        try:
            e_out = [embed(out, APP_SR)]
        except AudioError:
            e_out = []
        known = [*self.voices.voices(), *state.uploads.voices()]
        points, method = project(np.stack([*(v.embedding for v in known), e_ref, *e_out]))
        names = [*(v.name for v in known), "reference", *(["output"] if e_out else [])]
        kinds = [*(v.kind for v in known), "reference", *(["output"] if e_out else [])]
        state.uploads.add(safe_stem(ref_name, "reference"), e_ref)
        similarity = cosine(e_ref, e_out[0]) if e_out else float("nan")
        return similarity, embedding_map_figure(points, names, kinds, method)

    # --- evaluate ------------------------------------------------------------------------
    def evaluate(self, files: Sequence[str] | None, progress: ProgressFn = no_progress,
                 session: str = LOCAL_SESSION, browser_host: str | None = None,
                 sources: Sequence[str] | None = None) -> EvaluateResult:
        """Evaluate an uploaded run folder (``files``: ``conversions.csv`` and its audio;
        ``sources``: the folder of the sources it lists outside it, as ``emovc convert
        FOLDER -o OUT`` writes them; :meth:`~emovc.app.session.SessionRun.import_upload`)
        or, with none, the conversions made in ``session``; the report is written inside the
        work dir, naming no server path (:func:`~emovc.app.report_files.hide_report_paths`),
        and the run's listening test replaces the running one. ``browser_host``:
        the host the browser reached the app by (its link to the test names it when the app
        listens on every interface: :func:`~emovc.app.listening_test.link_host`).

        Raises:
            ConfigError: ``sources`` without ``files``, a run folder that cannot be
                evaluated (:meth:`~emovc.app.session.SessionRun.import_upload`), nothing
                converted yet.
        """
        if sources and not files:
            raise ConfigError("a source folder was uploaded but no run folder: upload the "
                              "run folder (with conversions.csv) too")
        progress(0.05, "collecting files")
        run = self.session(session).run
        run_dir = self.work.new_folder("runs", "upload" if files else "session")
        try:
            with self._paths_hidden():
                if files:
                    run.import_upload([self.work.inside(f) for f in files], run_dir,
                                      self.limits, self.work,
                                      [self.work.inside(f) for f in sources or ()])
                else:
                    run.freeze(run_dir)
        except BaseException:
            shutil.rmtree(run_dir, ignore_errors=True)
            raise
        out_dir = self.work.new_folder("reports", "report")
        with self._paths_hidden():
            report = self.work.inside(self.models.factories.evaluator(run_dir, out_dir,
                                                                      progress))
        hide_report_paths(out_dir, self.work.root)  # the browser gets these files
        test = ListeningTest(run_dir, out_dir)
        progress(0.95, "starting the listening test")
        url, note = self._start_listening_test(test, browser_host)
        self.session(session).tests.append(test)
        progress(1.0, "done")
        summary = f"evaluated {run_dir.name}: report ready" + (f"; {note}" if note else "")
        data = tuple(p for p in (out_dir / name for name in REPORT_DATA) if p.is_file())
        return EvaluateResult(report, url, summary, data)

    def _start_listening_test(self, test: ListeningTest, browser_host: str | None
                              ) -> tuple[str | None, str]:
        """(Re)start the listening test ``test``; ``(url, note)``, url None on failure."""
        test.ratings.parent.mkdir(exist_ok=True)
        self.close()
        try:
            server = self.models.factories.listening_test(test.run_dir, test.ratings,
                                                          self.host)
        except EmovcError as exc:
            return None, f"no listening test: {hide_paths(str(exc), self.work.root)}"
        except OSError as exc:  # the app's own interface, so hardly ever
            return None, f"no listening test: cannot listen on {self.host}: {exc.strerror}"
        with self._listening_lock:
            self._listening, self._current = server, test
            self._tests.append(test)
        return page_url(link_host(self.host, browser_host), server.server_address[1]), ""

    def listening_results(self, session: str = LOCAL_SESSION) -> ListeningResult:
        """The answers so far to ``session``'s latest listening test: a copy of its ratings
        CSV to download (``outputs/ratings-<run>-*.csv``) and ``emovc listen-summary``'s
        table of them (MOS and A/B preferences with 95 % intervals over listeners and
        files or pairs).

        Raises:
            ConfigError: ``session`` has evaluated nothing yet.
        """
        tests = self.session(session).tests
        if not tests:
            raise ConfigError("no listening test yet: press Evaluate first")
        test = tests[-1]
        with self._listening_lock:
            running = test is self._current
        replaced = "" if running else (" (no longer served: a later evaluation replaced this "
                                       "test)")
        if not test.n_ratings():
            return ListeningResult(None, f"no ratings yet{replaced}: share the listening-test "
                                         "link with your listeners")
        from emovc.evaluation.api import ratings_table
        from emovc.evaluation.listening_ratings import summarize_ratings

        copy = self.work.new_file("outputs", f"ratings-{test.run_dir.name}", ".csv")
        copy_atomic(test.ratings, copy)  # a snapshot: the test keeps appending to its own
        with self._paths_hidden():
            summary = ratings_table(summarize_ratings(copy))
        return ListeningResult(copy, summary + (f"\n\n{replaced.strip(' ()')}" if replaced
                                                else ""))

    def kept_paths(self) -> list[Path]:
        """Folders the work dir's purge leaves alone (:meth:`WorkDir.purge`): the running
        listening test's run folder and report, those of every test of this app with
        ratings, and every run folder in the work dir with ratings (an earlier app's, in a
        reused ``--work-dir``)."""
        with self._listening_lock:
            current, tests = self._current, list(self._tests)
        kept = [p for t in tests if t is current or t.n_ratings() for p in t.kept()]
        return kept + [r.parent.parent for r in self.work.root.glob(RATINGS_GLOB)]

    def rated_tests(self) -> list[ListeningTest]:
        """This app's listening tests that have ratings."""
        with self._listening_lock:
            tests = list(self._tests)
        return [t for t in tests if t.n_ratings()]

    def close(self) -> None:
        """Stop background servers (the listening test)."""
        with self._listening_lock:
            server, self._listening, self._current = self._listening, None, None
        if server is not None:
            server.shutdown()
            server.server_close()
