"""Aggregate per-utterance metric rows per system and per (system, target emotion)."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from emovc.evaluation.emotion import UNJUDGED, confusion_matrix
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
        rows recognised as their target (an output the judge could not score counts as a
        miss), "n_judged": rows with a prediction, "n_unjudged": rows the judge could not
        score, "n_failed": rows whose audio could not be analysed, "wer": Σ word errors /
        Σ reference words, "n_words": Σ reference words}``; NaN where undefined.
    """
    out: dict = {"n": len(rows)}
    for m in MEAN_METRICS:
        mean, half, n = mean_ci([_num(r.get(m)) for r in rows])
        out[m], out[f"{m}_ci95"], out[f"{m}_n"] = mean, half, n
    scored = [r for r in rows if r.get("emotion_pred")]
    out["n_judged"] = sum(r["emotion_pred"] != UNJUDGED for r in scored)
    out["n_unjudged"] = len(scored) - out["n_judged"]
    out["n_failed"] = sum(bool(r.get("error")) for r in rows)
    out["emotion_rate"] = (float(np.mean([bool(r["emotion_hit"]) for r in scored]))
                           if scored else float("nan"))
    scored = [r for r in rows if isinstance(r.get("ref_words"), int) and r["ref_words"] > 0]
    words = sum(r["ref_words"] for r in scored)
    out["n_words"] = words
    out["wer"] = sum(r["word_errors"] for r in scored) / words if words else float("nan")
    return out


def coverage_notes(overall: dict, judged: bool = True) -> list[str]:
    """Notes on what each system's means leave out, since the tables show one ``n`` per
    system: outputs that could not be analysed (``judged``: an emotion judge ran, so they
    count as emotion misses), and metrics averaged over fewer items than ``n``."""
    notes = []
    for system, o in overall.items():
        n, failed = o["n"], o.get("n_failed", 0)
        if failed:
            counted = "they count as emotion misses; " if judged else ""
            notes.append(f"{system}: {failed} of {n} outputs could not be analysed (silent, "
                         f"too short or unreadable); {counted}MCD, F0 and speaker similarity "
                         "leave them out")
        if o.get("n_unjudged", 0) > failed:
            notes.append(f"{system}: the emotion judge could not score "
                         f"{o['n_unjudged'] - failed} analysed output(s); they count as misses")
        parts = [f"{label} over {k}" for label, k in (
            ("MCD", o.get("mcd_db_n", 0)), ("F0 RMSE", o.get("f0_rmse_cents_n", 0)),
            ("speaker similarity", o.get("spk_sim_source_n", 0))) if 0 < k < n - failed]
        if parts:
            notes.append(f"{system}: means over fewer than its {n} items: " + ", ".join(parts)
                         + " (the others have no usable reference, no frame voiced in both, "
                         "or no speaker embedding)")
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
    """Confusion matrices ``{system: {"labels", "columns", "matrix"}}``: rows = intended
    emotion (``labels``), columns = recognised one (``columns``: ``labels``, then
    ``"unjudged"`` when the judge could not score some of the system's outputs), so each row
    adds up to the outputs aimed at that emotion and its diagonal share is the emotion rate."""
    out = {}
    for s in systems:
        scored = [r for r in rows if r["system"] == s and r.get("emotion_pred")]
        if scored:
            unjudged = any(r["emotion_pred"] == UNJUDGED for r in scored)
            columns = [*labels, UNJUDGED] if unjudged else list(labels)
            cm = confusion_matrix([r["target_emotion"] for r in scored],
                                  [r["emotion_pred"] for r in scored], labels, columns)
            out[s] = {"labels": list(labels), "columns": columns, "matrix": cm.tolist()}
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
