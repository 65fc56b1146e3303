"""The tables emovc writes and reads again are UTF-8 whatever the locale's encoding."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SPEAKER = "\u00c9milie"  # a corpus folder: paths are user text
SENTENCE = "\u00c7a va, na\u00efve ?"

# run under an ASCII locale (its source ASCII too: the command line is decoded as ASCII):
# writes the augment tables, reads them and a feature cache index
CHILD = textwrap.dedent(f"""
    import json, locale, sys
    from pathlib import Path
    from emovc.pipelines.augment_outputs import _earlier_rows, atomic_csv, read_augmented_manifest
    from emovc.training.feature_cache import read_index

    out = Path(sys.argv[1])
    row = {{"path": "sad/" + {SPEAKER!a} + "/x.wav", "synthetic": "1", "emotion": "sad",
           "sentence": {SENTENCE!a}}}
    atomic_csv(out / "manifest.csv", tuple(row), [row])
    print(json.dumps({{"encoding": locale.getpreferredencoding(False),
                      "manifest": read_augmented_manifest(out / "manifest.csv")[0],
                      "earlier": list(_earlier_rows(out)),
                      "index": [vars(r) for r in read_index(out / "cache")]}}))
""")


def test_augment_tables_and_the_feature_index_are_utf8_under_an_ascii_locale(tmp_path):
    """The augment manifest was written in the locale's encoding: under an ASCII locale a
    corpus path such as Émilie/... failed at the very end of a run (UnicodeEncodeError);
    with cp1252 (Windows) the next resume's UTF-8 read failed."""
    cache = tmp_path / "cache"
    cache.mkdir()
    with open(cache / "index.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["key", "path", "speaker", "emotion", "intensity", "sentence", "repetition",
                    "n_frames", "level_db"])
        w.writerow(["k1", f"/c/{SPEAKER}/a.wav", SPEAKER, "sad", "", SENTENCE, "", "12", "-30.0"])
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0",
           "PYTHONCOERCECLOCALE": "0", "PYTHONIOENCODING": "utf-8",
           "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], env=env,
                          capture_output=True, encoding="utf-8")
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    if got["encoding"].lower().replace("-", "") == "utf8":
        pytest.skip("no ASCII locale here: C is UTF-8")
    with open(tmp_path / "manifest.csv", newline="", encoding="utf-8") as f:
        assert next(csv.DictReader(f))["sentence"] == SENTENCE
    assert got["manifest"]["sentence"] == SENTENCE
    assert Path(got["manifest"]["path"]).parts[-2:] == (SPEAKER, "x.wav")
    assert got["earlier"] == [f"sad/{SPEAKER}/x.wav"]
    assert (got["index"][0]["speaker"], got["index"][0]["sentence"]) == (SPEAKER, SENTENCE)


def test_an_augment_manifest_an_earlier_emovc_wrote_in_cp1252(tmp_path, monkeypatch):
    """An earlier emovc wrote manifest.csv in the locale's encoding (cp1252 on Windows): with
    a path such as Émilie/..., the resume's read of it (_earlier_rows, after every
    conversion) and read_augmented_manifest ended in a UnicodeDecodeError traceback. It is
    read in that encoding where it is this system's; else the resume writes it anew with one
    warning and read_augmented_manifest is a one-line error."""
    import locale

    from emovc.errors import EmovcError, EmovcWarning
    from emovc.pipelines.augment_outputs import (
        MANIFEST_HEADER,
        _earlier_rows,
        read_augmented_manifest,
    )

    out = tmp_path / "aug"
    out.mkdir()
    key = f"sad/{SPEAKER}/x.wav"
    row = {**dict.fromkeys(MANIFEST_HEADER, ""), "path": key, "synthetic": "1",
           "emotion": "sad", "sentence": SENTENCE, "source_emotion": "calm"}
    with open(out / "manifest.csv", "w", newline="", encoding="cp1252") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_HEADER)
        writer.writeheader()
        writer.writerow(row)
    monkeypatch.setattr(locale, "getpreferredencoding", lambda do_setlocale=True: "cp1252")
    assert _earlier_rows(out)[key]["source_emotion"] == "calm"
    got = read_augmented_manifest(out / "manifest.csv")[0]
    assert got["sentence"] == SENTENCE and Path(got["path"]).parts[-2:] == (SPEAKER, "x.wav")

    monkeypatch.setattr(locale, "getpreferredencoding", lambda do_setlocale=True: "UTF-8")
    with pytest.warns(EmovcWarning) as caught:
        assert _earlier_rows(out) == {}
    assert [str(w.message) for w in caught] == [
        f"the earlier {out / 'manifest.csv'} is not UTF-8 nor in this system's encoding, so it "
        "is written anew from this run's outputs: the outputs of targets not asked for this "
        "time are no longer listed (rerun with --to naming them too: their files are kept and "
        "listed again)"]
    with pytest.raises(EmovcError) as err:
        read_augmented_manifest(out / "manifest.csv")
    assert str(err.value) == (
        f"{out / 'manifest.csv'} is not UTF-8 nor in this system's encoding (written by an "
        "earlier emovc on another system?): emovc augment resumed into its folder writes it "
        "anew")


