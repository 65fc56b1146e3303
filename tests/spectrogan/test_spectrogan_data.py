"""SpectroGAN training data: clips that cannot be used are left out with one line per reason
(the WORLD trainers' wording), as the compact and m2m trainers load them."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import EmovcError, EmovcWarning
from emovc.training import spectrogan_data as data
from emovc.training.spectrogan import build_config, train

CODES = {"calm": 2, "angry": 5}
UNREADABLE = "Actor_01/03-01-05-01-02-01-01.wav"
SILENT = "Actor_01/03-01-02-01-02-01-01.wav"
SHORT = "Actor_01/03-01-02-01-02-02-01.wav"


def _corpus(root: Path, bad: bool = True) -> Path:
    """Actors 01 (train) and 17 (validation), calm/angry × 2 takes of synthetic speech, and
    with ``bad`` a text file named .wav, a silent and a 0.1 s take of actor 01."""
    for actor in (1, 17):
        folder = root / f"Actor_{actor:02d}"
        folder.mkdir(parents=True)
        for emo, code in CODES.items():
            for rep in (1, 2):
                wav = synthesize(EMOTION_VOICES[emo], duration=0.8, seed=actor * 10 + rep + code)
                sf.write(folder / f"03-01-{code:02d}-01-01-{rep:02d}-{actor:02d}.flac", wav,
                         16000)
    if bad:
        (root / UNREADABLE).write_text("not audio\n")
        sf.write(root / SILENT, np.zeros(32000, np.float32), 16000)
        sf.write(root / SHORT, synthesize(EMOTION_VOICES["calm"], duration=0.1, seed=3), 16000)
    return root


def test_unusable_clips_are_left_out_with_one_line_per_reason(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "data")
    lines: list[str] = []
    got = data.load_emotions(root, ["calm", "angry"], [1], 16000, len, report=lines.append)
    clean = [sorted(p.name for p in (root / "Actor_01").glob(f"03-01-0{c}-*.flac"))
             for c in CODES.values()]
    assert [[p.name for p in g] for g in got] == clean
    assert sorted(lines) == sorted([
        f"left out of {root}: 1 × unreadable audio (e.g. {UNREADABLE})",
        f"left out of {root}: 1 × silent (speech level below -80 dBFS) (e.g. {SILENT})",
        f"left out of {root}: 1 × shorter than 0.5 s (e.g. {SHORT})"]), lines


def test_clean_corpus_keeps_every_take_in_order_silently(tmp_path: Path) -> None:
    """The selection of a corpus without bad clips is ravdess_files' (resume and
    reproducibility of existing runs depend on it)."""
    root = _corpus(tmp_path / "data", bad=False)
    lines: list[str] = []
    got = data.load_emotions(root, ["calm", "angry"], [1, 17], 16000, len, report=lines.append)
    assert [list(g) for g in got] == [data.ravdess_files(root, e, [1, 17]) for e in CODES]
    assert not lines


def test_an_emotion_without_usable_takes_is_refused_in_one_line(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "data")
    for p in (root / "Actor_01").glob("03-01-05-*.flac"):
        p.write_bytes(b"broken")
    with pytest.raises(EmovcError, match=r"no usable RAVDESS 'angry' takes of actors \[1\] "
                                         r"under .*: all 3 left out \(see the lines above\)"):
        data.load_emotions(root, ["calm", "angry"], [1], 16000, len, report=lambda _: None)


def _tiny(root: Path, run: Path, **overrides):
    return build_config(str(root), str(run), "calm", "angry", "compact", max_steps=2,
                        overrides={"generator": {"channels": [4, 8, 8], "n_res_blocks": 1},
                                   "discriminator": {"base_channels": 4}, "crop_frames": 32,
                                   "train_actors": [1], "val_actors": [17], "n_val_clips": 1,
                                   "inference": {"gl_iters": 2}, **overrides})


def test_compact_run_trains_on_the_rest_and_shows_its_losses(tmp_path: Path, capsys) -> None:
    """It aborted on the unreadable file ('not a readable audio file'), and trained on the
    silent and the short take without a word; its progress lines showed no losses."""
    root = _corpus(tmp_path / "data")
    with pytest.warns(EmovcWarning) as caught:
        model = train(_tiny(root, tmp_path / "run"))
    out, err = capsys.readouterr()
    assert model.is_file()
    assert sum(str(w.message).startswith(f"left out of {root}: 1 × ") for w in caught) == 3
    assert "step 2/2 (100%)" in out and "; g " in out and ", d " in out, out
    assert "GPU available: False" not in out + err
    assert [p.name for p in (tmp_path / "run" / "val_audio").glob("source_*.wav")] == [
        "source_03-01-02-01-01-01-17.wav"]


def test_m2m_loading_leaves_out_bad_clips_and_writes_no_bar_to_a_log(tmp_path: Path,
                                                                     capsys) -> None:
    """The m2m loader aborted on the unreadable file and wrote a tqdm bar (carriage returns)
    to output that is not a terminal."""
    from emovc.training.spectrogan_m2m import load_m2m_data

    root = _corpus(tmp_path / "data")
    cfg = build_config(str(root), str(tmp_path / "run"), "calm", None, "m2m", max_steps=2,
                       overrides={"emotions": list(CODES), "train_actors": [1]})
    with pytest.warns(EmovcWarning) as caught:
        bank, _, prosody = load_m2m_data(cfg)
    err = capsys.readouterr().err
    assert [len(b.images) for b in bank.banks] == [2, 2] and prosody is not None
    assert sum(str(w.message).startswith(f"left out of {root}: 1 × ") for w in caught) == 3
    assert "\r" not in err and "loading clips" not in err, err


@pytest.mark.parametrize(("train_actors", "hint"), [
    ([1], "--set val_actors=[17]"),
    ([1, 17], "--set val_actors=[17] --set train_actors=[1]")])
def test_a_corpus_without_the_validation_actors_says_so(tmp_path: Path, train_actors,
                                                        hint) -> None:
    """A corpus without the validation actors (the defaults, 17-20, are not in a subset of
    RAVDESS) wrote no validation audio without a word, although the docs promise it."""
    from emovc.training.spectrogan_run import val_wavs

    root = _corpus(tmp_path / "data", bad=False)
    cfg = _tiny(root, tmp_path / "run", train_actors=train_actors, val_actors=[18, 19])
    with pytest.warns(EmovcWarning) as caught:
        assert val_wavs(cfg) == []
    assert [str(w.message) for w in caught] == [
        f"no validation audio: {root} has no calm take by the validation actors (18, 19, "
        f"setting val_actors); it has calm takes by actors 1, 17: {hint}"]


def test_a_corpus_without_ravdess_named_takes_says_so_in_words(tmp_path: Path) -> None:
    """Review 42b L8: with no RAVDESS-named take of the source emotion the note ended "it
    has calm takes by actors none"."""
    from emovc.training.spectrogan_run import val_wavs

    root = _corpus(tmp_path / "data", bad=False)
    for path in root.rglob("*.flac"):
        path.rename(path.with_name(f"take_{path.name}"))
    cfg = _tiny(root, tmp_path / "run", val_actors=[18])
    with pytest.warns(EmovcWarning) as caught:
        assert val_wavs(cfg) == []
    assert [str(w.message) for w in caught] == [
        f"no validation audio: {root} has no calm take by the validation actors (18, "
        "setting val_actors); it has no calm take named as RAVDESS names them"]


