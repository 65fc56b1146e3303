"""Listening test: trial building, answer validation, the local server and the summary."""

from __future__ import annotations

import csv
import http.client
import json
import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from emovc.errors import EmovcError
from emovc.evaluation.listening import build_trials
from emovc.evaluation.listening_ratings import RATING_FIELDS, rating_row, summarize_ratings
from emovc.evaluation.listening_server import ListeningServer
from emovc.evaluation.manifest import EvalItem, read_manifest


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
    rows = [{"listener": "l0", "trial_id": f"m{i}", "kind": "mos", "system": "converted",
             "naturalness": v, "emotion_strength": 3} for i, v in enumerate([1, 2, 3, 4, 5])]
    rows += [{"listener": "l1", "trial_id": f"ab{i}", "kind": "ab", "system_a": "converted",
              "system_b": "source", "preferred": p}
             for i, p in enumerate(["converted"] * 8 + ["source"] * 2 + ["same"] * 3)]
    _write(tmp_path / "r.csv", rows)
    s = summarize_ratings(tmp_path / "r.csv")
    nat = s["mos"]["converted"]["naturalness"]
    assert nat["mean"] == 3.0 and nat["n"] == 5 and (nat["listeners"], nat["stimuli"]) == (1, 5)
    # one listener: the interval covers the items only, the t-interval of the 5 ratings
    assert nat["ci95"] == pytest.approx(2.7764451 * 2.5 ** 0.5 / 5 ** 0.5, rel=1e-6)
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
        assert _request(server.url + "rate", {"trial_id": [t.trial_id], "listener": "bo",
                                              "choice": "A"})[0] == 400
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


def _items(n: int) -> list[EvalItem]:
    """``n`` conversions (build_trials reads no audio)."""
    return [EvalItem(str(k), f"/r/src{k}.wav", f"/r/conv{k}.wav", "angry", f"/r/ref{k}.wav")
            for k in range(n)]


def _answer(path, trials):
    """A ratings file answering each of ``trials`` (MOS ones) once."""
    _write(path, [{"listener": "bo", "trial_id": t.trial_id, "kind": "mos",
                   "system": t.system, "naturalness": 3, "emotion_strength": 3}
                  for t in trials if t.kind == "mos"])


def test_the_item_set_identifies_a_test_and_its_ratings_file(tiny_run, tmp_path):
    """Ids hash what a trial plays, not the seed or an order: the same items under another
    seed are the same test; another seed's sample is another test (refused); a larger
    --max-items with the same seed adds items to the test (the sample is nested), so its
    file is extended, while a smaller one's test lacks trials the file answers (refused)."""
    from emovc.evaluation.listening_ratings import check_same_test

    items = _items(12)
    one = build_trials(items, max_items=3, seed=0)
    assert [t.trial_id for t in one] == [t.trial_id for t in build_trials(items, max_items=3,
                                                                          seed=0)]
    assert ({t.trial_id for t in build_trials(items, max_items=12, seed=0)}
            == {t.trial_id for t in build_trials(items, max_items=12, seed=5)})
    other = build_trials(items, max_items=3, seed=1)
    assert {t.item_id for t in one} != {t.item_id for t in other}
    ratings = tmp_path / "ratings.csv"
    _answer(ratings, one)
    check_same_test(ratings, one)  # the same test: resumed
    for k in range(3, 13):  # nested: every larger sample holds the smaller one
        larger = build_trials(items, max_items=k, seed=0)
        assert {t.trial_id for t in one} <= {t.trial_id for t in larger}
        check_same_test(ratings, larger)
    with pytest.raises(EmovcError, match="holds answers of another listening test"):
        check_same_test(ratings, other)
    with pytest.raises(EmovcError, match="a smaller --max-items"):
        check_same_test(ratings, build_trials(items, max_items=2, seed=0))


