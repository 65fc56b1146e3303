"""Layouts for your own recordings: plain speaker folders and LJSpeech-style corpora, and
auto-detection that still reads every other layout as before."""

from __future__ import annotations

import unicodedata

import pytest

from emovc.data.catalogs import catalog_corpus, detect_corpus, scan_corpus
from emovc.data.catalogs.base import text_sentence_id


def _by_id(manifest):
    return {u.utt_id: u for u in manifest}


def test_speaker_folders_with_every_kind_of_transcript(tmp_path, make_tree):
    """`alice/*.wav` folders were an "unknown corpus layout" (and `--corpus folders` listed
    every folder as an unknown emotion): embed-map and train-voice could not read them."""
    root = make_tree(tmp_path / "mine", [
        "alice/x1.wav", "alice/x2.wav",          # x1 with a .txt, x2 without a transcript
        "bob/day1/y1.flac",                      # bob/metadata.csv, by its path in bob/
        "carol/wavs/z1.wav",                     # carol/metadata.csv, LJSpeech-style per speaker
        "dave/w1.wav",                           # the root's metadata.csv, by alice/x-like path
        "erin/v1.wav",                           # a .lab beside it (Montreal Forced Aligner)
    ])
    (root / "alice/x1.txt").write_text("Hello there,\n  friend.\n")
    (root / "bob/metadata.csv").write_text("day1/y1|Bob said 3 words.|Bob said three words.\n")
    (root / "carol/metadata.csv").write_text('z1|"Quoted" text|\n')
    (root / "metadata.csv").write_text("dave/w1.wav|Hello there, friend!\n")
    (root / "erin/v1.lab").write_text("lab text")
    (root / "speakers.tsv").write_text("speaker\tgender\nalice\tF\nbob\tM\n")
    assert detect_corpus(root) == "speakers"
    m = _by_id(catalog_corpus(root))
    assert set(m) == {"speakers/alice/x1", "speakers/alice/x2", "speakers/bob/day1/y1",
                      "speakers/carol/wavs/z1", "speakers/dave/w1", "speakers/erin/v1"}
    alice, bob = m["speakers/alice/x1"], m["speakers/bob/day1/y1"]
    assert (alice.speaker, alice.gender, alice.text, alice.emotion) == (
        "alice", "F", "Hello there, friend.", "")
    assert (bob.speaker, bob.gender, bob.text) == ("bob", "M", "Bob said three words.")
    assert m["speakers/alice/x2"].text == "" and m["speakers/alice/x2"].sentence == ""
    assert m["speakers/carol/wavs/z1"].text == '"Quoted" text'  # no normalized text: the text
    assert m["speakers/dave/w1"].text == "Hello there, friend!"
    assert m["speakers/erin/v1"].text == "lab text"
    # equal words, equal sentence ids (punctuation and case aside)
    assert alice.sentence == m["speakers/dave/w1"].sentence == text_sentence_id(
        "hello there friend")


def test_speaker_folders_forced_list_loose_files_as_skipped(tmp_path, make_tree):
    root = make_tree(tmp_path / "c", ["alice/a.wav", "loose.wav"])
    manifest, log = scan_corpus(root, "speakers")
    assert [u.speaker for u in manifest] == ["alice"]
    assert log.skipped == {"not inside a speaker folder (<speaker>/<file>)": [
        str(root / "loose.wav")]}


def test_ljspeech_layout(tmp_path, make_tree):
    """An LJSpeech-style corpus (wavs/ + metadata.csv) had no catalog."""
    root = make_tree(tmp_path / "LJSpeech-1.1", ["wavs/LJ001-0001.wav", "wavs/LJ001-0002.wav",
                                                 "wavs/extra.wav"])
    (root / "metadata.csv").write_text(
        'LJ001-0001|Printing, in the only sense|Printing, in the only sense\n'
        'LJ001-0002|in 1450 "we" are|in fourteen fifty "we" are\n'
        "LJ001-0003|no audio for this one|no audio for this one\n")
    (root / "speakers.tsv").write_text("speaker\tgender\nLJSpeech-1.1\tF\n")
    assert detect_corpus(root) == "ljspeech"
    manifest, log = scan_corpus(root)
    m = _by_id(manifest)
    assert set(m) == {"ljspeech/LJSpeech-1.1/LJ001-0001", "ljspeech/LJSpeech-1.1/LJ001-0002",
                      "ljspeech/LJSpeech-1.1/extra"}
    two = m["ljspeech/LJSpeech-1.1/LJ001-0002"]
    assert (two.speaker, two.gender, two.text) == ("LJSpeech-1.1", "F",
                                                   'in fourteen fifty "we" are')
    assert m["ljspeech/LJSpeech-1.1/extra"].text == ""
    assert log.skipped == {"listed in metadata.csv but no audio file": [
        str(root / "wavs" / "LJ001-0003.wav")]}


