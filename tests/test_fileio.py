"""Atomic outputs: complete files only, usual permissions, nothing left behind on failure."""

import os

import pytest

from emovc.errors import ConfigError
from emovc.fileio import atomic_output, refuse_input_overwrite, write_atomic


def test_written_files_get_the_usual_mode(tmp_path):
    old = os.umask(0o022)
    try:
        p = write_atomic(tmp_path / "sub" / "a.txt", "hello")
    finally:
        os.umask(old)
    assert p.read_text() == "hello"
    assert (p.stat().st_mode & 0o777) == 0o644  # not mkstemp's 0600


def test_failure_leaves_target_untouched_and_no_temporaries(tmp_path):
    target = tmp_path / "b.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.bin"]


def test_a_killed_writers_temporary_is_removed_by_the_next_write(tmp_path):
    """SIGKILL skips the cleanup; the next write of the same output removes the leftover once
    it is over an hour old, and leaves young temporaries and other outputs' ones alone."""
    import signal
    import subprocess
    import sys

    target = tmp_path / "out.wav"
    code = ("import os, signal; from emovc.fileio import atomic_output\n"
            f"with atomic_output({str(target)!r}, suffix='.wav') as t:\n"
            "    t.write_bytes(b'half'); os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", code], check=False)
    assert proc.returncode == -signal.SIGKILL
    (left,) = tmp_path.iterdir()
    assert left.name.startswith(".out.wav.") and left.suffix == ".wav"
    young = tmp_path / ".out.wav.abcdefgh.wav"
    other = tmp_path / ".other.wav.abcdefgh.wav"
    users = tmp_path / ".out.wav.backup-1.wav"  # the right length, not mkstemp's letters
    for p in (young, other, users):
        p.write_bytes(b"")
    for p in (left, other, users):
        os.utime(p, (0, 0))
    with atomic_output(target, suffix=".wav") as tmp:
        tmp.write_bytes(b"done")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [young.name, other.name, users.name, "out.wav"])


def test_the_package_surface(tmp_path):
    """What `help(emovc)` promises: the pipeline classes (lazy, and listed by dir()), the
    audio helpers and the error classes, importable from `emovc` itself."""
    import numpy as np

    import emovc

    for name in emovc.__all__:
        assert getattr(emovc, name) is not None and name in dir(emovc)
    assert issubclass(emovc.OutputExistsError, emovc.EmovcError)
    target = tmp_path / "a.wav"
    target.write_bytes(b"mine")
    with pytest.raises(emovc.OutputExistsError, match="output exists: "):
        emovc.save_audio(target, np.zeros(10, np.float32))  # every writer: the one class


def test_load_audio_checks_its_rate_and_save_audio_says_when_it_clips(tmp_path):
    import numpy as np

    import emovc

    wav = 0.5 * np.sin(np.linspace(0, 600, 16000)).astype(np.float32)
    path = emovc.save_audio(tmp_path / "a.wav", wav)
    for bad in (0, -16000, "16000", 16000.5):
        with pytest.raises(emovc.AudioError, match="sr must be a positive integer"):
            emovc.load_audio(path, sr=bad)
    assert emovc.load_audio(path, sr=8000.0).shape == (8000,)
    with pytest.warns(UserWarning, match=r"3 sample\(s\) beyond full scale were clipped"):
        emovc.save_audio(tmp_path / "b.wav", np.array([0.1, 2.0, -3.0, 1.5], np.float32))


def test_an_output_that_is_an_input_is_refused_by_any_name(tmp_path):
    """One check for every writer that must never overwrite its input, even with force: the
    same file through a relative path or a link counts; a folder of inputs (a corpus)
    covers the files inside it."""
    src = tmp_path / "corpus" / "a.wav"
    src.parent.mkdir()
    src.write_bytes(b"RIFF")
    (tmp_path / "link").symlink_to(src.parent)
    refuse_input_overwrite(tmp_path / "out.wav", [src])  # another file: fine
    for same in (tmp_path / "link" / "a.wav", tmp_path / "corpus" / ".." / "corpus" / "a.wav"):
        with pytest.raises(ConfigError, match=r"^output would overwrite the input file: "):
            refuse_input_overwrite(same, [src])
    with pytest.raises(ConfigError, match=r"would overwrite a corpus file: .*a\.wav; use \.csv$"):
        refuse_input_overwrite(tmp_path / "link" / "a.wav", what="a corpus file",
                               within=tmp_path / "corpus", hint="use .csv")
    refuse_input_overwrite(tmp_path / "m.csv", within=tmp_path / "corpus")


@pytest.mark.parametrize("seed", [0, 1])
def test_the_corpus_fingerprints_keep_their_values_by_any_spelling_of_the_folder(
        tmp_path, monkeypatch, seed):
    """Augment's ``clips_fingerprint`` (SHA-256 of the sorted ``relative path<TAB>size``
    lines) and a training run's ``clip_record`` (per clip: relative path -> SHA-256 and
    size), recomputed here from what they record, for a random tree whose folder is given
    as written, relative, through a link, with its clips listed resolved or under the
    folder as given: what augment.json and clips.json hold, so a resume still matches."""
    import hashlib
    import random
    from pathlib import Path

    from emovc.data.manifest import Manifest, Utterance
    from emovc.pipelines.augment_state import clips_fingerprint
    from emovc.training.run_clips import clip_record

    rng = random.Random(seed)
    real = tmp_path / "corpus"
    rels = ["/".join([*(f"d{rng.randrange(3)}" for _ in range(rng.randrange(3))), f"c{i}.wav"])
            for i in range(rng.randrange(4, 9))]  # 0 to 2 folders deep
    for rel in rels:
        (real / rel).parent.mkdir(parents=True, exist_ok=True)
        (real / rel).write_bytes(rng.randbytes(rng.randrange(1, 200)))
    outside = tmp_path / "elsewhere" / "o.wav"  # a manifest may point outside the corpus
    outside.parent.mkdir()
    outside.write_bytes(b"outside")
    (tmp_path / "link").symlink_to(real)
    monkeypatch.chdir(tmp_path)

    lines = sorted([f"{r}\t{(real / r).stat().st_size}\n" for r in rels] + ["o.wav\t7\n"])
    fingerprint = {"count": len(lines),
                   "sha256": hashlib.sha256("".join(lines).encode()).hexdigest()}
    record = {r: {"sha256": hashlib.sha256((real / r).read_bytes()).hexdigest(),
                  "size": (real / r).stat().st_size} for r in rels}
    record[outside.as_posix()] = {"sha256": hashlib.sha256(b"outside").hexdigest(), "size": 7}
    for root in (real, Path("corpus"), tmp_path / "link", Path("link")):
        for listed in ([real / r for r in rels], [root / r for r in rels]):
            clips = [*map(str, listed), str(outside)]
            manifest = Manifest([Utterance(path=p, corpus="x", speaker="s", utt_id=f"x/s/{i}")
                                 for i, p in enumerate(clips)])
            assert clips_fingerprint(manifest, root) == fingerprint, (root, listed[0])
            got = clip_record(root, {"train": clips})
            assert got["data_dir"] == str(real)
            assert {k: {"sha256": v["sha256"], "size": v["size"]}
                    for k, v in got["splits"]["train"].items()} == record, (root, listed[0])