def test_validation_clips_found_or_not_asked_for_need_no_note(tmp_path: Path) -> None:
    from emovc.training.spectrogan_run import val_wavs

    root = _corpus(tmp_path / "data", bad=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = val_wavs(_tiny(root, tmp_path / "run"))
        none = val_wavs(_tiny(root, tmp_path / "run", val_actors=[18], n_val_clips=0))
    assert [name for name, _ in got] == ["03-01-02-01-01-01-17"] and none == []


def test_a_validation_actor_that_also_trains_gets_one_note(tmp_path: Path) -> None:
    """--set val_actors=[17] --set train_actors=[1, 17] validated on a training actor without
    a word: its validation audio says nothing about unseen speakers."""
    from emovc.training.spectrogan_run import val_wavs

    root = _corpus(tmp_path / "data", bad=False)
    cfg = _tiny(root, tmp_path / "run", train_actors=[1, 17], val_actors=[17])
    with pytest.warns(EmovcWarning) as caught:
        assert [name for name, _ in val_wavs(cfg)] == ["03-01-02-01-01-01-17"]  # still used
    assert [str(w.message) for w in caught] == [
        "validation on training speakers: 17 of val_actors also in train_actors, so the "
        "validation audio says nothing about speakers the model has not heard; to hold them "
        "out: --set train_actors=[1]"]
