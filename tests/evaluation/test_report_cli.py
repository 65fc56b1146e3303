"""End-to-end: evaluate a tiny run through the library and the CLI; check every output."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from emovc.cli import main as cli_main
from emovc.errors import EmovcError
from emovc.evaluation.api import summary_table
from emovc.evaluation.manifest import read_manifest
from emovc.evaluation.report import write_all
from emovc.evaluation.runner import EvalConfig, evaluate


@pytest.fixture
def cli(monkeypatch):
    if "emovc.cli.eval_cmds" not in cli_main.COMMAND_MODULES:
        monkeypatch.setattr(cli_main, "COMMAND_MODULES",
                            [*cli_main.COMMAND_MODULES, "emovc.cli.eval_cmds"])
    return cli_main.main


def test_library_run_with_fake_judge(tiny_run, tmp_path, fake_judge):
    items = [replace(it, text="") for it in read_manifest(tiny_run)]
    cfg = EvalConfig(asr=True, workers=1, n_examples=2)  # no text: ASR must be skipped
    result = evaluate(items, tmp_path / "ev", cfg, judge=fake_judge)
    paths = write_all(result, tmp_path / "ev")
    assert any("no 'text'" in n for n in result.notes)
    assert all(r["asr_hypothesis"] == "" for r in result.rows)
    assert result.systems == ["converted", "source", "world_resynth", "reference"]
    conv = result.overall["converted"]
    assert conv["n"] == 2 and 0.0 < conv["mcd_db"] < 30.0
    assert 0.0 <= conv["emotion_rate"] <= 1.0 and conv["n_judged"] == 2
    assert result.overall["source"]["spk_sim_source"] == pytest.approx(1.0, abs=1e-5)
    assert result.confusion["converted"]["labels"] == fake_judge.labels
    html = paths["report"].read_text()
    assert html.count("<audio") >= 4 and "<img" in html and "data:audio/wav;base64" in html
    assert "confusion matrices" in html
    assert "emo-rate" in summary_table(result)
    assert len(list((tmp_path / "ev" / "baselines" / "world_resynth").glob("*.wav"))) == 2
    quiet = evaluate(items, tmp_path / "ev2", replace(cfg, asr=False, baselines=False),
                     judge=fake_judge)  # the app's case: no text, so ASR off; say why
    assert any("no 'text'" in n for n in quiet.notes)
    assert not any("--no-asr" in n for n in quiet.notes)
    linked = write_all(result, tmp_path / "ev", embed_audio=False)["report"].read_text()
    assert "report_audio/" in linked and (tmp_path / "ev" / "report_audio").is_dir()
    write_all(result, tmp_path / "ev")  # embedded again: the linked copies go
    assert not (tmp_path / "ev" / "report_audio").exists()


def test_clips_the_judge_rejects_are_noted_and_its_bugs_surface(tiny_run, tmp_path,
                                                                 fake_judge):
    """A clip the recogniser refuses (an emovc error) gets no prediction and a note; any other
    failure of the recogniser is a bug and stops the run."""
    from emovc.errors import AudioError

    class Picky(type(fake_judge)):
        def predict(self, wav, sr):
            if wav.shape[0] < 1.15 * sr:  # the 1.1 s conversions
                raise AudioError("too little speech")
            return super().predict(wav, sr)

    class Broken(type(fake_judge)):
        def predict(self, wav, sr):
            raise ZeroDivisionError("a bug")

    items = read_manifest(tiny_run)
    cfg = EvalConfig(asr=False, speaker=False, baselines=False, workers=1)
    result = evaluate(items, tmp_path / "ev", cfg, judge=Picky())
    assert sum("no emotion prediction for" in n and "too little speech" in n
               for n in result.notes) == 2
    assert result.overall["converted"]["n_judged"] == 0
    with pytest.raises(ZeroDivisionError):
        evaluate(items, tmp_path / "ev2", cfg, judge=Broken())
    with pytest.raises(EmovcError, match="recogniser 'nope' could not be loaded"):
        evaluate(items, tmp_path / "ev3", replace(cfg, emotion=True, recognizer="nope"))


def test_cli_round_trip(tiny_run, tmp_path, cli, capsys):
    out = tmp_path / "ev"
    args = ["evaluate", str(tiny_run / "conversions.csv"), "-o", str(out), "--no-asr",
            "--no-emotion", "--workers", "1", "--examples", "1"]
    assert cli(args) == 0
    printed = capsys.readouterr().out
    assert "converted" in printed and "MCD dB" in printed
    assert "  95 % CI " in printed and "t-interval half-width" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["provenance"]["recognizer"] is None  # --no-emotion
    assert metrics["n_items"] == 2 and metrics["overall"]["converted"]["mcd_db"] > 0
    assert any("disabled" in n for n in metrics["notes"])
    with open(out / "per_utterance.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 4 and {r["system"] for r in rows} == {
        "converted", "source", "world_resynth", "reference"}
    assert all(Path(r["audio"]).is_absolute() for r in rows)  # readable from anywhere
    with open(out / "per_emotion.csv") as f:
        assert {r["target_emotion"] for r in csv.DictReader(f)} == {"angry", "sad"}
    html = (out / "report.html").read_text()
    assert "<audio" in html and "<img" in html
    assert cli(args) == 2  # outputs exist, no --force
    assert "--force" in capsys.readouterr().err
    stale = out / "baselines" / "world_resynth" / "from-an-earlier-run.wav"
    stale.write_bytes(b"old")
    assert cli([*args, "--force"]) == 0
    assert not stale.exists()  # --force starts the baselines afresh
    assert len(list(stale.parent.glob("*.wav"))) == 2
    (tmp_path / "afile").write_text("x")
    assert cli([*args[:-6], "-o", str(tmp_path / "afile")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert cli([*args[:-6], "-o", str(tmp_path / "afile" / "sub")]) == 2  # under a file
    assert f"{tmp_path / 'afile'} is a file" in capsys.readouterr().err


def test_bad_manifests(tmp_path, tiny_run):
    (tmp_path / "m.csv").write_text("source,converted\na.wav,b.wav\n")
    with pytest.raises(EmovcError, match="target_emotion"):
        read_manifest(tmp_path / "m.csv")
    (tmp_path / "m.csv").write_text("source,converted,target_emotion\na.wav,b.wav,bored\n")
    with pytest.raises(EmovcError, match="valid choices"):
        read_manifest(tmp_path / "m.csv")
    (tmp_path / "m.csv").write_text("source,converted,target_emotion\na.wav,b.wav,angry\n")
    with pytest.raises(EmovcError, match="not found"):
        read_manifest(tmp_path / "m.csv")
    with pytest.raises(EmovcError, match="conversions.csv"):
        read_manifest(tmp_path)


def test_listen_summary_cli(tmp_path, cli, capsys):
    (tmp_path / "r.csv").write_text(
        "time,listener,trial_id,kind,item_id,target_emotion,system,naturalness,"
        "emotion_strength,system_a,system_b,choice,preferred\n"
        ",a,t1,mos,0,angry,converted,4,3,,,,\n,a,t2,mos,0,angry,converted,2,5,,,,\n"
        ",a,t3,ab,0,angry,,,,converted,source,A,converted\n")
    assert cli(["listen-summary", str(tmp_path / "r.csv"), "--json",
                str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    assert "3.00" in out and "A/B converted vs source" in out
    assert json.loads((tmp_path / "s.json").read_text())["mos"]["converted"]["naturalness"][
        "n"] == 2
    before = (tmp_path / "r.csv").read_bytes()
    assert cli(["listen-summary", str(tmp_path / "r.csv"), "--json",
                str(tmp_path / "r.csv")]) == 2
    assert "is the ratings file itself" in capsys.readouterr().err
    assert (tmp_path / "r.csv").read_bytes() == before
    assert cli(["listen-summary", str(tmp_path / "r.csv"), "--json",
                str(tmp_path / "s.json")]) == 2  # exists: --force needed
    assert cli(["listen-summary", str(tmp_path / "r.csv"), "--json",
                str(tmp_path / "s.json"), "--force"]) == 0
    from emovc.evaluation.listening_ratings import check_ratings_file

    (tmp_path / "conversions.csv").write_text("source,converted,target_emotion\n")
    with pytest.raises(EmovcError, match="not a ratings CSV"):
        check_ratings_file(tmp_path / "conversions.csv")  # `listen --ratings` refuses it
    check_ratings_file(tmp_path / "r.csv")
    check_ratings_file(tmp_path / "new.csv")
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)))
    with pytest.raises(EmovcError, match="not a CSV manifest"):
        read_manifest(tmp_path / "bin.csv")


def test_relative_paths_keep_the_names_given(tmp_path):
    """A relative path to a symlink is made absolute without following the link, as an
    absolute one is: reports show the user's file names."""
    (tmp_path / "real").mkdir()
    for name in ("03-01-02-01-01-01-17.wav", "03-01-05-01-01-01-17.wav"):
        (tmp_path / "real" / name).write_bytes(b"RIFF")
    (tmp_path / "src.wav").symlink_to(tmp_path / "real" / "03-01-02-01-01-01-17.wav")
    (tmp_path / "conv.wav").symlink_to(tmp_path / "real" / "03-01-05-01-01-01-17.wav")
    (tmp_path / "m.csv").write_text("source,converted,target_emotion\n"
                                    f"src.wav,{tmp_path / 'conv.wav'},angry\n")
    item = read_manifest(tmp_path / "m.csv")[0]
    assert (item.source, item.converted) == (str(tmp_path / "src.wav"),
                                             str(tmp_path / "conv.wav"))


