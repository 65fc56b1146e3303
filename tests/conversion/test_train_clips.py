"""A converter run records the clips it reads (``clips.json``); resuming it on a corpus with
clips added, removed or edited is refused, a moved corpus with the same files resumes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import soundfile as sf
import torch
import yaml

from emovc.errors import ConfigError, EmovcWarning
from emovc.training.run_clips import (
    CLIPS_FILE,
    ClipList,
    clip_changes,
    clip_record,
    keep_clips,
)

from .conftest import stargan_config, train_tiny_cyclegan

HINT = "choose another -o"


def _corpus(corpus: Path, to: Path) -> Path:
    """A copy of the session's synthetic corpus (the tests change theirs)."""
    return Path(shutil.copytree(corpus, to))


def _edit(clip: Path) -> None:
    """Rewrite ``clip`` with other samples of the same length (its size stays the same)."""
    wav, sr = sf.read(clip, dtype="float32")
    sf.write(clip, wav[::-1].copy(), sr, subtype="PCM_16")


def _step(run: Path) -> int:
    return torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]


def test_clip_records_compare_relative_paths_and_contents(tmp_path):
    """Clips added, removed and edited are told apart; a moved corpus folder with the same
    files has the same record."""
    root = tmp_path / "corpus"
    for name in ("a.wav", "b.wav", "c.wav"):
        (root / "A").mkdir(parents=True, exist_ok=True)
        (root / "A" / name).write_bytes(name.encode())
    old = clip_record(root, {"train": sorted(root.glob("A/*.wav")), "val": []})
    assert old["splits"]["train"].keys() == {"A/a.wav", "A/b.wav", "A/c.wav"}
    moved = Path(shutil.move(root, tmp_path / "renamed"))
    same = clip_record(moved, {"train": sorted(moved.glob("A/*.wav")), "val": []})
    assert clip_changes(old, same) == {"added": [], "removed": [], "changed": [],
                                       "retranscribed": []}
    (moved / "A" / "a.wav").write_bytes(b"A.WAV")  # the same size, other bytes
    (moved / "A" / "b.wav").unlink()
    (moved / "A" / "d.wav").write_bytes(b"d")
    now = clip_record(moved, {"train": sorted(moved.glob("A/*.wav")), "val": []})
    assert clip_changes(old, now) == {"added": ["A/d.wav"], "removed": ["A/b.wav"],
                                      "changed": ["A/a.wav"], "retranscribed": []}
    run = tmp_path / "run"
    run.mkdir()
    (run / CLIPS_FILE).write_text(json.dumps(old))
    with pytest.raises(ConfigError) as err:
        keep_clips(run, ClipList(moved, {"train": sorted(moved.glob("A/*.wav")), "val": []}),
                   compare=True, hint=HINT)
    said = str(err.value)
    assert "\n" not in said and said.startswith(f"run folder {run} was trained on other clips")
    assert ("(1 added: A/d.wav; 1 removed: A/b.wav; 1 changed: A/a.wav)" in said
            and "restore them to resume it, or choose another -o" in said), said
    assert json.loads((run / CLIPS_FILE).read_text()) == old  # the record stays the run's


def test_stargan_resume_refuses_a_changed_corpus_and_follows_a_moved_one(
        corpus, cache_root, tmp_path, capsys):
    """A resumed run used to refit the normaliser on the corpus as it is now while restoring
    the generator trained under the old one, without a word."""
    from emovc.training.stargan import train

    data, run = _corpus(corpus, tmp_path / "corpus"), tmp_path / "run"

    def cfg(data_dir: Path, steps: int):
        c = stargan_config(data_dir, run, cache_root, steps)
        c.emotions = ["calm", "angry"]
        return c

    train(cfg(data, 2))
    assert set(json.loads((run / CLIPS_FILE).read_text())["splits"]) == {"train", "val"}
    added = data / "Actor_01" / "03-01-02-01-01-02-01.wav"  # a second calm take
    shutil.copy(data / "Actor_01" / "03-01-02-01-01-01-01.wav", added)
    with pytest.raises(ConfigError, match=r"other clips than .* \(1 added: "
                                          r"Actor_01/03-01-02-01-01-02-01.wav\).*--force"):
        train(cfg(data, 4), cli=True)  # as emovc train calls it
    added.unlink()
    _edit(data / "Actor_17" / "03-01-05-01-02-01-17.wav")  # a validation clip
    with pytest.raises(ConfigError, match=r"\(1 changed: Actor_17/03-01-05-01-02-01-17.wav\)"):
        train(cfg(data, 4))
    assert _step(run) == 2 and yaml.safe_load((run / "config.yaml").read_text())[
        "max_steps"] == 2  # a refused resume leaves the run as it was
    shutil.copy(corpus / "Actor_17" / "03-01-05-01-02-01-17.wav", data / "Actor_17")
    moved = Path(shutil.move(data, tmp_path / "moved"))  # renamed, the same files
    train(cfg(moved, 4))
    assert _step(run) == 4
    assert yaml.safe_load((run / "config.yaml").read_text())["data_dir"] == str(moved)
    (run / CLIPS_FILE).unlink()  # a run of an earlier emovc: resumed unchecked, with a note
    with pytest.warns(EmovcWarning, match="records no list of its training clips"):
        train(cfg(moved, 6))
    assert _step(run) == 6 and (run / CLIPS_FILE).is_file()


