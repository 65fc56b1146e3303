"""Clipped files: ``emovc info`` reports them (audit s38 L2)."""

import numpy as np
import soundfile as sf

from emovc.audio.clipping import (
    MIN_CLIPPED_SHARE,
    clipped_share,
    file_clipped_share,
    full_scale_run_samples,
)
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.pipelines.analysis import describe_file

SPEECH = synthesize(EMOTION_VOICES["angry"], duration=2.0, seed=4)


def test_flat_tops_count_single_peaks_do_not():
    x = np.array([0.2, 1.0, 0.3, -1.0, -1.0, -1.0, 0.5, 1.0, -1.0], np.float32)
    assert full_scale_run_samples(x) == 3
    normalised = SPEECH / np.abs(SPEECH).max()  # peak at exactly full scale, once
    assert clipped_share(normalised[:, None]) == 0.0


def test_info_reports_a_clipped_file_and_only_that(tmp_path):
    clipped = np.clip(4 * SPEECH / np.abs(SPEECH).max(), -1, 1)
    sf.write(tmp_path / "clipped.wav", clipped, 16000, subtype="PCM_16")
    sf.write(tmp_path / "clean.wav", 0.999 * SPEECH / np.abs(SPEECH).max(), 16000,
             subtype="PCM_16")
    share = file_clipped_share(tmp_path / "clipped.wav")
    assert share > 10 * MIN_CLIPPED_SHARE
    assert describe_file(tmp_path / "clipped.wav")["clipping"] == (
        f"{100 * share:.1f} % of samples at full scale (the file is clipped)")
    assert "clipping" not in describe_file(tmp_path / "clean.wav")


def test_a_float_file_beyond_full_scale_is_not_clipped(tmp_path):
    """A float WAV peaking 3 dB over full scale was reported clipped (0.1 % of its samples
    "at full scale"): samples beyond full scale were counted as at it."""
    hot = 1.4 * SPEECH / np.abs(SPEECH).max()
    sf.write(tmp_path / "hot.wav", hot, 16000, subtype="FLOAT")
    assert full_scale_run_samples(hot) == 0 and file_clipped_share(tmp_path / "hot.wav") == 0
    assert "clipping" not in describe_file(tmp_path / "hot.wav")
    sf.write(tmp_path / "clipped.wav", np.clip(3 * hot, -1, 1), 16000, subtype="FLOAT")
    assert file_clipped_share(tmp_path / "clipped.wav") > MIN_CLIPPED_SHARE
