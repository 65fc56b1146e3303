"""Figures of the app (matplotlib Figure objects, no pyplot)."""

from __future__ import annotations

import numpy as np

from emovc.app.plots import comparison_figure, embedding_map_figure, probability_figure
from emovc.data.synthetic import SyntheticVoice, synthesize


def test_comparison_figure_shows_both_f0_contours() -> None:
    low = synthesize(SyntheticVoice(f0_mean=120.0), 1.5, seed=0)
    high = synthesize(SyntheticVoice(f0_mean=200.0), 1.5, seed=0)
    fig = comparison_figure(low, high, 16000, labels=("in", "out"))
    mel_in, mel_out, f0_ax = fig.axes
    assert mel_in.get_title(loc="left").startswith("in:")
    assert mel_out.get_title(loc="left").startswith("out:")
    legend = [t.get_text() for t in f0_ax.get_legend().get_texts()]
    medians = [float(t.split("median ")[1].split(" Hz")[0]) for t in legend]
    assert abs(medians[0] - 120) < 15 and abs(medians[1] - 200) < 25
    lo, hi = f0_ax.get_ylim()
    assert lo < 110 and 210 < hi < 400  # zoomed on the voices


def test_probability_figure_highlights_the_winner() -> None:
    fig = probability_figure({"sad": 0.1, "angry": 0.9})
    bars = fig.axes[0].patches
    assert len(bars) == 2
    widest = max(bars, key=lambda b: b.get_width())
    assert np.isclose(widest.get_width(), 0.9)
    assert widest.get_facecolor() != min(bars, key=lambda b: b.get_width()).get_facecolor()
    labels = {t.get_text(): t.get_color() for t in fig.axes[0].texts}
    assert labels == {"90%": "white", "10%": "black"}


def test_embedding_map_marks_each_kind() -> None:
    pts = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5], [0.5, 2.0]])
    fig = embedding_map_figure(pts, ["a", "b", "reference", "output"],
                               ["known", "upload", "reference", "output"], "pca")
    assert len(fig.axes[0].collections) == 4
    assert "PCA" in fig.axes[0].get_title()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["known", "upload",
                                                                  "reference", "output"]
