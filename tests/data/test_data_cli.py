"""``emovc catalog`` / ``emovc prepare`` through the real CLI entry point."""

from __future__ import annotations

import pytest
import typer

import emovc.cli.main as cli_main
from emovc.audio import save_audio
from emovc.data.manifest import Manifest
from emovc.data.synthetic import synthesize


@pytest.fixture
def run(monkeypatch, capsys):
    """Run ``emovc <args>`` with only the data commands registered; returns (rc, out, err)."""
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ["emovc.cli.data_cmds"])
    monkeypatch.setattr(cli_main, "app", typer.Typer(add_completion=False,
                                                      pretty_exceptions_enable=False))

    def _run(*args: str):
        rc = cli_main.main([str(a) for a in args])
        out = capsys.readouterr()
        return rc, out.out, out.err

    return _run


@pytest.fixture
def tree(tmp_path):
    wav = synthesize(duration=1.0, seed=0)
    for name in ("Actor_01/03-01-05-01-01-01-01.wav", "Actor_02/03-01-04-02-01-01-02.wav"):
        save_audio(tmp_path / "corpus" / name, wav, 16000)
    return tmp_path / "corpus"


def test_catalog_prints_counts_and_writes_manifest(run, tree, tmp_path):
    rc, out, _ = run("catalog", tree, "-o", tmp_path / "m.csv")
    assert rc == 0
    assert "ravdess: 2 utterances, 2 speakers (1 F, 1 M, 0 ?)" in out
    assert [u.utt_id for u in Manifest.from_csv(tmp_path / "m.csv")] == [
        "ravdess/01/03-01-05-01-01-01-01", "ravdess/02/03-01-04-02-01-01-02"]
    rc, _, err = run("catalog", tree, "-o", tmp_path / "m.csv")
    assert rc == 2 and "output exists" in err


def test_prepare_writes_cache(run, tree, tmp_path):
    rc, out, err = run("prepare", tree, "--cache-dir", tmp_path / "c", "--features", "mel",
                       "--workers", "1", "-q")
    assert rc == 0, err
    assert "2 computed" in out and "mel: " in out
    assert len(list((tmp_path / "c/ravdess").glob("mel-*/*.npz"))) == 2


@pytest.mark.parametrize("args, msg", [
    (("catalog", "{tmp}/missing"), "corpus folder not found"),
    (("catalog", "{tmp}/empty"), "no audio files"),
    (("prepare", "{tmp}/empty", "--cache-dir", "{tmp}/c"), "no audio files"),
    (("prepare", "{tree}", "--corpus", "emodb", "--cache-dir", "{tmp}/c"), "unknown corpus"),
    (("prepare", "{tree}", "--features", "mfcc", "--cache-dir", "{tmp}/c"), "feature set"),
])
def test_bad_input_is_one_line_and_writes_nothing(run, tree, tmp_path, args, msg):
    (tmp_path / "empty").mkdir()
    argv = [a.format(tmp=tmp_path, tree=tree) for a in args]
    rc, out, err = run(*argv)
    assert rc == 2 and err.startswith("emovc: error: ") and msg in err
    assert err.count("\n") == 1
    assert not (tmp_path / "c").exists()


def test_catalog_never_writes_over_a_corpus_file(run, tree, tmp_path):
    """-o naming one of the catalogued clips is refused even with --force (it turned the FLAC
    into CSV text), and a name not ending in .csv is refused (it wrote CSV into out.npy)."""
    clip = tree / "Actor_01/03-01-05-01-01-01-01.wav"
    before = clip.read_bytes()
    for extra in ((), ("--force",)):
        rc, _, err = run("catalog", tree, "-o", clip, *extra)
        assert rc == 2 and "would overwrite the input" in err and err.count("\n") == 1
    assert clip.read_bytes() == before
    rc, _, err = run("catalog", tree, "-o", tmp_path / "out.npy")
    assert rc == 2 and "valid extensions: .csv" in err and err.count("\n") == 1
    assert not (tmp_path / "out.npy").exists()
    rc, _, err = run("catalog", tree, "-o", tree / "Actor_01/new.flac")  # audio name, in corpus
    assert rc == 2 and ".csv" in err and not (tree / "Actor_01/new.flac").exists()
    rc, _, err = run("catalog", tree, "-o", tree / "manifest.csv")  # a .csv beside them: fine
    assert rc == 0, err


def test_manifest_to_csv_refuses_its_own_audio(tree, tmp_path):
    """Also through a link to its folder (only the absolute paths were compared)."""
    from pathlib import Path

    from emovc.data.catalogs import catalog_corpus
    from emovc.errors import ConfigError

    m = catalog_corpus(tree)
    with pytest.raises(ConfigError, match="would overwrite the input"):
        m.to_csv(m[0].path, force=True)
    (tmp_path / "link").symlink_to(Path(m[0].path).parent)
    before = Path(m[0].path).read_bytes()
    with pytest.raises(ConfigError, match="would overwrite the input"):
        m.to_csv(tmp_path / "link" / Path(m[0].path).name, force=True)
    assert Path(m[0].path).read_bytes() == before


def test_a_file_as_cache_dir_is_named(run, tree, tmp_path):
    """It failed as "not a directory: ravdess.csv/ravdess/world-b95e848f74"."""
    (tmp_path / "ravdess.csv").write_text("x")
    rc, _, err = run("prepare", tree, "--cache-dir", tmp_path / "ravdess.csv", "-q", "-j", "1")
    assert rc == 2 and err == (f"emovc: error: --cache-dir {tmp_path / 'ravdess.csv'} is a "
                               "file; give a folder\n")
    from emovc.data.prepare import prepare_corpus
    from emovc.errors import EmovcError

    with pytest.raises(EmovcError, match=r"^cache dir .*ravdess\.csv is a file; give a folder$"):
        prepare_corpus(tree, cache_dir=tmp_path / "ravdess.csv", workers=1, progress=False)
