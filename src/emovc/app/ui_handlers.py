"""The plumbing of the Gradio interface's handlers (:mod:`emovc.app.ui`), no layout: every
error turned into one readable line for the browser (:func:`readable_error`: an
:class:`~emovc.errors.EmovcError`'s text without server paths, anything else by its type, the
whole error in the server log) and a toast (:func:`guard`), the backend's session key of a
request, the host the browser reached the app by, and the evaluate tab's links."""

from __future__ import annotations

import functools
import html
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gradio as gr

from emovc.app.limits import hide_installed_paths, hide_paths
from emovc.app.listening_test import is_loopback
from emovc.app.results import EvaluateResult
from emovc.app.workdir import safe_stem
from emovc.errors import EmovcError

log = logging.getLogger("emovc.app")


def readable_error(exc: BaseException, root: Path | None = None) -> str:
    """One-line message for the browser: EmovcError text as-is, with paths inside ``root``
    (the work dir) shown by their file name only and those of installed files inside their
    package (:func:`~emovc.app.limits.hide_installed_paths`: a damaged bundled model);
    anything else by its type alone (its message, e.g. ``[Errno 2] No such file or
    directory: '/home/…/model.pt'``, can name any server path), the whole error going to
    the server log."""
    if isinstance(exc, EmovcError):
        message = f"⚠ {exc}"
        return hide_installed_paths(hide_paths(message, root) if root is not None else message)
    log.exception("unexpected error in the app", exc_info=exc)
    return f"⚠ internal error ({type(exc).__name__}); see the server log"


def guard(n_outputs: int, fn: Callable[..., tuple], root: Path | None = None
           ) -> Callable[..., tuple]:
    """Run ``fn``; on error leave its other outputs as they are (the last good result stays)
    and put the message in the last (status) slot, and in a toast."""

    @functools.wraps(fn)  # keeps the signature: gradio finds the gr.Progress parameter
    def wrapped(*args: Any, **kwargs: Any) -> tuple:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # every failure becomes a message, the app keeps serving
            message = readable_error(exc, root)
            gr.Warning(message, duration=10)
            return (*(gr.skip() for _ in range(n_outputs - 1)), message)

    return wrapped


def session_key(request: gr.Request | None) -> str:
    """The backend's session key for a request: its browser session's ``session_hash``. A
    request without one (Gradio's queue requires one, so none in practice) gets a key of its
    own, never another session's."""
    key = getattr(request, "session_hash", None)
    return str(key) if key else f"no-session-{uuid.uuid4().hex}"


def file_url(path: Path) -> str:
    return f"/gradio_api/file={html.escape(str(path))}"


def report_links(res: EvaluateResult, host: str) -> str:
    """The evaluate tab's links: the report, its data files and the listening test."""
    links = [f'<a href="{file_url(res.report)}" target="_blank" id="eval-report-link">open '
             "the evaluation report</a>"]
    links += [f'<a href="{file_url(p)}" target="_blank" download '
              f'id="eval-data-{safe_stem(p.name)}">{html.escape(p.name)}</a>' for p in res.data]
    text = " · ".join(links)
    if res.listening_url:
        where = ("this machine only" if is_loopback(host) else
                 "your network: share the link with your listeners (a firewall must let its "
                 "port through)")
        text += (f'<br><a href="{html.escape(res.listening_url)}" target="_blank" '
                 f'id="eval-listening-link">open the listening test</a> '
                 f"({html.escape(res.listening_url)}, reachable from {where}). Its ratings are "
                 "saved in the app's work dir; <b>Listening-test results</b> below gives them "
                 "so far, as a file and a summary.")
    return text


def browser_host(request: gr.Request | None) -> str | None:
    """The host name the browser reached the app by (its request's ``Host``), if any."""
    headers = getattr(request, "headers", None) or {}
    host = headers.get("host") if hasattr(headers, "get") else None
    return urlsplit(f"//{host}").hostname if host else None
