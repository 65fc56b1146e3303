"""A folder conversion resumes: a rerun converts only the missing outputs, keeps the others
(when their provenance tag shows this run's settings) and their conversions.csv rows."""

from __future__ import annotations

from emovc.audio import save_audio
from emovc.audio.io import read_comment
from emovc.pipelines.conversion import EmotionConverter


def test_the_provenance_tag_records_a_kept_input_level(stargan_run, calm, tmp_path):
    """--keep-level was not in the tag, so a rerun could not tell its outputs from those of
    the default level change."""
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    save_audio(tmp_path / "in.wav", calm)
    for keep in (False, True):
        out, used = conv.convert_file(tmp_path / "in.wav", tmp_path / f"{keep}.wav", "sad",
                                      source="calm", keep_level=keep)
        tag = read_comment(out)
        assert tag == conv.provenance_tag(used, "sad", keep_level=keep)
        assert tag.endswith(", input level kept)") == keep


def test_a_folder_command_rerun_resumes(stargan_run, calm, tmp_path, capsys):
    """`emovc convert FOLDER -o OUT` run again refused the whole job ('output file(s)
    exist'); it now converts only the missing outputs and leaves the others as they were."""
    from emovc.cli import main as cli_main

    if "emovc.cli.convert_cmds" not in cli_main.COMMAND_MODULES:
        cli_main.COMMAND_MODULES.append("emovc.cli.convert_cmds")
    for name in ("a.wav", "b.wav"):
        save_audio(tmp_path / "in" / name, calm)
    out = tmp_path / "out"
    args = ["convert", str(tmp_path / "in"), "--to", "sad", "--from", "calm", "--model",
            str(stargan_run), "-o", str(out)]
    assert cli_main.main(args) == 0
    before = (out / "a.wav").stat().st_mtime_ns
    (out / "b.wav").unlink()
    capsys.readouterr()
    assert cli_main.main(args) == 0
    said = capsys.readouterr().out
    assert "1 of 2 output(s) are there from an earlier run with these settings: kept" in said
    assert "b.wav" in said and (out / "b.wav").is_file()
    assert (out / "a.wav").stat().st_mtime_ns == before
    assert cli_main.main([*args, "--keep-level"]) == 2  # other settings: refused, named
    err = capsys.readouterr().err
    assert "a.wav (other settings)" in err and "a.wav was made calm->sad" in err
    assert "--force" in err
    assert cli_main.main(args) == 0  # everything there: the last line says so
    assert capsys.readouterr().out.splitlines()[-1] == (
        "converted 0 file(s) to sad (2 kept from an earlier run)")


def test_a_bad_setting_over_existing_outputs_is_a_config_error(stargan_run, calm, tmp_path):
    """The resume formatted the unchecked settings into the expected tag first, so
    intensity=2 or keep_level="yes" into a folder with outputs was reported as outputs made
    with other settings (OutputExistsError) instead of the ConfigError they get elsewhere."""
    import pytest

    from emovc.errors import ConfigError
    from emovc.pipelines.conversion_batch import convert_paths

    conv = EmotionConverter.from_pretrained(str(stargan_run))
    save_audio(tmp_path / "in" / "a.wav", calm)
    convert_paths(conv, tmp_path / "in", tmp_path / "out", "sad", source="calm")
    for bad in ({"intensity": 2}, {"keep_level": "yes"}, {"pitch_level": 5.0}):
        with pytest.raises(ConfigError):
            convert_paths(conv, tmp_path / "in", tmp_path / "out", "sad", source="calm", **bad)


def test_an_integer_intensity_resumes_the_float_ones_outputs(stargan_run, calm, tmp_path):
    """intensity=1 (an int) wrote "intensity 1" where the CLI writes "intensity 1.0", so
    their outputs refused each other on resume."""
    from emovc.pipelines.conversion_batch import convert_paths

    conv = EmotionConverter.from_pretrained(str(stargan_run))
    assert conv.provenance_tag("calm", "sad", intensity=1) == conv.provenance_tag(
        "calm", "sad", intensity=1.0)
    save_audio(tmp_path / "in" / "a.wav", calm)
    convert_paths(conv, tmp_path / "in", tmp_path / "out", "sad", source="calm", intensity=1.0)
    said: list[str] = []
    rows = convert_paths(conv, tmp_path / "in", tmp_path / "out", "sad", source="calm",
                         intensity=1, progress=said.append)
    assert rows == [] and "1 of 1 output(s) are there" in said[0]


def test_the_tag_names_the_model_canonically_with_its_checkpoint_digest(
        stargan_run, calm, tmp_path, monkeypatch):
    """The tag named the model as typed: 'default' and 'm2m-ravdess', or a relative and an
    absolute path, refused each other's outputs on resume, while another checkpoint at the
    same path passed. It now records the canonical name (a bundled model's, a file's resolved
    path) and a short SHA-256, and resume matches on the digest (on the name for old tags)."""
    import os

    import pytest
    import soundfile as sf

    from emovc.errors import OutputExistsError
    from emovc.pipelines.conversion import KIND_PREFIX, model_identity
    from emovc.pipelines.conversion_batch import convert_paths
    from emovc.pretrained.registry import available, resolve, sha256_of

    m2m = {m.name: m for m in available(KIND_PREFIX)}["m2m-ravdess"]
    assert model_identity(resolve("default", KIND_PREFIX)) == ("m2m-ravdess", m2m.sha256[:12])
    ckpt = resolve(str(stargan_run), KIND_PREFIX)
    assert model_identity(ckpt) == (os.path.realpath(ckpt), sha256_of(ckpt)[:12])

    save_audio(tmp_path / "in" / "a.wav", calm)
    out = tmp_path / "out"
    conv = EmotionConverter.from_pretrained(str(stargan_run))  # absolute
    convert_paths(conv, tmp_path / "in", out, "sad", source="calm")
    tag = read_comment(out / "a.wav")
    assert f"({os.path.realpath(ckpt)} sha256:{sha256_of(ckpt)[:12]}, intensity 1.0" in tag
    monkeypatch.chdir(stargan_run.parent)
    relative = EmotionConverter.from_pretrained(os.path.relpath(stargan_run))
    assert convert_paths(relative, tmp_path / "in", out, "sad", source="calm") == []

    wav, sr = sf.read(out / "a.wav", dtype="float32")
    other = tag.replace(f"sha256:{sha256_of(ckpt)[:12]}", "sha256:0123456789ab")
    save_audio(out / "a.wav", wav, sr, force=True, comment=other)  # another checkpoint
    with pytest.raises(OutputExistsError, match="sha256:0123456789ab"):
        convert_paths(relative, tmp_path / "in", out, "sad", source="calm")
    old = tag.replace(f"{os.path.realpath(ckpt)} sha256:{sha256_of(ckpt)[:12]}",
                      os.path.relpath(stargan_run))
    save_audio(out / "a.wav", wav, sr, force=True, comment=old)  # written before digests
    assert convert_paths(relative, tmp_path / "in", out, "sad", source="calm") == []
    with pytest.raises(OutputExistsError):  # an old tag is matched on the name, as before
        convert_paths(conv, tmp_path / "in", out, "sad", source="calm")
