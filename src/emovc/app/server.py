"""Start and stop the web app.

The app binds to 127.0.0.1 by default. Gradio is told to keep its upload cache inside the
app's work dir (``GRADIO_TEMP_DIR``), so every file a request can name lives under one folder
that is checked on each access and deleted when the app stops.
"""

from __future__ import annotations

import errno
import importlib.util
import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

from emovc.app.limits import UploadLimits
from emovc.app.models import Factories
from emovc.app.services import AppBackend
from emovc.app.workdir import WorkDir
from emovc.errors import ConfigError, EmovcError

log = logging.getLogger("emovc.app")

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
PURGE_EVERY_S = 600.0  # delete uploads/outputs older than an hour, checked every 10 min
MAX_AGE_S = 3600.0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class RunningApp:
    """A launched app: its URL, backend and the handles needed to stop it."""

    url: str
    backend: AppBackend
    demo: object  # gradio.Blocks
    _old_temp: str | None
    _stop: threading.Event = field(default_factory=threading.Event)
    _kept: list[Path] | None = None  # what close() kept (None: not closed yet)

    @property
    def work_dir(self) -> Path:
        """The app's work dir (uploads, outputs, run folders, reports, ratings)."""
        return self.backend.work.root

    def close(self) -> list[Path]:
        """Stop the server and the listening test, delete the work dir if the app created it,
        restore env. Listening-test answers are never deleted: a temporary work dir keeps the
        run folders and reports of the tests with ratings (the rest goes), and their ratings
        files are named in a warning.

        Returns:
            the ratings CSVs of this app's listening tests that have answers.
        """
        if self._kept is not None:
            return self._kept
        self._stop.set()
        rated = self.backend.rated_tests()
        self.backend.close()
        self.demo.close()
        work = self.backend.work
        work.cleanup(keep=[p for test in rated for p in test.kept()])
        self._kept = [test.ratings for test in rated]
        if self._kept:
            log.warning("%s", _kept_note(self._kept, work))
        _restore_temp(self._old_temp)
        return self._kept

    def block(self) -> list[Path]:
        """Serve until Ctrl-C or SIGTERM, then close (see :meth:`close`)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            self.demo.block_thread()
        finally:
            kept = self.close()
        return kept


def _kept_note(ratings: list[Path], work: WorkDir) -> str:
    """The stop message naming the listening-test ratings the app kept."""
    files = ", ".join(map(str, ratings))
    summarise = f"summarise with `emovc listen-summary {ratings[-1]}`"
    if not work.temporary:
        return f"listening-test ratings: {files} ({summarise})"
    return (f"kept the listening-test ratings in the temporary work dir {work.root} (the rest "
            f"of it was deleted): {files}; {summarise}. Move them somewhere safe: the system "
            "may clear its temp folder (start with --work-dir DIR to keep everything)")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def launch(host: str = "127.0.0.1", port: int = 7860, limits: UploadLimits = UploadLimits(),
           work_dir: str | os.PathLike | None = None, factories: Factories | None = None,
           quiet: bool = False) -> RunningApp:
    """Build the app and start serving it in a background thread.

    Args:
        host: interface to bind; anything but loopback exposes the app to the network.
        port: TCP port 1-65535 (``0`` picks a free one).
        limits: upload size/duration limits (finite).
        work_dir: folder for uploads, outputs, run folders and reports, kept on close
            (default: a fresh temp folder, deleted on close except the listening tests with
            ratings: :meth:`RunningApp.close`).
        factories: pipeline factories (tests inject fakes; default: the bundled models).
        quiet: suppress gradio's start-up banner.

    Returns:
        the running app; call ``.block()`` to serve in the foreground or ``.close()``.

    Raises:
        ConfigError: gradio not installed (the ``app`` extra), a port outside 0-65535, an
            infinite limit, or a host name that does not resolve (checked before anything
            is created).
        EmovcError: the server could not start, naming why (port in use, address not on
            this machine); the work dir is removed and ``GRADIO_TEMP_DIR`` restored.
    """
    check_gradio()
    check_start_options(host, port)
    try:
        work = WorkDir(work_dir)
    except OSError as exc:  # a file of that name, no permission
        why = ("it, or a folder above it, is a file; give a folder (created if missing)"
               if isinstance(exc, (FileExistsError, NotADirectoryError)) else exc.strerror or exc)
        raise ConfigError(f"cannot use --work-dir {work_dir}: {why}") from None
    old_temp = os.environ.get("GRADIO_TEMP_DIR")
    try:
        return _start(host, port, limits, work, factories, quiet, old_temp)
    except BaseException as exc:
        work.cleanup()
        _restore_temp(old_temp)
        if isinstance(exc, (OSError, OverflowError)):  # socket.gaierror is an OSError
            raise EmovcError(f"cannot start the app on {host}:{port}: "
                             f"{_bind_problem(host, port) or _first_line(exc)}; "
                             "pick another --port (0 = any free one) or --host") from None
        raise


def check_gradio() -> None:
    """Raise :class:`ConfigError` naming the ``app`` extra when gradio is not installed (a
    plain ``pip install emovc`` leaves it out)."""
    if importlib.util.find_spec("gradio") is None:
        raise ConfigError("the app needs gradio: pip install 'emovc[app]'")


def check_start_options(host: str, port: int) -> None:
    """Validate ``emovc app`` options before any work.

    Raises:
        ConfigError: a port that is not an integer in 0-65535, or a ``host`` that does not
            resolve (the limits check themselves: :class:`~emovc.app.limits.UploadLimits`).
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"--port must be 1-65535 (0 = any free port), got {port!r}")
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"cannot use --host {host!r}: {_first_line(exc)} (e.g. 127.0.0.1, "
                          "0.0.0.0, or this machine's name)") from None


