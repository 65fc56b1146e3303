"""Known-answer tests of MCD, F0 metrics and the FastDTW alignment."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from fastdtw import fastdtw

from emovc.data.synthetic import SyntheticVoice, synthesize
from emovc.evaluation.alignment import dtw_path
from emovc.evaluation.analysis import MetricConfig, analyze_utterance
from emovc.evaluation.f0_metrics import (
    duration_ratio,
    f0_correlation,
    f0_rmse_cents,
    f0_scores,
    vuv_error_rate,
)
from emovc.evaluation.mcd import MCD_SCALE, align, frame_mcd, mel_cepstral_distortion


@pytest.fixture(scope="module")
def voice():
    return analyze_utterance(synthesize(SyntheticVoice(), duration=1.5, seed=3))


def test_identical_signals_give_zero_distances(voice):
    path = align(voice, voice)
    assert np.array_equal(path[:, 0], path[:, 1])  # the diagonal
    assert mel_cepstral_distortion(voice.mcep, voice.mcep, path) == 0.0
    s = f0_scores(voice.f0, voice.f0, path)
    assert s.f0_rmse_cents == 0.0 and s.vuv_error == 0.0
    assert s.f0_corr == pytest.approx(1.0)
    assert voice.mcep.shape[1] == 24  # 25 coded coefficients minus c0


def test_pitch_shift_of_100_cents_is_measured():
    # a fully voiced, breathy variant keeps DIO's rare octave errors (which RMSE rightly
    # punishes) out of the way; the median pins the shift itself
    voice = SyntheticVoice(unvoiced_ratio=0.0, tilt=0.9)
    rmse = []
    for seed in range(3):
        a = analyze_utterance(synthesize(voice, duration=1.5, seed=seed))
        b = analyze_utterance(synthesize(voice.with_(f0_mean=120.0 * 2 ** (100 / 1200)),
                                         duration=1.5, seed=seed))
        path = align(a, b)
        s = f0_scores(a.f0, b.f0, path)
        fa, fb = a.f0[path[:, 0]], b.f0[path[:, 1]]
        both = (fa > 0) & (fb > 0)
        assert np.median(1200 * np.log2(fb[both] / fa[both])) == pytest.approx(100.0, abs=3.0)
        assert s.f0_corr > 0.6  # same contour shape (octave-error frames lower it)
        rmse.append(s.f0_rmse_cents)
    assert np.mean(rmse) == pytest.approx(100.0, abs=10.0)


def test_mcd_grows_with_spectral_difference(voice):
    near = analyze_utterance(synthesize(SyntheticVoice(tilt=0.75), duration=1.5, seed=3))
    far = analyze_utterance(synthesize(SyntheticVoice(formant_scale=1.3, tilt=0.4),
                                       duration=1.5, seed=3))
    d_near = mel_cepstral_distortion(voice.mcep, near.mcep)
    d_far = mel_cepstral_distortion(voice.mcep, far.mcep)
    assert 0.0 < d_near < d_far


def test_frame_mcd_formula():
    a, b = np.zeros((3, 24)), np.ones((3, 24))
    path = np.array([[0, 0], [1, 1], [2, 2]])
    expected = 10 / np.log(10) * np.sqrt(2 * 24)
    assert np.allclose(frame_mcd(a, b, path), expected)
    assert MCD_SCALE == pytest.approx(10 / np.log(10) * np.sqrt(2))


def test_f0_metric_known_answers():
    f0_a = np.array([100.0] * 20 + [0.0] * 10)
    f0_b = np.array([200.0] * 20 + [0.0] * 5 + [150.0] * 5)
    path = np.stack([np.arange(30), np.arange(30)], axis=1)
    assert f0_rmse_cents(f0_a, f0_b, path) == pytest.approx(1200.0)
    assert vuv_error_rate(f0_a, f0_b, path) == pytest.approx(5 / 30)
    assert np.isnan(f0_correlation(f0_a, f0_b, path))  # constant F0: undefined
    ramp = np.linspace(100, 200, 30)
    assert f0_correlation(ramp, 2 * ramp, path) == pytest.approx(1.0)
    assert np.isnan(f0_rmse_cents(np.zeros(30), f0_b, path))  # nothing voiced in both
    assert duration_ratio(3.0, 2.0) == 1.5


def test_dtw_matches_fastdtw_reference():
    rng = np.random.default_rng(0)
    for _ in range(10):
        a = np.cumsum(rng.standard_normal((rng.integers(5, 90), 3)), axis=0)
        b = np.cumsum(rng.standard_normal((rng.integers(5, 90), 3)), axis=0)
        _, ref = fastdtw(a, b, radius=1, dist=2)
        assert [tuple(p) for p in dtw_path(a, b).tolist()] == ref


def test_dtw_matches_fastdtw_reference_at_other_radii_and_lengths():
    rng = np.random.default_rng(1)
    for radius in (2, 3):
        for _ in range(6):
            a = np.cumsum(rng.standard_normal((rng.integers(2, 300), 2)), axis=0)
            b = np.cumsum(rng.standard_normal((rng.integers(2, 300), 2)), axis=0)
            _, ref = fastdtw(a, b, radius=radius, dist=2)
            assert [tuple(p) for p in dtw_path(a, b, radius=radius).tolist()] == ref


def test_dtw_memory_grows_with_the_window_not_the_grid():
    """2.5 min against 2.5 min of frames under a 2 GiB address-space allowance: a full
    (n+1) x (n+1) table would need 8 GB (MemoryError); the band needs megabytes."""
    code = (
        "import resource, numpy as np\n"
        "from emovc.evaluation.alignment import dtw_path\n"
        "dtw_path(np.zeros((50, 2)), np.zeros((40, 2)))\n"
        "x = np.cumsum(np.random.default_rng(0).standard_normal((30000, 4)), axis=0)\n"
        "used = int(open('/proc/self/statm').read().split()[0]) * resource.getpagesize()\n"
        "resource.setrlimit(resource.RLIMIT_AS, (used + 2 * 2**30, "
        "resource.getrlimit(resource.RLIMIT_AS)[1]))\n"
        "p = dtw_path(x, x[::-1].copy())\n"
        "print(p[0].tolist(), p[-1].tolist())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr[-300:]
    assert out.stdout.split("\n")[0] == "[0, 0] [29999, 29999]"


def test_dtw_recovers_a_time_stretch():
    x = np.sin(np.linspace(0, 6, 100))[:, None]
    y = np.repeat(x, 2, axis=0)  # every frame twice
    path = dtw_path(x, y)
    assert path[0].tolist() == [0, 0] and path[-1].tolist() == [99, 199]
    assert np.all(np.abs(path[:, 1] // 2 - path[:, 0]) <= 1)


def test_outputs_and_references_at_different_rates_are_noted(tmp_path):
    """Resampling band-limits one file of such a pair, which inflates MCD: say so."""
    import soundfile as sf

    from emovc.evaluation.analysis import MetricConfig
    from emovc.evaluation.file_analysis import run_stage1
    from emovc.evaluation.runner import rate_mismatch_notes

    tone = np.sin(np.arange(16000) * 0.05).astype(np.float32)
    for name, sr in (("out.wav", 16000), ("ref16.wav", 16000), ("ref48.wav", 48000)):
        sf.write(tmp_path / name, np.resize(tone, sr), sr)
    # the files' own rates come from the analysis stage, which reads every file once
    files = run_stage1([(str(tmp_path / n), "") for n in ("out.wav", "ref16.wav", "ref48.wav")],
                       MetricConfig(), None, None, workers=1)
    row = {"audio": str(tmp_path / "out.wav"), "system": "converted", "error": ""}
    same = [{**row, "reference": str(tmp_path / "ref16.wav")}]
    assert rate_mismatch_notes(same, files, 16000) == []
    odd = same + [{**row, "reference": str(tmp_path / "ref48.wav")}]
    (note,) = rate_mismatch_notes(odd, files, 16000)
    assert note.startswith("1 of 2 output/reference pairs were stored at different sample rates")
    assert "48000 Hz" in note and "MCD" in note


def test_means_over_fewer_items_than_n_are_noted():
    from emovc.evaluation.aggregate import aggregate, coverage_notes

    rows = [{"system": "converted", "target_emotion": "angry", "mcd_db": v}
            for v in (8.0, 9.0, float("nan"))]
    overall, _ = aggregate(rows, ["converted"])
    assert (overall["converted"]["n"], overall["converted"]["mcd_db_n"]) == (3, 2)
    assert overall["converted"]["mcd_db"] == 8.5
    assert coverage_notes(overall) == [
        "converted: means over fewer than its 3 items: MCD over 2 (the others have no usable "
        "reference, no frame voiced in both, too little speech in both, or no speaker "
        "embedding)"]
    assert coverage_notes(aggregate(rows[:2], ["converted"])[0]) == []


def test_outputs_that_cannot_be_analysed_or_judged_count_as_misses():
    """A system that fails (silence) on hard items must not get a better emotion rate."""
    from emovc.evaluation.aggregate import aggregate, coverage_notes
    from emovc.evaluation.emotion import UNJUDGED

    ok = {"system": "converted", "target_emotion": "angry", "mcd_db": 8.0,
          "emotion_pred": "angry", "emotion_hit": True, "error": ""}
    silent = {**ok, "mcd_db": float("nan"), "emotion_pred": UNJUDGED, "emotion_hit": False,
              "error": "silent"}
    rejected = {**ok, "emotion_pred": UNJUDGED, "emotion_hit": False}
    overall, _ = aggregate([ok, silent, rejected], ["converted"])
    o = overall["converted"]
    assert o["emotion_rate"] == pytest.approx(1 / 3)
    assert (o["n_judged"], o["n_unjudged"], o["n_failed"]) == (1, 2, 1)
    notes = coverage_notes(overall)
    assert notes[0].startswith("converted: 1 of 3 outputs could not be analysed")
    assert "count as emotion misses" in notes[0]
    assert notes[1] == ("converted: the emotion judge could not score 1 analysed output(s); "
                        "they count as misses")
    assert len(notes) == 2  # MCD covers every analysable item


def test_trimmed_analysis_knows_where_it_starts():
    """With trim_db the features start after the leading silence; start_s says where, so
    plots of the whole file put the F0 contour over the speech."""
    from emovc.audio.processing import trim_silence
    from emovc.errors import ConfigError

    sr = 16000
    speech = synthesize(SyntheticVoice(), duration=1.5, seed=3)
    wav = np.concatenate([np.zeros(sr, np.float32), speech, np.zeros(sr // 2, np.float32)])
    cfg = MetricConfig(trim_db=35)
    feats = analyze_utterance(wav, cfg)
    same = analyze_utterance(trim_silence(wav, sr, top_db=35, pad_ms=50.0), MetricConfig())
    np.testing.assert_array_equal(feats.f0, same.f0)
    assert 0.9 <= feats.start_s <= 1.3 and analyze_utterance(wav).start_s == 0.0
    for bad in (-10, 0, 500):
        with pytest.raises(ConfigError, match="trim_db must be in"):
            MetricConfig(trim_db=bad)


def test_dtw_radius_is_checked():
    from emovc.errors import ConfigError

    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="radius must be a whole number"):
            dtw_path(np.zeros((5, 2)), np.zeros((6, 2)), radius=bad)
        with pytest.raises(ConfigError, match="dtw_radius must be a whole number"):
            MetricConfig(dtw_radius=bad)


def test_warnings_of_worker_processes_reach_the_caller(tmp_path, speech):
    """A damaged file read by an evaluation worker warns in the calling process (where the
    command line shows it as one line and a Python caller can catch it), not in the worker."""
    import soundfile as sf

    from emovc.errors import EmovcWarning
    from emovc.evaluation.analysis import MetricConfig
    from emovc.evaluation.file_analysis import run_stage1

    sf.write(tmp_path / "whole.flac", np.tile(speech, 2), 16000)
    data = (tmp_path / "whole.flac").read_bytes()
    (tmp_path / "cut.flac").write_bytes(data[: len(data) * 6 // 10])
    for i in range(3):
        sf.write(tmp_path / f"ok{i}.wav", speech, 16000)
    tasks = [(str(tmp_path / n), "") for n in ("cut.flac", "ok0.wav", "ok1.wav", "ok2.wav")]
    with pytest.warns(EmovcWarning, match=r"cut.flac is damaged or truncated"):
        files = run_stage1(tasks, MetricConfig(), None, None, workers=2)
    assert not files[str(tmp_path / "cut.flac")].error


def test_per_emotion_bars_clip_intervals_and_show_n(monkeypatch):
    """A t-interval over 2 utterances reached MCD < 0 and similarity > 1: whiskers stay in
    each metric's range, there is none over 1 utterance, and each bar shows its n."""
    from emovc.evaluation import plots

    rows = [
        {"system": "converted", "target_emotion": "angry", "n": 2, "mcd_db": 3.0,
         "mcd_db_ci95": 7.0, "mcd_db_n": 2, "spk_sim_source": 0.8,
         "spk_sim_source_ci95": 0.6, "spk_sim_source_n": 2},
        {"system": "converted", "target_emotion": "sad", "n": 1, "mcd_db": 5.0,
         "mcd_db_ci95": float("nan"), "mcd_db_n": 1, "spk_sim_source": 0.7,
         "spk_sim_source_ci95": float("nan"), "spk_sim_source_n": 1},
    ]
    figs = []
    monkeypatch.setattr(plots, "to_png_base64", lambda fig, dpi=80: figs.append(fig) or "x")
    plots.per_emotion_bars(rows, ["converted"], {}, [("mcd_db", "MCD"),
                                                      ("spk_sim_source", "similarity")])
    (mcd_ax, sim_ax) = figs[0].axes[:2]
    for ax, (lo, hi) in ((mcd_ax, (0.0, 10.0)), (sim_ax, (0.2, 1.0))):
        segments = [seg for c in ax.collections for seg in c.get_segments()]
        assert len(segments) == 1  # the angry bar's whisker only: none for n = 1
        ys = segments[0][:, 1]
        assert (ys.min(), ys.max()) == pytest.approx((lo, hi))
        assert sorted(t.get_text() for t in ax.texts) == ["1", "2"]
        assert ax.get_ylim()[0] >= 0.0
    assert plots.clipped_interval("emotion_rate", 0.9, 0.3, 5) == pytest.approx((0.3, 0.1))
    assert plots.clipped_interval("mcd_db", 5.0, 1.0, 1) is None
    import matplotlib.pyplot as plt

    plt.close(figs[0])
    # a source compared with itself scores a hair above 1: no negative whisker
    assert plots.clipped_interval("spk_sim_source", 1.0 + 3e-8, 1e-7, 5) == pytest.approx(
        (1e-7, 0.0))


