"""Balanced augmentation (``emovc augment --balance`` / ``--per-class N``): each target emotion
gets only the conversions it lacks, from clips spread over speakers and source emotions, the
same clips on every rerun; clear errors for balances that cannot be asked or reached."""

from __future__ import annotations

import csv
import random
import warnings
from collections import Counter
from itertools import islice
from pathlib import Path

import pytest

from emovc.audio import save_audio
from emovc.data.manifest import Utterance
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import ConfigError, EmovcWarning
from emovc.pipelines.augment import augment_corpus
from emovc.pipelines.augment_balance import grouped, source_order

# (speaker, emotion, clips): calm is the largest class (6), happy has 1 clip, sad none
LAYOUT = (("s1", "calm", 2), ("s2", "calm", 2), ("s3", "calm", 2),
          ("s1", "angry", 1), ("s2", "angry", 1), ("s3", "angry", 1), ("s1", "happy", 1))


@pytest.fixture()
def unbalanced(tmp_path: Path) -> Path:
    """``<speaker>/<emotion>/<clip>.wav``, 10 clips of 0.8 s: calm 6, angry 3, happy 1."""
    root = tmp_path / "corpus"
    seed = 0
    for spk, emo, n in LAYOUT:
        for i in range(n):
            seed += 1
            save_audio(root / spk / emo / f"{emo[0]}{i}.wav",
                       synthesize(EMOTION_VOICES[emo], duration=0.8, seed=seed), 16000)
    return root


def _synthetic(out: Path) -> list[dict]:
    with open(out / "manifest.csv", newline="") as f:
        return [r for r in csv.DictReader(f) if r["synthetic"] == "1"]


def _run(corpus: Path, out: Path, converter: Path, targets: list[str], **kw):
    return augment_corpus(corpus, out, targets, model=str(converter), workers=1,
                          progress=False, **kw)


def test_balance_converts_only_what_each_target_lacks(converter, unbalanced, tmp_path):
    """Every clip went into every target (sad 0+10, happy 1+9 next to calm 6): now sad and
    happy get what they lack to reach the largest class, calm none, and the summary says so."""
    out = tmp_path / "aug"
    report = _run(unbalanced, out, converter, ["sad", "happy", "calm"], balance=True)
    assert report.counts == {"calm": (6, 0), "angry": (3, 0), "happy": (1, 5), "sad": (0, 6)}
    assert (report.converted, report.reused, report.failures) == (11, 0, [])
    synth = _synthetic(out)
    assert all(r["source_emotion"] != r["emotion"] for r in synth)  # never into its own
    for target, per_speaker in (("sad", [2, 2, 2]), ("happy", [1, 2, 2])):  # spread
        got = Counter(r["speaker"] for r in synth if r["emotion"] == target)
        assert sorted(got.values()) == per_speaker
    # sad's 6 clips come from all three source emotions, not 6 calm clips
    assert {r["source_emotion"] for r in synth if r["emotion"] == "sad"} == {
        "calm", "angry", "happy"}
    # the manifest, conversions.csv and the folder list the same conversions
    with open(out / "conversions.csv", newline="") as f:
        table = {(Path(r["source"]).resolve(), r["target_emotion"]) for r in csv.DictReader(f)}
    assert table == {(Path(r["source_path"]).resolve(), r["emotion"]) for r in synth}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*.wav")}
    assert on_disk == {r["path"] for r in synth}
    lines = report.summary().splitlines()
    assert lines[1].startswith("clips per emotion in the manifest, real + synthetic: calm "
                               "6+0, happy 1+5, sad 0+6, angry 3+0")
    assert lines[2] == ("balance: 6 clips per target emotion (the largest class, calm); "
                        "reached: sad, happy; real clips enough already, none converted: "
                        "calm (6)")


def test_balanced_choice_is_seeded_and_resumes_with_the_same_clips(converter, unbalanced,
                                                                  tmp_path):
    out = tmp_path / "aug"
    first = _run(unbalanced, out, converter, ["sad"], per_class=4, seed=3)
    chosen = sorted(r["source_utt_id"] for r in _synthetic(out))
    assert first.converted == 4 and len(set(chosen)) == 4
    again = _run(unbalanced, out, converter, ["sad"], per_class=4, seed=3)
    assert (again.converted, again.reused) == (0, 4)
    gone = sorted(out.rglob("*.wav"))[:2]
    for p in gone:
        p.unlink()
    third = _run(unbalanced, out, converter, ["sad"], per_class=4, seed=3)
    assert (third.converted, third.reused) == (2, 2)  # only the missing outputs
    assert all(p.is_file() for p in gone)
    assert sorted(r["source_utt_id"] for r in _synthetic(out)) == chosen
    # another seed in the same folder: other clips, and the earlier ones stay listed, so
    # the summary says the target is over its goal
    other = next(s for s in range(1, 50) if _order_ids(unbalanced, "sad", s, 4) !=
                 _order_ids(unbalanced, "sad", 3, 4))
    report = _run(unbalanced, out, converter, ["sad"], per_class=4, seed=other)
    assert report.counts["sad"][1] > 4
    assert "over: sad by" in report.summary()