def test_a_judge_with_its_own_label_spelling_and_a_silent_output(tiny_run, tmp_path,
                                                                    fake_judge):
    """Labels like "Anger" are read as emovc's names (p_target and the confusion matrix
    are filled), and an output too short to analyse counts as a miss instead of leaving
    the rate."""
    import numpy as np

    from emovc.audio import save_audio

    class Aliased(type(fake_judge)):
        labels = ["Neutral", "Calm", "Happy", "Sad", "Anger"]

        def predict(self, wav, sr):
            p = super().predict(wav, sr)
            return {"Anger" if k == "angry" else k.capitalize(): v for k, v in p.items()}

    save_audio(tiny_run / "conv1.wav", np.zeros(80, np.float32), force=True)  # 5 ms
    cfg = EvalConfig(asr=False, speaker=False, baselines=False, workers=1)
    result = evaluate(read_manifest(tiny_run), tmp_path / "ev", cfg, judge=Aliased())
    rows = {r["item_id"]: r for r in result.rows}
    assert rows["0000"]["emotion_pred"] in ("angry", "calm") and rows["0000"]["p_target"] > 0
    assert rows["0001"]["emotion_pred"] == "unjudged" and rows["0001"]["emotion_hit"] is False
    conv = result.overall["converted"]
    assert (conv["n_judged"], conv["n_unjudged"], conv["n_failed"]) == (1, 1, 1)
    assert conv["emotion_rate"] == float(rows["0000"]["emotion_hit"]) / 2
    assert result.confusion["converted"]["labels"] == ["neutral", "calm", "happy", "sad",
                                                       "angry"]
    # the unjudged output has its own column: the row adds up to both outputs, and the
    # diagonal share is the emotion rate (it was left out of the matrix)
    cm = result.confusion["converted"]
    assert cm["columns"] == [*cm["labels"], "unjudged"]
    for r in rows.values():  # each row adds up to the outputs aimed at its emotion
        i = cm["labels"].index(r["target_emotion"])
        aimed = sum(o["target_emotion"] == r["target_emotion"] for o in rows.values())
        assert sum(cm["matrix"][i]) == aimed
    miss = cm["labels"].index(rows["0001"]["target_emotion"])
    assert sum(map(sum, cm["matrix"])) == 2 and cm["matrix"][miss][-1] == 1
    from emovc.evaluation.plots import confusion_plot

    assert confusion_plot(result.confusion, {})  # draws the extra column
    assert result.notes[0].startswith("converted: 1 of 2 outputs could not be analysed")
    order = [n.split(" ")[0] for n in result.notes]  # the run's notes before the files'
    assert order.index("word") < order.index("could")


