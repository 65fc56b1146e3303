"""benchmarks/_data.py: data and judge-cache roots and the one-line data check."""

import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load_helper():
    # the benchmarks are scripts, not a package: load the helper module by its path
    spec = importlib.util.spec_from_file_location("benchmarks_data", BENCHMARKS / "_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


data = _load_helper()


def test_roots_default_to_shared_and_the_repo_cache(monkeypatch):
    monkeypatch.delenv("EMOVC_DATA", raising=False)
    monkeypatch.delenv("EMOVC_JUDGE_CACHE", raising=False)
    repo = BENCHMARKS.parent
    assert data.data_root() == repo.parent / "shared" / "data"
    assert data.data_dir("ravdess16k") == repo.parent / "shared" / "data" / "ravdess16k"
    assert data.judge_cache() == repo / ".cache" / "judge"


def test_environment_moves_the_roots(monkeypatch, tmp_path):
    monkeypatch.setenv("EMOVC_DATA", str(tmp_path / "d"))
    monkeypatch.setenv("EMOVC_JUDGE_CACHE", str(tmp_path / "j"))
    assert data.data_dir("vctk4") == tmp_path / "d" / "vctk4"
    assert data.judge_cache() == tmp_path / "j"


def test_missing_names_an_absent_folder_or_one_without_audio(monkeypatch, tmp_path):
    monkeypatch.setenv("EMOVC_DATA", str(tmp_path))
    assert data.missing(tmp_path / "ravdess16k") == (
        f"{tmp_path / 'ravdess16k'} not found (EMOVC_DATA sets the data root)")
    other = tmp_path.parent / "not-a-data-folder"  # given explicitly (--data): no hint
    assert data.missing(other) == f"{other} not found"
    folder = tmp_path / "ravdess16k"
    (folder / "Actor_01").mkdir(parents=True)
    (folder / "Actor_01" / "notes.txt").write_text("no audio")
    assert data.missing(folder) == f"no audio files under {folder}"
    (folder / "loose.flac").write_bytes(b"")
    assert data.missing(folder) is None
    assert data.missing(folder, "Actor_*/*.flac") == f"no Actor_*/*.flac files under {folder}"
    (folder / "Actor_01" / "03-01-02-01-01-01-01.flac").write_bytes(b"")
    assert data.missing(folder, "Actor_*/*.flac") is None


def test_require_exits_with_the_line(tmp_path):
    with pytest.raises(SystemExit) as exc:
        data.require(tmp_path, pattern="*.wav")
    assert exc.value.code == f"no *.wav files under {tmp_path}"

