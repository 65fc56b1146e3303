"""The voice cache: a cached file is not decoded again, an edited one is, and concurrent
first calls with the same references prepare them once."""

from __future__ import annotations

import os
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from emovc.audio import save_audio
from emovc.errors import EmovcWarning
from emovc.pipelines import clone_cache, clone_refs, clone_voices
from emovc.pipelines.clone_cache import file_stamps
from emovc.pipelines.cloning import VoiceCloner

LATER = 10**10  # ns: a clock 10 s ahead, past SETTLED_SECONDS after the files were written


@pytest.fixture()
def counted(monkeypatch) -> dict[str, int]:
    """How often references are read (decoded) and prepared (the real work is done)."""
    calls = {"read": 0, "prepare": 0}
    read, prepare = clone_voices.read_reference, clone_refs.prepare_reference

    def count_read(*args, **kwargs):
        calls["read"] += 1
        return read(*args, **kwargs)

    def count_prepare(*args, **kwargs):
        calls["prepare"] += 1
        return prepare(*args, **kwargs)

    monkeypatch.setattr(clone_voices, "read_reference", count_read)
    monkeypatch.setattr(clone_voices, "prepare_reference", count_prepare)
    return calls


@pytest.fixture()
def settled(monkeypatch) -> None:
    """Files written by the test count as left unchanged long enough (the clock is later)."""
    now = clone_cache._now_ns
    monkeypatch.setattr(clone_cache, "_now_ns", lambda: now() + LATER)


def _notes(call) -> tuple[object, list[str]]:
    """``(what call() returns, the EmovcWarning lines it gave)``."""
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        out = call()
    return out, [str(w.message) for w in shown if issubclass(w.category, EmovcWarning)]


def test_a_cached_file_is_not_decoded_again(tmp_path: Path, reference_wav, counted,
                                            settled) -> None:
    """A hit read (decoded at 16 kHz and as recorded for its clipping) and hashed every
    reference again; a file unchanged since is found by its stamp, with its warnings again."""
    path = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    cloner = VoiceCloner()
    voice, notes = _notes(lambda: cloner.prepare_voice([path, path]))
    assert counted == {"read": 2, "prepare": 1}
    assert notes == ["reference ref.wav given 2 times: each recording is used once"]
    again, notes_again = _notes(lambda: cloner.prepare_voice([path, path]))
    assert again is voice and notes_again == notes
    assert counted == {"read": 2, "prepare": 1}


def test_a_file_edited_in_place_is_analysed_again(tmp_path: Path, reference_wav, counted,
                                                  settled) -> None:
    """The same size and modification time (a tool that restores it) after an edit: the
    change time tells it apart."""
    path = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    cloner = VoiceCloner()
    cloner.prepare_voice([path])
    before = path.stat()
    other = save_audio(tmp_path / "other.wav", reference_wav[::-1].copy(), 16000)
    time.sleep(0.05)  # past the file system's timestamp tick
    with open(path, "r+b") as fh:  # the same file (inode), rewritten in place
        fh.write(other.read_bytes())
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino, before.st_size, before.st_mtime_ns)
    if after.st_ctime_ns == before.st_ctime_ns:  # what SETTLED_SECONDS guards against
        pytest.skip("this file system's timestamps are coarser than the test's pause")
    voice = cloner.prepare_voice([path])
    assert counted == {"read": 2, "prepare": 2}
    assert np.array_equal(voice.wavs[0], cloner.prepare_voice([other]).wavs[0])


def test_a_touched_file_keeps_one_stamp(tmp_path: Path, reference_wav, counted,
                                        settled) -> None:
    """Review 42b L4: each new stamp of a file whose voice stays cached (touched, edited
    back and forth) was kept beside the older ones, which no later call can match, until
    the voice was dropped; the newest replaces them, other files' stamps stay."""
    path = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    other = save_audio(tmp_path / "other.wav", reference_wav[::-1].copy(), 16000)
    cloner = VoiceCloner()
    cloner.prepare_voice([other])
    first = path.stat().st_mtime_ns
    for k in range(4):
        os.utime(path, ns=(first, first + k * 10**6))  # a new mtime and ctime, same content
        cloner.prepare_voice([path])
    assert counted == {"read": 5, "prepare": 2}  # found by content after each touch
    stamps = cloner._voices._stamps
    assert len(stamps) == 2 and len(set(stamps.values())) == 2
    assert file_stamps([path]) in {key[3] for key in stamps}  # the newest stamp is kept
    cloner.prepare_voice([path])
    assert counted["read"] == 5  # and found by it


def test_only_a_settled_regular_file_is_known_by_its_stamp(tmp_path: Path, reference_wav,
                                                           monkeypatch) -> None:
    """A file changed within SETTLED_SECONDS could change again within its timestamp's
    resolution without its stamp changing: it is found by its content until it settles."""
    path = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    assert file_stamps([path]) is None  # just written
    now = clone_cache._now_ns
    monkeypatch.setattr(clone_cache, "_now_ns", lambda: now() + LATER)
    (stamp,) = file_stamps([path])
    st = path.stat()
    assert stamp == (str(path.absolute()), st.st_dev, st.st_ino, st.st_size,
                     st.st_mtime_ns, st.st_ctime_ns)
    assert file_stamps([path, (reference_wav, 16000)]) is None  # arrays change in place
    assert file_stamps([tmp_path / "missing.wav"]) is None
    assert file_stamps([tmp_path]) is None


@pytest.mark.parametrize("given", ["pairs", "files", "fresh files"])
def test_concurrent_first_calls_prepare_once(tmp_path: Path, reference_wav, counted,
                                             monkeypatch, given: str) -> None:
    """The web app serves requests on several threads: two first clicks with the same upload
    both analysed it."""
    if given != "fresh files":  # fresh ones are found by their content
        now = clone_cache._now_ns
        monkeypatch.setattr(clone_cache, "_now_ns", lambda: now() + LATER)
    refs = ([(reference_wav, 16000)] if given == "pairs"
            else [save_audio(tmp_path / "ref.wav", reference_wav, 16000)])
    slow = clone_voices.prepare_reference

    def slow_prepare(*args, **kwargs):  # both threads are past their lookup by then
        time.sleep(0.3)
        return slow(*args, **kwargs)

    monkeypatch.setattr(clone_voices, "prepare_reference", slow_prepare)
    cloner = VoiceCloner()
    start = threading.Barrier(2)
    voices: list = []

    def first_click() -> None:
        start.wait()
        voices.append(cloner.prepare_voice(refs))

    threads = [threading.Thread(target=first_click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(voices) == 2 and voices[0] is voices[1]
    assert counted["prepare"] == 1
