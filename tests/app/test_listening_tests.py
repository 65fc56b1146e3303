"""The app's listening tests: their files outlive the purge and the app, their ratings and
summary can be downloaded, and their link names an address the listeners can reach."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from emovc.app import listening_test
from emovc.app.limits import UploadLimits
from emovc.app.listening_test import ListeningTest, link_host, page_url
from emovc.app.services import AppBackend
from emovc.app.workdir import WorkDir
from emovc.audio import save_audio
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import ConfigError
from emovc.evaluation.listening import build_trials
from emovc.evaluation.listening_ratings import append_rating, rating_row
from emovc.evaluation.manifest import read_manifest

from .conftest import FakeListeningServer, fake_factories

HOUR = 3600.0


def _evaluated(backend: AppBackend, upload, session: str = "tab") -> ListeningTest:
    """Convert a clip in ``session`` and evaluate it: its listening test."""
    backend.convert(str(upload(f"{session}.wav", emotion="calm")), "angry", None, 1.0,
                    "fake-calm-angry", session=session)
    backend.evaluate(None, session=session)
    return backend.session(session).tests[-1]


def _rate(test: ListeningTest, listener: str = "ann", n: int = 1) -> None:
    """``n`` MOS answers of ``listener``, as the listening server appends them."""
    trials = [t for t in build_trials(read_manifest(test.run_dir)) if t.kind == "mos"]
    for trial in trials[:n]:
        append_rating(test.ratings, rating_row(trial, {
            "listener": listener, "naturalness": 4, "emotion_strength": 3},
            "2026-01-01T12:00:00"))


def _age(root: Path, seconds: float) -> None:
    """Move every file's modification time ``seconds`` into the past."""
    past = time.time() - seconds
    for p in root.rglob("*"):
        if p.is_file():
            os.utime(p, (past, past))


def test_purge_keeps_a_running_test_and_every_rated_one(backend: AppBackend, upload) -> None:
    """The hourly purge went by file age only: an hour after Evaluate the running test's
    audio (only read, never written) was deleted under its listeners, and its ratings
    and report with it; a later answer then crashed the server."""
    first = _evaluated(backend, upload, "one")
    _rate(first)
    second = _evaluated(backend, upload, "two")  # replaces the first test, unrated
    third = _evaluated(backend, upload, "three")  # the running one, unrated
    _age(backend.work.root, 2 * HOUR)
    backend.work.purge(HOUR, keep=backend.kept_paths())
    for test in (first, third):  # rated; running
        assert (test.run_dir / "conversions.csv").is_file()
        assert list(test.run_dir.glob("*.wav")) and (test.report_dir / "report.html").is_file()
    assert first.ratings.is_file() and first.n_ratings() == 1
    assert third.ratings.parent.is_dir()  # where the next answer goes
    assert not second.run_dir.exists() and not second.report_dir.exists()
    assert not list((backend.work.root / "outputs").glob("*"))  # the rest goes as before


def test_purge_keeps_rated_runs_of_an_earlier_app_in_the_same_work_dir(work: WorkDir,
                                                                       upload) -> None:
    """A reused --work-dir: yesterday's app's run folder with ratings is not this app's test,
    and must not be purged either."""
    earlier = AppBackend(work, UploadLimits(max_duration_s=10), fake_factories())
    test = _evaluated(earlier, upload)
    _rate(test)
    earlier.close()
    _age(work.root, 24 * HOUR)
    later = AppBackend(WorkDir(work.root), UploadLimits(max_duration_s=10), fake_factories())
    later.work.subdir("runs")  # the new app's purge covers the runs folder
    later.work.purge(HOUR, keep=later.kept_paths())
    assert test.ratings.is_file() and (test.run_dir / "conversions.csv").is_file()