def test_ljspeech_clips_beside_the_metadata_and_a_header_line(tmp_path, make_tree):
    root = make_tree(tmp_path / "voice", ["a.wav", "b.wav"])
    (root / "metadata.csv").write_text("id|text\na|First.\nb.wav|Second.\n")
    assert detect_corpus(root) == "ljspeech"
    assert {u.utt_id: u.text for u in catalog_corpus(root)} == {
        "ljspeech/voice/a": "First.", "ljspeech/voice/b": "Second."}


def test_ljspeech_ids_with_the_wavs_folder_or_an_extension(tmp_path, make_tree):
    """Ids written ``wavs/x.wav`` (as several TTS tools write metadata.csv) matched no clip:
    the corpus was read as the speakers layout, one speaker named ``wavs``."""
    root = make_tree(tmp_path / "myvoice", ["wavs/a.wav", "wavs/b.wav", "wavs/c.wav"])
    (root / "metadata.csv").write_text("wavs/a.wav|First.\nb.wav|Second.\nc|Third.\n"
                                       "wavs/d.wav|No audio.\n")
    assert detect_corpus(root) == "ljspeech"
    manifest, log = scan_corpus(root)
    assert {u.utt_id: (u.speaker, u.text) for u in manifest} == {
        "ljspeech/myvoice/a": ("myvoice", "First."), "ljspeech/myvoice/b": ("myvoice", "Second."),
        "ljspeech/myvoice/c": ("myvoice", "Third.")}
    assert log.skipped == {"listed in metadata.csv but no audio file": [
        str(root / "wavs" / "d.wav")]}


def _nfd(name: str) -> str:
    return unicodedata.normalize("NFD", name)


def test_transcripts_of_names_written_decomposed(tmp_path, make_tree):
    """macOS writes folder and file names decomposed (NFD); metadata.csv is typed composed
    (NFC): the speaker name matched, the transcripts of its clips did not (0 of them read)."""
    assert _nfd("José") != "José"
    root = make_tree(tmp_path / "mine", [_nfd("José/clip1.wav"), _nfd("Zoë/réplique.wav")])
    (root / "metadata.csv").write_text("José/clip1|Hola.\n", encoding="utf-8")
    (root / _nfd("Zoë") / "metadata.csv").write_text("réplique|Bonjour.\n", encoding="utf-8")
    assert {u.speaker: u.text for u in catalog_corpus(root, "speakers")} == {
        "José": "Hola.", "Zoë": "Bonjour."}
    voice = make_tree(tmp_path / "voice", [_nfd("wavs/réplique.wav")])
    (voice / "metadata.csv").write_text("réplique|Bonjour.\n", encoding="utf-8")
    assert detect_corpus(voice) == "ljspeech"
    assert [u.text for u in catalog_corpus(voice)] == ["Bonjour."]


