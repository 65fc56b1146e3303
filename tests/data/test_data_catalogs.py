"""Corpus catalogs on tiny fake trees: parsing, auto-detection, skipped-file accounting."""

from __future__ import annotations

import warnings

import pytest

from emovc.data.catalogs import (
    CATALOGS,
    CatalogWarning,
    ScanLog,
    catalog_corpus,
    detect_corpus,
    scan_corpus,
)
from emovc.errors import EmovcError


def _by_id(manifest):
    return {u.utt_id: u for u in manifest}


def test_ravdess_fields_and_song_skipped(tmp_path, make_tree):
    make_tree(tmp_path, [
        "Actor_01/03-01-05-02-01-02-01.flac",   # angry strong, statement 1, rep 2, male
        "Actor_02/03-01-01-01-02-01-02.wav",    # neutral normal, statement 2, female
        "Actor_02/03-02-03-01-01-01-02.wav",    # song → skipped
    ])
    assert detect_corpus(tmp_path) == "ravdess"
    m, log = scan_corpus(tmp_path)
    u = _by_id(m)["ravdess/01/03-01-05-02-01-02-01"]
    assert (u.speaker, u.gender, u.emotion, u.intensity) == ("01", "M", "angry", "strong")
    assert (u.sentence, u.repetition, u.text) == ("01", 2, "Kids are talking by the door")
    assert u.path == str(tmp_path / "Actor_01/03-01-05-02-01-02-01.flac")
    assert u.duration == pytest.approx(0.25, abs=1e-3)
    v = _by_id(m)["ravdess/02/03-01-01-01-02-01-02"]
    assert (v.gender, v.emotion, v.text) == ("F", "neutral", "Dogs are sitting by the door")
    assert len(m) == 2 and log.n_skipped == 1
    assert "song" in next(iter(log.skipped))


def test_ravdess_take_names_are_read_as_the_scan_reads_them(tmp_path, make_tree):
    """One reading of the name: :func:`take_name` (the evaluation's notes) gives a take
    exactly for the files the scan lists, an unknown intensity code included (``03``: the
    scan skips it, and so does ``take_name`` now)."""
    from emovc.data.catalogs.ravdess import read_take_name, take_name

    names = ["03-01-05-02-01-02-01.wav", "03-01-05-03-01-02-01.wav",  # intensity 03: none
             "03-01-09-01-01-01-01.wav", "03-01-05-01-03-01-01.wav",  # emotion 09, statement 03
             "03-02-05-01-01-01-01.wav", "speech.wav"]
    make_tree(tmp_path, [f"Actor_01/{n}" for n in names])
    m, log = scan_corpus(tmp_path, "ravdess")
    assert {u.path for u in m} == {str(p) for p in (tmp_path / "Actor_01").iterdir()
                                   if take_name(p) is not None}
    assert len(m) == 1 and log.n_skipped == 5
    take = take_name(tmp_path / "Actor_01" / names[0])
    assert (take.emotion, take.intensity, take.statement, take.actor) == ("angry", "02", "01",
                                                                          "01")
    assert read_take_name(names[1]) == (None, "unknown RAVDESS code")
    assert read_take_name(names[4]) == (None, "song, not speech (vocal channel 02)")


def test_ravdess_reference_is_the_same_take_in_the_target_emotion(tmp_path, make_tree):
    """`emovc convert` records this take as the reference of a RAVDESS-named input."""
    from emovc.data.catalogs.ravdess import ravdess_reference

    make_tree(tmp_path, ["03-01-02-01-01-02-03.wav", "03-01-05-01-01-02-03.wav",
                         "03-01-02-02-02-01-03.wav"])
    calm = tmp_path / "03-01-02-01-01-02-03.wav"
    assert ravdess_reference(calm, "angry") == (str(tmp_path / "03-01-05-01-01-02-03.wav"),
                                                "Kids are talking by the door")
    assert ravdess_reference(calm, "sad") == ("", "Kids are talking by the door")  # absent
    strong = tmp_path / "03-01-02-02-02-01-03.wav"  # RAVDESS has no strong neutral take
    assert ravdess_reference(strong, "neutral") == ("", "Dogs are sitting by the door")
    assert ravdess_reference(tmp_path / "speech.wav", "angry") == ("", "")


