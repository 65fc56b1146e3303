"""The evaluate tab's side of :class:`~emovc.app.services.AppBackend`: a run folder (uploaded,
or the session's conversions) evaluated into a report inside the work dir, its listening test
served in place of the running one, the ratings so far copied and summarised, and which
folders the work dir's purge must keep (those of tests with ratings)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from emovc.app.limits import hide_paths
from emovc.app.listening_test import ListeningTest, link_host, page_url
from emovc.app.models import ProgressFn
from emovc.app.notes import no_progress
from emovc.app.report_files import hide_report_paths
from emovc.app.results import EvaluateResult, ListeningResult
from emovc.app.session import LOCAL_SESSION
from emovc.errors import ConfigError, EmovcError
from emovc.fileio import copy_atomic

REPORT_DATA = ("metrics.json", "per_utterance.csv", "per_emotion.csv")
"""The data files ``emovc evaluate`` writes next to ``report.html`` (the app links them)."""
RATINGS_GLOB = "runs/*/listening/ratings.csv"
"""Where the listening tests' ratings lie in the work dir."""


class EvaluateService:
    """Mixin of :class:`~emovc.app.services.AppBackend` for the evaluate tab and its listening
    tests; the class using it sets ``work``, ``limits``, ``models``, ``host``,
    ``_listening`` (the running listening-test server, or ``None``), ``_current`` (the test it
    serves), ``_tests`` (every test this app started) and ``_listening_lock``, and has
    ``session(key)`` and ``_paths_hidden()``."""

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