# every layout emovc read before the speakers and ljspeech catalogs, as it detected them
LAYOUTS = {
    "ravdess": ["Actor_01/03-01-05-02-01-02-01.wav", "Actor_02/03-01-01-01-02-01-02.wav"],
    "ravdess sorted into emotion folders": ["angry/03-01-05-01-01-01-01.wav",
                                            "calm/03-01-02-01-01-01-02.wav"],
    "esd": ["0011/Angry/train/0011_000351.wav", "0011/Neutral/test/0011_000001.wav"],
    "cremad": ["AudioWAV/1001_DFA_ANG_XX.wav", "AudioWAV/1002_IEO_HAP_HI.wav"],
    "tess": ["OAF_angry/OAF_back_angry.wav", "YAF_pleasant_surprised/YAF_bath_ps.wav"],
    "emovdb": ["bea_Amused/amused_1-15_0001.wav", "sam_Disgusted/disgust_1-28_0002.wav"],
    "savee": ["DC/a01.wav", "KL/su15.wav"],
    "vctk": ["p225/p225_003.flac", "p226/p226_004.flac"],
    "vctk release": ["wav48_silence_trimmed/p225/p225_001_mic1.flac",
                     "wav48_silence_trimmed/p226/p226_002_mic1.flac"],
    "librispeech": ["103/1240/103-1240-0000.flac", "1034/121119/1034-121119-0001.flac"],
    "librispeech flat": ["103-1240-0000.flac", "1040-133433-0000.flac"],
    "libritts": ["103/1241/103_1241_000000_000001.wav",
                 "1034/121119/1034_121119_000001_000000.wav"],
    "folders": ["Anger/x1.wav", "happiness/x1.wav", "sad/x2.flac"],
    "folders with an unknown emotion": ["angry/a.wav", "sad/b.wav", "bored/c.wav"],
    "folders nested": ["alice/angry/1.wav", "bob/sad/1.wav"],
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_the_new_layouts_take_no_corpus_of_another(name, tmp_path, make_tree):
    """Speaker folders are what most layouts have (Actor_01/, p225/, AudioWAV/): their file
    names, or emotion folder names, must still decide."""
    root = make_tree(tmp_path / "c", LAYOUTS[name])
    expected = {"ravdess sorted into emotion folders": "ravdess", "vctk release": "vctk",
                "librispeech flat": "librispeech", "folders with an unknown emotion": "folders",
                "folders nested": "folders"}.get(name, name)
    assert detect_corpus(root) == expected
    # a metadata.csv of its own (a common file name) does not make it an LJSpeech corpus
    (root / "metadata.csv").write_text("x|some text\n")
    assert detect_corpus(root) == expected


def test_an_ljspeech_corpus_is_not_read_as_a_speaker_called_wavs(tmp_path, make_tree):
    root = make_tree(tmp_path / "voice", ["wavs/a.wav", "wavs/b.wav"])
    assert detect_corpus(root) == "speakers"  # without metadata.csv: a folder of takes
    (root / "metadata.csv").write_text("a|One.\nb|Two.\n")
    assert detect_corpus(root) == "ljspeech"


def test_catalog_command_reads_speaker_folders(tmp_path, make_tree, capsys):
    from emovc.cli.main import main

    root = make_tree(tmp_path / "mine", ["alice/a.wav", "alice/b.wav", "bob/c.wav"])
    code = main(["catalog", str(root), "-o", str(tmp_path / "m.csv")])
    out, err = capsys.readouterr()
    assert code == 0 and "alice" in out and "bob" in out
    assert "skipped" not in err
    from emovc.data.manifest import Manifest

    assert {(u.corpus, u.speaker) for u in Manifest.from_csv(tmp_path / "m.csv")} == {
        ("speakers", "alice"), ("speakers", "bob")}


def test_prepare_names_the_cache_of_your_own_corpus_after_its_folder(tmp_path):
    """A speakers or ljspeech cache was named after the layout alone ("speakers"), as if every
    user's own recordings were one corpus."""
    from emovc.audio import save_audio
    from emovc.data.prepare import prepare_corpus
    from emovc.data.synthetic import EMOTION_VOICES, synthesize

    root = tmp_path / "my voices"
    save_audio(root / "alice" / "a.wav",
               synthesize(EMOTION_VOICES["neutral"], duration=1.0, seed=1), 16000)
    done = prepare_corpus(root, cache_dir=tmp_path / "cache", features="mel", workers=1,
                          progress=False)
    assert done.report.name == "speakers-my_voices"
    assert [u.speaker for u in done.manifest] == ["alice"]


@pytest.mark.parametrize("layout", ["flat", "nested"])
def test_emotion_folders_misspelt_are_named_when_read_as_speakers(layout, tmp_path, make_tree):
    """`hapy/ saad/` (or `alice/hapy/`) were read as speaker folders without a word: the
    corpus had no emotion labels, and only a recogniser or converter training said so,
    without why."""
    import warnings

    from emovc.errors import EmovcWarning

    top = [""] if layout == "flat" else ["alice/", "bob/"]
    root = make_tree(tmp_path / "c", [f"{t}{e}/{i}.wav" for t in top
                                      for e in ("hapy", "Saad") for i in range(2)])
    with pytest.warns(EmovcWarning) as said:
        manifest = catalog_corpus(root)
    assert {u.corpus for u in manifest} == {"speakers"}
    (line,) = [str(w.message) for w in said if "misspelt" in str(w.message)]
    assert line == (f"folders 'Saad' (sad?), 'hapy' (happy?) of {root} look like misspelt "
                    "emotions but are read as speakers (the speakers layout, no emotion "
                    "labels): emotion folders are named neutral, calm, happy, sad, angry, "
                    "fearful, disgust or surprised (or an alias such as anger or happiness); "
                    "rename them, or pass --corpus speakers if they are speakers")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scan_corpus(root, "speakers")  # the layout forced: no warning


def test_speaker_folders_of_names_like_one_emotion_are_not_warned_about(tmp_path, make_tree):
    """A speaker may be called Angie (like "anger"): one look-alike is a name, not a
    misspelt emotion corpus; Carl and Sadie are not close enough to calm and sad."""
    import warnings

    root = make_tree(tmp_path / "c", [f"{s}/{i}.wav" for s in ("Angie", "Carl", "Sadie", "bob")
                                      for i in range(2)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(catalog_corpus(root)) == 8


def test_a_few_emotion_like_names_among_many_speakers_are_not_warned_about(tmp_path,
                                                                          make_tree):
    """Review 41 L6: "angel" (angry?) and "calum" (calm?) among speakers' names read as a
    misspelt emotion corpus; look-alikes must be at least half of their level's names."""
    import warnings

    names = ("angel", "calum", "bob", "dora", "eve", "fred")
    root = make_tree(tmp_path / "c", [f"{s}/{i}.wav" for s in names for i in range(2)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(catalog_corpus(root)) == 12


def test_the_look_alike_rule_counts_every_folder_of_the_level_not_the_sample(tmp_path,
                                                                            make_tree):
    """Review 42 L3: the names came from the probe's sample (its first 3000 clips), which in
    a corpus of 8 speakers of 1600 clips is all Angel's and Calum's: 2 names of 2, warned
    about. A probe of 4 clips stands in for that sample here."""
    from emovc.data.catalogs import speakers
    from emovc.data.catalogs.base import make_probe

    names = ("angel", "calum", "dave", "erin", "frank", "gina")
    root = make_tree(tmp_path / "c", [f"{s}/{i}.wav" for s in names for i in range(2)])
    probe = make_probe(root, limit=4)
    assert {p.parts[0] for p in probe.audio} == {"angel", "calum"}
    assert speakers.emotion_lookalikes(probe) == {}
    # misspelt emotion folders are found, also where the sample did not reach them
    nested = make_tree(tmp_path / "n", [f"{s}/{e}/{i}.wav" for s in ("alice", "bob")
                                        for e in ("hapy", "saad") for i in range(2)])
    make_tree(nested / "bob" / "angyr", ["0.wav"])
    (nested / "bob" / ".cache").mkdir()
    assert speakers.emotion_lookalikes(make_probe(nested, limit=2)) == {
        "angyr": "angry", "hapy": "happy", "saad": "sad"}


def test_the_look_alike_rule_counts_only_folders_that_hold_audio(tmp_path, make_tree):
    """Review 42b M1: docs/, scripts/ and transcripts/ beside hapy/ and saad/ were counted
    as names of the level (2 look-alikes of 5, under half), so the misspelt emotion corpus
    was no longer warned about; folders without audio are no names of the corpus."""
    from emovc.data.catalogs import speakers
    from emovc.data.catalogs.base import make_probe

    root = make_tree(tmp_path / "c", [f"{e}/{i}.wav" for e in ("hapy", "saad")
                                      for i in range(3)])
    for extra in ("docs", "scripts", "transcripts"):
        (root / extra).mkdir()
        (root / extra / "x.txt").write_text("x")
    (root / "empty").mkdir()
    assert speakers.emotion_lookalikes(make_probe(root)) == {"hapy": "happy", "saad": "sad"}
    # one level down, and audio deeper in a folder makes it count (alice/hapy/day1/x.wav)
    nested = make_tree(tmp_path / "n", [f"alice/{e}/day1/{i}.wav" for e in ("hapy", "saad")
                                        for i in range(2)])
    for extra in ("notes", "scripts", "txt"):
        (nested / "alice" / extra).mkdir()
    assert speakers.emotion_lookalikes(make_probe(nested)) == {"hapy": "happy", "saad": "sad"}


def test_misspelt_emotion_names_the_emotion_a_name_looks_like() -> None:
    from emovc.data.emotions import misspelt_emotion

    got = {w: misspelt_emotion(w) for w in ("hapy", "SAAD", "angyr", "suprised", "digust",
                                            "nuetral", "fearfull", "happy", "anger", "alice",
                                            "Carl", "Sadie", "wut", "p225", "day1")}
    assert got == {"hapy": "happy", "SAAD": "sad", "angyr": "angry", "suprised": "surprised",
                   "digust": "disgust", "nuetral": "neutral", "fearfull": "fearful",
                   **{w: None for w in ("happy", "anger", "alice", "Carl", "Sadie", "wut",
                                        "p225", "day1")}}


@pytest.mark.parametrize("command", ["ser train", "train"])
def test_a_training_command_says_why_emotion_folders_gave_no_labels(command, tmp_path,
                                                                     make_tree, capsys):
    """Emotion folders of another language (`wut/ freude/ trauer/`) read as speakers, and
    `emovc ser train` / `emovc train` said only that the corpus had no labelled emotions."""
    from emovc.cli.main import main

    root = make_tree(tmp_path / "c", [f"{e}/{i}.wav" for e in ("wut", "freude", "trauer")
                                      for i in range(2)])
    extra = (["--method", "linear", "--val-speakers", ""] if command == "ser train"
             else ["--max-steps", "1"])
    code = main([*command.split(), str(root), "-o", str(tmp_path / "run"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert ("; its folders (freude, trauer, wut) were read as speakers (the speakers layout, "
            "no emotion labels): emotion folders, <emotion>/ or <speaker>/<emotion>/, are "
            "named neutral, calm, happy, sad, angry, fearful, disgust or surprised (or an "
            "alias such as anger or happiness)") in err
    # both take --corpus (emovc train did not): the hint names it
    assert "--corpus folders reads only those" in err