def test_esd_with_split_folders_and_transcripts(tmp_path, make_tree):
    make_tree(tmp_path, [
        "0011/Angry/train/0011_000351.wav",
        "0011/Neutral/test/0011_000001.wav",
        "0003/Surprise/0003_001401.wav",
    ])
    (tmp_path / "0011/0011.txt").write_text(
        "0011_000001\tThe nine the eggs.\tNeutral\n0011_000351\tThe nine the eggs.\tAngry\n")
    (tmp_path / "0003/0003.txt").write_bytes("0003_001401\t打远一看\t惊喜\n".encode("gb18030"))
    assert detect_corpus(tmp_path) == "esd"
    m = _by_id(catalog_corpus(tmp_path))
    a = m["esd/0011/0011_000351"]
    assert (a.emotion, a.gender, a.language, a.text) == ("angry", "M", "en", "The nine the eggs.")
    assert a.sentence == m["esd/0011/0011_000001"].sentence == "001"  # parallel sentences
    s = m["esd/0003/0003_001401"]
    assert (s.emotion, s.gender, s.language, s.text) == ("surprised", "F", "zh", "打远一看")


def test_cremad_demographics_and_levels(tmp_path, make_tree):
    make_tree(tmp_path / "AudioWAV", ["1001_DFA_ANG_XX.wav", "1002_IEO_HAP_HI.wav",
                                      "1002_IEO_SAD_LO.wav"])
    (tmp_path / "VideoDemographics.csv").write_text(
        "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n"
        "1002,21,Female,Caucasian,Not Hispanic\n")
    root = tmp_path / "AudioWAV"
    assert detect_corpus(root) == "cremad"
    m = _by_id(catalog_corpus(root))
    u = m["cremad/1001/1001_DFA_ANG_XX"]
    assert (u.gender, u.emotion, u.intensity, u.text) == ("M", "angry", "", "Don't forget a jacket")
    assert m["cremad/1002/1002_IEO_HAP_HI"].intensity == "strong"
    assert m["cremad/1002/1002_IEO_SAD_LO"].gender == "F"


def test_cremad_without_demographics_has_unknown_gender(tmp_path, make_tree):
    make_tree(tmp_path, ["1001_DFA_NEU_XX.wav"])
    assert catalog_corpus(tmp_path)[0].gender == "?"


def test_tess_pleasant_surprise(tmp_path, make_tree):
    make_tree(tmp_path, ["OAF_angry/OAF_back_angry.wav", "YAF_pleasant_surprised/YAF_bath_ps.wav",
                         "OAF_Fear/OAF_back_fear.wav"])
    assert detect_corpus(tmp_path) == "tess"
    m = _by_id(catalog_corpus(tmp_path))
    ps = m["tess/YAF/YAF_bath_ps"]
    assert (ps.emotion, ps.gender, ps.text, ps.sentence) == ("surprised", "F", "Say the word bath",
                                                             "bath")
    assert m["tess/OAF/OAF_back_fear"].emotion == "fearful"


def test_emovdb_maps_amused_and_leaves_sleepy_out(tmp_path, make_tree):
    make_tree(tmp_path, ["bea_Amused/amused_1-15_0001.wav", "josh_Sleepy/sleepiness_1-28_0001.wav",
                         "sam_Disgusted/disgust_1-28_0002.wav", "jenie_Angry/anger_1-28_0002.wav"])
    (tmp_path / "cmuarctic.data").write_text('( arctic_a0001 "Author of the danger trail." )\n')
    assert detect_corpus(tmp_path) == "emovdb"
    with pytest.warns(CatalogWarning, match="1 file"):
        m = _by_id(catalog_corpus(tmp_path))
    assert set(m) == {"emovdb/bea/amused_1-15_0001", "emovdb/sam/disgust_1-28_0002",
                      "emovdb/jenie/anger_1-28_0002"}
    a = m["emovdb/bea/amused_1-15_0001"]
    assert (a.emotion, a.gender, a.text, a.sentence) == ("happy", "F",
                                                         "Author of the danger trail.", "a0001")
    assert m["emovdb/sam/disgust_1-28_0002"].gender == "M"


