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
    assert "a.wav (made calm->sad" in err and "--force" in err


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