def test_each_listener_hears_an_order_and_sides_of_their_own(tmp_path):
    """Order and A/B sides were drawn once from --seed: every listener heard the same order
    with the converted clip on the same side, so order and side effects could not average
    out. They are drawn per listener from (seed, name): reproducible for that listener,
    different between listeners, the sides balanced within each listener."""
    from emovc.evaluation.listening import listener_trials

    trials = build_trials(_items(9), max_items=9, seed=0)
    ann, bob = (listener_trials(trials, 0, name) for name in ("ann", "bob"))
    assert [t.trial_id for t in ann] == [t.trial_id for t in listener_trials(trials, 0, "ann")]
    assert [t.trial_id for t in ann] != [t.trial_id for t in bob]
    assert sorted(t.trial_id for t in ann) == sorted(t.trial_id for t in trials)
    assert [t.trial_id for t in ann] != [t.trial_id for t in listener_trials(trials, 1, "ann")]
    on_b = {}
    for k in range(200):
        heard = [t for t in listener_trials(trials, 0, f"l{k}") if t.kind == "ab"]
        b_side = [t.trial_id for t in heard if t.system_b == "converted"]
        assert len(b_side) in (4, 5)  # 9 A/B trials: half (one more or less) exchanged
        for t in heard:
            assert {t.system_a, t.system_b} == {"converted", "source"}
            on_b[t.trial_id] = on_b.get(t.trial_id, 0) + (t.trial_id in b_side)
    assert all(60 < n < 140 for n in on_b.values())  # each trial's sides vary by listener


