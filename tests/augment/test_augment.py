"""Corpus augmentation workflow: mirrored outputs, manifest with origins, failures counted,
input untouched, resumable, clear errors (``emovc augment``)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

from emovc.errors import ConfigError, EmovcError
from emovc.pipelines.augment import (
    EXTRA_COLUMNS,
    augment_corpus,
    plan_tasks,
    read_augmented_manifest,
)

# calm clips c1, c2, short (short cannot be converted) and angry clips a1, a2
# angry: c1, c2, short (angry clips are not converted into angry); sad: all five
N_TASKS, N_OK = 3 + 5, 2 + 4


def tree_digest(root: Path) -> dict[str, tuple[int, int, bytes]]:
    """``{relative path: (size, mtime_ns, content)}`` of every file below ``root``."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(root.rglob("*")) if p.is_file()}


def finite_audio(path: Path) -> bool:
    from emovc.audio import load_audio

    wav = load_audio(path)
    return wav.size > 0 and bool(np.isfinite(wav).all())


def _rows(out: Path, name: str = "manifest.csv") -> list[dict]:
    with open(out / name, newline="") as f:
        return list(csv.DictReader(f))


def test_augment_writes_mirrored_tree_manifest_and_failures(converter, corpus, tmp_path):
    before = tree_digest(corpus)
    out = tmp_path / "aug"
    report = augment_corpus(corpus, out, ["Anger", "sad"], model=str(converter), workers=2,
                            progress=False)
    assert tree_digest(corpus) == before  # input corpus untouched (content, names, mtimes)
    assert (report.converted, report.reused) == (N_OK, 0)
    # mirrored paths: OUT/<target>/<path relative to the corpus root>
    assert (out / "angry" / "spk1" / "calm" / "c1.wav").is_file()
    assert (out / "sad" / "spk2" / "Anger" / "a2.wav").is_file()
    assert not (out / "angry" / "spk1" / "Anger" / "a1.wav").exists()  # already angry
    wavs = sorted(out.rglob("*.wav"))
    assert len(wavs) == N_OK and all(finite_audio(w) for w in wavs)

    rows = read_augmented_manifest(report.manifest)
    assert set(EXTRA_COLUMNS) <= set(rows[0])
    real = [r for r in rows if r["synthetic"] == "0"]
    synth = [r for r in rows if r["synthetic"] == "1"]
    # the too-short clip failed every conversion: it is no training clip either
    assert len(real) == 4 and len(synth) == N_OK
    assert not any(Path(r["path"]).name == "short.wav" for r in real)
    assert all(r["source_utt_id"] == "" and r["converter"] == "" for r in real)
    by_id = {r["utt_id"]: r for r in real}
    for r in synth:
        src = by_id[r["source_utt_id"]]
        assert r["utt_id"] == f"{src['utt_id']}@{r['emotion']}"
        assert r["source_path"] == src["path"] and r["source_emotion"] == src["emotion"]
        assert r["speaker"] == src["speaker"] and r["converter"] == str(converter)
        assert Path(r["path"]).is_file() and Path(r["path"]).is_relative_to(out.resolve())
        assert float(r["duration"]) > 0
    assert {(r["emotion"], r["source_emotion"]) for r in synth} == {
        ("angry", "calm"), ("sad", "calm"), ("sad", "angry")}

    # failures: the corrupt file (at scan) and the too-short clip (once per target)
    fails = _rows(out, "failures.csv")
    names = sorted(Path(f["path"]).name for f in fails)
    assert names == ["broken.wav", "short.wav", "short.wav"]
    assert all(f["reason"] for f in fails)
    assert len(report.failures) == 3 and report.failed_inputs == 2
    assert "2 input file(s)" in report.summary()


def test_rerun_resumes_and_redoes_only_missing_outputs(converter, corpus, tmp_path):
    out = tmp_path / "aug"
    augment_corpus(corpus, out, ["angry", "sad"], model=str(converter), workers=1,
                   progress=False)
    again = augment_corpus(corpus, out, ["angry", "sad"], model=str(converter), workers=1,
                           progress=False)
    assert (again.converted, again.reused) == (0, N_OK)
    assert len([r for r in _rows(out) if r["synthetic"] == "1"]) == N_OK
    (out / "sad" / "spk1" / "calm" / "c1.wav").unlink()
    third = augment_corpus(corpus, out, ["angry", "sad"], model=str(converter), workers=1,
                           progress=False)
    assert (third.converted, third.reused) == (1, N_OK - 1)
    assert (out / "sad" / "spk1" / "calm" / "c1.wav").is_file()


def test_a_run_for_other_targets_keeps_the_earlier_outputs_listed(converter, corpus, tmp_path):
    """--to angry, then --to sad into the same folder: the manifest lists both (it listed
    only the sad clips, so training from it silently lost the angry ones)."""
    out = tmp_path / "aug"
    augment_corpus(corpus, out, ["angry"], model=str(converter), workers=1, progress=False)
    angry = {r["path"]: r for r in _rows(out) if r["synthetic"] == "1"}
    augment_corpus(corpus, out, ["sad"], model=str(converter), workers=1, progress=False)
    rows = [r for r in _rows(out) if r["synthetic"] == "1"]
    assert len(rows) == N_OK and {r["emotion"] for r in rows} == {"angry", "sad"}
    assert all(angry[r["path"]] == r for r in rows if r["emotion"] == "angry")  # kept as is
    (out / next(iter(angry))).unlink()  # a deleted output drops out of the next manifest
    augment_corpus(corpus, out, ["sad"], model=str(converter), workers=1, progress=False)
    assert len([r for r in _rows(out) if r["synthetic"] == "1"]) == N_OK - 1


