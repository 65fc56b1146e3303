"""Streamed stages of a long conversion give the same samples as their whole-array forms."""

import librosa
import numpy as np
import pytest
import soundfile as sf
import soxr

from emovc.audio import load_audio
from emovc.audio.chunking import OverlapJoiner, overlap_add
from emovc.audio.finishing import (
    Spool,
    StreamFinisher,
    keep_edge_pauses,
    limit_bursts,
    with_level_change,
)
from emovc.audio.processing import frame_power, speech_bounds


def _reference_overlap_add(pieces, bounds, n):
    """The whole-array cross-fade (weights from the neighbours' ends and starts, float64
    sums normalised by the summed weights), written out here as the reference."""
    from emovc.audio.chunking import _fade_weights

    out = np.zeros((n, *pieces[0].shape[1:]))
    norm = np.zeros(n)
    for i, ((s, e), piece) in enumerate(zip(bounds, pieces, strict=True)):
        fade_in = bounds[i - 1][1] - s if i > 0 else 0
        fade_out = e - bounds[i + 1][0] if i + 1 < len(bounds) else 0
        w = _fade_weights(e - s, max(fade_in, 0), max(fade_out, 0))
        out[s:e] += piece * w.reshape(-1, *([1] * (piece.ndim - 1)))
        norm[s:e] += w
    norm = np.maximum(norm, 1e-8).reshape(-1, *([1] * (out.ndim - 1)))
    return (out / norm).astype(pieces[0].dtype)


def _pieces(rng, layout):
    """Pieces and their (start, end) for a list of (start, length)."""
    return ([rng.standard_normal(n).astype(np.float32) for _, n in layout],
            [(s, s + n) for s, n in layout])


@pytest.mark.parametrize("layout", [
    [(0, 500), (480, 400), (870, 300)],               # short fades
    [(0, 500), (300, 500), (700, 100)],               # long overlaps
    [(0, 400), (450, 300), (760, 40)],                # a gap no piece covers
    [(0, 1000)],
])
def test_streamed_join_equals_overlap_add(layout):
    rng = np.random.default_rng(0)
    pieces, bounds = _pieces(rng, layout)
    n = max(e for _, e in bounds)
    joiner = OverlapJoiner()
    parts = [joiner.add(p, b) for p, b in zip(pieces, bounds, strict=True)]
    parts.append(joiner.finish(n))
    reference = _reference_overlap_add(pieces, bounds, n)
    np.testing.assert_array_equal(np.concatenate(parts), reference)
    np.testing.assert_array_equal(overlap_add(pieces, bounds, n), reference)
    frames = [np.stack([p, 2 * p], axis=1) for p in pieces]  # trailing axes (features)
    np.testing.assert_array_equal(overlap_add(frames, bounds, n),
                                  _reference_overlap_add(frames, bounds, n))


def test_joiner_refuses_a_piece_before_final_output():
    joiner = OverlapJoiner()
    joiner.add(np.zeros(100, np.float32), (0, 100))
    joiner.add(np.zeros(100, np.float32), (90, 190))
    with pytest.raises(ValueError, match="out of order"):
        joiner.add(np.zeros(10, np.float32), (50, 60))


def _signal(n, seed=0):
    rng = np.random.default_rng(seed)
    x = (0.05 * rng.standard_normal(n)).astype(np.float32)
    x[:3000] *= 1e-3  # edge pauses
    x[-5000:] *= 1e-3
    return x


@pytest.mark.parametrize(("tempo", "change", "loud", "spooled"), [
    (0.85, 19.0, False, False), (1.2, -5.0, False, True), (1.0, 0.0, False, True),
    (1.1, 12.0, True, True),  # a burst, and peaks the soft limiter compresses
])
def test_streamed_finish_equals_the_array_stages(tmp_path, tempo, change, loud, spooled):
    sr = 16000
    x = _signal(16000 * 30 + 123)
    m = int(len(x) * tempo)
    y = np.interp(np.arange(m) / tempo, np.arange(len(x)), x).astype(np.float32)
    if loud:
        x *= 12
        y *= 12
        y[m // 2:m // 2 + 400] *= 30
    ref = with_level_change(keep_edge_pauses(limit_bursts(y, x, 16000), x), x, sr, change)
    spool = Spool(tmp_path if spooled else None)
    finisher = StreamFinisher(x, sr, change, spool)
    for a in range(0, m, 12345):
        finisher.append(y[a:a + 12345])
    out = np.concatenate(list(finisher.blocks(size=9999)))
    spool.close()
    np.testing.assert_array_equal(out, ref)
    if loud:
        assert 0.9 < np.abs(ref).max() <= 0.977  # the limiter was at work


def test_spool_reads_back_what_was_written(tmp_path):
    rng = np.random.default_rng(2)
    blocks = [rng.standard_normal(k).astype(np.float32) for k in (10, 0, 300, 7)]
    whole = np.concatenate(blocks)
    for spool in (Spool(), Spool(tmp_path)):
        for b in blocks:
            spool.append(b)
        assert len(spool) == len(whole)
        np.testing.assert_array_equal(spool.read(0, len(whole)), whole)
        np.testing.assert_array_equal(spool.read(5, 200), whole[5:200])
        assert spool.read(400, 500).size == 0
        spool.close()
    assert not list(tmp_path.iterdir())  # the spool's file has no name to leave behind


def test_blockwise_levels_and_bounds_equal_librosa():
    x = _signal(16000 * 61 + 5, seed=3)
    full = np.mean(np.square(x[: len(x) // 80 * 80].reshape(-1, 80), dtype=np.float64), axis=1)
    np.testing.assert_array_equal(frame_power(x, 80, block_frames=777), full)
    _, (start, end) = librosa.effects.trim(x, top_db=35, frame_length=512, hop_length=128)
    assert speech_bounds(x) == (start, end)


def test_streamed_decoding_equals_decoding_whole(tmp_path):
    """Long files are mixed, freed of DC and resampled block by block: same samples as the
    whole file mixed and resampled at once."""
    rng = np.random.default_rng(4)
    x = (0.1 * rng.standard_normal(44100 * 20)).astype(np.float32)
    stereo = np.stack([x, 0.5 * x], 1)
    sf.write(tmp_path / "st.flac", stereo, 44100)
    ref_mix = sf.read(tmp_path / "st.flac", dtype="float32", always_2d=True)[0].mean(axis=1)
    got = load_audio(tmp_path / "st.flac", 16000)
    ref = soxr.resample(ref_mix.astype(np.float32), 44100, 16000, quality="VHQ")
    np.testing.assert_array_equal(got, ref.astype(np.float32))
    sf.write(tmp_path / "dc.wav", x + 0.05, 16000, subtype="FLOAT")
    assert abs(float(load_audio(tmp_path / "dc.wav").mean())) < 1e-3