def _start(host: str, port: int, limits: UploadLimits, work: WorkDir,
           factories: Factories | None, quiet: bool, old_temp: str | None) -> RunningApp:
    """Build the UI over ``work`` and serve it (see :func:`launch`)."""
    # gradio reads these when Blocks/App are created: uploads land inside the work dir
    os.environ["GRADIO_TEMP_DIR"] = str(work.subdir("uploads"))
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr  # noqa: F401  (heavy; only imported when the app starts)

    from emovc.app.notes import route_warnings
    from emovc.app.ui import CSS, build_ui

    route_warnings()  # before any request: each request's warnings reach its own page
    if host not in LOCAL_HOSTS:
        log.warning("binding to %s: anyone on the network can use this app", host)
    backend = AppBackend(work, limits, factories, host=host)
    demo = build_ui(backend)
    demo.queue(default_concurrency_limit=1)
    try:
        demo.launch(server_name=host, server_port=port or free_port(host),
                    prevent_thread_lock=True, quiet=quiet, max_file_size=limits.max_bytes,
                    allowed_paths=_served(work), ssr_mode=False, css=CSS,
                    mcp_server=False, show_error=False, inbrowser=False, share=False)
    except BaseException:
        backend.close()
        demo.close()
        raise
    app = RunningApp(str(demo.local_url), backend, demo, old_temp)
    threading.Thread(target=_purge_loop, args=(backend, app._stop), daemon=True,
                     name="emovc-app-purge").start()
    return app


def _served(work: WorkDir) -> list[str]:
    """The folders gradio serves by path: the reports (opened in their own tab), and the
    outputs, which gradio copies into its cache only from there (or from the current folder
    or the system's temp folder, where a ``--work-dir`` need not lie)."""
    return [str(work.subdir("reports")), str(work.subdir("outputs"))]


def _restore_temp(old_temp: str | None) -> None:
    """Put ``GRADIO_TEMP_DIR`` back as it was before :func:`launch`."""
    if old_temp is None:
        os.environ.pop("GRADIO_TEMP_DIR", None)
    else:
        os.environ["GRADIO_TEMP_DIR"] = old_temp


def _bind_problem(host: str, port: int) -> str:
    """Why ``host:port`` cannot be bound, found by binding it (and, as gradio checks a port
    there first, ``127.0.0.1:port``): gradio reports a busy port and a foreign address alike
    as "Cannot find empty port". ``""`` when both bind, or for another error."""
    for where in dict.fromkeys([host, "127.0.0.1"]):
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                where, port, type=socket.SOCK_STREAM)[0]
            with socket.socket(family, kind, proto) as probe:
                probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} is in use" + ("" if where == host else f" on {where}")
            if exc.errno == errno.EADDRNOTAVAIL:
                return f"{host} is not an address of this machine"
    return ""


def _first_line(exc: BaseException) -> str:
    """The first sentence of an exception's message (gradio's run on with advice)."""
    text = (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__).strip()
    if "Cannot find empty port" in text:  # gradio: bind or server start failed
        return "the port is in use, or the address is not one of this machine's"
    return text.splitlines()[0].split(". ")[0].rstrip(".")


def _purge_loop(backend: AppBackend, stop: threading.Event) -> None:
    """Every :data:`PURGE_EVERY_S`, delete the work dir's files older than :data:`MAX_AGE_S`,
    except the listening tests' (:meth:`AppBackend.kept_paths`)."""
    while not stop.wait(PURGE_EVERY_S):
        removed = backend.work.purge(MAX_AGE_S, keep=backend.kept_paths())
        if removed:
            log.info("removed %d old files from %s", removed, Path(backend.work.root))