def test_linked_audio_names_are_urls(tmp_path):
    """'#' and '?' in a file name must not end the player's URL (a browser would ask for
    'report_audio/..._a'); the link decodes to the copied file."""
    from urllib.parse import unquote

    import numpy as np

    from emovc.audio import save_audio
    from emovc.evaluation.report import _audio_src

    wav = save_audio(tmp_path / "odd" / "a#b?c d.wav", np.zeros(1600, np.float32))
    src = _audio_src(str(wav), tmp_path / "ev", embed=False, sr=16000)
    assert "#" not in src and "?" not in src and " " not in src
    assert (tmp_path / "ev" / unquote(src)).read_bytes() == wav.read_bytes()


def test_a_manifest_saved_with_a_byte_order_mark_reads(tiny_run):
    """Excel's "CSV UTF-8" starts with a BOM; the first column must still be 'source'."""
    table = tiny_run / "conversions.csv"
    table.write_bytes(b"\xef\xbb\xbf" + table.read_bytes())
    assert len(read_manifest(tiny_run)) == 2


def test_a_long_example_embeds_its_first_minute(tmp_path):
    """report.html embeds at most MAX_EMBED_S of each example clip (a 3-minute clip would add
    6 MB per player); linked audio stays whole."""
    import base64
    import io

    import numpy as np
    import soundfile as sf

    from emovc.audio import save_audio
    from emovc.evaluation.report import MAX_EMBED_S, _audio_src

    long = save_audio(tmp_path / "long.wav", np.zeros(int(75 * 16000), np.float32) + 0.01)
    src = _audio_src(str(long), tmp_path / "ev", embed=True, sr=16000)
    wav, _ = sf.read(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
    assert len(wav) == int(MAX_EMBED_S * 16000)
    linked = _audio_src(str(long), tmp_path / "ev", embed=False, sr=16000)
    assert sf.info(str(tmp_path / "ev" / linked)).duration == 75.0


def test_targets_the_judge_cannot_output_leave_the_rate(tiny_run, tmp_path, fake_judge):
    """A recogniser trained without 'sad' cannot hear it: the sad item is left out of the
    emotion rate, with a note, instead of counting as a miss."""

    class NoSad(type(fake_judge)):
        labels = ["neutral", "calm", "happy", "angry"]

        def predict(self, wav, sr):
            return {k: v for k, v in super().predict(wav, sr).items() if k != "sad"}

    cfg = EvalConfig(asr=False, speaker=False, baselines=False, workers=1)
    result = evaluate(read_manifest(tiny_run), tmp_path / "ev", cfg, judge=NoSad())
    rows = {r["item_id"]: r for r in result.rows}
    assert rows["0001"]["target_emotion"] == "sad" and rows["0001"]["emotion_pred"] == ""
    assert rows["0000"]["emotion_pred"] in ("angry", "calm")
    conv = result.overall["converted"]
    assert conv["n_judged"] == 1 and conv["emotion_rate"] == float(rows["0000"]["emotion_hit"])
    assert any(n.startswith("the emotion recogniser has no label sad (its labels: neutral, "
                            "calm, happy, angry): the emotion rate leaves out the 1 item")
               for n in result.notes)


def test_the_report_escapes_every_value(tmp_path):
    """Texts, ASR output, file names and notes come from the user's files (and `emovc app`
    shows the report in its own origin): each goes into the page as text, never as HTML."""
    from emovc.audio import save_audio
    from emovc.data.synthetic import EMOTION_VOICES, synthesize
    from emovc.evaluation.manifest import EvalItem, write_manifest
    from emovc.evaluation.report import render_report

    run = tmp_path / "run"
    src = save_audio(run / "s.wav", synthesize(EMOTION_VOICES["calm"], 1.0, seed=1))
    cv = save_audio(run / "a&b <x>.wav", synthesize(EMOTION_VOICES["angry"], 1.0, seed=2))
    write_manifest(run / "conversions.csv", [EvalItem(
        "0", src.name, cv.name, "angry", text='Kids <script>alert(1)</script> & "door"')])
    cfg = EvalConfig(asr=False, emotion=False, speaker=False, baselines=False, workers=1,
                     n_examples=1)
    result = evaluate(read_manifest(run), tmp_path / "ev", cfg)
    result.rows[0]["asr_hypothesis"] = "<img src=x onerror=alert(2)>"
    result.notes.append("<b>a note</b>")
    html = render_report(result, tmp_path / "ev" / "report.html").read_text()
    assert "<script>" not in html and "<img src=x" not in html and "<b>a note" not in html
    assert "“Kids &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;door&#34;”" in html
    escaped = str(cv).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f'<td class="l" title="{escaped}">a&amp;b &lt;x&gt;.wav</td>' in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html and "&lt;b&gt;a note&lt;/b&gt;" in html
    assert html.count("<audio") == 2 and 'src="data:audio/wav;base64,' in html  # unchanged


def test_baselines_are_averaged_over_the_converted_systems_items(tiny_run, tmp_path,
                                                                 fake_judge):
    """An output that cannot be analysed leaves its item out of the converted means; the
    baselines next to them leave it out too (paired), and the tables say over how many."""
    (tiny_run / "conv1.wav").write_bytes(b"RIFF not audio")
    cfg = EvalConfig(asr=False, workers=1, n_examples=1)
    result = evaluate(read_manifest(tiny_run), tmp_path / "ev", cfg, judge=fake_judge)
    rows = {(r["item_id"], r["system"]): r for r in result.rows}
    conv, src = result.overall["converted"], result.overall["source"]
    assert conv["n_failed"] == 1 and conv["mcd_db_n"] == 1
    for system in ("source", "world_resynth"):
        o = result.overall[system]
        assert (o["n"], o["mcd_db_n"], o["spk_sim_reference_n"]) == (2, 1, 1)
        assert o["mcd_db"] == pytest.approx(rows[("0000", system)]["mcd_db"])
        assert o["paired_with"] == "converted" and o["unpaired"]["mcd_db_n"] == 2
    assert src["spk_sim_source_n"] == 1 and src["emotion_rate_n"] == conv["emotion_rate_n"] == 2
    assert result.overall["reference"]["duration_ratio_n"] == 1
    sad = {r["system"]: r for r in result.per_emotion if r["target_emotion"] == "sad"}
    assert sad["source"]["mcd_db_n"] == 0 and sad["source"]["unpaired"]["mcd_db_n"] == 1
    assert "paired_with" not in conv
    assert any("the baselines' means leave out the same items" in n for n in result.notes)
    assert not any(n.startswith(("source:", "world_resynth:")) for n in result.notes)
    table = summary_table(result)
    source_line = next(x for x in table.splitlines() if x.startswith("unconverted source"))
    assert "(1)" in source_line and "mean over k of the row's n items" in table
    paths = write_all(result, tmp_path / "ev")
    assert '<span class="ci">n=1</span>' in paths["report"].read_text()
    with open(paths["per_emotion"]) as f:
        assert {r["system"]: r["mcd_db_n"] for r in csv.DictReader(f)
                if r["target_emotion"] == "angry"}["source"] == "1"
    saved = json.loads(paths["metrics"].read_text())["overall"]["source"]
    assert saved["mcd_db_n"] == 1 and saved["unpaired"]["mcd_db_n"] == 2


def test_items_from_the_judges_training_speakers_are_noted(tmp_path, fake_judge):
    """The bundled judge was trained on RAVDESS actors 01-16 (its checkpoint records them):
    scoring their takes gives inflated rates, so a note says so; other actors' takes (or a
    judge without such a record) get none."""
    from types import SimpleNamespace

    from emovc.audio import save_audio
    from emovc.data.synthetic import EMOTION_VOICES, synthesize
    from emovc.evaluation.emotion import load_default_judge, training_record
    from emovc.evaluation.manifest import EvalItem, write_manifest

    judge, _ = load_default_judge()  # the bundled checkpoint's own record
    assert training_record(judge) == ("auto", [f"{i:02d}" for i in range(1, 17)])

    class Recorded(type(fake_judge)):
        model = SimpleNamespace(info={"corpus": "auto", "train_speakers": ["01", "02"]})
        info = {"metrics": {"original/utterance": {"unweighted_accuracy": 0.605}}}

    def run(actor: str, judge_) -> list[str]:
        folder = tmp_path / f"run{actor}{type(judge_).__name__}"
        wav = synthesize(EMOTION_VOICES["calm"], 1.0, seed=1)
        real = save_audio(tmp_path / "data" / f"03-01-02-01-01-01-{actor}.wav", wav,
                          force=True)
        (folder / "src.wav").parent.mkdir(parents=True)
        (folder / "src.wav").symlink_to(real)  # a link with another name: its target counts
        save_audio(folder / "conv.wav", synthesize(EMOTION_VOICES["angry"], 1.0, seed=2))
        write_manifest(folder / "conversions.csv", [EvalItem("0", "src.wav", "conv.wav",
                                                             "angry")])
        cfg = EvalConfig(asr=False, speaker=False, baselines=False, workers=1)
        return evaluate(read_manifest(folder), tmp_path / "ev", cfg, judge=judge_).notes

    (note,) = [n for n in run("02", Recorded()) if "trained on" in n]
    assert note.startswith("the emotion recogniser was trained on RAVDESS actors 01-02 (as its "
                           "checkpoint records), and 1 of 1 items are takes of those actors")
    assert "60.5 % unweighted accuracy" in note and note.endswith("score RAVDESS actors 03-24")
    assert not any("trained on" in n for n in run("17", Recorded()))
    assert not any("trained on" in n for n in run("01", fake_judge))  # no record


def test_manifest_errors_say_what_is_wrong(tmp_path):
    """An empty file is empty (not 'missing columns'); a ';'-separated one is told about its
    delimiter; an empty emotion cell is empty (not "unknown emotion ''"); missing files are
    counted, not only the first named."""
    m = tmp_path / "conversions.csv"
    m.write_bytes(b"")
    with pytest.raises(EmovcError, match=r"conversions\.csv is empty; a manifest needs a header"):
        read_manifest(tmp_path)
    m.write_text("source;converted;target_emotion\na.wav;b.wav;angry\n")
    with pytest.raises(EmovcError, match="separated by ';', not commas"):
        read_manifest(m)
    m.write_text("source\tconverted\ttarget_emotion\na.wav\tb.wav\tangry\n")
    with pytest.raises(EmovcError, match="separated by tabs, not commas"):
        read_manifest(m)
    m.write_text("source,converted\na.wav,b.wav\n")  # a plain missing column: no hint
    with pytest.raises(EmovcError, match=r"missing column\(s\) target_emotion; required: "
                                         r"source, converted, target_emotion; optional: "
                                         r"reference, text, source_emotion$"):
        read_manifest(m)
    m.write_text("source,converted,target_emotion\na.wav,b.wav, \n")
    with pytest.raises(EmovcError, match="line 2: empty 'target_emotion'; give the intended"):
        read_manifest(m)
    m.write_text("source,converted,target_emotion,reference\n"
                 + "".join(f"/nonexistent/s{k}.wav,c{k}.wav,angry,\n" for k in range(3))
                 + "/nonexistent/s3.wav,c3.wav,angry,/nonexistent/r.wav\n")
    with pytest.raises(EmovcError) as exc:
        read_manifest(m)
    assert str(exc.value) == (
        f"{m}: 9 listed audio files not found: line 2: source file not found: "
        f"/nonexistent/s0.wav; line 2: converted file not found: {tmp_path / 'c0.wav'}; "
        "line 3: source file not found: /nonexistent/s1.wav; ... and 6 more")
    m.write_text("source,converted,target_emotion\n/nonexistent/a.flac,b.wav,angry\n".replace(
        "b.wav", str(m)))  # one missing file: the message it always had
    with pytest.raises(EmovcError, match=r"conversions\.csv line 2: source file not found: "
                                         r"/nonexistent/a\.flac$"):
        read_manifest(m)


def test_report_counts_captions_and_per_emotion_counts(tiny_run, tmp_path, fake_judge):
    """Counts in 'Settings and speed' print as integers (not 12.000); a caption without a
    source emotion reads like its player ('source (?)'); per_emotion.csv has the failure
    counts metrics.json has."""
    items = [replace(it, source_emotion="") if it.item_id == "0000" else it
             for it in read_manifest(tiny_run)]
    cfg = EvalConfig(asr=False, speaker=False, baselines=False, workers=1, n_examples=2)
    result = evaluate(items, tmp_path / "ev", cfg, judge=fake_judge)
    paths = write_all(result, tmp_path / "ev")
    html = paths["report"].read_text()
    assert '<td class="l">n_files</td><td class="l"><code>6</code>' in html
    assert '<td class="l">n_pairs</td><td class="l"><code>2</code>' in html
    assert re.search(r'<td class="l">audio_s</td><td class="l"><code>\d+\.\d{3}</code>',
                     html)  # floats as before
    assert "#0000 · source (?) → angry" in html and "<b>source (?)</b>" in html
    assert "#0001 · calm → sad" in html and "<b>source (calm)</b>" in html
    with open(paths["per_emotion"]) as f:
        rows = list(csv.DictReader(f))
    assert {"n_unjudged", "n_failed", "n_judged"} <= set(rows[0])
    assert {(r["n_unjudged"], r["n_failed"]) for r in rows} == {("0", "0")}


def test_a_failed_audio_copy_leaves_no_partial_file(tmp_path, monkeypatch):
    """A linked clip is copied into report_audio/ atomically: a copy that fails half-way (a
    full disk) left a truncated file there, which the report then linked."""
    import shutil

    import numpy as np

    from emovc.audio import save_audio
    from emovc.evaluation.report import _audio_src

    wav = save_audio(tmp_path / "a.wav", np.zeros(1600, np.float32))

    def half_copy(src, dst, **_):
        Path(dst).write_bytes(Path(src).read_bytes()[:100])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", half_copy)
    with pytest.raises(OSError, match="No space"):
        _audio_src(str(wav), tmp_path / "ev", embed=False, sr=16000)
    assert not list((tmp_path / "ev").rglob("*.wav"))


def test_speaker_similarity_needs_half_a_second_and_can_use_a_trained_encoder(tiny_run,
                                                                             tmp_path):
    """The evaluation had its own encoder that embedded clips down to 0.1 s (a 0.3 s one
    scored a meaningless 0.44 against its source) and could not use a trained one; it now
    uses ``emovc similarity``'s encoder: under 0.5 s the similarity is NaN with a note."""
    import numpy as np
    import soundfile as sf
    import torch

    from emovc.errors import ConfigError
    from emovc.models.checkpoint import save_checkpoint
    from emovc.models.speaker_encoder import GE2E, GE2EConfig
    from emovc.pipelines.speaker import KIND

    wav, sr = sf.read(tiny_run / "conv0.wav")
    sf.write(tiny_run / "conv0.wav", wav[: int(0.3 * sr)], sr)
    items = read_manifest(tiny_run)
    cfg = EvalConfig(asr=False, emotion=False, baselines=False, workers=1)

    def similarities(config: EvalConfig, out: str) -> list[float]:
        result = evaluate(items, tmp_path / out, config)
        notes = [n for n in result.notes if n.startswith("no speaker embedding of")]
        assert len(notes) == 1 and "conv0.wav" in notes[0] and "0.5 s" in notes[0]
        html = write_all(result, tmp_path / out)["report"].read_text()
        definitions = html[html.index("Definitions:"):]
        assert f"by the speaker encoder <code>{config.speaker_encoder}</code>" in definitions
        assert ("resemblyzer" in definitions) == (config.speaker_encoder == "resemblyzer")
        return [r["spk_sim_source"] for r in result.rows if r["system"] == "converted"]

    bundled = similarities(cfg, "ev")
    assert np.isnan(bundled[0]) and 0.0 < bundled[1] <= 1.0
    torch.manual_seed(0)
    model = GE2E(GE2EConfig())  # an untrained encoder: other embeddings, other similarity
    save_checkpoint(tmp_path / "ge2e" / "model.pt", kind=KIND, config=GE2EConfig().to_dict(),
                    state_dict=model.state_dict())
    trained = similarities(replace(cfg, speaker_encoder=str(tmp_path / "ge2e")), "ev2")
    assert np.isnan(trained[0]) and abs(trained[1] - bundled[1]) > 1e-3
    with pytest.raises(ConfigError, match="unknown speaker encoder 'nope'"):
        evaluate(items, tmp_path / "ev3", replace(cfg, speaker_encoder="nope"))


def test_only_a_missing_or_unloadable_recogniser_is_skipped(monkeypatch):
    """Any error loading the recogniser, a TypeError bug too, became a "skipped" note."""
    from emovc.errors import ConfigError
    from emovc.evaluation.emotion import load_default_judge
    from emovc.pipelines.recognition import EmotionRecognizer

    def missing(name):
        raise ConfigError(f"unknown model {name!r}")

    monkeypatch.setattr(EmotionRecognizer, "from_pretrained", missing)
    assert load_default_judge("x") == (None, "emotion recognition skipped: ConfigError: "
                                              "unknown model 'x'")

    def buggy(name):
        raise TypeError("a bug")

    monkeypatch.setattr(EmotionRecognizer, "from_pretrained", buggy)
    with pytest.raises(TypeError, match="a bug"):
        load_default_judge()


def test_the_world_baseline_is_stored_without_quantisation(tmp_path):
    """The resynthesis of a quiet take keeps its samples (float WAV): 16-bit PCM would add
    its noise floor to the silences, and the "vocoder alone" baseline would measure it."""
    import numpy as np
    import soundfile as sf

    from emovc.audio import load_audio, save_audio
    from emovc.audio.processing import soft_limit
    from emovc.data.synthetic import synthesize
    from emovc.features.world import resynthesize

    quiet = synthesize(duration=1.2, seed=1) * np.float32(10 ** (-55 / 20))  # peak -61 dBFS
    src = save_audio(tmp_path / "src.wav", quiet, float_samples=True)
    conv = save_audio(tmp_path / "conv.wav", synthesize(duration=1.2, seed=2))
    (tmp_path / "m.csv").write_text(f"source,converted,target_emotion,reference\n"
                                    f"{src},{conv},angry,{src}\n")
    cfg = EvalConfig(asr=False, emotion=False, speaker=False, workers=1)
    result = evaluate(read_manifest(tmp_path / "m.csv"), tmp_path / "ev", cfg)
    stored = result.audio_for[("0000", "world_resynth")]
    assert sf.info(stored).subtype == "FLOAT"
    expected = soft_limit(resynthesize(load_audio(src), cfg.metrics.world))
    assert np.array_equal(load_audio(stored), expected)


def test_mcd_on_speech_frames_is_reported_with_a_note_on_long_silences(tiny_run, tmp_path):
    """Files that are mostly silence get a note that their whole-path MCD is mostly about
    the silences, and every output names its MCD on speech frames (CSV, JSON, CLI, report);
    the tiny run's short edges get no note."""
    import numpy as np

    from emovc.audio import load_audio, save_audio

    cfg = EvalConfig(asr=False, emotion=False, speaker=False, workers=1)
    short = evaluate(read_manifest(tiny_run), tmp_path / "short", cfg)
    assert not any("not speech on at least one side" in n for n in short.notes)
    rng = np.random.default_rng(0)
    for name in ("src0", "conv0", "ref0", "src1", "conv1", "ref1"):
        wav = load_audio(tiny_run / f"{name}.wav")
        pad = (rng.standard_normal(24000) * 1e-5).astype(np.float32)
        save_audio(tiny_run / f"{name}.wav", np.concatenate([pad, wav, pad]), force=True)
    result = evaluate(read_manifest(tiny_run), tmp_path / "ev", cfg)
    note = next(n for n in result.notes if "not speech on at least one side" in n)
    assert "converted" in note and "MCD on speech frames" in note
    conv = result.overall["converted"]
    assert conv["nonspeech_share"] > 0.5 and conv["mcd_speech_db_n"] == 2
    assert np.isfinite(conv["mcd_speech_db"]) and conv["mcd_speech_db"] != conv["mcd_db"]
    paths = write_all(result, tmp_path / "ev")
    with open(paths["per_utterance"]) as f:
        rows = [r for r in csv.DictReader(f) if r["system"] == "converted"]
    assert all(float(r["mcd_speech_db"]) > 0 and float(r["nonspeech_share"]) > 0.5
               for r in rows)
    metrics = json.loads(paths["metrics"].read_text())
    assert metrics["overall"]["converted"]["mcd_speech_db"] == pytest.approx(
        conv["mcd_speech_db"])
    assert "MCD-sp" in summary_table(result)
    assert "MCD on speech frames" in paths["report"].read_text()


def test_metrics_json_names_the_models_and_library_versions(tiny_run, tmp_path, fake_judge):
    """metrics.json ties the numbers to the judges' files (name, path, sha256) and to the
    versions of the libraries behind the metrics; the report shows them too."""
    from importlib.metadata import version

    from emovc.fileio import file_sha256
    from emovc.pipelines.speaker import resemblyzer_weights

    cfg = EvalConfig(asr=False, baselines=False, workers=1, n_examples=0)
    result = evaluate(read_manifest(tiny_run), tmp_path / "ev", cfg, judge=fake_judge)
    paths = write_all(result, tmp_path / "ev")
    prov = json.loads(paths["metrics"].read_text())["provenance"]
    assert prov["speaker_encoder"] == {"name": "resemblyzer",
                                       "path": str(resemblyzer_weights()),
                                       "sha256": file_sha256(resemblyzer_weights())}
    assert prov["recognizer"]["name"] == "passed by the caller (FakeJudge)"
    assert prov["versions"]["pyworld"] == version("pyworld")
    assert set(prov["versions"]) >= {"emovc", "pyworld", "pysptk", "resemblyzer",
                                     "pocketsphinx"}
    assert prov["speaker_encoder"]["sha256"][:12] in paths["report"].read_text()
    from emovc.evaluation.provenance import recognizer_identity
    from emovc.pretrained.registry import available

    bundled = {m.name: m for m in available("emotion-recognizer")}["ser-ravdess"]
    assert recognizer_identity("default") == {"name": "ser-ravdess", "path": str(bundled.path),
                                              "sha256": bundled.sha256}
    assert recognizer_identity("no-such-model") is None


def test_the_report_states_the_mcep_size_it_used(tiny_run, tmp_path):
    """The definitions follow the run's settings: another mcep_dim is another sum."""
    from emovc.evaluation.analysis import MetricConfig

    cfg = EvalConfig(metrics=MetricConfig(mcep_dim=31), asr=False, emotion=False,
                     speaker=False, baselines=False, workers=1, n_examples=0)
    result = evaluate(read_manifest(tiny_run), tmp_path / "ev", cfg)
    html = write_all(result, tmp_path / "ev")["report"].read_text()
    assert "d=1..30</sub>" in html and "31 coefficients" in html
    assert "d=1..24" not in html and "speaker similarity =" not in html


def test_short_names_tell_same_named_files_apart():
    from emovc.evaluation.report import short_names

    paths = ["/o/angry/A1/x.wav", "/o/sad/A1/x.wav", "/o/sad/A1/y.wav", "/d/A1/x.flac",
             "/o/angry/A1/x.wav"]
    assert short_names(paths) == {"/o/angry/A1/x.wav": "angry/A1/x.wav",
                                  "/o/sad/A1/x.wav": "sad/A1/x.wav", "/o/sad/A1/y.wav": "y.wav",
                                  "/d/A1/x.flac": "x.flac"}


def _shortest_unshared_ending(paths) -> dict[str, str]:
    """short_names by its definition, every path against every other (quadratic)."""
    parts = {p: Path(p).parts for p in dict.fromkeys(paths) if p}
    out = {}
    for p, mine in parts.items():
        shared = [q for q in parts.values() if q != mine]
        k = next((k for k in range(1, len(mine))
                  if not any(len(q) >= k and q[-k:] == mine[-k:] for q in shared)), 0)
        out[p] = "/".join(mine[-k:]) if k else p
    return out


def test_short_names_of_nested_and_respelled_paths_match_their_definition():
    """Endings that are whole other paths, one path spelled two ways, empty and duplicate
    entries, relative beside absolute: each named by its shortest ending no other shares."""
    import random

    from emovc.evaluation.report import short_names

    tricky = ["a/x.wav", "b/a/x.wav", "x.wav", "d/x.wav", "./d/x.wav", "d//x.wav", "", "/x.wav",
              "/o/a/x.wav", "o/a/x.wav", "/r/A1/x.wav", "/r/A1/x.wav", "/r/A2/x.wav"]
    names = short_names(tricky)
    assert names == _shortest_unshared_ending(tricky)
    assert names["/r/A2/x.wav"] == "A2/x.wav" and names["b/a/x.wav"] == "b/a/x.wav"
    assert "" not in names and names["./d/x.wav"] == "./d/x.wav" and names["d/x.wav"] == "d/x.wav"
    rng = random.Random(0)
    for _ in range(300):
        paths = ["/" * rng.randint(0, 1) + "/".join(rng.choices("abc", k=rng.randint(0, 3))
                                                    + [rng.choice(["x.wav", "y.wav"])])
                 for _ in range(rng.randint(1, 12))]
        assert short_names(paths) == _shortest_unshared_ending(paths), paths


def test_short_names_reads_each_paths_endings_a_bounded_number_of_times(monkeypatch):
    """Each path was compared with every other at each ending length: 7200 RAVDESS-like
    paths took 20 s. Counted, not timed: the endings taken of 400 paths stay within a few
    per folder level of each (quadratic: ~100 times more)."""
    from emovc.evaluation import report

    taken = [0]

    class Parts(tuple):
        def __getitem__(self, key):
            taken[0] += 1
            return tuple.__getitem__(self, key)

    class CountingPath:
        def __init__(self, p):
            self.parts = Parts(Path(p).parts)

    paths = [f"/out/{t}/Actor_{a:02d}/{i:02d}.wav" for t in ("angry", "sad")
             for a in range(1, 11) for i in range(20)]
    monkeypatch.setattr(report, "Path", CountingPath)
    names = report.short_names(paths)
    monkeypatch.undo()
    assert names == _shortest_unshared_ending(paths)
    assert taken[0] <= 3 * sum(len(Path(p).parts) for p in paths)


def test_report_names_files_apart_and_draws_no_self_similarity(tmp_path, monkeypatch):
    """Outputs named alike in different folders are told apart in the per-utterance table;
    the source's similarity to itself gets no bar; the players say they are 16 kHz copies."""
    import numpy as np

    from emovc.audio import save_audio
    from emovc.data.synthetic import EMOTION_VOICES, synthesize
    from emovc.evaluation import plots

    lines = ["source,converted,target_emotion,reference"]
    for k, emo in enumerate(["angry", "sad"]):
        src = save_audio(tmp_path / f"src{k}.wav", synthesize(EMOTION_VOICES["calm"], 1.2,
                                                                seed=k))
        conv = save_audio(tmp_path / emo / "take.wav", synthesize(EMOTION_VOICES[emo], 1.1,
                                                                   seed=k + 5))
        ref = save_audio(tmp_path / f"ref{k}.wav", synthesize(EMOTION_VOICES[emo], 1.3,
                                                                seed=k + 9))
        lines.append(f"{src},{conv},{emo},{ref}")
    (tmp_path / "m.csv").write_text("\n".join(lines) + "\n")
    figures = []
    monkeypatch.setattr(plots, "to_png_base64", lambda fig, dpi=80: figures.append(fig) or "")
    cfg = EvalConfig(asr=False, emotion=False, workers=1, n_examples=1)
    result = evaluate(read_manifest(tmp_path / "m.csv"), tmp_path / "ev", cfg)
    html = write_all(result, tmp_path / "ev")["report"].read_text()
    table = html[html.index("Every utterance"):]
    assert ">angry/take.wav<" in table and ">sad/take.wav<" in table
    assert "Hz, mono, 16-bit" in html and "--link-audio" in html
    ax = next(a for f in figures for a in f.axes
              if a.get_title() == "speaker similarity to source")
    source = plots.COLORS["source"]
    from matplotlib.colors import to_hex

    heights = {to_hex(p.get_facecolor()): [] for p in ax.patches}
    for p in ax.patches:
        heights[to_hex(p.get_facecolor())].append(p.get_height())
    assert not any(np.isfinite(h) for h in heights.get(source, []))
    assert any(np.isfinite(h) and h > 0 for h in heights[plots.COLORS["converted"]])
    linked = write_all(result, tmp_path / "ev", embed_audio=False)["report"].read_text()
    assert "Hz, mono, 16-bit" not in linked
