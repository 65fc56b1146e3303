"""Matplotlib figures shown by the web app (no pyplot: figures are plain objects, no global
state, safe to build from several request threads at once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from emovc.data.emotions import EMOTIONS
from emovc.features.spectral import mel_spectrogram
from emovc.features.world import WorldConfig, analyze_f0

_IN, _OUT = "#1f77b4", "#d62728"


def comparison_figure(wav_in: np.ndarray, wav_out: np.ndarray, sr: int = 16000,
                      labels: tuple[str, str] = ("input", "output")) -> Figure:
    """Log-mel spectrograms of input and output above their F0 contours.

    Args:
        wav_in: ``(n,)`` input waveform at ``sr`` Hz (16 kHz for the F0 tracker).
        wav_out: ``(m,)`` output waveform at ``sr`` Hz.
        sr: sample rate in Hz.
        labels: legend names of the two signals.

    Returns:
        a 3-row figure: input mel spectrogram, output mel spectrogram, F0 (Hz) over time (s).
    """
    fig = Figure(figsize=(8, 6.2), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    hop = 160
    for ax, wav, label in zip(axes[:2], (wav_in, wav_out), labels, strict=True):
        mel = np.asarray(mel_spectrogram(wav, sr=sr, n_mels=64, n_fft=512, hop_length=hop))
        ax.imshow(mel, origin="lower", aspect="auto", cmap="magma",
                  extent=(0.0, mel.shape[1] * hop / sr, 0, mel.shape[0]))
        ax.set_ylabel("mel bin")
        ax.set_title(f"{label}: log-mel spectrogram", fontsize=10, loc="left")
    ax = axes[2]
    cfg = WorldConfig(sample_rate=sr)
    voiced = []
    for wav, label, colour, marker in ((wav_in, labels[0], _IN, "-"),
                                       (wav_out, labels[1], _OUT, ".")):
        f0, t = analyze_f0(np.asarray(wav, dtype=np.float64), cfg)
        voiced.append(f0[f0 > 0])
        ax.plot(t, np.where(f0 > 0, f0, np.nan), marker, color=colour, ms=3, lw=1.5,
                label=f"{label} (median {_median_f0(f0)})")
    both = np.concatenate(voiced)
    if both.size:  # zoom on the voice, not on a stray octave error
        lo, hi = np.percentile(both, [1, 99])
        ax.set_ylim(0.8 * lo, 1.25 * hi)
    ax.set_ylabel("F0 (Hz)")
    ax.set_xlabel("time (s)")
    ax.set_title("F0 contour", fontsize=10, loc="left")
    ax.legend(loc="upper right", fontsize=8, markerscale=2)
    ax.grid(alpha=0.3)
    return fig


def _median_f0(f0: np.ndarray) -> str:
    voiced = f0[f0 > 0]
    return f"{np.median(voiced):.0f} Hz" if voiced.size else "unvoiced"


def probability_figure(probs: Mapping[str, float]) -> Figure:
    """Horizontal bar chart of emotion probabilities, the most likely one highlighted.

    Args:
        probs: ``{emotion: probability}``; canonical emotions are shown in canonical order.
    """
    order = [e for e in EMOTIONS if e in probs] + sorted(set(probs) - set(EMOTIONS))
    values = np.array([float(probs[e]) for e in order])
    fig = Figure(figsize=(6, 0.45 * len(order) + 1.0), layout="constrained")
    ax = fig.subplots()
    colours = ["#d62728" if v == values.max() else "#7f7f7f" for v in values]
    ax.barh(order[::-1], values[::-1], color=colours[::-1])
    for y, v in enumerate(values[::-1]):
        inside = v > 0.85  # long bars carry their label inside, in white
        ax.text(v - 0.01 if inside else v + 0.01, y, f"{v:.0%}", va="center", fontsize=9,
                ha="right" if inside else "left", color="white" if inside else "black")
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    ax.grid(axis="x", alpha=0.3)
    return fig


PROJECTION_TITLES = {"umap": "UMAP", "tsne": "t-SNE", "pca": "PCA"}


def embedding_map_figure(points: np.ndarray, names: Sequence[str], kinds: Sequence[str],
                         method: str) -> Figure:
    """Scatter of speakers in a 2-D projection of their speaker embeddings.

    Args:
        points: ``(N, 2)`` projected coordinates.
        names: ``N`` labels written next to the points.
        kinds: ``N`` of "known", "upload", "reference" or "output" (marker style).
        method: projection used, as :func:`emovc.pipelines.speaker.project` names it
            ("umap", "tsne", "pca"; shown in the title).
    """
    style = {"known": ("o", "#9e9e9e", 40), "upload": ("s", "#2ca02c", 50),
             "reference": ("*", _IN, 260), "output": ("X", _OUT, 160)}
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.subplots()
    for kind, (marker, colour, size) in style.items():
        idx = [i for i, k in enumerate(kinds) if k == kind]
        if idx:
            ax.scatter(points[idx, 0], points[idx, 1], marker=marker, c=colour, s=size,
                       label=kind, edgecolors="black", linewidths=0.4, zorder=3)
    for (x, y), name in zip(points, names, strict=True):
        ax.annotate(name, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=8)
    ax.margins(0.18)  # room for the names next to the points
    title = PROJECTION_TITLES.get(method, method)
    ax.set_title(f"speaker embeddings ({title} projection)", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.legend(loc="outside lower center", ncols=4, fontsize=8)
    return fig