def test_the_server_records_the_sides_and_place_each_listener_heard(tiny_run, tmp_path):
    from emovc.evaluation.listening import listener_trials

    trials = build_trials(read_manifest(tiny_run), seed=0)
    ab = next(t for t in trials if t.kind == "ab")
    by_side = {}  # a listener who hears the converted clip of `ab` as A, one who hears it as B
    for k in range(50):
        t = next(t for t in listener_trials(trials, 7, f"l{k}") if t.trial_id == ab.trial_id)
        by_side.setdefault(t.system_a, f"l{k}")
    assert set(by_side) == {"converted", "source"}
    ratings = tmp_path / "ratings.csv"
    with open(ratings, "w", newline="") as f:  # a file of an earlier version: no position
        w = csv.DictWriter(f, fieldnames=[c for c in RATING_FIELDS if c != "position"])
        w.writeheader()
        w.writerow({"listener": "zed", "trial_id": ab.trial_id, "kind": "ab",
                    "system_a": "source", "system_b": "converted", "choice": "B",
                    "preferred": "converted"})
    server = ListeningServer(trials, ratings, port=0, seed=7)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        for name in by_side.values():
            order = json.loads(_request(f"{server.url}trials.json?listener={name}")[1])
            heard = listener_trials(trials, 7, name)
            assert [t["trial_id"] for t in order] == [t.trial_id for t in heard]
            served = _request(f"{server.url}audio/{ab.trial_id}/a?listener={name.upper()}")[1]
            shown = next(t for t in heard if t.trial_id == ab.trial_id)
            assert served == server.stimuli.wav_bytes(shown.audio_a)
            assert served != server.stimuli.wav_bytes(shown.audio_b)
            assert _request(server.url + "rate", {"trial_id": ab.trial_id, "listener": name,
                                                  "choice": "A"})[0] == 200
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    with open(ratings, newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["listener"] == "zed" and rows[0]["position"] == ""  # kept, column added
    rows = rows[1:]
    for row in rows:
        heard = listener_trials(trials, 7, row["listener"])
        place = next(k for k, t in enumerate(heard, 1) if t.trial_id == ab.trial_id)
        assert row["listener"] == by_side[row["system_a"]]  # the side this listener heard
        assert row["preferred"] == row["system_a"] and row["position"] == str(place)
    assert {r["system_a"] for r in rows} == {"converted", "source"}
    ab_summary = summarize_ratings(ratings)["ab"]["converted vs source"]
    assert (ab_summary["prefer_converted"], ab_summary["prefer_source"]) == (2, 1)


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
    resumes; a ratings file written with the ids of earlier versions (which hashed the
    seed, and before 2026-12 absolute paths without the emotion) resumes under those."""
    import hashlib
    import shutil

    from emovc.evaluation.listening import earlier_trials
    from emovc.evaluation.listening_ratings import check_same_test, match_ratings_file

    ids = [t.trial_id for t in build_trials(read_manifest(tiny_run), seed=3,
                                            base=tiny_run.resolve())]
    moved = shutil.move(tiny_run, tmp_path / "elsewhere")
    items = read_manifest(moved)
    again = build_trials(items, seed=3, base=moved.resolve())
    assert [t.trial_id for t in again] == ids
    earlier = earlier_trials(items, seed=3, base=moved.resolve())
    converted = next(t for t in again if t.kind == "mos" and t.system == "converted")
    for old_id in ("\0".join(["3", "mos", "converted", Path(converted.audio).name,
                               converted.target_emotion]),
                   "\0".join(["3", "mos", "converted", converted.audio])):
        old_id = hashlib.sha1(old_id.encode()).hexdigest()[:10]
        _write(tmp_path / "old.csv", [{"listener": "al", "trial_id": old_id, "kind": "mos",
                                       "system": "converted", "naturalness": 4,
                                       "emotion_strength": 3}])
        with pytest.raises(EmovcError, match="another listening test"):
            check_same_test(tmp_path / "old.csv", again)
        resumed = match_ratings_file(tmp_path / "old.csv", again, earlier)
        check_same_test(tmp_path / "old.csv", resumed)
        assert old_id in {t.trial_id for t in resumed}
    assert match_ratings_file(tmp_path / "none.csv", again, earlier) == again


@pytest.mark.parametrize("args, message", [
    (["--port", "70000"], "--port must be 1-65535 (0 = any free port), got 70000"),
    (["--port", "-1"], "--port must be 1-65535 (0 = any free port), got -1"),
    (["--max-minutes", "0"], "--max-minutes must be a positive number of minutes"),
    (["--max-minutes", "-1"], "--max-minutes must be a positive number of minutes"),
    (["--max-minutes", "inf"], "--max-minutes must be a positive number of minutes"),
    (["--loudness", "0"], "--loudness must be -60 to -10 LUFS, got 0.0"),
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


def test_concurrent_writers_of_one_ratings_file_neither_double_the_header_nor_lose_answers(
        tmp_path):
    """Nothing kept two writers of one ratings file apart (two ``emovc listen`` servers, or
    the app and the command line): both found a new file empty and wrote a header row, and
    an answer appended while the other upgraded a file of an earlier version was lost.
    Six writers at once, into a new file and into an earlier version's file, twenty
    times: one header, every answer."""
    from emovc.evaluation.listening_ratings import append_rating

    earlier = RATING_FIELDS[:13]  # the first version's columns
    assert "stimulus" not in earlier

    def answer(who: str) -> dict:
        return {"time": "t", "listener": who, "trial_id": "t1", "kind": "mos",
                "item_id": "0", "target_emotion": "angry", "system": "converted",
                "naturalness": 3, "emotion_strength": 3}

    writers = 6
    for k in range(20):
        path = tmp_path / f"r{k}.csv"
        before = ["earlier"] if k % 2 else []
        if before:
            with open(path, "w", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, earlier, extrasaction="ignore")
                w.writeheader()
                w.writerow(answer("earlier"))
        start = threading.Barrier(writers)

        def write(i: int, path=path, start=start) -> None:
            start.wait()
            append_rating(path, answer(f"l{i}"))

        threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert sorted(r["listener"] for r in rows) == sorted(
            before + [f"l{i}" for i in range(writers)]), k
        assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(RATING_FIELDS)


@pytest.mark.parametrize("command", ["listen-summary", "listen"])
def test_a_csv_with_a_kind_column_but_no_listener_is_refused_in_one_line(
        tiny_run, tmp_path, monkeypatch, capsys, command):
    """Only the ``kind`` column was checked: a CSV with it but without ``listener`` or
    ``trial_id`` ended in a KeyError traceback. The error names the missing columns, and
    nothing is appended to the file."""
    from emovc.cli import main as cli_main

    if "emovc.cli.eval_cmds" not in cli_main.COMMAND_MODULES:
        monkeypatch.setattr(cli_main, "COMMAND_MODULES",
                            [*cli_main.COMMAND_MODULES, "emovc.cli.eval_cmds"])
    other = tmp_path / "other.csv"
    other.write_text("kind,score\nmos,3\n")
    args = [str(other)] if command == "listen-summary" else [str(tiny_run), "--ratings",
                                                              str(other)]
    assert cli_main.main([command, *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "is not a ratings CSV of emovc listen: it has no listener, trial_id, " in err
    assert other.read_text() == "kind,score\nmos,3\n"


def test_listener_names_are_one_listener_whatever_the_case_and_never_a_formula(tiny_run,
                                                                                tmp_path):
    """"Alice" after "alice" was a new listener (a second answer to every trial), and
    "=HYPERLINK(1)" went into the CSV as a formula for whoever opens it in a spreadsheet."""
    from emovc.evaluation.listening_ratings import listener_key

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


def test_listen_summary_breaks_mos_and_ab_down_by_target_emotion(tmp_path, monkeypatch,
                                                                 capsys):
    """A converter good at angry and poor at sad averaged into one MOS; the summary now has
    each target emotion's MOS and A/B too (printed with --per-emotion, always in --json)."""
    from emovc.cli import main as cli_main

    rows = []
    for listener in ("al", "bo"):
        for emotion, score, winner in (("angry", 4, "converted"), ("sad", 2, "source")):
            for k in range(3):
                rows.append({"listener": listener, "trial_id": f"{emotion}{k}", "kind": "mos",
                             "system": "converted", "target_emotion": emotion,
                             "stimulus": f"{emotion}{k}", "naturalness": score,
                             "emotion_strength": score})
                rows.append({"listener": listener, "trial_id": f"ab{emotion}{k}", "kind": "ab",
                             "target_emotion": emotion, "system_a": "converted",
                             "system_b": "source", "preferred": winner})
    _write(tmp_path / "r.csv", rows)
    s = summarize_ratings(tmp_path / "r.csv")
    assert s["mos"]["converted"]["naturalness"]["mean"] == 3.0
    angry, sad = s["by_emotion"]["angry"], s["by_emotion"]["sad"]
    assert angry["mos"]["converted"]["naturalness"]["mean"] == 4.0
    assert sad["mos"]["converted"]["emotion_strength"]["mean"] == 2.0
    assert angry["ab"]["converted vs source"]["prefer_converted"] == 6
    assert sad["ab"]["converted vs source"]["prefer_source"] == 6
    if "emovc.cli.eval_cmds" not in cli_main.COMMAND_MODULES:
        monkeypatch.setattr(cli_main, "COMMAND_MODULES",
                            [*cli_main.COMMAND_MODULES, "emovc.cli.eval_cmds"])
    assert cli_main.main(["listen-summary", str(tmp_path / "r.csv")]) == 0
    assert "target emotion" not in capsys.readouterr().out  # the default stays short
    assert cli_main.main(["listen-summary", str(tmp_path / "r.csv"), "--per-emotion",
                          "--json", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    assert "== target emotion: angry ==" in out and "== target emotion: sad ==" in out
    assert json.loads((tmp_path / "s.json").read_text())["by_emotion"]["sad"]["ab"]


def test_every_public_name_of_the_package_imports() -> None:
    """``from emovc.evaluation import summarize_ratings``, as docs/evaluation.md names it, failed:
    the lazy table pointed at emovc.evaluation.listening after the summary moved out of it."""
    import emovc.evaluation as evaluation

    for name in evaluation.__all__:
        assert getattr(evaluation, name) is not None, name
    assert evaluation.summarize_ratings is summarize_ratings
