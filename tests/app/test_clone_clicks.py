"""The clone tab gives the cloner the same upload on every click: the cloner reads it on the
first click only (its voice cache knows the file by its identity once it has settled)."""

from __future__ import annotations

from emovc.app.workdir import WorkDir
from emovc.pipelines import clone_cache, clone_voices


def test_a_click_again_does_not_decode_the_upload_in_the_cloner(backend_with, work: WorkDir,
                                                                upload, monkeypatch) -> None:
    from emovc.pipelines.cloning import CloneConfig, VoiceCloner

    now = clone_cache._now_ns
    monkeypatch.setattr(clone_cache, "_now_ns", lambda: now() + 10**10)  # settled uploads
    reads = []
    read = clone_voices.read_reference
    monkeypatch.setattr(clone_voices, "read_reference",
                        lambda ref, i: reads.append(ref) or read(ref, i))
    backend = backend_with(cloner=lambda style: VoiceCloner(CloneConfig.for_style(style)))
    path = upload("take.wav", seconds=3.0)
    for _ in range(3):
        backend.clone([str(path)], "Hello there.", None, consent=True, style="clear")
    assert [p.name for p in reads] == ["take.wav"]