def _cli(argv: list[str]) -> int:
    from emovc.cli import main as cli_main

    if "emovc.cli.augment_cmds" not in cli_main.COMMAND_MODULES:
        cli_main.COMMAND_MODULES.append("emovc.cli.augment_cmds")
    return cli_main.main(argv)


def _order_ids(corpus: Path, target: str, seed: int, k: int,
               emotion: str | None = None) -> set[str]:
    """The first ``k`` clips (of ``emotion``, or of any but ``target``) of the order."""
    from emovc.data.catalogs import scan_corpus

    manifest, _ = scan_corpus(corpus)
    order = source_order([u for u in manifest if u.emotion != target
                          and emotion in (None, u.emotion)], target, seed)
    return {u.utt_id for u in islice(order, k)}


def test_per_class_counts_real_clips_first_and_warns_of_a_shortfall(converter, unbalanced,
                                                                    tmp_path):
    report = _run(unbalanced, tmp_path / "a", converter, ["angry", "sad"], per_class=3,
                  only_from=["calm"], speakers=["s1", "s2"])
    assert report.counts["angry"] == (3, 0) and report.counts["sad"] == (0, 3)
    synth = _synthetic(tmp_path / "a")
    assert {r["speaker"] for r in synth} == {"s1", "s2"} and all(
        r["source_emotion"] == "calm" for r in synth)
    with pytest.warns(EmovcWarning, match=r"too few clips to convert to reach 5 clips per "
                                          r"target emotion, short: sad by 3 \(only 2 clip\(s\) "
                                          r"to convert from\), happy by 2 \(only 2 clip\(s\) "
                                          r"to convert from\); each clip is converted into "
                                          r"an emotion once"):
        short = _run(unbalanced, tmp_path / "b", converter, ["sad", "happy", "angry"],
                     per_class=5, only_from=["calm"], speakers=["s3"])
    assert short.counts["sad"] == (0, 2) and short.counts["happy"] == (1, 2)
    assert short.counts["angry"] == (3, 2)
    assert short.summary().splitlines()[-1] == (
        "balance: 5 clips per target emotion (--per-class); reached: angry; short: sad by 3 "
        "(only 2 clip(s) to convert from), happy by 2 (only 2 clip(s) to convert from)")
    assert grouped({"happy": "by 4 (x)", "sad": "by 4 (x)", "neutral": "by 6 (y)"}) == (
        "happy, sad by 4 (x), neutral by 6 (y)")


def test_a_failed_conversion_is_replaced_by_the_next_clip(converter, unbalanced, tmp_path):
    """A clip too short to convert, among those chosen, left its target short."""
    short = unbalanced / "s2" / "angry" / "short.wav"
    save_audio(short, synthesize(EMOTION_VOICES["angry"], duration=0.2, seed=99), 16000)
    seed = next(s for s in range(50)
                if any(i.endswith("short")
                       for i in _order_ids(unbalanced, "sad", s, 3, emotion="angry")))
    report = _run(unbalanced, tmp_path / "aug", converter, ["sad"], per_class=3, seed=seed,
                  only_from=["angry"])
    assert report.counts["sad"] == (0, 3)  # 4 angry clips, one of them unusable
    assert [Path(p).name for p, _ in report.failures] == ["short.wav"]
    assert "reached: sad" in report.summary()


def test_cli_balance_options(converter, unbalanced, tmp_path, capsys):
    base = ["augment", str(unbalanced), "--model", str(converter), "--workers", "1"]
    assert _cli([*base, "--out", str(tmp_path / "a"), "--to", "sad", "--per-class", "2",
                 "--seed", "5", "--only-from", "calm"]) == 0
    assert "balance: 2 clips per target emotion (--per-class); reached: sad" in (
        capsys.readouterr().out)
    assert {r["source_utt_id"] for r in _synthetic(tmp_path / "a")} == _order_ids(
        unbalanced, "sad", 5, 2, emotion="calm")
    assert _cli([*base, "--out", str(tmp_path / "b"), "--to", "happy,calm", "--balance",
                 "--only-from", "angry"]) == 0
    said = capsys.readouterr()
    assert "emovc: warning: too few clips to convert to reach 6 clips per target emotion, " \
           "short: happy by 2" in said.err
    assert ("balance: 6 clips per target emotion (the largest class, calm); real clips enough "
            "already, none converted: calm (6); short: happy by 2 (only 3 clip(s) to convert "
            "from)") in said.out
    assert Counter(r["emotion"] for r in _synthetic(tmp_path / "b")) == {"happy": 3}