def test_workdir_purge_keep_and_cleanup_keep(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    work = WorkDir()
    kept = work.subdir("runs") / "r1"
    (kept / "listening").mkdir(parents=True)
    for f in (kept / "a.wav", kept / "listening" / "ratings.csv",
              work.subdir("outputs") / "x.wav"):
        f.write_text("x")
    (work.subdir("runs") / "r2").mkdir()
    _age(work.root, 2 * HOUR)
    assert work.purge(HOUR, keep=[kept]) == 1
    assert (kept / "a.wav").is_file() and not (work.root / "runs" / "r2").exists()
    work.cleanup(keep=[kept])
    assert sorted(p.relative_to(work.root).as_posix() for p in work.root.rglob("*")) == [
        "runs", "runs/r1", "runs/r1/a.wav", "runs/r1/listening",
        "runs/r1/listening/ratings.csv"]
    work.cleanup()
    assert not work.root.exists()


def test_listening_results_give_the_ratings_and_their_summary(backend_with, upload) -> None:
    """The UI had no way to get the answers: a copy of the ratings CSV to download and
    emovc listen-summary's table of them."""
    from emovc.evaluation.api import ratings_table
    from emovc.evaluation.listening_ratings import summarize_ratings

    backend = backend_with()
    with pytest.raises(ConfigError, match="press Evaluate first"):
        backend.listening_results(session="tab")
    test = _evaluated(backend, upload)
    empty = backend.listening_results(session="tab")
    assert empty.ratings is None and "no ratings yet" in empty.summary
    _rate(test, "ann", 2)
    _rate(test, "bob", 1)
    res = backend.listening_results(session="tab")
    assert res.ratings.parent == backend.work.root / "outputs"
    assert res.ratings.read_bytes() == test.ratings.read_bytes()
    assert res.summary == ratings_table(summarize_ratings(test.ratings))
    _evaluated(backend, upload, "other")  # another tab's evaluation replaces the test
    later = backend.listening_results(session="tab")
    assert later.summary.startswith(res.summary) and "no longer served" in later.summary
    assert backend.listening_results(session="other").ratings is None  # its own test


def test_evaluate_links_the_reports_data_files(backend: AppBackend, upload) -> None:
    backend.convert(str(upload(emotion="calm")), "angry", None, 1.0, "fake-calm-angry")
    res = backend.evaluate(None)
    assert [p.name for p in res.data] == ["metrics.json", "per_utterance.csv"]
    assert all(p.parent == res.report.parent for p in res.data)


def _evaluate_quickly(run_dir: Path, out_dir: Path, progress) -> Path:
    """``emovc evaluate`` as the app runs it, without the slow judges (ASR, emotion)."""
    from emovc.evaluation.api import run_evaluation
    from emovc.evaluation.runner import EvalConfig

    cfg = EvalConfig(workers=1, asr=False, emotion=False, n_examples=1)
    return Path(run_evaluation(run_dir, out_dir, cfg)[1]["report"])


def test_the_report_and_its_data_files_name_no_server_path(backend_with, upload) -> None:
    """The evaluate tab hands the report and its data files to the browser, and emovc
    evaluate names every file by its full path: the work dir's (each row's audio and
    source, the report's tooltips) and Python's (the speaker encoder's weights in
    site-packages). A file of the work dir is now named by its path inside it, a model
    file by its path inside its package."""
    backend = backend_with(evaluator=_evaluate_quickly)
    root = backend.work.root
    backend.convert(str(upload(emotion="calm")), "angry", None, 1.0, "fake-calm-angry")
    res = backend.evaluate(None)
    files = [res.report, *res.data]
    assert [p.name for p in files] == ["report.html", "metrics.json", "per_utterance.csv",
                                       "per_emotion.csv"]
    for path in files:
        assert str(root) not in path.read_text(encoding="utf-8"), path.name
    metrics = json.loads(res.data[0].read_text(encoding="utf-8"))
    rows = metrics["per_utterance"]
    assert {r["system"] for r in rows} >= {"converted", "source"}
    for r in rows:
        assert (root / r["audio"]).is_file() and (root / r["source"]).is_file()
        assert r["audio"].startswith(("runs/", "reports/"))
    encoder = metrics["provenance"]["speaker_encoder"]
    assert encoder["path"] == "resemblyzer/pretrained.pt" and len(encoder["sha256"]) == 64
    assert "runs/" in res.report.read_text(encoding="utf-8")  # the tooltips' paths


def test_close_keeps_the_ratings_of_a_temporary_work_dir(tmp_path: Path, monkeypatch,
                                                         caplog) -> None:
    """Ctrl-C deleted the whole temporary work dir, the ratings of a listening test with it:
    now the run folders and reports of rated tests stay, and the stop message names them."""
    from emovc.app.server import launch

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    app = launch(port=0, factories=fake_factories(), quiet=True)
    try:
        backend = app.backend
        clip = save_audio(backend.work.subdir("uploads") / "c.wav",
                          synthesize(EMOTION_VOICES["calm"], duration=2.0, sr=16000, seed=0),
                          16000)
        backend.convert(str(clip), "angry", None, 1.0, "fake-calm-angry")
        backend.evaluate(None)
        rated = backend.session().tests[-1]
        _rate(rated)
        backend.convert(str(clip), "angry", None, 1.0, "fake-calm-angry")
        backend.evaluate(None)  # a second test, without answers
        unrated = backend.session().tests[-1]
    finally:
        with caplog.at_level(logging.WARNING, logger="emovc.app"):
            kept = app.close()
    assert kept == [rated.ratings] and rated.ratings.is_file()
    assert (rated.report_dir / "report.html").is_file()
    assert not unrated.run_dir.exists() and not (app.work_dir / "uploads").exists()
    assert str(rated.ratings) in caplog.text and "emovc listen-summary" in caplog.text
    assert app.close() == kept  # closing twice warns once
    assert caplog.text.count("kept the listening-test ratings") == 1


def test_close_without_ratings_deletes_the_temporary_work_dir(tmp_path: Path,
                                                              monkeypatch) -> None:
    from emovc.app.server import launch

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    app = launch(port=0, factories=fake_factories(), quiet=True)
    assert app.work_dir.parent == tmp_path and app.backend.work.temporary
    assert app.close() == [] and not app.work_dir.exists()


def test_a_given_work_dir_is_kept(tmp_path: Path) -> None:
    from emovc.app.server import launch

    app = launch(port=0, work_dir=tmp_path / "study", factories=fake_factories(), quiet=True)
    app.work_dir.joinpath("outputs", "x.wav").write_text("x")
    app.close()
    assert (tmp_path / "study" / "outputs" / "x.wav").is_file()


def test_work_dir_that_is_a_file_is_a_one_line_error(tmp_path: Path) -> None:
    from emovc.app.server import launch

    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match="--work-dir .*f: it, or a folder above it, is a file"):
        launch(port=0, work_dir=tmp_path / "f", factories=fake_factories(), quiet=True)