def test_savee_nested_and_flat(tmp_path, make_tree):
    nested = make_tree(tmp_path / "nested", ["DC/a01.wav", "DC/sa03.wav", "KL/su15.wav",
                                             "KL/n30.wav"])
    assert detect_corpus(nested) == "savee"
    m = _by_id(catalog_corpus(nested))
    assert m["savee/DC/sa03"].emotion == "sad" and m["savee/KL/su15"].emotion == "surprised"
    assert m["savee/DC/a01"].emotion == "angry" and m["savee/KL/n30"].gender == "M"
    flat = make_tree(tmp_path / "flat", ["JE_h01.wav", "JK_f02.wav"])
    m2 = _by_id(catalog_corpus(flat))
    assert m2["savee/JE/h01"].emotion == "happy" and m2["savee/JK/f02"].emotion == "fearful"


def test_vctk_release_layout(tmp_path, make_tree):
    make_tree(tmp_path, ["wav48_silence_trimmed/p225/p225_001_mic1.flac",
                         "wav48_silence_trimmed/p225/p225_001_mic2.flac",
                         "wav48_silence_trimmed/p226/p226_002_mic1.flac"])
    (tmp_path / "txt/p225").mkdir(parents=True)
    (tmp_path / "txt/p225/p225_001.txt").write_text("Please call Stella.\n")
    (tmp_path / "speaker-info.txt").write_text(
        "ID  AGE  GENDER  ACCENTS  REGION COMMENTS\np225  23  F    English    Southern  England\n"
        "p226  22  M    English    Surrey\n")
    root = tmp_path / "wav48_silence_trimmed"
    assert detect_corpus(root) == "vctk"
    m, log = scan_corpus(root)
    u = _by_id(m)
    assert set(u) == {"vctk/p225/p225_001", "vctk/p226/p226_002"}
    assert (u["vctk/p225/p225_001"].text, u["vctk/p225/p225_001"].gender) == (
        "Please call Stella.", "F")
    assert u["vctk/p226/p226_002"].gender == "M" and u["vctk/p226/p226_002"].emotion == ""
    assert log.n_skipped == 1 and "mic2" in next(iter(log.skipped))


def test_vctk_compact_tsv_layout(tmp_path, make_tree):
    make_tree(tmp_path, ["p225/p225_003.flac", "p227/p227_003.flac"])
    (tmp_path / "transcripts.tsv").write_text(
        "speaker\tutt_id\tpath\ttext\np225\tp225_003\tp225/p225_003.wav\tSix spoons.\n"
        "p227\tp227_003\tp227/p227_003.wav\tSix spoons.\n")
    (tmp_path / "speakers.tsv").write_text(
        "speaker\tage\tgender\taccent\tregion\np225\t23\tF\tEnglish\tS\np227\t38\tM\tEnglish\tC\n")
    m = _by_id(catalog_corpus(tmp_path))
    assert m["vctk/p227/p227_003"].gender == "M"
    assert m["vctk/p225/p225_003"].text == "Six spoons."
    assert m["vctk/p225/p225_003"].sentence == m["vctk/p227/p227_003"].sentence


def test_vctk_sentence_ids_mean_the_same_words(tmp_path, make_tree):
    """VCTK prompts differ per speaker after _024: p225_030 and p226_030 got the same
    sentence id "030" although they say different sentences."""
    make_tree(tmp_path, ["p225/p225_003.flac", "p226/p226_003.flac", "p225/p225_030.flac",
                         "p226/p226_030.flac", "p226/p226_041.flac",
                         "p227/p227_003.flac", "p227/p227_030.flac"])
    (tmp_path / "transcripts.tsv").write_text(
        "speaker\tutt_id\tpath\ttext\n"
        "p225\tp225_003\tp225/p225_003.wav\tSix spoons.\n"
        "p226\tp226_003\tp226/p226_003.wav\tsix  SPOONS\n"       # same words
        "p225\tp225_030\tp225/p225_030.wav\tThe dog barked at night.\n"
        "p226\tp226_030\tp226/p226_030.wav\tMarkets fell sharply today.\n"
        "p226\tp226_041\tp226/p226_041.wav\tThe dog barked, at night!\n")  # p227: none
    m = _by_id(catalog_corpus(tmp_path))
    sent = {k.split("/")[-1]: u.sentence for k, u in m.items()}
    assert sent["p225_030"] != sent["p226_030"]
    assert sent["p225_030"] == sent["p226_041"] != ""  # the same words under another number
    # a prompt every speaker reads (001-024) is its number, with a transcript or without one
    # (p227 without transcripts had "003" while the others had an id from the words)
    assert sent["p225_003"] == sent["p226_003"] == sent["p227_003"] == "003"
    assert sent["p227_030"] == ""  # no transcript after the shared prompts: no id
    assert len({sent["p225_003"], sent["p225_030"], sent["p226_030"]}) == 3