def test_cyclegan_resume_refuses_a_corpus_with_a_clip_removed(corpus, cache_root, tmp_path):
    data = _corpus(corpus, tmp_path / "corpus")
    train_tiny_cyclegan(data, cache_root, tmp_path)
    (data / "Actor_02" / "03-01-05-01-02-01-02.wav").unlink()
    with pytest.raises(ConfigError, match=r"\(1 removed: Actor_02/03-01-05-01-02-01-02.wav\)"):
        train_tiny_cyclegan(data, cache_root, tmp_path)  # the finished run would re-export


def test_a_fresh_start_replaces_the_record(corpus, cache_root, tmp_path):
    """--force (resume=False) starts on the corpus as it is and records it."""
    from emovc.training.stargan import train

    data, run = _corpus(corpus, tmp_path / "corpus"), tmp_path / "run"
    c = stargan_config(data, run, cache_root, 2)
    c.emotions = ["calm", "angry"]
    train(c)
    (data / "Actor_01" / "03-01-05-01-01-01-01.wav").unlink()
    train(c, resume=False)
    assert "Actor_01/03-01-05-01-01-01-01.wav" not in json.loads(
        (run / CLIPS_FILE).read_text())["splits"]["train"]


def _clip_folder(tmp_path: Path) -> tuple[Path, ClipList]:
    root = tmp_path / "corpus"
    (root / "A").mkdir(parents=True)
    for name in ("a.wav", "b.wav", "c.wav"):
        (root / "A" / name).write_bytes(name.encode())
    return root, ClipList(root, {"train": sorted(root.glob("A/*.wav")), "val": []})


def _count_hashes(monkeypatch) -> list:
    from emovc.training import run_clips

    hashed, real = [], run_clips.file_sha256
    monkeypatch.setattr(run_clips, "file_sha256", lambda p: hashed.append(p) or real(p))
    return hashed