def test_a_moved_output_folder_keeps_the_earlier_targets_listed(converter, corpus, tmp_path):
    """The manifest keyed earlier rows by absolute paths: after OUT was moved or renamed, a
    run for one target silently dropped the other targets' clips (their files were there).
    Converted clips are listed relative to OUT; a manifest of the older kind (absolute paths)
    is re-rooted."""
    import os
    import shutil

    from emovc.data.manifest import Manifest

    out = tmp_path / "aug"
    augment_corpus(corpus, out, ["angry", "sad"], model=str(converter), workers=1,
                   progress=False)
    before = {r["utt_id"]: r for r in _rows(out) if r["synthetic"] == "1"}
    assert len(before) == N_OK and not any(os.path.isabs(r["path"]) for r in before.values())
    moved = Path(shutil.move(out, tmp_path / "moved"))
    again = augment_corpus(corpus, moved, ["sad"], model=str(converter), workers=1,
                           progress=False)
    assert (again.converted, again.reused) == (0, 4)
    after = {r["utt_id"]: r for r in _rows(moved) if r["synthetic"] == "1"}
    assert after == before  # the angry clips too, source emotions and all
    # what `emovc ser train` reads: every path absolute, under the moved folder, there
    synth = [u for u in Manifest.from_csv(moved / "manifest.csv") if "@" in u.utt_id]
    assert len(synth) == N_OK
    assert all(Path(u.path).is_relative_to(moved.resolve()) and Path(u.path).is_file()
               for u in synth)
    rows = read_augmented_manifest(moved / "manifest.csv")
    assert {r["path"] for r in rows if r["synthetic"] == "1"} == {u.path for u in synth}

    # a manifest written before (absolute paths into the old place), then the folder renamed
    with open(moved / "manifest.csv", newline="") as f:
        table = list(csv.DictReader(f))
    for r in table:
        if r["synthetic"] == "1":
            r["path"] = str(moved.resolve() / r["path"])
    with open(moved / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    renamed = Path(shutil.move(moved, tmp_path / "renamed"))
    augment_corpus(corpus, renamed, ["angry"], model=str(converter), workers=1,
                   progress=False)
    assert {r["utt_id"]: r for r in _rows(renamed) if r["synthetic"] == "1"} == before


def test_a_resume_over_a_manifest_that_cannot_be_decoded_writes_it_anew(converter, corpus,
                                                                         tmp_path, monkeypatch):
    """An earlier emovc wrote manifest.csv in the locale's encoding (cp1252 on Windows): a
    resume read it as UTF-8 after every conversion and ended in a UnicodeDecodeError
    traceback, writing no manifest. One that cannot be decoded is written anew, with one
    warning."""
    import locale

    from emovc.errors import EmovcWarning

    out = tmp_path / "aug"
    augment_corpus(corpus, out, ["angry", "sad"], model=str(converter), workers=1,
                   progress=False)
    before = {r["utt_id"]: r for r in _rows(out)}
    with open(out / "manifest.csv", "w", newline="", encoding="cp1252") as f:
        writer = csv.DictWriter(f, fieldnames=list(next(iter(before.values()))))
        writer.writeheader()
        writer.writerows({**r, "text": "\u00c9milie"} for r in before.values())
    monkeypatch.setattr(locale, "getpreferredencoding", lambda do_setlocale=True: "UTF-8")
    with pytest.warns(EmovcWarning, match="manifest.csv is not UTF-8 nor in this system's"):
        again = augment_corpus(corpus, out, ["angry", "sad"], model=str(converter),
                               workers=1, progress=False)
    assert (again.converted, again.reused) == (0, N_OK)
    with open(out / "manifest.csv", newline="", encoding="utf-8") as f:
        assert {r["utt_id"]: r for r in csv.DictReader(f)} == before


def test_resuming_with_another_model_or_intensity_is_refused(converter, corpus, tmp_path):
    import json
    import shutil

    out = tmp_path / "aug"
    augment_corpus(corpus, out, ["sad"], model=str(converter), workers=1, progress=False)
    sig = json.loads((out / "augment.json").read_text())
    assert sig["model"] == str(converter) and sig["intensity"] == 1.0 and len(sig["sha256"]) == 64
    before = tree_digest(out)
    with pytest.raises(EmovcError, match="intensity"):
        augment_corpus(corpus, out, ["sad"], model=str(converter), intensity=0.5, workers=1,
                       progress=False)
    other = tmp_path / "other.pt"
    shutil.copyfile(converter, other)
    with open(other, "ab") as f:  # same weights, another file: another checkpoint hash
        f.write(b"\0")
    with pytest.raises(EmovcError, match="another --out"):
        augment_corpus(corpus, out, ["sad"], model=str(other), workers=1, progress=False)
    assert tree_digest(out) == before  # nothing converted, nothing rewritten


def test_resuming_a_folder_of_an_older_pipeline_is_refused(converter, corpus, tmp_path):
    import json

    from emovc.pipelines.conversion import PIPELINE_VERSION

    out = tmp_path / "aug"
    augment_corpus(corpus, out, ["sad"], model=str(converter), workers=1, progress=False)
    sig_path = out / "augment.json"
    sig = json.loads(sig_path.read_text())
    assert sig["pipeline"] == PIPELINE_VERSION
    del sig["pipeline"]  # as written before the version was recorded (version 1)
    sig_path.write_text(json.dumps(sig))
    before = tree_digest(out)
    with pytest.raises(EmovcError, match="pipeline v1"):
        augment_corpus(corpus, out, ["sad"], model=str(converter), workers=1, progress=False)
    assert tree_digest(out) == before


def test_plan_tasks_mirrors_symlinked_views(corpus, tmp_path):
    """A folder of symlinks (a corpus "view") keeps its own relative layout."""
    from emovc.data.catalogs import scan_corpus

    view = tmp_path / "view"
    (view / "spk9" / "calm").mkdir(parents=True)
    (view / "spk9" / "calm" / "x.wav").symlink_to(corpus / "spk1" / "calm" / "c1.wav")
    manifest, _ = scan_corpus(view)
    tasks = plan_tasks(manifest, view, tmp_path / "o", ["sad"])
    assert [Path(t.out) for t in tasks] == [tmp_path / "o" / "sad" / "spk9" / "calm" / "x.wav"]


def test_output_inside_corpus_is_refused(converter, corpus):
    before = tree_digest(corpus)
    with pytest.raises(EmovcError, match="inside the input corpus"):
        augment_corpus(corpus, corpus / "spk1" / "aug", ["sad"], model=str(converter),
                       progress=False)
    with pytest.raises(EmovcError, match="inside the input corpus"):
        augment_corpus(corpus, corpus, ["sad"], model=str(converter), progress=False)
    assert tree_digest(corpus) == before


def test_missing_or_unrecognised_corpus_writes_nothing(converter, tmp_path):
    with pytest.raises(EmovcError, match="not found"):
        augment_corpus(tmp_path / "nope", tmp_path / "o", ["sad"], model=str(converter))
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmovcError):
        augment_corpus(tmp_path / "empty", tmp_path / "o", ["sad"], model=str(converter))
    assert not (tmp_path / "o").exists()


