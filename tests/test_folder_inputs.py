"""Folder inputs of `emovc convert` and `emovc ser predict` leave hidden entries out: an
interrupted write leaves a hidden temporary ``.name.XXXX.wav`` beside its final file (and
tools leave ``.DS_Store``-style files and hidden folders), which were converted or classified
as if they were recordings."""

from __future__ import annotations

import numpy as np

from emovc.audio import save_audio
from emovc.pipelines.conversion_batch import _inputs
from emovc.pipelines.recognition import expand_inputs


def _tree(root):
    wav = np.zeros(1600, dtype=np.float32)
    for rel in ("a.wav", "sub/b.flac", ".a.wav.k3j2x9.wav", ".hidden/c.wav", "sub/.b.tmp.wav"):
        save_audio(root / rel, wav, 16000)
    (root / "notes.txt").write_text("not audio")
    return root


def test_a_folder_to_convert_leaves_hidden_files_and_folders_out(tmp_path):
    root = _tree(tmp_path / "in")
    assert [p.relative_to(root).as_posix() for p in _inputs(root)] == ["a.wav", "sub/b.flac"]


def test_a_folder_to_classify_leaves_hidden_files_and_folders_out(tmp_path):
    root = _tree(tmp_path / "in")
    assert [p.relative_to(root).as_posix() for p in expand_inputs([root])] == [
        "a.wav", "sub/b.flac"]


def test_a_hidden_file_named_directly_is_still_taken(tmp_path):
    root = _tree(tmp_path / "in")
    assert expand_inputs([root / ".a.wav.k3j2x9.wav"]) == [root / ".a.wav.k3j2x9.wav"]



def test_a_symlink_back_up_the_tree_lists_each_file_once(tmp_path):
    """Review 40 M2: symlinked folders are followed, so a link back up the tree listed one
    clip once per level until the path got too long (41 times)."""
    root = _tree(tmp_path / "in")
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    assert [p.relative_to(root).as_posix() for p in _inputs(root)] == ["a.wav", "sub/b.flac"]
    assert len(expand_inputs([root])) == 2


def test_two_links_to_one_folder_list_its_files_once(tmp_path):
    """An alias (``latest -> run_07``) listed the folder's files twice; they are listed at
    their real path, even when the alias sorts first (review 41 L4: the outputs, speakers and
    ids would follow the alias, and a resume would break once it is removed); a linked
    folder outside the tree is still read."""
    root = _tree(tmp_path / "in")
    (root / "alias").symlink_to(root / "sub", target_is_directory=True)
    linked = tmp_path / "elsewhere"
    save_audio(linked / "d.wav", np.zeros(1600, dtype=np.float32), 16000)
    (root / "more").symlink_to(linked, target_is_directory=True)
    got = [p.relative_to(root).as_posix() for p in _inputs(root)]
    assert got == ["a.wav", "more/d.wav", "sub/b.flac"]
    (linked / "twice").symlink_to(linked, target_is_directory=True)  # a loop outside
    (root / "more2").symlink_to(linked, target_is_directory=True)  # and a second way in
    assert [p.relative_to(root).as_posix() for p in _inputs(root)] == got
