"""HTTP server of the listening test (stdlib only, bound to 127.0.0.1).

Routes: ``GET /`` the page, ``GET /trials.json?listener=NAME`` the blind trial list in that
listener's order, ``GET /audio/<trial>/<slot>?listener=NAME`` the audio of a trial with that
listener's A/B sides (only files that belong to a trial can be served), ``GET
/answered?listener=NAME`` the trials that listener has answered (the page resumes after them),
``POST /rate`` one answer (JSON, ≤ 4 KiB) appended to the ratings CSV — once per listener and
trial: a repeat (a double click) is acknowledged but not appended. Without ``listener`` the
list and the audio follow the build order and sides. The server stops after ``max_minutes``
or on Ctrl+C and refuses answers beyond ``max_ratings``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from emovc.errors import ConfigError, EmovcError
from emovc.evaluation.listening import Trial, listener_trials
from emovc.evaluation.listening_ratings import (
    answered_trials,
    append_rating,
    listener_key,
    rating_row,
)
from emovc.evaluation.stimuli import DEFAULT_LUFS, StimulusSet, check_loudness

HOST = "127.0.0.1"
MAX_BODY = 4096
PAGE = Path(__file__).resolve().parent / "templates" / "listening.html"

log = logging.getLogger("emovc.listening")


class ListeningServer(ThreadingHTTPServer):
    """Serves ``trials`` and appends answers to ``ratings_csv``; each listener hears them in
    the order and with the A/B sides :func:`~emovc.evaluation.listening.listener_trials`
    draws from ``seed`` and their name, every clip as 16-bit WAV at one rate and (unless
    ``loudness`` is None) at ``loudness`` LUFS (:class:`~emovc.evaluation.stimuli.StimulusSet`,
    measured here: an undecodable file is an :class:`~emovc.errors.AudioError` before
    anything is served)."""

    daemon_threads = True

    def __init__(self, trials: list[Trial], ratings_csv: str | os.PathLike, port: int = 8765,
                 max_ratings: int = 10000, seed: int = 0,
                 loudness: float | None = DEFAULT_LUFS) -> None:
        self.stimuli = StimulusSet([t.audio_path(slot) for t in trials for slot in "xab"
                                    if t.audio_path(slot)], loudness)
        self.trials = {t.trial_id: t for t in trials}
        self.order = [t.trial_id for t in trials]
        self.seed = seed
        self.ratings_csv = Path(ratings_csv)
        self.max_ratings = max_ratings
        self.n_ratings = 0
        self.answered = answered_trials(self.ratings_csv)  # {(listener, trial_id)}
        self.lock = threading.Lock()
        super().__init__((HOST, port), _Handler)

    @property
    def url(self) -> str:
        """Address of the page."""
        return f"http://{HOST}:{self.server_address[1]}/"

    def heard_by(self, listener: str | None) -> list[Trial]:
        """The trials in the order and with the A/B sides of ``listener`` (a
        :func:`~emovc.evaluation.listening_ratings.listener_key`; ``None``: as built)."""
        trials = [self.trials[t] for t in self.order]
        return trials if listener is None else listener_trials(trials, self.seed, listener)

    def record(self, answer: dict) -> bool:
        """Validate and append one answer, with the A/B sides the listener heard and the
        trial's place in their order; ``False`` (nothing appended) when this listener
        already answered this trial, e.g. after a double click. Raises :class:`EmovcError`
        when invalid."""
        trial_id = answer.get("trial_id")
        if not isinstance(trial_id, str) or trial_id not in self.trials:
            raise EmovcError("unknown trial")
        heard = self.heard_by(listener_key(answer.get("listener", "")))
        position, trial = next((k, t) for k, t in enumerate(heard, 1) if t.trial_id == trial_id)
        row = rating_row(trial, answer, time.strftime("%Y-%m-%dT%H:%M:%S"), position)
        row["loudness"] = self.stimuli.label
        key = (row["listener"], trial.trial_id)
        with self.lock:
            if key in self.answered:
                return False
            if self.n_ratings >= self.max_ratings:
                raise EmovcError("rating limit of this session reached")
            try:
                append_rating(self.ratings_csv, row)
            except EmovcError as exc:  # locked by another process: no path to the listener
                log.error("cannot save an answer: %s", exc)
                raise EmovcError("the answer could not be saved; try again") from None
            self.answered.add(key)
            self.n_ratings += 1
        return True


class _Handler(BaseHTTPRequestHandler):
    server: ListeningServer

    def log_message(self, fmt: str, *args) -> None:  # keep the console quiet
        return

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, code: int, obj) -> None:
        self._send(code, json.dumps(obj).encode(), "application/json")

    def _listener(self) -> tuple[bool, str | None]:
        """``(ok, key)`` of the request's ``?listener=NAME`` (``key`` None without one); a
        bad name is answered with 400 here (``ok`` false)."""
        names = parse_qs(urlsplit(self.path).query).get("listener")
        if not names:
            return True, None
        try:
            return True, listener_key(names[0])
        except EmovcError as exc:
            self._json(400, {"error": str(exc)})
            return False, None

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        parts = urlsplit(self.path).path.strip("/").split("/")
        if parts == [""]:
            self._send(200, PAGE.read_bytes(), "text/html; charset=utf-8")
            return
        ok, key = self._listener()
        if not ok:
            return
        if parts == ["trials.json"]:
            self._json(200, [t.public() for t in self.server.heard_by(key)])
        elif parts == ["answered"]:  # the trials this listener has answered
            self._json(200, sorted(t for name, t in self.server.answered if name == key))
        elif len(parts) == 3 and parts[0] == "audio" and parts[1] in self.server.trials:
            heard = {t.trial_id: t for t in self.server.heard_by(key)}
            path = heard[parts[1]].audio_path(parts[2])
            if not path or not Path(path).is_file():
                self._json(404, {"error": "no such audio"})
                return
            try:
                body = self.server.stimuli.wav_bytes(path)
            except EmovcError as exc:  # e.g. the file was replaced by a broken one
                # the listener (maybe on another machine) gets no path, nor a file name,
                # which could tell the system; the console gets both
                log.error("cannot serve %s to a listener: %s", path, exc)
                self._json(500, {"error": "this clip cannot be played: its file on the "
                                          "server does not decode; tell the test's organiser"})
                return
            self._send(200, body, "audio/wav")  # every system alike
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        if self.path != "/rate":
            self._json(404, {"error": "not found"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            self._json(413, {"error": f"body must be 1..{MAX_BODY} bytes"})
            return
        try:
            answer = json.loads(self.rfile.read(length))
            if not isinstance(answer, dict):
                raise EmovcError("answer must be a JSON object")
            new = self.server.record(answer)
        except (EmovcError, json.JSONDecodeError) as exc:
            self._json(400, {"error": str(exc)})
            return
        self._json(200, {"ok": True, "n": self.server.n_ratings, "repeat": not new})


#: longest --max-minutes: the stop timer's wait must fit the platform's (about 292 years)
MAX_MINUTES = threading.TIMEOUT_MAX / 60.0


def check_serve_options(port: int, max_minutes: float,
                        loudness: float | None = DEFAULT_LUFS) -> None:
    """Validate the listening server's options before any work (as ``emovc app`` does).

    Raises:
        ConfigError: a port that is not an integer in 0-65535, a ``max_minutes`` that is
            not a positive number of minutes (0 would stop at once, having served nothing),
            or a ``loudness`` target outside -60..-10 LUFS.
    """
    check_loudness(loudness)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"--port must be 1-65535 (0 = any free port), got {port!r}")
    try:
        minutes = float(max_minutes)
    except (TypeError, ValueError):
        minutes = math.nan
    if not 0.0 < minutes <= MAX_MINUTES:  # NaN too
        raise ConfigError(f"--max-minutes must be a positive number of minutes (how long to "
                          f"serve), got {max_minutes!r}")


def serve_listening_test(trials: list[Trial], ratings_csv: str | os.PathLike, port: int = 8765,
                         max_minutes: float = 180.0, max_ratings: int = 10000,
                         on_ready=None, seed: int = 0,
                         loudness: float | None = DEFAULT_LUFS) -> int:
    """Serve until Ctrl+C or ``max_minutes``; returns the number of answers recorded.

    Args:
        trials: from :func:`~emovc.evaluation.listening.build_trials`.
        ratings_csv: answers are appended here (created with a header if new).
        port: TCP port on 127.0.0.1 (0 = any free port).
        on_ready: optional ``callable(url)`` called once the socket listens.
        seed: with each listener's name, the seed of their order and A/B sides.
        loudness: integrated loudness (LUFS) every clip is served at; ``None`` serves them
            at their stored level (all still as 16-bit WAV at the test's lowest rate).

    Raises:
        ConfigError: a bad ``port``, ``max_minutes`` or ``loudness``.
        AudioError: a trial's file cannot be decoded.
        EmovcError: the port cannot be listened on (e.g. it is in use).
    """
    check_serve_options(port, max_minutes, loudness)
    try:
        server = ListeningServer(trials, ratings_csv, port, max_ratings, seed, loudness)
    except OSError as exc:
        raise EmovcError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from None
    timer = threading.Timer(max_minutes * 60.0, server.shutdown)
    timer.daemon = True
    timer.start()
    if on_ready:
        on_ready(server.url)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        timer.cancel()
        server.server_close()
    return server.n_ratings