def test_unknown_or_unsupported_emotion_lists_valid_ones(converter, corpus, tmp_path):
    with pytest.raises(ConfigError, match="neutral") as info:  # not an emotion at all
        augment_corpus(corpus, tmp_path / "o", ["sleepy"], model=str(converter))
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="calm, happy, sad, angry"):  # not in this model
        augment_corpus(corpus, tmp_path / "o", ["fearful"], model=str(converter))
    with pytest.raises(ConfigError, match=r"converts only to calm, happy, sad, angry, not "
                                          r"fearful$"):  # it is an emotion, not unknown
        augment_corpus(corpus, tmp_path / "o", ["Fear"], model=str(converter))
    with pytest.raises(EmovcError, match="no target emotion"):
        augment_corpus(corpus, tmp_path / "o", [], model=str(converter))
    with pytest.raises(EmovcError, match="intensity must be between 0 and 1"):
        augment_corpus(corpus, tmp_path / "o", ["sad"], model=str(converter), intensity=3)
    with pytest.raises(EmovcError, match="workers must be at least 1"):
        augment_corpus(corpus, tmp_path / "o", ["sad"], model=str(converter), workers=-1)
    assert not (tmp_path / "o").exists()


def test_backend_errors(converter, corpus, tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="local, ray"):
        augment_corpus(corpus, tmp_path / "o", ["sad"], model=str(converter), backend="spark")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(ConfigError, match=r"pip install 'emovc\[ray\]'"):
        augment_corpus(corpus, tmp_path / "o", ["sad"], model=str(converter), backend="ray")
    assert not (tmp_path / "o").exists()  # failed before doing any work


def _cli(argv: list[str]) -> int:
    from emovc.cli import main as cli_main

    if "emovc.cli.augment_cmds" not in cli_main.COMMAND_MODULES:
        cli_main.COMMAND_MODULES.append("emovc.cli.augment_cmds")
    return cli_main.main(argv)


