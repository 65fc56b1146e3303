"""``conversions.csv``: one reader, writer and merge for convert, evaluate and the app."""

from __future__ import annotations

import locale

import pytest

from emovc.evaluation.manifest import EvalItem, read_manifest, write_manifest
from emovc.pipelines.run_table import (
    COLUMNS,
    NotATableError,
    merge_rows,
    read_table,
    write_table,
)


def test_a_spreadsheet_table_reads_with_every_column(tmp_path):
    """A BOM, padded column names and missing optional columns, as a spreadsheet saves it."""
    path = tmp_path / "conversions.csv"
    path.write_bytes(b"\xef\xbb\xbf source , converted,target_emotion,extra\r\n"
                     b"a.wav,b.wav,sad,x\r\n")
    assert read_table(path) == [{"source": "a.wav", "converted": "b.wav",
                                 "target_emotion": "sad", "source_emotion": "",
                                 "reference": "", "text": ""}]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is empty; a manifest needs a header"),
    (b"\xff\xfe\x00\x01", "not a CSV manifest"),
    (b"source;converted;target_emotion\n", "separated by ';'"),
])
def test_what_is_not_a_table_says_why(tmp_path, content, message):
    path = tmp_path / "conversions.csv"
    path.write_bytes(content)
    with pytest.raises(NotATableError, match=message):
        read_table(path)


def test_a_table_in_the_systems_encoding_reads_and_another_is_one_line(tmp_path, monkeypatch):
    """An earlier emovc wrote conversions.csv in the locale's encoding (cp1252 on Windows), as
    a spreadsheet's plain CSV export does: with an accented file name, evaluate, convert's
    merge and the app refused it as "not UTF-8 text" while manifest.csv read. It is read in
    the system's encoding; a table in neither encoding stays a one-line error."""
    run = tmp_path / "run"
    run.mkdir()
    table = run / "conversions.csv"
    table.write_bytes("source,converted,target_emotion,text\r\n"
                      "Émilie.wav,Émilie_sad.wav,sad,déjà vu\r\n".encode("cp1252"))
    monkeypatch.setattr(locale, "getpreferredencoding", lambda do_setlocale=True: "cp1252")
    (row,) = read_table(table)
    assert (row["source"], row["converted"], row["text"]) == ("Émilie.wav", "Émilie_sad.wav",
                                                              "déjà vu")
    (item,) = read_manifest(run, check_files=False)  # emovc evaluate RUN and the app's upload
    assert (item.converted, item.text) == (str(run / "Émilie_sad.wav"), "déjà vu")

    monkeypatch.setattr(locale, "getpreferredencoding", lambda do_setlocale=True: "UTF-8")
    with pytest.raises(NotATableError) as err:
        read_table(table)
    assert str(err.value) == (
        f"{table} is not a CSV manifest: it is not UTF-8 nor in this system's encoding; give "
        "a run folder or its conversions.csv, saved as UTF-8")


@pytest.mark.parametrize(("encoding", "said"), [
    ("utf-16", "is UTF-16 text (its byte-order mark), not UTF-8"),
    ("utf-32", "is UTF-32 text (its byte-order mark), not UTF-8"),
    ("utf-16-le", "holds NUL bytes (UTF-16 or UTF-32 text?), not UTF-8"),
])
def test_a_wide_table_is_named_for_its_encoding(tmp_path, encoding, said):
    """Review 42b L1: a spreadsheet's "Unicode text" table (UTF-16) given to evaluate or
    listen got the generic "not UTF-8 text nor in this system's encoding", not its encoding,
    which manifests and augment's tables already name."""
    table = tmp_path / "conversions.csv"
    table.write_bytes("source,converted,target_emotion\r\na.wav,b.wav,sad\r\n"
                      .encode(encoding))
    with pytest.raises(NotATableError) as err:
        read_table(table)
    assert str(err.value) == (f"{table} is not a CSV manifest: it {said}; give a run folder "
                              "or its conversions.csv, saved as UTF-8")


def test_the_writers_write_one_format(tmp_path):
    """`emovc convert`'s table and evaluate's write_manifest had their own column lists in
    different orders; both now write COLUMNS, and what one writes the other reads."""
    item = EvalItem("0000", str(tmp_path / "s.wav"), str(tmp_path / "c.wav"), "angry",
                    text="hi", source_emotion="calm")
    write_manifest(tmp_path / "m.csv", [item])
    header = (tmp_path / "m.csv").read_text().splitlines()[0]
    assert header == ",".join(COLUMNS)
    rows = read_table(tmp_path / "m.csv")
    write_table(tmp_path / "t.csv", rows)
    assert (tmp_path / "t.csv").read_text() == (tmp_path / "m.csv").read_text()
    (again,) = read_manifest(tmp_path / "t.csv", check_files=False)
    assert again == item


def test_merge_keeps_earlier_rows_whose_files_are_there(tmp_path):
    (tmp_path / "old.wav").write_bytes(b"x")
    (tmp_path / "redone.wav").write_bytes(b"x")
    earlier = [{"converted": "old.wav"}, {"converted": "redone.wav"}, {"converted": "gone.wav"}]
    ours = [{"converted": "redone.wav", "target_emotion": "sad"}]
    rows, note = merge_rows(tmp_path, earlier, ours)
    assert rows == [{"converted": "old.wav"}, ours[0]]
    assert "1 earlier row(s) kept" in note and "1 earlier row(s) replaced" in note
    assert "1 earlier row(s) dropped" in note and "gone.wav" in note
    assert merge_rows(tmp_path, None, ours) == (ours, "")