def test_librispeech_release_layout(tmp_path, make_tree):
    make_tree(tmp_path, ["train-clean-100/103/1240/103-1240-0000.flac",
                         "train-clean-100/1034/121119/1034-121119-0001.flac"])
    (tmp_path / "train-clean-100/103/1240/103-1240.trans.txt").write_text(
        "103-1240-0000 CHAPTER ONE MISSUS RACHEL LYNDE IS SURPRISED\n")
    (tmp_path / "SPEAKERS.TXT").write_text(
        "; ID |SEX| SUBSET | MINUTES | NAME\n103 | F | train-clean-100 | 25.19 | Karen\n"
        "1034 | M | train-clean-100 | 25.1 | Kevin\n")
    root = tmp_path / "train-clean-100"
    assert detect_corpus(root) == "librispeech"
    m = _by_id(catalog_corpus(root))
    u = m["librispeech/103/103-1240-0000"]
    assert (u.gender, u.text, u.sentence) == ("F", "CHAPTER ONE MISSUS RACHEL LYNDE IS SURPRISED",
                                              "1240-0000")
    assert m["librispeech/1034/1034-121119-0001"].gender == "M"


def test_librispeech_flat_clips_layout(tmp_path, make_tree):
    make_tree(tmp_path, ["103-1240-0000.flac", "1040-133433-0000.flac"])
    (tmp_path / "speakers.tsv").write_text(
        "file\tspeaker\tgender\tsubset\tname\n103-1240-0000.flac\t103\tF\ttrain-clean-100\tK\n"
        "1040-133433-0000.flac\t1040\tM\ttrain-clean-100\tJ\n")
    m = catalog_corpus(tmp_path)
    assert {(u.speaker, u.gender) for u in m} == {("103", "F"), ("1040", "M")}


def test_libritts_release_layout(tmp_path, make_tree):
    rel = "train-clean-100/103/1241/103_1241_000000_000001"
    make_tree(tmp_path, [f"{rel}.wav", "train-clean-100/1034/121119/1034_121119_000001_000000.wav"])
    (tmp_path / f"{rel}.normalized.txt").write_text("Chapter one, Missus Rachel Lynde.\n")
    (tmp_path / f"{rel}.original.txt").write_text("CHAPTER I. Mrs. Rachel Lynde.\n")
    (tmp_path / "SPEAKERS.txt").write_text(
        "; READER|GENDER|SUBSET|NAME\n103 |F|train-clean-100|Karen\n1034|M|train-clean-100|K\n")
    root = tmp_path / "train-clean-100"
    assert detect_corpus(root) == "libritts"  # not LibriSpeech, whose names use dashes
    m = _by_id(catalog_corpus(root))
    u = m["libritts/103/103_1241_000000_000001"]
    assert (u.gender, u.text, u.sentence) == ("F", "Chapter one, Missus Rachel Lynde.",
                                              "1241_000000_000001")
    other = m["libritts/1034/1034_121119_000001_000000"]
    assert (other.gender, other.text) == ("M", "")


def test_generic_folders_both_depths(tmp_path, make_tree):
    flat = make_tree(tmp_path / "flat", ["Anger/x1.wav", "happiness/x1.wav", "sad/x2.flac",
                                         "bored/x3.wav"])
    assert detect_corpus(flat) == "folders"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = _by_id(catalog_corpus(flat))
    assert any("unknown emotion folder 'bored'" in str(w.message) for w in caught)
    assert set(m) == {"folders/unknown/Anger/x1", "folders/unknown/happiness/x1",
                      "folders/unknown/sad/x2"}
    assert m["folders/unknown/happiness/x1"].emotion == "happy"
    nested = make_tree(tmp_path / "nested", ["alice/angry/1.wav", "bob/sad/1.wav"])
    (nested / "speakers.tsv").write_text("speaker\tgender\nalice\tF\n")
    m2 = _by_id(catalog_corpus(nested))
    assert m2["folders/alice/angry/1"].gender == "F" and m2["folders/bob/sad/1"].gender == "?"


def test_forced_corpus_and_unknown_name(tmp_path, make_tree):
    make_tree(tmp_path, ["angry/03-01-05-01-01-01-01.wav"])
    assert detect_corpus(tmp_path) == "ravdess"  # file names beat the generic layout
    assert catalog_corpus(tmp_path, "folders")[0].emotion == "angry"
    with pytest.raises(EmovcError, match="valid choices: auto, ravdess"):
        scan_corpus(tmp_path, "emodb")


