"""Listening test: trial building, answer validation, the local server and the summary."""

from __future__ import annotations

import csv
import http.client
import json
import socket
import threading
import urllib.error
import urllib.request

import pytest

from emovc.errors import EmovcError
from emovc.evaluation.listening import (
    RATING_FIELDS,
    build_trials,
    rating_row,
    summarize_ratings,
)
from emovc.evaluation.listening_server import ListeningServer
from emovc.evaluation.manifest import read_manifest


def test_trials_are_blind_and_complete(tiny_run):
    items = read_manifest(tiny_run)
    trials = build_trials(items, max_items=5, seed=1)
    kinds = [t.kind for t in trials]
    assert kinds.count("ab") == 2 and kinds.count("mos") == 6  # converted, source, reference
    ab = next(t for t in trials if t.kind == "ab")
    assert {ab.system_a, ab.system_b} == {"converted", "source"}
    assert set(ab.public()) == {"trial_id", "kind", "emotion", "text"}  # no systems, no paths


def test_rating_validation(tiny_run):
    trials = build_trials(read_manifest(tiny_run), seed=0)
    mos = next(t for t in trials if t.kind == "mos")
    row = rating_row(mos, {"listener": "ann", "naturalness": 4, "emotion_strength": 2}, "now")
    assert row["system"] == mos.system and row["naturalness"] == 4
    for bad in ({"listener": "ann", "naturalness": 6, "emotion_strength": 2},
                {"listener": "a,b", "naturalness": 3, "emotion_strength": 2},
                {"listener": "ann", "naturalness": "3", "emotion_strength": 2},
                {"listener": "ann", "naturalness": True, "emotion_strength": True}):
        with pytest.raises(EmovcError):
            rating_row(mos, bad, "now")
    ab = next(t for t in trials if t.kind == "ab")
    assert rating_row(ab, {"listener": "ann", "choice": "B"}, "now")["preferred"] == ab.system_b
    with pytest.raises(EmovcError):
        rating_row(ab, {"listener": "ann", "choice": "C"}, "now")


def _write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=RATING_FIELDS, restval="")
        w.writeheader()
        w.writerows(rows)


def test_summary_known_answers(tmp_path):
    rows = [{"listener": f"l{i % 2}", "trial_id": f"m{i}", "kind": "mos", "system": "converted",
             "naturalness": v, "emotion_strength": 3} for i, v in enumerate([1, 2, 3, 4, 5])]
    rows += [{"listener": "l0", "trial_id": f"ab{i}", "kind": "ab", "system_a": "converted",
              "system_b": "source", "preferred": p}
             for i, p in enumerate(["converted"] * 8 + ["source"] * 2 + ["same"] * 3)]
    _write(tmp_path / "r.csv", rows)
    s = summarize_ratings(tmp_path / "r.csv")
    nat = s["mos"]["converted"]["naturalness"]
    assert nat["mean"] == 3.0 and nat["n"] == 5
    assert nat["ci95"] == pytest.approx(2.7764451 * (2.5 ** 0.5) / 5 ** 0.5, rel=1e-6)
    ab = s["ab"]["converted vs source"]
    assert (ab["prefer_converted"], ab["prefer_source"], ab["same"]) == (8, 2, 3)
    assert ab["share_converted"] == 0.8
    assert ab["ci_low"] == pytest.approx(0.4439, abs=1e-3) and ab["ci_high"] == pytest.approx(
        0.9748, abs=1e-3)
    assert s["listeners"] == 2
    with pytest.raises(EmovcError):
        summarize_ratings(tmp_path / "missing.csv")
    rows[1]["naturalness"] = "True"  # a bad cell: one line naming where, not a traceback
    _write(tmp_path / "bad.csv", rows)
    with pytest.raises(EmovcError, match="line 3: naturalness 'True' is not a score 1..5"):
        summarize_ratings(tmp_path / "bad.csv")


