"""What the web app does, without any UI code: each method takes plain values (file paths,
labels, numbers) and returns a result dataclass, raising :class:`~emovc.errors.EmovcError`
with a readable one-line message for anything the user can fix.

Methods that read or add per-session state (a conversion for the evaluate tab, an uploaded
reference voice for the speaker map) take a ``session`` key: the UI passes the browser session's
id, and callers without browser sessions (scripts, tests) share :data:`LOCAL_SESSION`.

:class:`AppBackend` is the public face: sessions, the recognise tab, and the tabs' parts as
mixins beside it: :class:`~emovc.app.convert_service.ConvertService` (convert tab),
:class:`~emovc.app.clone_service.CloneService` (clone tab) and
:class:`~emovc.app.evaluate_service.EvaluateService` (evaluate tab, listening tests); the
constants they use (:data:`AUTO`, :data:`LOCAL_SESSION`, ...) are importable from here as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from emovc.app.clone_service import CloneService
from emovc.app.convert_service import AUTO, ConvertService  # noqa: F401 — AUTO: imported from here
from emovc.app.evaluate_service import (  # noqa: F401 — re-exported: imported from here
    RATINGS_GLOB,
    REPORT_DATA,
    EvaluateService,
)
from emovc.app.limits import UploadLimits, load_upload
from emovc.app.listening_test import ListeningTest
from emovc.app.models import Factories, ModelCache, ProgressFn, default_factories
from emovc.app.notes import (
    collected_warnings,
    hiding_paths,
    no_progress,
    window_line,
    with_warnings,
)
from emovc.app.plots import probability_figure
from emovc.app.results import RecogniseResult
from emovc.app.session import (
    LOCAL_SESSION,
    MAX_SESSIONS,
    SESSION_GRACE_S,
    BrowserSession,
    Sessions,
)
from emovc.app.voices import KnownVoices
from emovc.app.workdir import WorkDir
from emovc.pipelines.ser_windows import SER_WINDOW_S


class AppBackend(ConvertService, CloneService, EvaluateService):
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