def test_bad_folders_raise_one_line_errors(tmp_path, make_tree):
    with pytest.raises(EmovcError, match="not found"):
        detect_corpus(tmp_path / "missing")
    with pytest.raises(EmovcError, match="no audio files"):
        scan_corpus(tmp_path)
    # loose takes (a folder of them is a speaker's: the speakers layout)
    make_tree(tmp_path, ["take_one.wav", "take_two.wav"])
    with pytest.raises(EmovcError) as exc:
        scan_corpus(tmp_path)
    msg = str(exc.value)
    assert "unknown corpus layout" in msg and "\n" not in msg
    assert all(name in msg for name in ("RAVDESS", "ESD", "VCTK", "LibriSpeech", "folders",
                                        "speakers", "LJSpeech", "--corpus speakers"))


def test_unreadable_file_is_counted_not_dropped(tmp_path, make_tree):
    make_tree(tmp_path, ["Actor_01/03-01-05-01-01-01-01.wav"])
    (tmp_path / "Actor_01/03-01-05-01-01-02-01.wav").write_bytes(b"not audio at all")
    m, log = scan_corpus(tmp_path)
    assert len(m) == 1 and log.skipped == {
        "unreadable audio header": [str(tmp_path / "Actor_01/03-01-05-01-01-02-01.wav")]}


def test_every_catalog_is_registered_with_a_layout():
    assert set(CATALOGS) == {"ravdess", "esd", "cremad", "tess", "emovdb", "savee", "vctk",
                             "librispeech", "libritts", "folders", "speakers", "ljspeech"}
    assert all(c.layout for c in CATALOGS.values())


def test_audio_in_formats_emovc_cannot_read_is_listed_not_dropped(tmp_path, make_tree):
    """A folder of .caf/.m4a takes used to vanish from the scan without a word."""
    root = make_tree(tmp_path / "c", ["bob/angry/a1.wav", "bob/sad/s1.wav"])
    for name in ("bob/sad/s2.caf", "bob/sad/s3.m4a", "bob/notes.txt"):
        (root / name).write_bytes(b"x")
    manifest, log = scan_corpus(root)
    assert len(manifest) == 2
    listed = {p.rsplit("/", 1)[-1] for reason, paths in log.skipped.items()
              if reason.startswith("unsupported audio format") for p in paths}
    assert listed == {"s2.caf", "s3.m4a"}  # not the text file


def test_skipped_examples_are_shown_relative_to_the_corpus(tmp_path, make_tree):
    root = make_tree(tmp_path / "c", ["bob/angry/a1.wav", "bob/sad/s1.wav"])
    (root / "bob" / "sad" / "s2.caf").write_bytes(b"x")
    _, log = scan_corpus(root)
    assert any("(e.g. bob/sad/s2.caf)" in line for line in log.summary()), log.summary()


def test_a_name_spelled_composed_and_decomposed_is_one_speaker(tmp_path, make_tree):
    """macOS writes folder names decomposed (NFD): 'José' in NFD and NFC were two speakers
    (a split could put one person on both sides) and the NFD one lost its gender."""
    import unicodedata

    nfc, nfd = unicodedata.normalize("NFC", "José"), unicodedata.normalize("NFD", "José")
    root = make_tree(tmp_path / "c", [f"{nfd}/angry/a1.wav", f"{nfc}/sad/s1.wav",
                                      "bob/sad/s2.wav"])
    (root / "speakers.tsv").write_text(f"speaker\tgender\n{nfc}\tM\nbob\tM\n")
    manifest, _ = scan_corpus(root)
    assert sorted(manifest.speakers()) == sorted(["bob", nfc])
    assert {u.gender for u in manifest} == {"M"}


def _augment_output(folder, make_tree):
    """A stand-in `emovc augment` output: RAVDESS-named clips converted to sad (the names
    still say calm and angry) and its augment.json."""
    make_tree(folder, ["sad/Actor_01/03-01-02-01-01-01-01.wav",
                       "sad/Actor_01/03-01-05-01-01-01-01.wav",
                       "sad/Actor_02/03-01-02-01-01-01-02.wav"])
    (folder / "augment.json").write_text(
        '{"model": "m2m-ravdess", "sha256": "ab12", "intensity": 1.0, "pipeline": 2}\n')
    (folder / "manifest.csv").write_text("utt_id,path,corpus,speaker\n")
    return folder


