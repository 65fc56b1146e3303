"""Matplotlib figures of the evaluation report, returned as base64 PNG strings.

No pyplot: figures are plain :class:`~matplotlib.figure.Figure` objects, so importing this
module leaves the caller's backend alone (a notebook's stays interactive) and the app can
build reports in several request threads (pyplot's figure registry is not thread-safe).
"""

from __future__ import annotations

import base64
import io

import numpy as np
from matplotlib.figure import Figure

from emovc.evaluation.emotion import UNJUDGED

COLORS = {"converted": "#d9534f", "source": "#5b8bd9", "world_resynth": "#8c8c8c",
          "reference": "#4cae4c"}


def to_png_base64(fig: Figure, dpi: int = 80) -> str:
    """Encode a figure as a base64 PNG (``dpi`` dots per inch, cropped to its contents)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


#: the values each metric can take: the bar charts' intervals are clipped to them (a t-interval
#: over 2 utterances reached MCD -4 dB and speaker similarity 1.4)
VALID_RANGES = {
    "mcd_db": (0.0, np.inf), "mcd_speech_db": (0.0, np.inf), "nonspeech_share": (0.0, 1.0),
    "f0_rmse_cents": (0.0, np.inf), "f0_corr": (-1.0, 1.0),
    "vuv_error": (0.0, 1.0), "duration_ratio": (0.0, np.inf), "spk_sim_source": (-1.0, 1.0),
    "spk_sim_reference": (-1.0, 1.0), "p_target": (0.0, 1.0), "emotion_rate": (0.0, 1.0),
    "emotion_ua": (0.0, 1.0), "wer": (0.0, np.inf),
}


def clipped_interval(metric: str, mean: float, half: float, n: float
                     ) -> tuple[float, float] | None:
    """Lengths ``(below, above)`` of the whisker of a mean ± ``half`` clipped to the range of
    ``metric`` (:data:`VALID_RANGES`); ``None`` when there is no interval to draw (no
    half-width, or fewer than 2 values)."""
    if not (np.isfinite(mean) and np.isfinite(half) and np.isfinite(n) and n >= 2):
        return None
    lo, hi = VALID_RANGES.get(metric, (-np.inf, np.inf))
    # ≥ 0 also for a mean a rounding error outside the range (a similarity of 1 + 3e-8)
    return max(0.0, mean - max(lo, mean - half)), max(0.0, min(hi, mean + half) - mean)


def bar_interval(per_emotion: list[dict], system: str, emotion: str, metric: str,
                 mean: float, n: float) -> tuple[float, float] | None:
    """The whisker ``(below, above)`` of one bar: the metric's own interval where the rows
    carry one (``<metric>_ci_low``/``_ci_high``: the emotion rate's binomial interval,
    WER's bootstrap one), else the t-interval (:func:`clipped_interval`)."""
    lo = _lookup(per_emotion, system, emotion, f"{metric}_ci_low")
    hi = _lookup(per_emotion, system, emotion, f"{metric}_ci_high")
    if np.isfinite(lo) and np.isfinite(hi) and np.isfinite(mean):
        return max(0.0, mean - lo), max(0.0, hi - mean)
    return clipped_interval(metric, mean, _lookup(per_emotion, system, emotion,
                                                  f"{metric}_ci95"), n)


def per_emotion_bars(per_emotion: list[dict], systems: list[str], titles: dict,
                     metrics: list[tuple[str, str]]) -> str:
    """Grouped bars (one group per target emotion, one bar per system) for each metric, with
    its 95 % interval (:func:`bar_interval`: the t-interval clipped to the metric's range,
    none for n < 2; the binomial or bootstrap one of a rate or WER) and, above each bar, the
    number of utterances behind it."""
    emotions = sorted({r["target_emotion"] for r in per_emotion})
    shown = [(m, label) for m, label in metrics
             if any(np.isfinite(_f(r.get(m))) for r in per_emotion)]
    if not shown or not emotions:
        return ""
    cols = min(2, len(shown))
    rows = int(np.ceil(len(shown) / cols))
    fig = Figure(figsize=(6.2 * cols, 2.9 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    width = 0.8 / max(len(systems), 1)
    x = np.arange(len(emotions))
    for ax, (metric, label) in zip(axes.flat, shown, strict=False):
        for k, s in enumerate(systems):
            pos = x + (k - (len(systems) - 1) / 2) * width
            vals = [_lookup(per_emotion, s, e, metric) for e in emotions]
            ax.bar(pos, vals, width, color=COLORS.get(s), label=titles.get(s, s))
            for p, e, v in zip(pos, emotions, vals, strict=True):
                if not np.isfinite(v):
                    continue
                n = _lookup(per_emotion, s, e, f"{metric}_n")
                n = _lookup(per_emotion, s, e, "n") if not np.isfinite(n) else n
                whisker = bar_interval(per_emotion, s, e, metric, v, n)
                if whisker:
                    ax.errorbar([p], [v], yerr=[[whisker[0]], [whisker[1]]], fmt="none",
                                ecolor="k", elinewidth=0.8, capsize=2)
                if np.isfinite(n):
                    top = max(v + (whisker[1] if whisker else 0.0), 0.0)
                    ax.annotate(f"{n:.0f}", (p, top), xytext=(0, 1), textcoords="offset points",
                                ha="center", va="bottom", fontsize=7, color="#555")
        ax.margins(y=0.12)  # room for the counts above the bars
        ax.set_xticks(x, emotions, rotation=20)
        ax.set_title(label, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(shown):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0, 1, 0.95 if rows == 1 else 0.97))
    fig.legend(handles, labels, loc="upper center", ncol=len(systems), fontsize=8,
               frameon=False)
    return to_png_base64(fig)


def confusion_plot(confusion: dict, titles: dict) -> str:
    """Row-normalised confusion matrices (intended × recognised, with an ``unjudged`` column
    when the judge could not score some outputs) of each system side by side."""
    if not confusion:
        return ""
    systems = list(confusion)
    fig = Figure(figsize=(4.2 * len(systems), 4.0))
    axes = fig.subplots(1, len(systems), squeeze=False)
    for ax, s in zip(axes.flat, systems, strict=True):
        labels = confusion[s]["labels"]
        columns = confusion[s].get("columns", labels)  # + "unjudged" (metrics.json of 0.x)
        cm = np.asarray(confusion[s]["matrix"], dtype=float)
        keep = cm.sum(axis=1) > 0  # only intended emotions present in the run
        norm = cm[keep] / cm[keep].sum(axis=1, keepdims=True)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        ylabels = [lab for lab, k in zip(labels, keep, strict=True) if k]
        ax.set_xticks(range(len(columns)),  # "unjudged" whole: "unju" read as a label
                      [lab if lab == UNJUDGED else lab[:4] for lab in columns], rotation=45,
                      fontsize=7)
        ax.set_yticks(range(len(ylabels)), ylabels, fontsize=7)
        for i in range(norm.shape[0]):
            for j in range(norm.shape[1]):
                if cm[keep][i, j]:
                    ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center", fontsize=6,
                            color="white" if norm[i, j] > 0.5 else "black")
        ax.set_title(titles.get(s, s), fontsize=9)
        ax.set_xlabel("recognised", fontsize=8)
        ax.set_ylabel("intended", fontsize=8)
    fig.tight_layout()
    return to_png_base64(fig)


def example_plot(panels: list[tuple[str, np.ndarray, np.ndarray, float]], sr: int) -> str:
    """Spectrograms (top) and F0 contours (bottom) of a few clips side by side.

    Args:
        panels: ``(title, wav (n,), f0 (T,) Hz, frame_period_ms)`` per clip.
        sr: sample rate of the waveforms.
    """
    import librosa

    fig = Figure(figsize=(4.0 * len(panels), 4.6))
    axes = fig.subplots(2, len(panels), squeeze=False, gridspec_kw={"height_ratios": [3, 2]})
    fmax = 0.0
    for f0 in (p[2] for p in panels):
        fmax = max(fmax, float(np.max(f0)) if f0.size else 0.0)
    for k, (title, wav, f0, fp) in enumerate(panels):
        spec = np.abs(librosa.stft(wav, n_fft=512, hop_length=128))
        db = librosa.amplitude_to_db(spec, ref=np.max, top_db=70)
        axes[0, k].imshow(db, origin="lower", aspect="auto", cmap="magma",
                          extent=(0, len(wav) / sr, 0, sr / 2000))
        axes[0, k].set_title(title, fontsize=9)
        axes[0, k].set_ylabel("kHz", fontsize=8)
        t = np.arange(f0.size) * fp / 1000.0
        voiced = np.where(f0 > 0, f0, np.nan)
        axes[1, k].plot(t, voiced, ".", ms=1.5, color="#d9534f")
        axes[1, k].set_xlim(0, len(wav) / sr)
        axes[1, k].set_ylim(0, max(fmax * 1.1, 100))
        axes[1, k].set_ylabel("F0 (Hz)", fontsize=8)
        axes[1, k].set_xlabel("time (s)", fontsize=8)
        axes[1, k].grid(alpha=0.3)
        for ax in axes[:, k]:
            ax.tick_params(labelsize=7)
    fig.tight_layout()
    return to_png_base64(fig)


def _f(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _lookup(per_emotion: list[dict], system: str, emotion: str, metric: str) -> float:
    for r in per_emotion:
        if r["system"] == system and r["target_emotion"] == emotion:
            return _f(r.get(metric))
    return float("nan")