def test_cli(converter, corpus, tmp_path, capsys):
    out = tmp_path / "cli"
    base = ["augment", str(corpus), "--out", str(out), "--model", str(converter),
            "--workers", "1"]
    assert _cli([*base, "--to", "sad"]) == 0
    text = capsys.readouterr().out
    assert "4 converted, 0 already present" in text
    assert "2 input file(s) skipped or failed" in text and "failures.csv" in text
    assert len(list((out / "sad").rglob("*.wav"))) == 4
    assert _cli([*base, "--to", "sad"]) == 0
    assert "0 converted, 4 already present" in capsys.readouterr().out
    assert _cli([*base, "--to", "sad,bored"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("emovc: error:") and "bored" in err and "surprised" in err
    assert len(err.splitlines()) == 1
    (tmp_path / "afile").write_text("mine\n")  # said "file exists: afile"
    for bad in (tmp_path / "afile", tmp_path / "afile" / "sub"):
        args = ["augment", str(corpus), "--out", str(bad), "--model", str(converter), "--to",
                "sad"]
        assert _cli(args) == 2
        err = capsys.readouterr().err
        assert f"--out {bad}" in err and "afile is a file; give a folder" in err
    assert (tmp_path / "afile").read_text() == "mine\n"
    assert _cli(["augment", str(corpus), "--out", str(out), "--model", "cyclegan-calm-angry",
                 "--to", "sad"]) == 2  # said "unknown target emotion for this model 'sad'"
    assert "cyclegan-calm-angry converts only to calm, angry, not sad" in capsys.readouterr().err


def test_help_says_how_to_redo_outputs_and_which_settings_render(capsys, monkeypatch):
    """No --force (the job resumes; an output is redone by deleting it), and augmentation's
    own rendering settings, unlike emovc convert's defaults — both were only in the docs."""
    monkeypatch.setenv("COLUMNS", "80")
    assert _cli(["augment", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "There is no --force: to redo an output, delete it" in text
    assert ("not emovc convert's defaults: pitch level 1 (the emotion's whole change of mean "
            "pitch), no envelope smoothing, envelope gain 1, no added voice quality, WORLD "
            "renderer") in text
    assert "docs/augmentation.md" in text


@pytest.mark.slow
def test_ray_backend_on_a_local_cluster(converter, corpus, tmp_path):
    """Same outputs with ``backend="ray"`` (a 2-CPU local Ray cluster); needs ``emovc[ray]``."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        report = augment_corpus(corpus, tmp_path / "ray", ["angry", "sad"],
                                model=str(converter), backend="ray", progress=False)
    finally:
        ray.shutdown()
    assert (report.converted, report.reused, report.failed_inputs) == (N_OK, 0, 2)
    synth = [r for r in _rows(tmp_path / "ray") if r["synthetic"] == "1"]
    assert len(synth) == N_OK and all(finite_audio(Path(r["path"])) for r in synth)
    assert sorted(Path(f["path"]).name for f in _rows(tmp_path / "ray", "failures.csv")) == [
        "broken.wav", "short.wav", "short.wav"]


def test_unlabelled_corpus_takes_the_given_source_emotion(converter, tmp_path):
    from emovc.audio import save_audio
    from emovc.data.synthetic import EMOTION_VOICES, synthesize

    libri = tmp_path / "libri"  # flat LibriSpeech-style clips: no emotion labels
    for i, name in enumerate(("11-100-0000", "12-200-0000")):
        save_audio(libri / f"{name}.wav", synthesize(EMOTION_VOICES["calm"], duration=1.0,
                                                     seed=40 + i), 16000)
    (libri / "speakers.tsv").write_text("file\tspeaker\tgender\n11-100-0000.wav\t11\tF\n"
                                        "12-200-0000.wav\t12\tM\n")
    with pytest.raises(EmovcError, match="calm, happy, sad, angry"):
        augment_corpus(libri, tmp_path / "bad", ["sad"], model=str(converter),
                       source="bored", workers=1, progress=False)
    out = tmp_path / "aug"
    report = augment_corpus(libri, out, ["sad", "calm"], model=str(converter), source="calm",
                            workers=1, progress=False)
    assert report.converted == 2 and not report.failures  # calm -> calm is skipped
    rows = read_augmented_manifest(report.manifest)
    assert {r["emotion"] for r in rows if r["synthetic"] == "0"} == {"calm"}
    synth = [r for r in rows if r["synthetic"] == "1"]
    assert {(r["emotion"], r["source_emotion"]) for r in synth} == {("sad", "calm")}
    with pytest.raises(EmovcError, match="unlabelled source calm"):  # resumed differently
        augment_corpus(libri, out, ["sad"], model=str(converter), workers=1, progress=False)


def test_augment_converts_as_measured_whatever_the_models_inference_defaults(converter,
                                                                             tmp_path):
    """Workers pin pitch level 1, no envelope smoothing, envelope gain 1 and WORLD rendering
    (the settings docs/augmentation.md measured), though the model's meta.json says otherwise."""
    import json
    import shutil

    from emovc.pipelines import augment_workers as augment
    from emovc.pipelines.conversion import EmotionConverter

    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(converter, folder / "model.pt")
    (folder / "meta.json").write_text(json.dumps({"inference": {
        "pitch_level": 0.5, "envelope_smoothing_ms": 100, "envelope_gain": 1.5,
        "renderer": "source"}}))
    plain = EmotionConverter.from_pretrained(str(folder / "model.pt"))
    assert (plain.pitch_level, plain.envelope_smoothing_ms, plain.envelope_gain,
            plain.renderer) == (0.5, 100.0, 1.5, "source")
    augment._init_worker(str(folder / "model.pt"))
    try:
        conv = augment._WORKER["converter"]
        assert (conv.pitch_level, conv.envelope_smoothing_ms, conv.envelope_gain,
                conv.renderer) == (1.0, 0.0, 1.0, "world")
    finally:
        augment._WORKER.clear()


def write_manifest(out: Path, manifest, tasks: list, done: dict[str, str]) -> Path:
    """``OUT/manifest.csv`` as :func:`augment_corpus` writes it (model "m", intensity 1)."""
    from emovc.pipelines.augment_outputs import MANIFEST_HEADER, atomic_csv, manifest_rows

    return atomic_csv(out / "manifest.csv", MANIFEST_HEADER,
                      manifest_rows(out, manifest, tasks, done, "m", 1.0))


def test_a_resume_keeps_the_detected_source_emotion_of_reused_outputs(tmp_path):
    """Outputs reused on a resume were converted from an emotion detected back then; the
    rewritten manifest keeps it instead of the utterance's (empty) label."""
    from emovc.audio import save_audio
    from emovc.data.manifest import Manifest, Utterance
    from emovc.pipelines.augment_state import Task

    src = tmp_path / "in.wav"
    save_audio(src, np.zeros(1600, np.float32), 16000)
    out = tmp_path / "aug"
    made = out / "sad" / "in.wav"
    save_audio(made, np.zeros(1600, np.float32), 16000)
    utt = Utterance(utt_id="u1", path=str(src), speaker="s1", emotion="", corpus="libri")
    tasks = [Task(utt, "sad", str(made))]
    write_manifest(out, Manifest([utt]), tasks, {str(made): "calm"})  # converted now
    write_manifest(out, Manifest([utt]), tasks, {})  # the resume: reused, not converted
    synth = [r for r in _rows(out) if r["synthetic"] == "1"]
    assert [r["source_emotion"] for r in synth] == ["calm"]


def test_outputs_of_an_interrupted_run_keep_their_detected_source_emotion(tmp_path):
    """An interrupted run writes no manifest: on the resume its outputs had no earlier row and
    were listed with the utterance's empty label, though the emotion the conversion started
    from is in each file's provenance tag."""
    from emovc.audio import save_audio
    from emovc.data.manifest import Manifest, Utterance
    from emovc.pipelines.augment_state import Task

    src = tmp_path / "in.wav"
    save_audio(src, np.zeros(1600, np.float32), 16000)
    out = tmp_path / "aug"
    utt = Utterance(utt_id="u1", path=str(src), speaker="s1", emotion="", corpus="libri")
    tags = {"sad": "emovc 0.1.0: emotion surprised->sad (m2m-ravdess, intensity 1.0)",
            "angry": "emovc 0.1.0: emotion ?->angry (m, intensity 1.0)",  # none recorded
            "happy": "emovc 0.1.0: emotion calm->angry (m, intensity 1.0)",  # another target
            "calm": ""}  # no tag at all
    tasks = []
    for target, tag in tags.items():
        made = out / target / "in.wav"
        save_audio(made, np.zeros(1600, np.float32), 16000, comment=tag or None)
        tasks.append(Task(utt, target, str(made)))
    write_manifest(out, Manifest([utt]), tasks, {})  # nothing converted by this run
    got = {r["emotion"]: r["source_emotion"] for r in _rows(out) if r["synthetic"] == "1"}
    assert got == {"sad": "surprised", "angry": "", "happy": "", "calm": ""}


def test_repeated_targets_and_aliases_are_converted_once(converter, corpus, tmp_path):
    """--to sad,sad (or happy,joy) used to convert twice: the second failed as 'output
    exists' and the manifest listed the clip twice."""
    report = augment_corpus(corpus, tmp_path / "aug", ["sad", "Sadness", "sad"],
                            model=str(converter), workers=1, progress=False)
    rows = read_augmented_manifest(report.manifest)
    ids = [r["utt_id"] for r in rows]
    assert len(ids) == len(set(ids)) and not [f for f in report.failures
                                               if "exists" in f[1]]


def test_a_folder_of_another_corpus_or_of_other_files_is_refused(converter, corpus, tmp_path):
    """Resuming into a folder made from another corpus reused its clips and listed them as
    the new corpus's; a folder of other files had its manifest.csv replaced."""
    import shutil

    from emovc.audio import save_audio
    from emovc.data.synthetic import EMOTION_VOICES, synthesize

    out = tmp_path / "aug"
    augment_corpus(corpus, out, ["sad"], model=str(converter), workers=1, progress=False)
    other = tmp_path / "other"
    shutil.copytree(corpus, other)
    save_audio(other / "spk1" / "calm" / "c1.wav",  # same name, other audio
               synthesize(EMOTION_VOICES["calm"], duration=1.5, seed=99), 16000, force=True)
    before = tree_digest(out)
    with pytest.raises(EmovcError, match="holds conversions of the corpus .*differ in their "
                                         "relative paths or sizes.*another --out"):
        augment_corpus(other, out, ["sad"], model=str(converter), workers=1, progress=False)
    assert tree_digest(out) == before
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "manifest.csv").write_text("my own table\n")
    with pytest.raises(EmovcError, match="not an emovc augment folder"):
        augment_corpus(corpus, mine, ["sad"], model=str(converter), workers=1, progress=False)
    assert (mine / "manifest.csv").read_text() == "my own table\n"


def test_a_moved_corpus_with_the_same_clips_resumes(converter, corpus, tmp_path):
    """The corpus folder's absolute path was compared: the same clips moved (or copied)
    elsewhere were refused as "another corpus". Now the clips' relative paths and sizes are
    compared; the manifest and the table then point to the corpus's new place."""
    import json
    import shutil

    from emovc.evaluation.manifest import read_manifest

    out = tmp_path / "aug"
    augment_corpus(corpus, out, ["angry", "sad"], model=str(converter), workers=1,
                   progress=False)
    before = {r["utt_id"]: r for r in _rows(out) if r["synthetic"] == "1"}
    moved = Path(shutil.move(corpus, tmp_path / "moved"))
    again = augment_corpus(moved, out, ["sad"], model=str(converter), workers=1,
                           progress=False)
    assert (again.converted, again.reused) == (0, 4)
    rows = read_augmented_manifest(out / "manifest.csv")
    synth = {r["utt_id"]: r for r in rows if r["synthetic"] == "1"}
    assert synth.keys() == before.keys()  # the angry clips too
    for r in rows:  # every source where it lies now, also those of the earlier target
        assert Path(r["source_path" if r["synthetic"] == "1" else "path"]).is_relative_to(
            moved)
    assert all(Path(it.source).is_file() for it in read_manifest(out))
    assert json.loads((out / "augment.json").read_text())["corpus"] == str(moved.resolve())

    # a folder recorded without its clips (an earlier emovc): a moved corpus cannot be told
    sig = json.loads((out / "augment.json").read_text())
    del sig["clips"]
    (out / "augment.json").write_text(json.dumps(sig))
    back = Path(shutil.move(moved, tmp_path / "back"))
    with pytest.raises(EmovcError, match="does not record its clips"):
        augment_corpus(back, out, ["sad"], model=str(converter), workers=1, progress=False)


def test_damaged_outputs_are_converted_again(converter, corpus, tmp_path):
    """A resume took any existing output for done: a file cut short (an interrupted copy of
    the folder), emptied, reduced to its header or replaced by a much shorter one was listed
    in the manifest (duration 0) and nowhere else. Such outputs are now converted again,
    with one warning; a damaged output of a target not asked for is left out and noted."""
    import soundfile as sf

    from emovc.audio import audio_info
    from emovc.errors import EmovcWarning

    out = tmp_path / "aug"
    augment_corpus(corpus, out, ["angry", "sad"], model=str(converter), workers=1,
                   progress=False)
    cut, empty, stub, short = (out / "sad" / "spk1" / "calm" / "c1.wav",
                               out / "sad" / "spk2" / "calm" / "c2.wav",
                               out / "sad" / "spk1" / "Anger" / "a1.wav",
                               out / "sad" / "spk2" / "Anger" / "a2.wav")
    data = cut.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    empty.write_bytes(b"")
    stub.write_bytes(stub.read_bytes()[:100])
    sf.write(short, np.zeros(800), 16000, subtype="PCM_16")  # a whole file of 0.05 s
    other = out / "angry" / "spk1" / "calm" / "c1.wav"  # a target not asked for below
    other.write_bytes(other.read_bytes()[: len(data) // 3])
    with pytest.warns(EmovcWarning, match=r"4 existing output\(s\) are damaged and are "
                                          r"converted again, e\.g\. not a readable audio "
                                          r"file: .*a1\.wav"):
        report = augment_corpus(corpus, out, ["sad"], model=str(converter), workers=1,
                                progress=False)
    assert (report.converted, report.reused) == (4, 0)
    assert sorted(Path(p).name for p, _ in report.redone) == ["a1.wav", "a2.wav", "c1.wav",
                                                              "c2.wav"]
    assert "4 of them damaged outputs converted again" in report.summary()
    for path in (cut, empty, stub, short):
        assert finite_audio(path) and audio_info(path).duration > 0.5
    synth = [r for r in _rows(out) if r["synthetic"] == "1"]
    assert len(synth) == 4 + 1  # the sad clips, and the angry c2 that is whole
    assert all(float(r["duration"]) > 0.5 for r in synth)
    assert other.is_file() and "angry/spk1/calm/c1.wav" not in {r["path"] for r in synth}
    noted = [f for f in _rows(out, "failures.csv") if f["path"] == str(other)]
    assert noted and "--to angry" in noted[0]["reason"]


def test_stale_temporaries_of_a_killed_run_are_removed_at_the_end(converter, corpus,
                                                                  tmp_path):
    """A kill -9 left hidden `.<name>.wav.<8 chars>.wav` files next to the outputs, which
    matched `*.wav` globs after the resume had completed the folder: a successful run removes
    those of its outputs over an hour old (a younger one may be a concurrent writer's)."""
    import os

    out = tmp_path / "aug"
    augment_corpus(corpus, out, ["sad"], model=str(converter), workers=1, progress=False)
    folder = out / "sad" / "spk1" / "calm"
    old, young, foreign = (folder / ".c1.wav.k3x_9ab2.wav", folder / ".c1.wav.abcdefgh.wav",
                           folder / ".mine.wav.abcdefgh.wav")  # not the name of an output
    for p in (old, young, foreign):
        p.write_bytes(b"RIFF")
    for p in (old, foreign):
        os.utime(p, (0, 0))
    report = augment_corpus(corpus, out, ["sad"], model=str(converter), workers=1,
                            progress=False)
    assert report.temporaries_removed == 1
    assert "1 stale temporary file(s) of a killed run removed" in report.summary()
    assert not old.exists() and young.exists() and foreign.exists()


def _ravdess(root: Path) -> Path:
    """Actor_01 of a RAVDESS-named corpus: calm and strong angry takes of statement 01, and
    the sad takes of the same statement, intensity and repetition (the references)."""
    from emovc.audio import save_audio
    from emovc.data.synthetic import EMOTION_VOICES, synthesize

    for i, (emo, code, strength) in enumerate((("calm", "02", "01"), ("angry", "05", "02"),
                                               ("sad", "04", "01"), ("sad", "04", "02"))):
        save_audio(root / "Actor_01" / f"03-01-{code}-{strength}-01-01-01.wav",
                   synthesize(EMOTION_VOICES[emo], duration=1.0, seed=60 + i), 16000)
    return root


def test_emovc_evaluate_reads_an_augment_folder(converter, tmp_path):
    """`emovc evaluate OUT` failed: augment wrote no conversions.csv. It writes one now, with
    the real take of the target as reference for RAVDESS names, and what is said."""
    from emovc.evaluation.manifest import read_manifest
    from emovc.pipelines.run_table import COLUMNS, read_table

    corpus = _ravdess(tmp_path / "ravdess")
    out = tmp_path / "aug"
    report = augment_corpus(corpus, out, ["sad", "happy"], model=str(converter), workers=1,
                            progress=False, only_from=["calm", "angry"])
    assert report.table == out / "conversions.csv"
    with open(report.table, newline="") as f:
        assert tuple(next(csv.reader(f))) == COLUMNS
    assert all(not Path(r["converted"]).is_absolute() for r in read_table(report.table))
    items = {(Path(it.source).name, it.target_emotion): it for it in read_manifest(out)}
    assert set(items) == {(n, t) for n in ("03-01-02-01-01-01-01.wav",
                                           "03-01-05-02-01-01-01.wav")
                          for t in ("sad", "happy")}
    calm_sad = items["03-01-02-01-01-01-01.wav", "sad"]
    assert Path(calm_sad.reference) == corpus / "Actor_01" / "03-01-04-01-01-01-01.wav"
    assert Path(items["03-01-05-02-01-01-01.wav", "sad"].reference).name == (
        "03-01-04-02-01-01-01.wav")  # same intensity
    assert items["03-01-02-01-01-01-01.wav", "happy"].reference == ""  # no happy take
    assert calm_sad.text == "Kids are talking by the door"
    assert calm_sad.source_emotion == "calm"
    assert Path(calm_sad.converted) == (out / "sad" / "Actor_01" /
                                        "03-01-02-01-01-01-01.wav").resolve()
    # a source removed from the corpus: its outputs stay training clips, but leave the table
    # (emovc evaluate refuses a table with a missing source)
    Path(calm_sad.source).unlink()
    augment_corpus(corpus, out, ["sad", "happy"], model=str(converter), workers=1,
                   progress=False, only_from=["calm", "angry"])
    assert len([r for r in _rows(out) if r["synthetic"] == "1"]) == 4
    assert {Path(it.source).name for it in read_manifest(out)} == {"03-01-05-02-01-01-01.wav"}


def test_converted_rows_do_not_inherit_the_source_takes_intensity(converter, tmp_path):
    """The strong angry take converted into sad was listed as a strong sad clip; the
    conversion's intensity was nowhere in the manifest."""
    corpus = _ravdess(tmp_path / "ravdess")
    out = tmp_path / "aug"
    augment_corpus(corpus, out, ["sad"], model=str(converter), workers=1, progress=False,
                   intensity=0.5, only_from=["angry"])
    rows = _rows(out)
    (synth,) = [r for r in rows if r["synthetic"] == "1"]
    assert synth["source_utt_id"].endswith("03-01-05-02-01-01-01")
    assert (synth["intensity"], synth["conversion_intensity"]) == ("", "0.5")
    real = {r["utt_id"]: r for r in rows if r["synthetic"] == "0"}
    assert real[synth["source_utt_id"]]["intensity"] == "strong"  # the take keeps its label
    assert all(r["conversion_intensity"] == "" for r in real.values())


def test_only_some_source_emotions_and_speakers_are_converted(converter, corpus, tmp_path,
                                                            capsys):
    """Every clip was converted (strong angry takes too), and the summary did not show how
    unbalanced the manifest became."""
    out = tmp_path / "aug"
    report = augment_corpus(corpus, out, ["sad"], model=str(converter), workers=1,
                            progress=False, only_from=["Calm"], speakers=["spk1"])
    assert (report.converted, report.reused) == (1, 0)
    rows = _rows(out)
    assert [r["source_utt_id"] for r in rows if r["synthetic"] == "1"] == [
        next(r["utt_id"] for r in rows if r["path"].endswith("spk1/calm/c1.wav"))]
    # the clips left out of the conversions stay real rows
    assert sorted(Path(r["path"]).name for r in rows if r["synthetic"] == "0") == [
        "a1.wav", "a2.wav", "c1.wav", "c2.wav", "short.wav"]
    assert report.counts == {"calm": (3, 0), "angry": (2, 0), "sad": (0, 1)}
    assert report.summary().splitlines()[1] == (
        "clips per emotion in the manifest, real + synthetic: calm 3+0, sad 0+1, angry 2+0; "
        "sad: synthetic clips only")
    for kw, match in (({"speakers": ["spk7"]}, r"speaker 'spk7' is not in the corpus; the "
                                                r"corpus's speakers: spk1, spk2"),
                      ({"only_from": ["happy"]}, r"no clip to convert: none of the corpus's "
                                                  r"5 clips is of the source emotion happy \(its "
                                                  r"clips per emotion: calm 3, angry 2\)"),
                      ({"only_from": ["fearful"]}, "converts from calm, happy, sad and angry "
                                                   "only, not from 'fearful'")):
        with pytest.raises(ConfigError, match=match):
            augment_corpus(corpus, tmp_path / "o", ["sad"], model=str(converter), **kw)
    assert not (tmp_path / "o").exists()
    base = ["augment", str(corpus), "--out", str(tmp_path / "cli"), "--model", str(converter),
            "--workers", "1", "--to", "angry,sad"]
    assert _cli([*base, "--only-from", "calm", "--speakers", "spk2,spk1"]) == 0
    text = capsys.readouterr().out
    assert "4 converted, 0 already present" in text  # c1, c2 into angry and sad
    assert "real + synthetic: calm 2+0, sad 0+2, angry 2+2; sad: synthetic clips only" in text
    from emovc.pipelines.augment import balance_line

    assert balance_line({"calm": (2, 1), "sad": (4, 9), "angry": (1, 3), "": (5, 0)}) == (
        "clips per emotion in the manifest, real + synthetic: calm 2+1, sad 4+9, angry 1+3, "
        "(unlabelled) 5+0; sad, angry: more synthetic than real clips (up to 3.0x)")


def test_an_unlabelled_corpus_without_from_is_warned_about_once(converter, tmp_path):
    """Without --from, the source emotion of clips of an unlabelled corpus is guessed by the
    RAVDESS-trained recogniser: said once, with how many clips, and what to pass."""
    import warnings

    from emovc.audio import save_audio
    from emovc.data.synthetic import EMOTION_VOICES, synthesize
    from emovc.errors import EmovcWarning

    libri = tmp_path / "libri"
    for i, name in enumerate(("11-100-0000", "12-200-0000")):
        save_audio(libri / f"{name}.wav", synthesize(EMOTION_VOICES["calm"], duration=1.0,
                                                     seed=50 + i), 16000)
    (libri / "speakers.tsv").write_text("file\tspeaker\tgender\n11-100-0000.wav\t11\tF\n"
                                        "12-200-0000.wav\t12\tM\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        augment_corpus(libri, tmp_path / "aug", ["sad", "angry"], model=str(converter),
                       workers=1, progress=False)
    said = [str(w.message) for w in caught if issubclass(w.category, EmovcWarning)
            and "no emotion label" in str(w.message)]
    assert len(said) == 1
    assert said[0].startswith("2 clip(s) have no emotion label: the emotion each is converted "
                              "from is guessed by the emotion recogniser, which was trained on "
                              "acted RAVDESS speech")
    assert "--from EMOTION" in said[0] and "read as speakers" not in said[0]  # LibriSpeech
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        augment_corpus(libri, tmp_path / "aug2", ["sad"], model=str(converter),
                       source="calm", workers=1, progress=False)
    assert not [w for w in caught if "no emotion label" in str(w.message)]


def test_emotion_folders_read_as_speakers_are_named_in_the_unlabelled_warning(converter,
                                                                              tmp_path):
    """Emotion folders of names emovc does not know (`wut/`, `trauer/`) read as speaker
    folders: augment guessed every clip's emotion, saying only that they had no label."""
    from emovc.audio import save_audio
    from emovc.data.synthetic import EMOTION_VOICES, synthesize
    from emovc.errors import EmovcWarning

    root = tmp_path / "mine"
    for i, folder in enumerate(("wut", "trauer")):
        save_audio(root / folder / "0.wav", synthesize(EMOTION_VOICES["calm"], duration=1.0,
                                                       seed=60 + i), 16000)
    with pytest.warns(EmovcWarning) as caught:
        augment_corpus(root, tmp_path / "aug", ["sad"], model=str(converter), workers=1,
                       progress=False)
    (said,) = [str(w.message) for w in caught if "no emotion label" in str(w.message)]
    assert said.startswith("2 clip(s) have no emotion label: ")
    assert said.endswith("; its folders (trauer, wut) were read as speakers (the speakers "
                         "layout, no emotion labels): emotion folders, <emotion>/ or "
                         "<speaker>/<emotion>/, are named neutral, calm, happy, sad, angry, "
                         "fearful, disgust or surprised (or an alias such as anger or "
                         "happiness), and --corpus folders reads only those, listing the "
                         "others")


def test_an_augment_folder_is_not_scanned_as_a_corpus(converter, corpus, tmp_path):
    """Its clips keep the source names: scanned as a corpus they were labelled with the
    source emotion (and `ser train` trained on that without a word)."""
    from emovc.data.catalogs import scan_corpus

    out = tmp_path / "aug"
    augment_corpus(corpus, out, ["sad"], model=str(converter), workers=1, progress=False)
    with pytest.raises(EmovcError, match="is an `emovc augment` output.*manifest.csv"):
        scan_corpus(out)


def test_clips_a_pairwise_model_cannot_start_from_stay_real_rows(corpus, tmp_path):
    """cyclegan-calm-angry and a sad take: the take is not converted, but it is a good clip
    (it used to be counted as failed and dropped from the manifest)."""
    from emovc.audio import save_audio
    from emovc.data.synthetic import EMOTION_VOICES, synthesize

    save_audio(corpus / "spk1" / "sad" / "s1.wav", synthesize(EMOTION_VOICES["sad"], 1.0))
    report = augment_corpus(corpus, tmp_path / "aug", ["angry"], model="cyclegan-calm-angry",
                            workers=1, progress=False)
    assert not [f for f in report.failures if "s1.wav" in f[0]]
    assert [n for n in report.notes if n[0].endswith("s1.wav") and "converts from" in n[1]]
    rows = read_augmented_manifest(report.manifest)
    assert [r for r in rows if r["synthetic"] == "0" and r["emotion"] == "sad"]
    assert "does not convert from" in report.summary()


def test_a_recogniser_trains_on_an_augment_manifest(converter, corpus, tmp_path):
    """`emovc ser train OUT/manifest.csv`: the converted clips of the training speakers train,
    those of the validation speakers are left out (they are not real takes)."""
    from emovc.training.ser import build_config, split_corpus, train

    report = augment_corpus(corpus, tmp_path / "aug", ["sad"], model=str(converter),
                            workers=1, progress=False)
    cfg = build_config(str(report.manifest), str(tmp_path / "ser"), {
        "val_speakers": ["spk2"], "method": "linear", "feature_set": "egemaps",
        "world_augment": False, "cache_dir": str(tmp_path / "cache")})
    tr, va, labels = split_corpus(cfg)
    assert "sad" in labels and any("@sad" in u.utt_id for u in tr)
    assert len(va) > 0 and not any("@" in u.utt_id for u in va)
    assert train(cfg, progress=False).is_file()


@pytest.mark.parametrize("damage", [b'{"model": "m2m', b"\xff\xfe", b"[1, 2]"])
def test_a_damaged_augment_json_is_one_line(converter, corpus, tmp_path, capsys, damage):
    """A hand-damaged record raised json.JSONDecodeError (a traceback), a JSON list
    AttributeError; nothing is converted or rewritten."""
    out = tmp_path / "aug"
    augment_corpus(corpus, out, ["sad"], model=str(converter), workers=1, progress=False)
    (out / "augment.json").write_bytes(damage)
    before = tree_digest(out)
    assert _cli(["augment", str(corpus), "--out", str(out), "--model", str(converter),
                 "--to", "sad", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"emovc: error: {out / 'augment.json'} is damaged (not ")
    assert len(err.splitlines()) == 1 and "another --out folder" in err
    assert tree_digest(out) == before


def test_an_output_path_holding_a_folder_is_one_line_and_kept(converter, corpus, tmp_path):
    """A folder where a converted clip goes was taken for a damaged output, and deleting it
    raised IsADirectoryError."""
    out = tmp_path / "aug"
    augment_corpus(corpus, out, ["sad"], model=str(converter), workers=1, progress=False)
    clip = out / "sad" / "spk1" / "calm" / "c1.wav"
    clip.unlink()
    (clip / "mine.txt").parent.mkdir()
    (clip / "mine.txt").write_text("kept\n")
    with pytest.raises(EmovcError, match=r"c1\.wav is a folder .*c1\.wav to sad is written: "
                                         r"move it away"):
        augment_corpus(corpus, out, ["sad"], model=str(converter), workers=1, progress=False)
    assert (clip / "mine.txt").read_text() == "kept\n"


def test_a_clip_deleted_after_the_scan_is_one_line(converter, corpus, tmp_path, monkeypatch):
    """The clips' sizes are read after the corpus scan: a clip deleted in between raised
    FileNotFoundError from os.stat."""
    from emovc.pipelines import augment

    fingerprint = augment.clips_fingerprint

    def deleting_first(manifest, root):
        gone = Path(next(iter(manifest)).path)
        gone.unlink()
        return fingerprint(manifest, root)

    monkeypatch.setattr(augment, "clips_fingerprint", deleting_first)
    with pytest.raises(EmovcError, match=r"corpus clip .*\.wav is gone \(deleted or moved "
                                         r"since the corpus was scanned\): run again"):
        augment_corpus(corpus, tmp_path / "aug", ["sad"], model=str(converter), workers=1,
                       progress=False)


def test_two_clips_of_one_output_are_refused_before_converting(tmp_path):
    """Review 42 L8 (review 41 L5): take.wav and take.flac of one folder (a manifest's rows,
    which no catalogue deduplicated) were both converted to OUT/<target>/.../take.wav, the
    second overwriting or skipped as done; as convert on a folder does, it is refused."""
    from emovc.data.manifest import Manifest, Utterance

    root = tmp_path / "c"

    def utt(path: str, emotion: str = "calm") -> Utterance:
        return Utterance(str(root / path), "mine", "s1", "F", emotion, utt_id=path)

    with pytest.raises(EmovcError, match=r"^\S*take\.wav and \S*take\.flac would both be "
                                         r"written to \S*sad/s1/take\.wav; rename one$"):
        plan_tasks(Manifest([utt("s1/take.wav"), utt("s1/take.flac")]), root, tmp_path / "o",
                   ["sad"])
    with pytest.raises(EmovcError, match="would both be written to"):  # outside: name alone
        plan_tasks(Manifest([utt("../a/x.wav"), utt("../b/x.wav")]), root, tmp_path / "o",
                   ["sad"])
    # one clip already sad and one calm: each target converts one of them, no collision
    tasks = plan_tasks(Manifest([utt("s1/take.wav", "sad"), utt("s1/take.flac")]), root,
                       tmp_path / "o", ["sad", "calm"])
    assert sorted(Path(t.out).relative_to(tmp_path / "o").as_posix() for t in tasks) == [
        "calm/s1/take.wav", "sad/s1/take.wav"]