def _request(url, data=None):
    req = urllib.request.Request(url, data=json.dumps(data).encode() if data else None,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_server_round_trip(tiny_run, tmp_path):
    trials = build_trials(read_manifest(tiny_run), seed=0)
    server = ListeningServer(trials, tmp_path / "ratings.csv", port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        code, page = _request(server.url)
        assert code == 200 and b"Listening test" in page
        assert b"http" not in page.replace(b"http://", b"")  # no external assets
        code, body = _request(server.url + "trials.json")
        public = json.loads(body)
        assert code == 200 and len(public) == len(trials) and "system" not in public[0]
        t = next(t for t in trials if t.kind == "ab")
        code, audio = _request(f"{server.url}audio/{t.trial_id}/a")
        assert code == 200 and audio[:4] == b"RIFF"
        assert _request(f"{server.url}audio/{t.trial_id}/..%2F..%2Fetc")[0] == 404
        assert _request(f"{server.url}audio/nope/a")[0] == 404
        ok = _request(server.url + "rate", {"trial_id": t.trial_id, "listener": "bo",
                                            "choice": "A"})
        assert ok[0] == 200 and json.loads(ok[1])["repeat"] is False
        again = _request(server.url + "rate", {"trial_id": t.trial_id, "listener": "bo",
                                               "choice": "B"})  # a double click
        assert again[0] == 200 and json.loads(again[1]) == {"ok": True, "n": 1, "repeat": True}
        code, body = _request(server.url + "answered?listener=bo")
        assert code == 200 and json.loads(body) == [t.trial_id]
        assert json.loads(_request(server.url + "answered?listener=al")[1]) == []
        assert _request(server.url + "rate", {"trial_id": t.trial_id, "listener": "bo",
                                              "choice": "Z"})[0] == 400
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        conn.putrequest("POST", "/rate")
        conn.putheader("Content-Length", "lots")  # an answer, not a dropped connection
        conn.endheaders()
        assert conn.getresponse().status == 413
        conn.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    s = summarize_ratings(tmp_path / "ratings.csv")
    assert s["n_ratings"] == 1 and s["listeners"] == 1


def test_summary_counts_one_answer_per_listener_and_trial(tmp_path):
    """Ratings files written before repeats were refused: the last answer counts."""
    rows = [{"listener": "bob", "trial_id": "t1", "kind": "mos", "system": "converted",
             "naturalness": v, "emotion_strength": 3} for v in (5, 5, 2)]
    rows.append({"listener": "al", "trial_id": "t1", "kind": "mos", "system": "converted",
                 "naturalness": 4, "emotion_strength": 3})
    _write(tmp_path / "r.csv", rows)
    s = summarize_ratings(tmp_path / "r.csv")
    nat = s["mos"]["converted"]["naturalness"]
    assert (nat["mean"], nat["n"], s["n_ratings"], s["repeats_ignored"]) == (3.0, 2, 2, 2)


def test_trial_ids_are_stable_per_test_and_another_tests_ratings_are_refused(tiny_run,
                                                                            tmp_path):
    from emovc.evaluation.listening import check_same_test

    items = read_manifest(tiny_run)
    one = build_trials(items, max_items=3, seed=0)
    assert [t.trial_id for t in one] == [t.trial_id for t in build_trials(items, max_items=3,
                                                                          seed=0)]
    other = build_trials(items, max_items=3, seed=1)
    assert not {t.trial_id for t in one} & {t.trial_id for t in other}
    ratings = tmp_path / "ratings.csv"
    _write(ratings, [{"listener": "bo", "trial_id": one[0].trial_id, "kind": "mos",
                      "system": "converted", "naturalness": 3, "emotion_strength": 3}])
    check_same_test(ratings, one)  # the same test: resumed
    with pytest.raises(EmovcError, match="holds answers of another listening test .1 for "
                                         "trials this one does not have"):
        check_same_test(ratings, other)


def test_one_source_converted_to_several_emotions_keeps_every_anchor(tiny_run):
    """`emovc demo`'s case: one source, four targets. Each emotion's question about the
    source is its own trial (no two trials share an id), and a repeated (audio, emotion)
    anchor is asked once."""
    from dataclasses import replace

    (it,) = read_manifest(tiny_run)[:1]
    items = [replace(it, item_id=str(k), target_emotion=e, reference="")
             for k, e in enumerate(["angry", "happy", "sad", "fearful"])]
    items.append(replace(items[0], item_id="9"))  # the same conversion listed twice
    trials = build_trials(items, max_items=10, seed=0)
    ids = [t.trial_id for t in trials]
    assert len(ids) == len(set(ids))
    anchors = [t for t in trials if t.kind == "mos" and t.system == "source"]
    assert sorted(t.target_emotion for t in anchors) == ["angry", "fearful", "happy", "sad"]


def test_summary_names_the_files_own_line_and_reads_a_bom(tmp_path):
    rows = [{"listener": "bob", "trial_id": "t1", "kind": "mos", "system": "converted",
             "naturalness": 4, "emotion_strength": 3}] * 3
    rows.append({**rows[0], "trial_id": "t2", "naturalness": "x"})  # file line 5
    _write(tmp_path / "r.csv", rows)
    with pytest.raises(EmovcError, match="line 5: naturalness 'x'"):
        summarize_ratings(tmp_path / "r.csv")
    good = tmp_path / "bom.csv"
    _write(good, rows[:3])
    good.write_bytes(b"\xef\xbb\xbf" + good.read_bytes())
    assert summarize_ratings(good)["n_ratings"] == 1


def test_a_busy_port_writes_no_trial_list(tiny_run, tmp_path):
    """The trial list is written beside its own ratings file, and only once the server
    listens: a busy port leaves nothing behind."""
    from emovc.evaluation.api import run_listening_test, trials_file

    assert trials_file(tmp_path / "a" / "other.csv") == tmp_path / "a" / "other-trials.json"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(EmovcError):
            run_listening_test(tiny_run, port=busy.getsockname()[1],
                               ratings=tmp_path / "r" / "ratings.csv")
    assert not trials_file(tmp_path / "r" / "ratings.csv").exists()


def test_a_moved_run_and_an_earlier_versions_ratings_keep_their_trials(tiny_run, tmp_path):
    """Ids hash paths inside the run folder relative to it, so a moved folder's ratings file
    resumes; a ratings file written with the earlier ids (before the emotion was part of
    them) resumes under those."""
    import shutil

    from emovc.evaluation.listening import check_same_test, match_ratings_file

    ids = [t.trial_id for t in build_trials(read_manifest(tiny_run), seed=3,
                                            base=tiny_run.resolve())]
    moved = shutil.move(tiny_run, tmp_path / "elsewhere")
    again = build_trials(read_manifest(moved), seed=3, base=moved.resolve())
    assert [t.trial_id for t in again] == ids
    old = again[0]
    _write(tmp_path / "old.csv", [{"listener": "al", "trial_id": old.legacy_id,
                                   "kind": old.kind, "system": old.system,
                                   "naturalness": 4, "emotion_strength": 3}])
    with pytest.raises(EmovcError, match="another listening test"):
        check_same_test(tmp_path / "old.csv", again)
    resumed = match_ratings_file(tmp_path / "old.csv", again)
    check_same_test(tmp_path / "old.csv", resumed)
    assert resumed[0].trial_id == old.legacy_id and len(resumed) == len(again)
    assert match_ratings_file(tmp_path / "none.csv", again) == again


@pytest.mark.parametrize("args, message", [
    (["--port", "70000"], "--port must be 1-65535 (0 = any free port), got 70000"),
    (["--port", "-1"], "--port must be 1-65535 (0 = any free port), got -1"),
    (["--max-minutes", "0"], "--max-minutes must be a positive number of minutes"),
    (["--max-minutes", "-1"], "--max-minutes must be a positive number of minutes"),
    (["--max-minutes", "inf"], "--max-minutes must be a positive number of minutes"),
])
def test_listen_refuses_a_bad_port_or_duration(tiny_run, tmp_path, monkeypatch, capsys, args,
                                               message):
    """A port out of range was a 47-line OverflowError traceback; 0 minutes stopped at once
    and named a ratings file it never created. Both are one-line errors (exit 2), before
    anything is written."""
    from emovc.cli import main as cli_main

    if "emovc.cli.eval_cmds" not in cli_main.COMMAND_MODULES:
        monkeypatch.setattr(cli_main, "COMMAND_MODULES",
                            [*cli_main.COMMAND_MODULES, "emovc.cli.eval_cmds"])
    ratings = tmp_path / "r" / "ratings.csv"
    assert cli_main.main(["listen", str(tiny_run), "--ratings", str(ratings), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not ratings.parent.exists()


def test_listener_names_are_one_listener_whatever_the_case_and_never_a_formula(tiny_run,
                                                                                tmp_path):
    """"Alice" after "alice" was a new listener (a second answer to every trial), and
    "=HYPERLINK(1)" went into the CSV as a formula for whoever opens it in a spreadsheet."""
    from emovc.evaluation.listening import listener_key

    assert listener_key("  Alice \t Smith ") == listener_key("alice smith") == "alice smith"
    for bad in ("=HYPERLINK(1)", "+1", "-x", "@sum(a1)", " =1", "a\x00b", "a,b", "", "x" * 65):
        with pytest.raises(EmovcError):
            listener_key(bad)
    trials = build_trials(read_manifest(tiny_run), seed=0)
    mos = next(t for t in trials if t.kind == "mos")
    row = rating_row(mos, {"listener": "Alice", "naturalness": 4, "emotion_strength": 2}, "now")
    assert row["listener"] == "alice"
    server = ListeningServer(trials, tmp_path / "ratings.csv", port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        answer = {"trial_id": mos.trial_id, "naturalness": 4, "emotion_strength": 2}
        first = _request(server.url + "rate", {**answer, "listener": "alice"})
        again = _request(server.url + "rate", {**answer, "listener": " ALICE "})
        assert json.loads(first[1])["repeat"] is False and json.loads(again[1])["repeat"] is True
        assert json.loads(_request(server.url + "answered?listener=Alice")[1]) == [mos.trial_id]
        formula = _request(server.url + "rate", {**answer, "listener": "=HYPERLINK(1)"})
        assert formula[0] == 400 and b"formula" in formula[1]
        assert _request(server.url + "answered?listener=%3D1")[0] == 400
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    with open(tmp_path / "ratings.csv", newline="") as f:
        assert [r["listener"] for r in csv.DictReader(f)] == ["alice"]
    # a file of an earlier version holds names as typed: one listener, the last answer counts
    _write(tmp_path / "old.csv", [{"listener": name, "trial_id": "t1", "kind": "mos",
                                   "system": "converted", "naturalness": v,
                                   "emotion_strength": 3}
                                  for name, v in (("Alice", 5), ("alice ", 1))])
    s = summarize_ratings(tmp_path / "old.csv")
    assert s["listeners"] == 1 and s["mos"]["converted"]["naturalness"]["mean"] == 1.0