def _padded(speech: np.ndarray, floor: np.ndarray, sr: int = 16000) -> np.ndarray:
    """``speech`` with 1.5 s of ``floor`` (a silence rendering) on each side."""
    pad = floor[: int(1.5 * sr)]
    return np.concatenate([pad, speech, floor[-int(1.5 * sr):]]).astype(np.float32)


def test_speech_frames_follow_the_speech_at_any_gain():
    from emovc.evaluation.analysis import speech_frames

    sr = 16000
    speech = synthesize(SyntheticVoice(), duration=1.2, seed=3)
    rng = np.random.default_rng(0)
    wav = _padded(speech, rng.standard_normal(3 * sr) * 1e-5)
    n = len(wav) // 80 + 1
    mask = speech_frames(wav, sr, n, 5.0)
    t = np.arange(n) * 0.005
    assert not mask[(t < 1.4) | (t > 2.8)].any()  # the padding (speech is 1.5-2.7 s)
    assert mask[(t > 1.8) & (t < 2.4)].mean() > 0.9
    np.testing.assert_array_equal(speech_frames(wav * 2.0 ** -6, sr, n, 5.0), mask)  # -36 dB
    assert not speech_frames(np.zeros(sr, np.float32), sr, 201, 5.0).any()  # silent


def test_mcd_on_speech_frames_leaves_out_how_silence_is_rendered():
    """Two files with the same speech and differently rendered silences: the whole-path MCD
    is mostly the silences' difference, the speech-frame MCD is near 0 and the non-speech
    share of the path is reported."""
    from emovc.evaluation.mcd import compare_features

    sr = 16000
    speech = synthesize(SyntheticVoice(), duration=1.2, seed=3)
    rng = np.random.default_rng(0)
    white = rng.standard_normal(3 * sr) * 1e-5
    hum = np.sin(2 * np.pi * 100 * np.arange(3 * sr) / sr) * 1e-4  # another silence
    a = analyze_utterance(_padded(speech, white))
    b = analyze_utterance(_padded(speech, hum))
    m = compare_features(a, b)
    assert m["nonspeech_share"] > 0.6
    assert m["mcd_db"] > 5.0 and m["mcd_speech_db"] < 1.0
    no_marks = compare_features(replace(a, speech=None), b)  # features made elsewhere
    assert np.isnan(no_marks["mcd_speech_db"]) and no_marks["mcd_db"] == m["mcd_db"]
    from emovc.errors import ConfigError

    with pytest.raises(ConfigError, match="speech_db must be in"):
        MetricConfig(speech_db=0)


def test_rate_bars_get_their_binomial_interval():
    """An emotion rate of 0 or 1 over 4 items had no whisker; it gets its exact interval."""
    from emovc.evaluation.plots import bar_interval
    from emovc.evaluation.stats import binomial_ci

    _, lo, hi = binomial_ci(4, 4)
    rows = [{"system": "converted", "target_emotion": "angry", "n": 4, "emotion_rate": 1.0,
             "emotion_rate_ci_low": lo, "emotion_rate_ci_high": hi, "emotion_rate_n": 4,
             "mcd_db": 5.0, "mcd_db_ci95": 1.0, "mcd_db_n": 4}]
    assert bar_interval(rows, "converted", "angry", "emotion_rate", 1.0, 4) == pytest.approx(
        (1.0 - lo, 0.0))
    assert bar_interval(rows, "converted", "angry", "mcd_db", 5.0, 4) == (1.0, 1.0)
