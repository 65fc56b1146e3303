"""``conversions.csv`` of a folder conversion lists every conversion in its folder: a second
``emovc convert`` into the same folder adds to it instead of replacing it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from emovc.audio import save_audio
from emovc.errors import OutputExistsError, output_exists
from emovc.pipelines.conversion_batch import convert_paths
from emovc.pipelines.conversion_settings import ConversionSettings

EMOTIONS = ["calm", "happy", "sad", "angry"]


class FakeConverter:
    """Writes the input's audio as the "conversion" (the table is under test, not the model)."""

    target_emotions = source_emotions = EMOTIONS
    detects_source = False
    settings = ConversionSettings()
    name = "fake"

    def __init__(self, wav):
        self.wav = wav

    def provenance_tag(self, source, target, intensity=1.0, **kwargs):
        return f"emovc test: emotion {source or '?'}->{target} (fake, intensity {intensity})"

    def convert_file(self, inp, out, target, source=None, force=False, intensity=1.0,
                     **kwargs):
        if Path(out).exists() and not force:
            raise output_exists(out)
        used = source or "calm"
        save_audio(out, self.wav, 16000, force=force,
                   comment=self.provenance_tag(used, target, intensity))
        return Path(out), used


def _table(folder: Path) -> list[dict]:
    with open(folder / "conversions.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _folder(root: Path, names: list[str], wav) -> Path:
    for name in names:
        save_audio(root / name, wav, 16000)
    return root


def test_a_second_folder_into_the_same_run_folder_adds_its_rows(calm, tmp_path):
    """It replaced the table: the first folder's conversions were still in the run folder
    but no longer listed, so `emovc evaluate` scored only the last one."""
    conv = FakeConverter(calm)
    first = _folder(tmp_path / "a", ["x.wav", "y.wav", "z.wav"], calm)
    second = _folder(tmp_path / "b", ["w.wav"], calm)
    run = tmp_path / "run"
    said: list[str] = []
    convert_paths(conv, first, run, "sad", source="calm", progress=said.append)
    assert not [s for s in said if "conversions.csv" in s]  # a new table: nothing to say
    convert_paths(conv, second, run, "happy", source="calm", progress=said.append)
    rows = _table(run)
    assert [(r["converted"], r["target_emotion"]) for r in rows] == [
        ("x.wav", "sad"), ("y.wav", "sad"), ("z.wav", "sad"), ("w.wav", "happy")]
    assert "1 row(s) of this run; 3 earlier row(s) kept" in said[-1]

    # a forced rewrite replaces the rows of the files it rewrote, a deleted file drops out
    (run / "z.wav").unlink()
    said.clear()
    convert_paths(conv, _folder(tmp_path / "c", ["x.wav"], calm), run, "angry", source="calm",
                  force=True, progress=said.append)
    rows = _table(run)
    assert [(r["converted"], r["target_emotion"]) for r in rows] == [
        ("y.wav", "sad"), ("w.wav", "happy"), ("x.wav", "angry")]
    assert Path(rows[-1]["source"]) == tmp_path / "c" / "x.wav"
    note = said[-1]
    assert "2 earlier row(s) kept" in note
    assert "1 earlier row(s) replaced" in note and "1 earlier row(s) dropped" in note
    assert "z.wav" in note


def test_a_foreign_conversions_csv_is_refused_before_converting(calm, tmp_path):
    conv = FakeConverter(calm)
    folder = _folder(tmp_path / "in", ["x.wav"], calm)
    run = tmp_path / "run"
    run.mkdir()
    (run / "conversions.csv").write_text("my;own;notes\n1;2;3\n")
    with pytest.raises(OutputExistsError, match="not a table of conversions.*--force"):
        convert_paths(conv, folder, run, "sad", source="calm")
    assert not (run / "x.wav").exists()
    assert (run / "conversions.csv").read_text() == "my;own;notes\n1;2;3\n"
    said: list[str] = []
    convert_paths(conv, folder, run, "sad", source="calm", force=True, progress=said.append)
    assert [r["converted"] for r in _table(run)] == ["x.wav"]
    assert any("replaces it" in s for s in said)
    assert "force=True in Python it" not in str(_refusal(conv, folder, tmp_path))


def _refusal(conv, folder, tmp_path) -> OutputExistsError:
    run = tmp_path / "run2"
    run.mkdir()
    (run / "conversions.csv").write_text("a,b\n1,2\n")
    with pytest.raises(OutputExistsError) as info:
        convert_paths(conv, folder, run, "sad", source="calm")
    assert str(info.value).endswith("(use --force to replace it; force=True in Python)")
    return info.value


def test_a_file_converted_into_a_run_folder_updates_its_row(calm, tmp_path):
    """A single-file `convert --force` into a run folder left the old row (the earlier target
    emotion), so `emovc evaluate` scored the new conversion as the old emotion."""
    conv = FakeConverter(calm)
    folder = _folder(tmp_path / "in", ["x.wav", "y.wav"], calm)
    run = tmp_path / "run"
    convert_paths(conv, folder, run, "sad", source="calm")
    said: list[str] = []
    convert_paths(conv, folder / "x.wav", run, "happy", source="calm", force=True,
                  progress=said.append)
    rows = _table(run)
    assert [(r["converted"], r["target_emotion"]) for r in rows] == [
        ("y.wav", "sad"), ("x.wav", "happy")]
    assert "1 earlier row(s) replaced" in said[-1]
    # a new file is added; a file into a folder without a table writes none
    other = _folder(tmp_path / "in2", ["w.wav"], calm)
    convert_paths(conv, other / "w.wav", run / "w.wav", "angry", source="calm")
    assert [r["converted"] for r in _table(run)] == ["y.wav", "x.wav", "w.wav"]
    convert_paths(conv, other / "w.wav", tmp_path / "solo", "angry", source="calm")
    assert (tmp_path / "solo" / "w.wav").is_file()
    assert not (tmp_path / "solo" / "conversions.csv").exists()
    # another tool's conversions.csv beside a single output is left alone, not refused
    (tmp_path / "solo" / "conversions.csv").write_text("a,b\n1,2\n")
    convert_paths(conv, other / "w.wav", tmp_path / "solo", "sad", source="calm", force=True)
    assert (tmp_path / "solo" / "conversions.csv").read_text() == "a,b\n1,2\n"


def test_the_same_inputs_into_another_emotion_say_to_use_another_folder(calm, tmp_path):
    """Outputs are named after the inputs, so a second emotion into the same run folder needs
    --force and replaces the first: the refusal says to use a separate -o per emotion."""
    conv = FakeConverter(calm)
    folder = _folder(tmp_path / "in", ["x.wav"], calm)
    convert_paths(conv, folder, tmp_path / "run", "sad", source="calm")
    with pytest.raises(OutputExistsError, match="--force.*separate -o per emotion"):
        convert_paths(conv, folder, tmp_path / "run", "happy", source="calm")


class FailingConverter(FakeConverter):
    def convert_file(self, inp, out, target, **kwargs):
        from emovc.errors import AudioError
        raise AudioError("silent")


def test_a_folder_where_every_file_fails_writes_no_table(calm, tmp_path):
    """It created OUT with a header-only conversions.csv; an earlier table stays as it was
    (its rows were not re-checked or dropped)."""
    from emovc.errors import EmovcError
    folder = _folder(tmp_path / "in", ["x.wav", "y.wav"], calm)
    with pytest.raises(EmovcError, match="2 of 2 file"):
        convert_paths(FailingConverter(calm), folder, tmp_path / "out", "sad", source="calm")
    assert not (tmp_path / "out").exists()
    run = tmp_path / "run"
    convert_paths(FakeConverter(calm), folder, run, "sad", source="calm")
    (run / "y.wav").unlink()
    before = (run / "conversions.csv").read_text()
    with pytest.raises(EmovcError, match="2 of 2 file"):
        convert_paths(FailingConverter(calm), folder, run, "happy", source="calm", force=True)
    assert (run / "conversions.csv").read_text() == before


def test_a_hand_edited_header_with_spaces_is_read_as_evaluate_reads_it(calm, tmp_path):
    """`emovc evaluate` strips the column names (" converted"); convert called such a table
    "not a table of conversions" and refused to add to it."""
    run = tmp_path / "run"
    run.mkdir()
    save_audio(run / "old.wav", calm, 16000)
    (run / "conversions.csv").write_text("source, converted, target_emotion\n"
                                         "/in/old.wav,old.wav,sad\n", encoding="utf-8")
    convert_paths(FakeConverter(calm), _folder(tmp_path / "a", ["new.wav"], calm), run,
                  "happy", source="calm")
    assert [(r["converted"], r["target_emotion"]) for r in _table(run)] == [
        ("old.wav", "sad"), ("new.wav", "happy")]


class FailsOn(FakeConverter):
    """Fails (``exc``) on the inputs named in ``names``; counts what it converts."""

    def __init__(self, wav, names=(), exc=None):
        super().__init__(wav)
        self.names, self.exc, self.converted = set(names), exc, []

    def convert_file(self, inp, out, target, **kwargs):
        from emovc.errors import AudioError
        if Path(inp).name in self.names:
            raise self.exc or AudioError("silent")
        self.converted.append(Path(inp).name)
        return super().convert_file(inp, out, target, **kwargs)


def test_a_rerun_converts_only_the_missing_outputs(calm, tmp_path):
    """A second run refused the whole folder because outputs existed, and --force redid all:
    a partly failed run could not be completed."""
    from emovc.errors import EmovcError
    folder = _folder(tmp_path / "in", ["x.wav", "y.wav", "z.wav"], calm)
    run = tmp_path / "run"
    with pytest.raises(EmovcError, match="1 of 3 file"):
        convert_paths(FailsOn(calm, ["y.wav"]), folder, run, "sad", source="calm")
    table = (run / "conversions.csv").read_text().replace(",sad,calm,,", ",sad,calm,,my note")
    (run / "conversions.csv").write_text(table)  # the kept rows stay as they are
    conv, said = FailsOn(calm), []
    rows = convert_paths(conv, folder, run, "sad", source="calm", progress=said.append)
    assert conv.converted == ["y.wav"] and [Path(r["source"]).name for r in rows] == ["y.wav"]
    assert "2 of 3 output(s) are there from an earlier run with these settings: kept" in said[0]
    assert [(r["converted"], r["text"]) for r in _table(run)] == [
        ("x.wav", "my note"), ("z.wav", "my note"), ("y.wav", "")]
    convert_paths(conv, folder, run, "sad", source="calm", force=True)  # --force redoes all
    assert conv.converted == ["y.wav", "x.wav", "y.wav", "z.wav"]


def test_an_interrupted_run_keeps_its_table(calm, tmp_path):
    """The table was written after the loop: an interrupt lost the rows of every file
    already converted."""
    folder = _folder(tmp_path / "in", ["a.wav", "b.wav", "c.wav"], calm)
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        convert_paths(FailsOn(calm, ["c.wav"], KeyboardInterrupt()), folder, run, "sad",
                      source="calm")
    assert [r["converted"] for r in _table(run)] == ["a.wav", "b.wav"]
    (run / "conversions.csv").unlink()  # kept outputs the table lacks: rows from their tags
    conv = FailsOn(calm)
    convert_paths(conv, folder, run, "sad")
    assert conv.converted == ["c.wav"]
    assert [(r["converted"], r["source_emotion"]) for r in _table(run)] == [
        ("a.wav", "calm"), ("b.wav", "calm"), ("c.wav", "calm")]


def test_outputs_of_other_settings_or_inputs_are_refused_and_named(calm, tmp_path):
    """A rerun keeps only what this run would have made: another emotion, intensity or
    source, another input folder's file of the same name, or a file emovc did not write is
    refused before anything is converted, naming the files and --force."""
    folder = _folder(tmp_path / "in", ["x.wav", "y.wav"], calm)
    run = tmp_path / "run"
    convert_paths(FakeConverter(calm), folder, run, "sad", source="calm")
    (run / "y.wav").unlink()
    conv = FailsOn(calm)
    for kwargs in ({"intensity": 0.5}, {"source": "happy"}):
        with pytest.raises(OutputExistsError, match=r"1 output file\(s\) in .* were not made "
                           r".*: x.wav \(other settings\); x.wav was made calm->sad \(fake, "
                           r"intensity 1.0\), this run: .*--force"):
            convert_paths(conv, folder, run, "sad", **{"source": "calm", **kwargs})
    other = _folder(tmp_path / "other", ["x.wav", "y.wav"], calm)
    with pytest.raises(OutputExistsError, match=r"x.wav \(converted from .*in/x.wav\)"):
        convert_paths(conv, other, run, "sad", source="calm")
    table = (run / "conversions.csv").read_text()
    (run / "conversions.csv").write_text(table.replace(str(folder / "x.wav"), ""))
    convert_paths(conv, other, run, "sad", source="calm")  # a row without a source: kept
    assert conv.converted == ["y.wav"]
    conv.converted.clear()
    save_audio(run / "y.wav", calm, 16000, force=True)  # no provenance tag
    with pytest.raises(OutputExistsError, match=r"2 output.*y.wav \(no emovc conversion tag"):
        convert_paths(conv, folder, run, "sad", source="calm", intensity=0.5)
    assert conv.converted == []


def test_the_same_input_folder_reached_another_way_resumes(calm, tmp_path):
    """The table's source was compared as spelled, so the same folder through a symlink (or
    with '..' in its path) was refused as 'converted from' another input."""
    folder = _folder(tmp_path / "in", ["x.wav", "y.wav"], calm)
    run = tmp_path / "run"
    convert_paths(FakeConverter(calm), folder, run, "sad", source="calm")
    (run / "y.wav").unlink()
    (tmp_path / "link").symlink_to(folder, target_is_directory=True)
    for spelling in (tmp_path / "link", tmp_path / "run" / ".." / "in"):
        conv = FailsOn(calm)
        convert_paths(conv, spelling, run, "sad", source="calm")
        assert conv.converted == ["y.wav"]
        (run / "y.wav").unlink()


def test_a_run_checks_earlier_rows_once_and_appends_its_rows(calm, tmp_path, monkeypatch):
    """The table was merged and rewritten after every file, checking every earlier row's file
    each time (O(N^2) in a long run); the earlier rows are now checked once per run and each
    converted file's row is appended, the table written whole only at the start and end."""
    import emovc.pipelines.conversion_batch as batch
    from emovc.pipelines import run_table

    run = tmp_path / "run"
    convert_paths(FakeConverter(calm), _folder(tmp_path / "a", ["x.wav", "y.wav"], calm), run,
                  "sad", source="calm")
    second = _folder(tmp_path / "b", [f"f{k}.wav" for k in range(6)], calm)
    calls = {"merge": 0, "write": 0, "append": 0}

    def counted(name, fn):
        def wrapper(*a, **k):
            calls[name] += 1
            return fn(*a, **k)
        return wrapper

    monkeypatch.setattr(batch, "merge_rows", counted("merge", run_table.merge_rows))
    monkeypatch.setattr(batch, "write_table", counted("write", run_table.write_table))
    monkeypatch.setattr(batch, "append_rows", counted("append", run_table.append_rows))
    (run / "x.wav").unlink()  # an earlier row dropped
    rows = convert_paths(FakeConverter(calm), second, run, "sad", source="calm")
    assert len(rows) == 6
    assert calls == {"merge": 2, "write": 2, "append": 5}, calls
    assert [r["converted"] for r in _table(run)] == ["y.wav"] + [f"f{k}.wav" for k in range(6)]


def test_a_forced_run_replaces_earlier_rows_as_it_goes(calm, tmp_path):
    """A row this run rewrites replaces the earlier one in the table written after it."""
    folder = _folder(tmp_path / "in", ["a.wav", "b.wav", "c.wav"], calm)
    run = tmp_path / "run"
    convert_paths(FakeConverter(calm), folder, run, "sad", source="calm")
    with pytest.raises(KeyboardInterrupt):
        convert_paths(FailsOn(calm, ["c.wav"], KeyboardInterrupt()), folder, run, "happy",
                      source="calm", force=True)
    assert [(r["converted"], r["target_emotion"]) for r in _table(run)] == [
        ("c.wav", "sad"), ("a.wav", "happy"), ("b.wav", "happy")]


def test_a_refusal_names_three_files_and_the_settings_once(calm, tmp_path):
    """The refusal repeated each output's full settings tag (one line of ~900 characters for
    three files); it now names up to three files and shows one's settings against this
    run's."""
    folder = _folder(tmp_path / "in", [f"{c}.wav" for c in "abcde"], calm)
    run = tmp_path / "run"
    convert_paths(FakeConverter(calm), folder, run, "sad", source="calm")
    with pytest.raises(OutputExistsError) as err:
        convert_paths(FakeConverter(calm), folder, run, "sad", source="calm", intensity=0.5)
    msg = str(err.value)
    assert ("5 output file(s) in " in msg and ": a.wav (other settings), b.wav (other "
            "settings), c.wav (other settings) and 2 more; a.wav was made calm->sad (fake, "
            "intensity 1.0), this run: calm->sad (fake, intensity 0.5) (use --force" in msg)
    assert msg.count("intensity") == 2


def test_the_merge_note_counts_rebuilt_rows_apart(calm, tmp_path):
    """Rows rebuilt from kept outputs' tags were counted as 'row(s) of this run'."""
    folder = _folder(tmp_path / "in", ["a.wav", "b.wav"], calm)
    run = tmp_path / "run"
    convert_paths(FakeConverter(calm), folder, run, "sad", source="calm")
    write = (run / "conversions.csv").read_text().splitlines()
    (run / "conversions.csv").write_text("\n".join(write[:2]) + "\n")  # b's row lost
    (run / "a.wav").unlink()
    said: list[str] = []
    rows = convert_paths(FakeConverter(calm), folder, run, "sad", source="calm",
                         progress=said.append)
    assert rows.kept == 1 and len(rows) == 1
    assert ("1 row(s) of this run; 1 row(s) rebuilt for earlier outputs it lacked (from "
            "their provenance tags)") in said[-1]


def test_a_folder_run_counts_its_files(calm, tmp_path):
    """Progress was one line per finished file, without 'k of N'."""
    from emovc.errors import EmovcError
    folder = _folder(tmp_path / "in", ["a.wav", "b.wav"], calm)
    said: list[str] = []
    with pytest.raises(EmovcError):
        convert_paths(FailsOn(calm, ["a.wav"]), folder, tmp_path / "run", "sad",
                      source="calm", progress=said.append)
    assert said[0].startswith(f"[1/2] skipped {folder / 'a.wav'}: silent")
    assert said[1].startswith(f"[2/2] {folder / 'b.wav'} -> ")
