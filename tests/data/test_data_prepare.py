"""Feature preparation and cache: arrays, keys, resumability, atomicity, failures."""

from __future__ import annotations

import numpy as np
import pytest

import emovc.data.cache as cache_mod
from emovc.audio import save_audio
from emovc.data.cache import PreparedCorpus, cache_key, default_cache_dir, safe_name, write_npz
from emovc.data.prepare import (
    MelConfig,
    PreprocessConfig,
    parse_feature_sets,
    prepare_corpus,
    preprocess_waveform,
)
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import ConfigError, EmovcError
from emovc.features.world import WorldConfig

SR = 16000
NAMES = ["03-01-05-01-01-01-01", "03-01-04-01-01-01-01", "03-01-01-01-02-01-02"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A 3-clip RAVDESS-like tree (1.2 s synthetic clips) + one too-short + one silent clip."""
    root = tmp_path_factory.mktemp("ravdess")
    for i, name in enumerate(NAMES):
        actor = name[-2:]
        wav = synthesize(EMOTION_VOICES["neutral"], duration=1.2, sr=SR, seed=i)
        save_audio(root / f"Actor_{actor}/{name}.wav", wav, SR)
    save_audio(root / "Actor_01/03-01-05-02-02-02-01.wav",
               synthesize(duration=0.3, sr=SR, seed=7), SR)  # too short after trimming
    save_audio(root / "Actor_02/03-01-05-02-02-02-02.wav", np.zeros(SR, np.float32), SR)
    return root


@pytest.fixture(scope="module")
def prepared(corpus, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return prepare_corpus(corpus, cache_dir=cache, features="world,mel", workers=1,
                          progress=False)


def test_arrays_shapes_and_values(prepared):
    assert prepared.root.name == "ravdess" and len(prepared) == 3
    d = prepared.load("ravdess/01/03-01-05-01-01-01-01")
    start, end = d["trim"]
    # synthetic clips have 0.15 s of near-silence at each end; 50 ms padding is kept
    assert 0.05 * SR < start < 0.15 * SR and 1.05 * SR < end < 1.15 * SR
    cfg = WorldConfig()
    t = cfg.n_frames(end - start)
    assert d["f0"].shape == (t,) and d["mcep"].shape == (t, 36) and d["coded_ap"].shape == (t, 1)
    assert d["lf0"].shape == d["vuv"].shape == (t,) and d["vuv"].dtype == bool
    assert d["mcep"].dtype == np.float32
    voiced = d["f0"][d["vuv"]]
    assert voiced.size > t // 3 and 100 < np.median(voiced) < 145  # synthetic voice: 120 Hz
    np.testing.assert_allclose(d["lf0"][d["vuv"]], np.log(voiced), rtol=1e-5)
    assert d["mel"].shape == (80, 1 + (end - start) // 256)


def test_failures_are_reported_and_excluded(prepared):
    rep = prepared.report
    assert (rep.n_utterances, rep.n_computed, rep.n_cached, len(rep.failures)) == (5, 3, 0, 2)
    reasons = {u: r for u, _, r in rep.failures}
    assert "too short" in reasons["ravdess/01/03-01-05-02-02-02-01"]
    assert "ravdess/02/03-01-05-02-02-02-02" in reasons
    tsv = (prepared.root / "failures.tsv").read_text().splitlines()
    assert len(tsv) == 3 and tsv[0] == "utt_id\tpath\treason"
    assert len(PreparedCorpus.open(prepared.root.parent, "ravdess").manifest) == 3
    assert any("2 failed" in line for line in rep.summary())


def test_files_left_out_while_cataloguing_are_listed_in_failures_tsv(tmp_path):
    """The README says prepare lists the clips it could not use in failures.tsv; a file the
    catalogue left out (unreadable header, a song take) was only printed."""
    import csv

    root = tmp_path / "rav"
    save_audio(root / "Actor_01" / f"{NAMES[0]}.wav",
               synthesize(EMOTION_VOICES["neutral"], duration=1.2, sr=SR, seed=0), SR)
    (root / "Actor_01" / "03-01-02-01-01-01-01.wav").write_bytes(b"RIFF\x00\x01junk" * 8)
    save_audio(root / "Actor_01" / "03-02-03-01-01-01-01.wav",  # a song take
               synthesize(EMOTION_VOICES["happy"], duration=1.2, sr=SR, seed=1), SR)
    pc = prepare_corpus(root, cache_dir=tmp_path / "cache", features="world", workers=1,
                        progress=False)
    assert len(pc) == 1 and not pc.report.failures
    with open(pc.root / "failures.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in rows}
    assert set(by_name) == {"03-01-02-01-01-01-01.wav", "03-02-03-01-01-01-01.wav"}
    assert all(r["utt_id"] == "" for r in rows)
    assert "unreadable audio header" in by_name["03-01-02-01-01-01-01.wav"]["reason"]
    assert "song" in by_name["03-02-03-01-01-01-01.wav"]["reason"]


def test_reopen_without_recomputing(prepared):
    pc = PreparedCorpus.open(prepared.root.parent, "ravdess", "world")
    assert pc.feature_sets == ["world"] and len(pc) == 3
    a = pc.load(pc.manifest[0])
    b = prepared.load(pc.manifest[0])
    assert set(a) == {"f0", "mcep", "coded_ap", "lf0", "vuv", "trim", "source"}
    np.testing.assert_array_equal(a["mcep"], b["mcep"])
    assert pc.world_config() == WorldConfig()
    pc.check_config("world", WorldConfig().to_dict())
    with pytest.raises(ConfigError, match="frame_period"):
        pc.check_config("world", WorldConfig(frame_period=10.0).to_dict())
    assert pc.preprocess_config() == PreprocessConfig().to_dict()
    with pytest.raises(EmovcError, match="no valid cached"):
        pc.load("ravdess/01/03-01-05-02-02-02-01")  # the failed clip has no file


def test_resume_recomputes_only_missing_or_corrupt(corpus, prepared):
    world = prepared.dirs["world"]
    files = sorted(world.glob("*.npz"))
    files[0].unlink()
    files[1].write_bytes(files[1].read_bytes()[:100])  # truncated, like a copy cut short
    kept_mtime = files[2].stat().st_mtime_ns
    again = prepare_corpus(corpus, cache_dir=prepared.root.parent, features="world,mel",
                           workers=1, progress=False)
    assert (again.report.n_computed, again.report.n_cached) == (2, 1)
    assert files[2].stat().st_mtime_ns == kept_mtime
    assert again.load(again.manifest[1])["mcep"].shape[1] == 36
    forced = prepare_corpus(corpus, cache_dir=prepared.root.parent, features="mel", workers=1,
                            progress=False, force=True)
    assert forced.report.n_computed == 3


def test_another_corpus_with_the_same_ids_is_not_served_stale_features(tmp_path):
    """Two folders of one corpus type share a cache name and utterance ids; the second must
    be analysed from its own files, not take the first one's cached features."""
    cache = tmp_path / "cache"
    for k, seconds in enumerate((1.0, 2.0)):
        root = tmp_path / f"ravdess{k}"
        save_audio(root / f"Actor_01/{NAMES[0]}.wav",
                   synthesize(EMOTION_VOICES["neutral"], duration=seconds, sr=SR, seed=k), SR)
        pc = prepare_corpus(root, cache_dir=cache, features="world", workers=1,
                            progress=False)
        assert pc.report.n_computed == 1
        f0 = pc.load(pc.manifest[0])["f0"]
        assert abs(f0.shape[0] * 0.005 - seconds) < 0.3  # its own file's length


def test_settings_change_the_cache_key(corpus, prepared, monkeypatch):
    pp = PreprocessConfig().to_dict()
    base = cache_key("world", WorldConfig().to_dict(), pp)
    assert base == cache_key("world", WorldConfig().to_dict(), dict(pp))
    # equal settings written as ints or floats are one key (71 == 71.0)
    assert base == cache_key("world", WorldConfig(f0_floor=71, f0_ceil=800,
                                                   frame_period=5).to_dict(), pp)
    from emovc.training.feature_cache import config_hash

    assert config_hash(WorldConfig(f0_floor=71, frame_period=5)) == config_hash(WorldConfig())
    assert base != cache_key("world", WorldConfig(frame_period=10.0).to_dict(), pp)
    assert base != cache_key("world", WorldConfig().to_dict(),
                             PreprocessConfig(loudness_dbfs=-20.0).to_dict())
    monkeypatch.setattr(cache_mod, "CACHE_VERSION", cache_mod.CACHE_VERSION + 1)
    assert base != cache_key("world", WorldConfig().to_dict(), pp)
    monkeypatch.undo()
    other = prepare_corpus(corpus, cache_dir=prepared.root.parent, features="mel",
                           configs={"mel": MelConfig(n_mels=40)}, workers=1, progress=False)
    assert other.dirs["mel"] != prepared.dirs["mel"] and other.report.n_computed == 3
    assert other.load(other.manifest[0])["mel"].shape[0] == 40
    # two mel configurations now: open() picks the default one unless a key is given
    assert PreparedCorpus.open(prepared.root.parent, "ravdess", "mel").dirs == {
        "mel": prepared.dirs["mel"]}
    key = other.meta["mel"]["key"]
    assert PreparedCorpus.open(prepared.root.parent, "ravdess", "mel",
                               keys={"mel": key}).dirs["mel"] == other.dirs["mel"]


def test_open_errors(tmp_path):
    with pytest.raises(EmovcError, match="run `emovc prepare` first"):
        PreparedCorpus.open(tmp_path, "ravdess", "world")
    for key in ("k1", "k2"):  # two non-default configurations: ambiguous
        (tmp_path / "ravdess" / f"mel-{key}").mkdir(parents=True)
        (tmp_path / "ravdess" / f"mel-{key}" / "config.json").write_text("{}")
    with pytest.raises(EmovcError, match=r"several cached mel configurations .*\(k1, k2\)"):
        PreparedCorpus.open(tmp_path, "ravdess", "mel")


def test_parallel_matches_serial(corpus, prepared, tmp_path):
    par = prepare_corpus(corpus, cache_dir=tmp_path, features="world", workers=2,
                         progress=False)
    assert par.report.n_computed == 3 and len(par.report.failures) == 2
    for utt in par.manifest:
        np.testing.assert_array_equal(par.load(utt)["mcep"], prepared.load(utt)["mcep"])


def test_a_cached_corpus_starts_no_workers(corpus, tmp_path, monkeypatch):
    """Re-running over a cache that holds every clip reads it here: no worker processes
    (whose start took 10-14 s); only a missing clip is sent to them."""
    import shutil

    import emovc.data.prepare as prep

    good = tmp_path / "good"
    shutil.copytree(corpus, good)
    for bad in ("Actor_01/03-01-05-02-02-02-01.wav", "Actor_02/03-01-05-02-02-02-02.wav"):
        (good / bad).unlink()
    corpus = good
    prepare_corpus(corpus, cache_dir=tmp_path, features="world", workers=1, progress=False)
    started = []
    real = prep.ProcessPoolExecutor

    def pool(n, **kw):
        started.append(n)
        return real(n, **kw)

    monkeypatch.setattr(prep, "ProcessPoolExecutor", pool)
    again = prepare_corpus(corpus, cache_dir=tmp_path, features="world", workers=2,
                           progress=False)
    assert started == [] and again.report.n_cached == 3
    assert "all read from the cache" in again.report.summary()[0]
    next(iter(again.dirs["world"].glob("*.npz"))).unlink()
    third = prepare_corpus(corpus, cache_dir=tmp_path, features="world", workers=2,
                           progress=False)
    assert started == [1] and (third.report.n_computed, third.report.n_cached) == (1, 2)
    assert third.report.summary()[0].endswith(", 1 worker)")  # the one that ran


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    def crash(f, **arrays):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt  # e.g. Ctrl-C mid-write

    monkeypatch.setattr(cache_mod.np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        write_npz(tmp_path / "x.npz", {"a": np.zeros(3)})
    assert list(tmp_path.iterdir()) == []


def test_bad_input_writes_nothing(tmp_path):
    cache = tmp_path / "cache"
    (tmp_path / "empty").mkdir()
    (tmp_path / "odd").mkdir()
    save_audio(tmp_path / "odd/take.wav", synthesize(duration=0.3, seed=0), SR)
    for root, msg in ((tmp_path / "missing", "not found"), (tmp_path / "empty", "no audio"),
                      (tmp_path / "odd", "unknown corpus layout")):
        with pytest.raises(EmovcError, match=msg):
            prepare_corpus(root, cache_dir=cache, workers=1, progress=False)
    assert not cache.exists()
    with pytest.raises(EmovcError, match="unknown feature set 'mfcc'"):
        parse_feature_sets("world,mfcc")
    assert parse_feature_sets(" mel, world,mel ") == ["mel", "world"]


def test_preprocess_normalises_and_trims():
    quiet = 0.01 * synthesize(duration=1.0, seed=2)  # peaks at -46 dBFS
    silence = np.zeros(SR, np.float32)
    out, (start, end) = preprocess_waveform(np.concatenate([silence, quiet, silence]))
    pad = int(0.05 * SR)  # trim_pad_ms; trimming works on 128-sample hops
    assert abs(start - (SR - pad)) <= 128 and abs(end - (2 * SR + pad)) <= 128
    assert end - start == len(out)
    from emovc.audio.processing import active_rms_dbfs

    assert active_rms_dbfs(out, SR) == pytest.approx(-23.0, abs=0.5)


def test_non_finite_samples_are_named_not_called_too_short(tmp_path):
    """A 4 s clip with a few NaN (or one Inf) samples failed as "too short: 0.05 s"."""
    import soundfile as sf

    wav = synthesize(duration=4.0, seed=3)
    (tmp_path / "sad").mkdir()
    for bad in (np.nan, np.inf):
        x = wav.copy()
        x[1000:1010] = bad
        with pytest.raises(EmovcError, match=r"^clip contains NaN or Inf samples$"):
            preprocess_waveform(x, name="clip")
        sf.write(tmp_path / f"sad/{bad}.wav", x, SR, subtype="FLOAT")
    save_audio(tmp_path / "sad/good.wav", wav, SR)
    rep = prepare_corpus(tmp_path, "folders", cache_dir=tmp_path / "c", features="mel",
                         workers=1, progress=False).report
    assert rep.n_computed == 1
    assert sorted(r for _, _, r in rep.failures) == [
        f"{tmp_path / 'sad' / b}.wav contains NaN or Inf samples" for b in ("inf", "nan")]


def test_default_cache_dir_and_safe_names(monkeypatch, tmp_path):
    monkeypatch.setenv("EMOVC_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("EMOVC_CACHE")
    assert default_cache_dir().parts[-2:] == (".cache", "emovc")
    assert safe_name("ravdess/01/03-01") == "ravdess__01__03-01"
    a, b = safe_name("folders/x y/angry/1"), safe_name("folders/x_y/angry/1")
    assert a != b and " " not in a


def test_partial_runs_merge_into_one_manifest(corpus, tmp_path):
    from emovc.data.catalogs import scan_corpus
    from emovc.data.prepare import prepare_manifest

    m, _ = scan_corpus(corpus)
    good = m.filter(where=lambda u: u.duration > 1.0)
    for part in (good[:1], good[1:]):
        prepare_manifest(part, cache_dir=tmp_path, features="mel", workers=1, progress=False)
    reopened = PreparedCorpus.open(tmp_path, "ravdess", "mel")
    assert [u.utt_id for u in reopened.manifest] == [u.utt_id for u in good]


def test_two_folders_of_one_corpus_get_their_own_cache(tmp_path):
    """A second corpus folder of the same kind (or name) gets its own cache folder, so its
    prepared manifest lists its own clips only; the first folder keeps its name."""
    cache = tmp_path / "cache"
    roots = [tmp_path / k / "ravdess16k" for k in ("a", "b")]
    for k, root in enumerate(roots):
        save_audio(root / f"Actor_0{k + 1}/{NAMES[0][:-2]}0{k + 1}.wav",
                   synthesize(EMOTION_VOICES["neutral"], duration=1.0, sr=SR, seed=k), SR)
    first, second = (prepare_corpus(r, cache_dir=cache, features="world", workers=1,
                                    progress=False) for r in roots)
    again = prepare_corpus(roots[0], cache_dir=cache, features="world", workers=1,
                           progress=False)
    assert first.report.name == again.report.name == "ravdess"
    assert second.report.name.startswith("ravdess-") and second.root != first.root
    assert [u.speaker for u in second.manifest] == ["02"]
    assert [u.speaker for u in again.manifest] == ["01"] and again.report.n_cached == 1


def test_a_script_without_a_main_guard_gets_one_line(corpus, tmp_path):
    """Spawned workers import the calling script again; without `if __name__ ==
    "__main__":` every worker fails. The error says so instead of BrokenProcessPool."""
    import subprocess
    import sys

    script = tmp_path / "prep.py"
    script.write_text("from emovc.data.prepare import prepare_corpus\n"
                      f"prepare_corpus({str(corpus)!r}, cache_dir={str(tmp_path / 'c')!r}, "
                      "features='world', workers=2, progress=False)\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300, check=False)
    last = out.stderr.strip().splitlines()[-1]
    assert out.returncode == 1 and last.startswith("emovc.errors.EmovcError: a worker process")
    assert "__main__" in last and "workers=1" in last