def test_another_tools_augment_json_does_not_mark_an_augment_output(tmp_path, make_tree):
    """Any file named augment.json (a common name for an augmentation config) in a parent
    folder refused a real corpus as "an `emovc augment` output", and a corpus subfolder
    holding one was silently left out: only the file's content marks an output."""
    proj = tmp_path / "proj"
    make_tree(proj / "data" / "rav", ["Actor_01/03-01-02-01-01-01-01.wav",
                                      "Actor_02/03-01-03-01-01-01-02.wav"])
    (proj / "augment.json").write_text('{"p": 0.5, "transforms": ["noise"]}\n')
    (proj / "data" / "rav" / "Actor_02" / "augment.json").write_text("not json\n")
    m, log = scan_corpus(proj / "data" / "rav")
    assert len(m) == 2 and not log.skipped
    # the real one, beside them, still is one
    _augment_output(proj / "data" / "rav" / "aug", make_tree)
    m, log = scan_corpus(proj / "data" / "rav")
    assert len(m) == 2 and "inside the `emovc augment` output" in next(iter(log.skipped))
    with pytest.raises(EmovcError, match="an `emovc augment` output"):
        scan_corpus(proj / "data" / "rav" / "aug" / "sad")


def test_a_folder_inside_an_augment_output_is_refused(tmp_path, make_tree):
    """`emovc catalog OUT/sad` listed clips converted to sad under their source emotions
    (only OUT itself was refused)."""
    out = _augment_output(tmp_path / "aug", make_tree)
    for folder in (out, out / "sad", out / "sad" / "Actor_01"):
        with pytest.raises(EmovcError, match=r"an `emovc augment` output.*source emotion"
                                             r".*aug/manifest\.csv"):
            scan_corpus(folder)
    with pytest.raises(EmovcError, match="lies inside .*aug, which is an `emovc augment`"):
        catalog_corpus(out / "sad")


@pytest.mark.parametrize("name", sorted(CATALOGS))
def test_the_scans_do_not_walk_into_an_augment_output(name, tmp_path, make_tree):
    """Every catalog walked the whole tree of an augment output inside the corpus folder,
    whose clips scan_corpus then dropped: the walk now passes it by (scan_corpus lists its
    clips as left out, as before)."""
    make_tree(tmp_path / "rav", ["Actor_01/03-01-02-01-01-01-01.wav"])
    _augment_output(tmp_path / "aug", make_tree)
    log = ScanLog()
    seen = [u.path for u in CATALOGS[name].scan(tmp_path, log)]
    seen += [p for paths in log.skipped.values() for p in paths]
    assert seen == [str(tmp_path / "rav/Actor_01/03-01-02-01-01-01-01.wav")]


def test_an_augment_output_inside_a_corpus_folder_is_left_out(tmp_path, make_tree):
    """A folder holding a corpus and an augment output: the converted clips are not
    catalogued under their source labels, but listed as left out, with the reason; real
    clips of the same ids are kept (they were dropped as 'duplicate utterance id' when the
    converted copy came first)."""
    make_tree(tmp_path / "rav", ["Actor_01/03-01-02-01-01-01-01.wav",
                                 "Actor_02/03-01-03-01-01-01-02.wav"])
    _augment_output(tmp_path / "aug", make_tree)
    m, log = scan_corpus(tmp_path)
    assert sorted(u.path for u in m) == [str(tmp_path / "rav/Actor_01/03-01-02-01-01-01-01.wav"),
                                         str(tmp_path / "rav/Actor_02/03-01-03-01-01-01-02.wav")]
    ((reason, paths),) = log.skipped.items()
    assert "inside the `emovc augment` output" in reason and str(tmp_path / "aug") in reason
    assert len(paths) == 3 and all("/aug/sad/" in p for p in paths) and paths == sorted(paths)
    with pytest.warns(CatalogWarning, match="3 file.*emovc augment"):
        catalog_corpus(tmp_path)
    # nothing but the augment output: said so, not "unknown layout"
    only = tmp_path / "only"
    _augment_output(only / "aug", make_tree)
    with pytest.raises(EmovcError, match="no corpus clips besides the `emovc augment` output"):
        scan_corpus(only)
