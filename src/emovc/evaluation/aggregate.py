"""Aggregate per-utterance metric rows per system and per (system, target emotion)."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from emovc.evaluation.emotion import confusion_matrix
from emovc.evaluation.stats import mean_ci

# per-utterance numeric metrics that are averaged (with a 95 % t-interval)
MEAN_METRICS = ("mcd_db", "f0_rmse_cents", "f0_corr", "vuv_error", "duration_ratio",
                "spk_sim_source", "spk_sim_reference", "p_target")


def _num(v) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return f


def summarize(rows: list[dict]) -> dict:
    """Aggregate a group of rows.

    Returns:
        ``{"n": int, <metric>: mean, <metric>_ci95: half-width, <metric>_n: rows with a
        value (e.g. MCD only where there is a reference), "emotion_rate": share of
        rows recognised as their target, "n_judged": rows with a prediction, "wer": Σ word
        errors / Σ reference words, "n_words": Σ reference words}``; NaN where undefined.
    """
    out: dict = {"n": len(rows)}
    for m in MEAN_METRICS:
        mean, half, n = mean_ci([_num(r.get(m)) for r in rows])
        out[m], out[f"{m}_ci95"], out[f"{m}_n"] = mean, half, n
    judged = [r for r in rows if r.get("emotion_pred")]
    out["n_judged"] = len(judged)
    out["emotion_rate"] = (float(np.mean([bool(r["emotion_hit"]) for r in judged]))
                           if judged else float("nan"))
    scored = [r for r in rows if isinstance(r.get("ref_words"), int) and r["ref_words"] > 0]
    words = sum(r["ref_words"] for r in scored)
    out["n_words"] = words
    out["wer"] = sum(r["word_errors"] for r in scored) / words if words else float("nan")
    return out


def coverage_notes(overall: dict) -> list[str]:
    """A note per system whose MCD / F0 means cover fewer items than its ``n`` (items
    without a reference, or not analysable), since the tables show one ``n`` per system."""
    notes = []
    for system, o in overall.items():
        k = o.get("mcd_db_n", 0)
        if 0 < k < o["n"]:
            notes.append(f"{system}: MCD and F0 metrics are means over the {k} of {o['n']} items "
                         "that have a usable reference")
    return notes


def aggregate(rows: list[dict], systems: list[str]) -> tuple[dict, list[dict]]:
    """Overall summary per system and the per-(system, target emotion) table.

    Returns:
        ``({system: summary}, [{"system", "target_emotion", **summary}, ...])``.
    """
    by_sys: dict[str, list[dict]] = defaultdict(list)
    by_emo: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        by_sys[r["system"]].append(r)
        by_emo[(r["system"], r["target_emotion"])].append(r)
    overall = {s: summarize(by_sys[s]) for s in systems if by_sys.get(s)}
    emotions = sorted({r["target_emotion"] for r in rows})
    per_emotion = [{"system": s, "target_emotion": e, **summarize(by_emo[(s, e)])}
                   for e in emotions for s in systems if by_emo.get((s, e))]
    return overall, per_emotion


def confusions(rows: list[dict], systems: list[str], labels: list[str]) -> dict:
    """Confusion matrices ``{system: {"labels", "matrix"}}`` (rows = intended emotion)."""
    out = {}
    for s in systems:
        judged = [r for r in rows if r["system"] == s and r.get("emotion_pred")]
        if judged:
            cm = confusion_matrix([r["target_emotion"] for r in judged],
                                  [r["emotion_pred"] for r in judged], labels)
            out[s] = {"labels": list(labels), "matrix": cm.tolist()}
    return out


def clean(obj):
    """Replace NaN/inf by None recursively (strict JSON) and numpy scalars by Python ones."""
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