def test_cli_prints_the_work_dir(tmp_path: Path, monkeypatch, capsys) -> None:
    """Nothing said where the ratings were; --work-dir did not exist."""
    from emovc.app import server
    from emovc.cli.main import main

    started = {}

    class Running:
        url, work_dir = "http://127.0.0.1:1/", tmp_path / "study"
        backend = AppBackend(WorkDir(tmp_path / "study"), factories=fake_factories())

        def block(self):
            return []

    def fake_launch(**kwargs):
        started.update(kwargs)
        return Running()

    monkeypatch.setattr(server, "launch", fake_launch)
    assert main(["app", "--port", "0", "--work-dir", str(tmp_path / "study")]) == 0
    assert started["work_dir"] == tmp_path / "study"
    out = capsys.readouterr().out
    assert f"work dir: {tmp_path / 'study'} (kept when the app stops)" in out


# --- the address of the test -------------------------------------------------------------

def test_link_host_names_an_address_the_listeners_can_reach(monkeypatch) -> None:
    """The link always named 127.0.0.1: with --host 0.0.0.0, remote listeners were sent to
    their own machines."""
    monkeypatch.setattr(listening_test, "network_address", lambda: "192.168.1.5")
    assert link_host("127.0.0.1", "localhost") == "127.0.0.1"
    assert link_host("10.0.0.7", None) == "10.0.0.7"  # the only address it answers on
    assert link_host("0.0.0.0", "lab-pc.local") == "lab-pc.local"  # as the browser came
    assert link_host("0.0.0.0", "127.0.0.1") == "192.168.1.5"  # opened on the machine
    assert link_host("::", None) == "192.168.1.5"
    assert page_url("fe80::1", 8) == "http://[fe80::1]:8/"


def test_network_address_is_not_loopback() -> None:
    """An address of this machine on its network, or its name where it has no route."""
    import ipaddress
    import socket

    address = listening_test.network_address()
    try:
        assert not ipaddress.ip_address(address).is_loopback
    except ValueError:  # not an address literal: the fallback
        assert address == socket.gethostname()


def test_evaluate_starts_the_test_on_the_apps_host(work: WorkDir, upload, monkeypatch) -> None:
    started = []

    def server(run_dir, ratings, host):
        started.append(host)
        return FakeListeningServer(run_dir, ratings, host)

    monkeypatch.setattr(listening_test, "network_address", lambda: "192.168.1.5")
    backend = AppBackend(work, UploadLimits(max_duration_s=10),
                         fake_factories(listening_test=server), host="0.0.0.0")
    backend.convert(str(upload(emotion="calm")), "angry", None, 1.0, "fake-calm-angry")
    assert backend.evaluate(None, browser_host="lab-pc").listening_url == "http://lab-pc:9/"
    assert backend.evaluate(None).listening_url == "http://192.168.1.5:9/"
    assert started == ["0.0.0.0", "0.0.0.0"]


def test_the_listening_server_binds_the_given_host(backend: AppBackend, upload) -> None:
    """The real server (emovc.evaluation's, which binds 127.0.0.1) rebound: on another
    loopback address (Linux answers on all of 127/8) it answers there, and nowhere else."""
    from emovc.app.models import _listening_test

    backend.convert(str(upload(emotion="calm")), "angry", None, 1.0, "fake-calm-angry")
    backend.evaluate(None)
    test = backend.session().tests[-1]
    server = _listening_test(test.run_dir, test.ratings, "127.0.0.2")
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.2"
        trials = json.load(urllib.request.urlopen(f"http://127.0.0.2:{port}/trials.json",
                                                  timeout=10))
        assert trials
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/trials.json", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