def test_a_start_hashes_only_the_clips_whose_size_or_time_changed(tmp_path, monkeypatch):
    """Every start hashed the whole corpus (tens of seconds on a GB-sized one): the record
    keeps each clip's size and time, and an unchanged clip keeps its hash."""
    import os

    root, clips = _clip_folder(tmp_path)
    run = tmp_path / "run"
    hashed = _count_hashes(monkeypatch)
    keep_clips(run, clips, compare=False, hint=HINT)
    assert len(hashed) == 3
    keep_clips(run, clips, compare=True, hint=HINT)
    assert len(hashed) == 3
    st = os.stat(root / "A" / "b.wav")
    (root / "A" / "b.wav").write_bytes(b"B.WAV")  # the same size, other bytes
    os.utime(root / "A" / "b.wav", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with pytest.raises(ConfigError, match=r"\(1 changed: A/b.wav\)"):
        keep_clips(run, clips, compare=True, hint=HINT)
    assert [Path(p).name for p in hashed[3:]] == ["b.wav"]


def test_a_record_of_hashes_alone_is_still_checked(tmp_path):
    """clips.json written before sizes and times were kept (version 1) is read as before."""
    from emovc.fileio import file_sha256

    root, clips = _clip_folder(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    old = {"version": 1, "data_dir": str(root.resolve()), "splits": {
        "train": {f"A/{n}": file_sha256(root / "A" / n) for n in ("a.wav", "b.wav", "c.wav")},
        "val": {}}}
    (run / CLIPS_FILE).write_text(json.dumps(old))
    keep_clips(run, clips, compare=True, hint=HINT)
    assert json.loads((run / CLIPS_FILE).read_text())["version"] == 3
    (run / CLIPS_FILE).write_text(json.dumps(old))
    (root / "A" / "c.wav").write_bytes(b"C.WAV")
    with pytest.raises(ConfigError, match=r"\(1 changed: A/c.wav\)"):
        keep_clips(run, clips, compare=True, hint=HINT)


def test_only_the_first_process_hashes_and_records_the_clips(tmp_path, monkeypatch):
    """Under --devices N every process hashed the corpus; the others now leave it to rank 0
    (they are started after it has checked and written the record)."""
    _, clips = _clip_folder(tmp_path)
    hashed = _count_hashes(monkeypatch)
    monkeypatch.setenv("LOCAL_RANK", "1")
    keep_clips(tmp_path / "run", clips, compare=True, hint=HINT)
    assert hashed == [] and not (tmp_path / "run" / CLIPS_FILE).exists()


def test_a_record_with_transcripts_tells_a_new_transcript_from_new_audio(tmp_path):
    """The record held the audio alone, so a clip whose transcript was edited was the same
    clip; now its transcript's hash is kept too, and checked where both records hold one."""
    root, clips = _clip_folder(tmp_path)
    paths = [str(p) for p in clips.splits["train"]]
    texts = dict(zip(paths, ("One.", "Two.", "Three."), strict=True))
    run = tmp_path / "run"
    keep_clips(run, ClipList(root, clips.splits, texts), compare=False, hint=HINT)
    texts[paths[1]] = "Too."
    with pytest.raises(ConfigError) as err:
        keep_clips(run, ClipList(root, clips.splits, texts), compare=True, hint=HINT)
    said = str(err.value)
    assert said.startswith(f"run folder {run} was trained on other transcripts than ")
    assert "(1 with another transcript: A/b.wav): it has learnt from these clips" in said
    (root / "A" / "c.wav").write_bytes(b"C.WAV")  # and new audio: other clips
    with pytest.raises(ConfigError, match=r"other clips than .*\(1 changed: A/c.wav; 1 with "
                                          r"another transcript: A/b.wav\): its networks"):
        keep_clips(run, ClipList(root, clips.splits, texts), compare=True, hint=HINT)
    # a run that reads no transcripts is not checked against them
    keep_clips(run, ClipList(root, clips.splits), compare=False, hint=HINT)
    assert "text_sha256" not in json.loads((run / CLIPS_FILE).read_text())["splits"][
        "train"]["A/a.wav"]
    keep_clips(run, ClipList(root, clips.splits), compare=True, hint=HINT)


def test_a_record_without_transcripts_resumes_with_a_note_and_records_them(tmp_path):
    """A run started before transcripts were recorded cannot have them checked: refusing it
    would cost its training for an edit few make, so it resumes with a note that says so."""
    import warnings

    root, clips = _clip_folder(tmp_path)
    run = tmp_path / "run"
    keep_clips(run, clips, compare=False, hint=HINT)  # audio alone, as version 2 held
    texts = {str(p): "Words." for p in clips.splits["train"]}
    with pytest.warns(EmovcWarning, match=r"records its training clips but not their "
                                          r"transcripts .*: resuming it with its audio "
                                          r"checked, not its transcripts; if you edited any "
                                          r"since it started, choose another -o"):
        keep_clips(run, ClipList(root, clips.splits, texts), compare=True, hint=HINT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # recorded: checked from now on, no note
        keep_clips(run, ClipList(root, clips.splits, texts), compare=True, hint=HINT)
    (root / "A" / "a.wav").write_bytes(b"X.WAV")  # its audio is checked as before
    keep_clips(run, clips, compare=False, hint=HINT)
    (root / "A" / "a.wav").write_bytes(b"A.WAV")
    with pytest.raises(ConfigError, match=r"\(1 changed: A/a.wav\)"):
        keep_clips(run, ClipList(root, clips.splits, texts), compare=True, hint=HINT)
