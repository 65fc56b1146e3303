"""benchmarks/_data.py: data and judge-cache roots, the one-line data check, limited subsets."""

import importlib.util
from collections import Counter
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


# (take, emotion) in the order bench_conversion.trials gives one speaker's pairs
PAIRS = [(take, emo) for take in range(8) for emo in ("hap", "sad", "ang", "fea", "dis", "sur")]


def _emotion(pair):
    return pair[1]


@pytest.mark.parametrize("n", [0, -1, 48, 100])
def test_stratified_without_a_real_limit_keeps_every_item_in_order(n):
    assert data.stratified(PAIRS, n, _emotion) == PAIRS


@pytest.mark.parametrize("n", [1, 2, 5, 6, 8, 12, 16, 24, 47])
def test_stratified_spreads_over_the_groups_then_the_takes(n):
    got = data.stratified(PAIRS, n, _emotion)
    assert len(got) == n == len(set(got))
    assert got == sorted(got, key=PAIRS.index)  # the items' own order
    counts = Counter(e for _, e in got)
    assert max(counts.values()) - min(counts.get(e, 0) for _, e in PAIRS[:6]) <= 1
    if n >= 6:
        assert len(counts) == 6
    if n == 6:  # one pair per emotion, not all from the same calm take
        assert len({t for t, _ in got}) == 6


def test_stratified_fills_up_from_the_larger_groups():
    items = [("a", 0)] + [("b", i) for i in range(5)]
    got = data.stratified(items, 4, lambda x: x[0])
    assert got[0] == ("a", 0) and len(got) == 4 and len(set(got)) == 4