def test_bad_balance_options_fail_in_one_line_before_writing(converter, unbalanced, tmp_path,
                                                             capsys):
    out = tmp_path / "o"
    for kw, match in (({"per_class": 0}, r"--per-class must be a whole number of clips of "
                                         r"at least 1 per target emotion, got 0"),
                      ({"per_class": -2, "balance": True}, "got -2"),
                      ({"seed": 1}, "--seed chooses the clips --balance or --per-class "
                                    "converts; give one of them"),
                      ({"per_class": 12, "only_from": ["calm"], "targets": ["calm", "sad"]},
                       r"cannot balance calm: it lacks 6 of 12 clips and no clip to convert "
                       r"is of another emotion \(clips to convert: calm 6\); widen "
                       r"--only-from/--speakers or leave calm out of --to"),
                      ):
        targets = kw.pop("targets", ["sad"])
        with pytest.raises(ConfigError, match=match) as info:
            _run(unbalanced, out, converter, targets, **kw)
        assert "\n" not in str(info.value)
    assert not out.exists()
    base = ["augment", str(unbalanced), "--out", str(out), "--model", str(converter), "--to",
            "sad"]
    for extra, said in ((["--per-class", "0"], "--per-class must be"),
                        (["--seed", "2"], "--seed chooses"),
                        (["--per-class", "x"], "invalid value for '--per-class'")):
        assert _cli([*base, *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert said in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_balance_of_an_unlabelled_corpus_needs_from_or_per_class(converter, tmp_path):
    libri = tmp_path / "libri"
    for i, name in enumerate(("11-100-0000", "12-200-0000")):
        save_audio(libri / f"{name}.wav", synthesize(EMOTION_VOICES["calm"], duration=0.8,
                                                     seed=40 + i), 16000)
    (libri / "speakers.tsv").write_text("file\tspeaker\tgender\n11-100-0000.wav\t11\tF\n"
                                        "12-200-0000.wav\t12\tM\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmovcWarning)
        with pytest.raises(ConfigError, match=r"no clip of the corpus has an emotion label, so "
                                              r"there is no largest class to reach; pass --from "
                                              r"EMOTION .* or --per-class N"):
            _run(libri, tmp_path / "o", converter, ["sad"], balance=True)
    assert not (tmp_path / "o").exists()
    report = _run(libri, tmp_path / "o", converter, ["sad"], balance=True, source="calm")
    assert report.counts == {"calm": (2, 0), "sad": (0, 2)}


# the order itself, on manifests without audio


def _clips(layout: dict[str, int], speakers: int, tmp: str = "/c") -> list[Utterance]:
    """``layout[emotion]`` clips per speaker for ``speakers`` speakers."""
    return [Utterance(path=f"{tmp}/s{s}/{e}/{i}.wav", corpus="folder", speaker=f"s{s}",
                      emotion=e, utt_id=f"folder/s{s}/{e}{i}")
            for s in range(speakers) for e, n in layout.items() for i in range(n)]


def test_source_order_spreads_over_speakers_then_source_emotions():
    clips = _clips({"calm": 5, "angry": 3, "happy": 2}, speakers=4)
    order = list(source_order(clips, "sad", seed=0))
    assert sorted(u.utt_id for u in order) == sorted(u.utt_id for u in clips)  # each once
    for k in range(1, len(order) + 1):
        per_speaker = Counter(u.speaker for u in order[:k])
        assert max(per_speaker.values()) - min(per_speaker.get(f"s{s}", 0)
                                               for s in range(4)) <= 1
    first = order[:12]  # 3 per speaker: each speaker one clip of each emotion
    assert Counter(u.emotion for u in first) == {"calm": 4, "angry": 4, "happy": 4}
    assert all(len({u.emotion for u in first if u.speaker == f"s{s}"}) == 3 for s in range(4))
    # happy runs out after 8 picks of it; the rest alternates calm and angry
    assert Counter(u.emotion for u in order[:28]) == {"calm": 10, "angry": 10, "happy": 8}
    # within each speaker too: two speakers, neutral and calm (not one speaker's calm clips
    # and the other's neutral ones)
    order = list(source_order(_clips({"calm": 8, "neutral": 4}, speakers=2), "sad", seed=0))
    for k in (4, 8):
        assert set(Counter((u.speaker, u.emotion) for u in order[:k]).values()) == {k // 4}


def test_source_order_is_seeded_and_depends_only_on_the_clips():
    clips = _clips({"calm": 4, "angry": 4}, speakers=3)
    ids = [u.utt_id for u in source_order(clips, "sad", seed=7)]
    shuffled = clips[:]
    random.Random(1).shuffle(shuffled)
    moved = _clips({"calm": 4, "angry": 4}, speakers=3, tmp="/elsewhere")
    assert [u.utt_id for u in source_order(shuffled, "sad", seed=7)] == ids
    assert [u.utt_id for u in source_order(moved, "sad", seed=7)] == ids
    others = {tuple(u.utt_id for u in source_order(clips, "sad", seed=s)) for s in range(8)}
    assert len(others) > 1  # the seed matters
    by_target = {tuple(u.utt_id for u in source_order(clips, t, seed=7))
                 for t in ("sad", "happy", "fearful")}
    assert len(by_target) > 1  # each target draws its own clips
    assert ids != sorted(ids)  # not the first files