def test_a_manifest_in_the_systems_encoding_reads_and_another_is_one_line(tmp_path,
                                                                          monkeypatch):
    """Manifest.from_csv (emovc ser train OUT/manifest.csv) on a manifest an earlier emovc
    wrote in cp1252, or a spreadsheet saved so, ended in a UnicodeDecodeError traceback."""
    import locale

    from emovc.data.manifest import Manifest, Utterance
    from emovc.errors import EmovcError

    path = tmp_path / "m.csv"
    Manifest([Utterance(f"/c/{SPEAKER}/a.wav", "demo", SPEAKER, "F", "sad",
                        text=SENTENCE)]).to_csv(path)
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    monkeypatch.setattr(locale, "getpreferredencoding", lambda do_setlocale=True: "cp1252")
    (utt,) = Manifest.from_csv(path)
    assert (utt.speaker, utt.text) == (SPEAKER, SENTENCE)
    monkeypatch.setattr(locale, "getpreferredencoding", lambda do_setlocale=True: "UTF-8")
    with pytest.raises(EmovcError) as err:
        Manifest.from_csv(path)
    assert str(err.value) == (
        f"{path} is not UTF-8 nor in this system's encoding: save it as UTF-8 (an `emovc "
        "augment` manifest: emovc augment resumed into its folder writes it anew)")


@pytest.mark.parametrize(("encoding", "said"), [
    ("utf-16", "is UTF-16 text (its byte-order mark), not UTF-8"),
    ("utf-32", "is UTF-32 text (its byte-order mark), not UTF-8"),
    ("utf-16-le", "holds NUL bytes (UTF-16 or UTF-32 text?), not UTF-8")])
def test_a_utf16_manifest_is_an_encoding_error_not_a_missing_column(encoding, said, tmp_path,
                                                                    monkeypatch):
    """Review 42 L4: on Windows (cp1252) a spreadsheet's "Unicode" CSV decoded as cp1252
    into 'ÿþp\\x00a\\x00...', and emovc said "not an emovc manifest (missing column 'path')"."""
    import locale

    from emovc.data.manifest import Manifest, Utterance
    from emovc.errors import EmovcError

    path = tmp_path / "m.csv"
    Manifest([Utterance(f"/c/{SPEAKER}/a.wav", "demo", SPEAKER, "F", "sad",
                        text=SENTENCE)]).to_csv(path)
    path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))
    for system in ("cp1252", "UTF-8"):
        monkeypatch.setattr(locale, "getpreferredencoding",
                            lambda do_setlocale=True, system=system: system)
        with pytest.raises(EmovcError) as err:
            Manifest.from_csv(path)
        assert str(err.value) == (f"{path} {said}: save it as UTF-8 (an `emovc augment` "
                                  "manifest: emovc augment resumed into its folder writes it "
                                  "anew)")
