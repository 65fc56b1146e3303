"""Aggregate per-utterance metric rows per system and per (system, target emotion)."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from emovc.evaluation.emotion import UNJUDGED, confusion_matrix
from emovc.evaluation.stats import binomial_ci, mean_ci, ratio_bootstrap_ci

# per-utterance numeric metrics that are averaged (with a 95 % t-interval)
MEAN_METRICS = ("mcd_db", "mcd_speech_db", "nonspeech_share", "f0_rmse_cents", "f0_corr",
                "vuv_error", "duration_ratio", "spk_sim_source", "spk_sim_reference", "p_target")
NONSPEECH_NOTE_SHARE = 0.5  # a mean share of non-speech path steps above this gets a note


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
        miss), "emotion_rate_ci_low"/"_high": its exact (Clopper-Pearson) 95 % interval,
        "emotion_ua": unweighted accuracy, the mean over the target emotions of the rows of
        each one's rate, "emotion_rate_n": rows it is over, "n_judged": rows with a
        prediction, "n_unjudged": rows the judge could not score, "n_failed": rows whose
        audio could not be analysed, "wer": Σ word errors / Σ reference words,
        "wer_ci_low"/"_high": its 95 % percentile-bootstrap interval over utterances,
        "wer_n": rows it is over, "n_words": Σ reference words}``; NaN where undefined.
    """
    out: dict = {"n": len(rows)}
    for m in MEAN_METRICS:
        mean, half, n = mean_ci([_num(r.get(m)) for r in rows])
        out[m], out[f"{m}_ci95"], out[f"{m}_n"] = mean, half, n
    scored = [r for r in rows if r.get("emotion_pred")]
    out["n_judged"] = sum(r["emotion_pred"] != UNJUDGED for r in scored)
    out["n_unjudged"] = len(scored) - out["n_judged"]
    out["n_failed"] = sum(bool(r.get("error")) for r in rows)
    hits = sum(bool(r["emotion_hit"]) for r in scored)
    out["emotion_rate"], out["emotion_rate_ci_low"], out["emotion_rate_ci_high"] = binomial_ci(
        hits, len(scored))
    out["emotion_rate_n"] = len(scored)
    out["emotion_ua"] = unweighted_accuracy(scored)
    scored = [r for r in rows if _has_words(r)]
    words = sum(r["ref_words"] for r in scored)
    out["n_words"] = words
    out["wer_n"] = len(scored)
    out["wer"] = sum(r["word_errors"] for r in scored) / words if words else float("nan")
    out["wer_ci_low"], out["wer_ci_high"] = ratio_bootstrap_ci(
        [r["word_errors"] for r in scored], [r["ref_words"] for r in scored])
    return out


def unweighted_accuracy(scored: list[dict]) -> float:
    """Mean over the target emotions of ``scored`` rows (each with an ``emotion_pred``) of the
    share recognised as their target: every emotion weighs the same, however many items aim
    at it (NaN without rows)."""
    by_target: dict[str, list[bool]] = defaultdict(list)
    for r in scored:
        by_target[r["target_emotion"]].append(bool(r["emotion_hit"]))
    if not by_target:
        return float("nan")
    return float(np.mean([np.mean(hits) for hits in by_target.values()]))


def _has_words(row: dict) -> bool:
    return isinstance(row.get("ref_words"), int) and row["ref_words"] > 0


PAIRED_WITH = "converted"  # the baselines are averaged over the items this system has


def paired_rows(rows: list[dict], converted: dict[str, dict]) -> list[dict]:
    """Copies of a baseline's ``rows`` holding only what the ``converted`` row of the same
    item (``{item_id: row}``) has too: each mean metric, the emotion prediction and the
    words of WER are blanked where the converted output has none (it could not be analysed,
    had no frame voiced in both, no embedding, ...), so that the baseline's means are over the
    same items as the converted system's."""
    nan = float("nan")
    out = []
    for r in rows:
        conv = converted.get(r["item_id"], {})
        r = dict(r)
        for m in MEAN_METRICS:
            if not math.isfinite(_num(conv.get(m))):
                r[m] = nan
        if not conv.get("emotion_pred"):
            r["emotion_pred"], r["emotion_hit"] = "", ""
        if not _has_words(conv):
            r["word_errors"], r["ref_words"] = "", ""
        out.append(r)
    return out


def summarize_paired(rows: list[dict], converted: dict[str, dict]) -> dict:
    """:func:`summarize` of a baseline's ``rows`` over the items the converted system has a
    value for (:func:`paired_rows`), with ``"paired_with": "converted"`` and the means over
    all of its own rows under ``"unpaired"``."""
    return {**summarize(paired_rows(rows, converted)), "paired_with": PAIRED_WITH,
            "unpaired": summarize(rows)}


def coverage_notes(overall: dict, judged: bool = True) -> list[str]:
    """Notes on what each system's means leave out, since the tables show one ``n`` per
    system: outputs that could not be analysed (``judged``: an emotion judge ran, so they
    count as emotion misses), and metrics averaged over fewer items than ``n`` (for a
    baseline paired with the converted system: fewer than the converted system's)."""
    notes = []
    conv = overall.get(PAIRED_WITH, {})
    paired = any(o.get("paired_with") for o in overall.values())
    for system, o in overall.items():
        n, failed = o["n"], o.get("n_failed", 0)
        if failed:
            counted = "they count as emotion misses; " if judged else ""
            also = ("; the baselines' means leave out the same items"
                    if paired and system == PAIRED_WITH else "")
            notes.append(f"{system}: {failed} of {n} outputs could not be analysed (silent, "
                         f"too short or unreadable); {counted}MCD, F0 and speaker similarity "
                         f"leave them out{also}")
        if o.get("n_unjudged", 0) > failed:
            notes.append(f"{system}: the emotion judge could not score "
                         f"{o['n_unjudged'] - failed} analysed output(s); they count as misses")
        metrics = (("MCD", "mcd_db_n"), ("MCD on speech frames", "mcd_speech_db_n"),
                   ("F0 RMSE", "f0_rmse_cents_n"), ("speaker similarity", "spk_sim_source_n"))
        if o.get("paired_with"):  # over the converted system's items, so fewer only if
            parts = [f"{label} over {o.get(key, 0)} of {conv.get(key, 0)}"  # its own lack some
                     for label, key in metrics if 0 < o.get(key, 0) < conv.get(key, 0)]
            if parts:
                notes.append(f"{system}: means over fewer items than {PAIRED_WITH}'s: "
                             + ", ".join(parts) + " (the others have no frame voiced in both, "
                             "too little speech in both, or no speaker embedding)")
            continue
        parts = [f"{label} over {k}" for label, k in (
            (label, o.get(key, 0)) for label, key in metrics) if 0 < k < n - failed]
        if parts:
            also = " (the baselines' means too)" if paired and system == PAIRED_WITH else ""
            notes.append(f"{system}: means over fewer than its {n} items{also}: "
                         + ", ".join(parts) + " (the others have no usable reference, no "
                         "frame voiced in both, too little speech in both, or no speaker "
                         "embedding)")
    return notes


def nonspeech_notes(overall: dict) -> list[str]:
    """A note when, for some system, more than half of the aligned path's steps are on
    average not speech on at least one side (:data:`NONSPEECH_NOTE_SHARE`): its whole-path
    MCD then mostly measures how silences and pauses are rendered, and systems can rank
    otherwise on speech (12 RAVDESS items: the WORLD baseline 1 dB worse than the
    conversions on the whole path, as good on speech frames)."""
    high = [(s, o["nonspeech_share"]) for s, o in overall.items()
            if _num(o.get("nonspeech_share")) > NONSPEECH_NOTE_SHARE]
    if not high:
        return []
    shares = ", ".join(f"{s} {v:.0%}" for s, v in high)
    return [f"most of the aligned path is not speech on at least one side ({shares} of its "
            "steps on average): the whole-path MCD then mostly measures how silences and "
            "pauses are rendered, and can rank the systems otherwise than on speech; compare "
            "them by the MCD on speech frames"]


def aggregate(rows: list[dict], systems: list[str]) -> tuple[dict, list[dict]]:
    """Overall summary per system and the per-(system, target emotion) table; the baselines
    are averaged over the items the converted system has a value for (paired,
    :func:`summarize_paired`), so that a converted output that could not be analysed does
    not leave the converted mean over fewer items than the baselines' next to it.

    Returns:
        ``({system: summary}, [{"system", "target_emotion", **summary}, ...])``.
    """
    by_sys: dict[str, list[dict]] = defaultdict(list)
    by_emo: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        by_sys[r["system"]].append(r)
        by_emo[(r["system"], r["target_emotion"])].append(r)
    baselines = any(s != PAIRED_WITH for s in by_sys)
    converted = {r["item_id"]: r for r in by_sys.get(PAIRED_WITH, [])} if baselines else {}

    def summary(system: str, group: list[dict]) -> dict:
        if system == PAIRED_WITH or not converted:
            return summarize(group)
        return summarize_paired(group, converted)

    overall = {s: summary(s, by_sys[s]) for s in systems if by_sys.get(s)}
    emotions = sorted({r["target_emotion"] for r in rows})
    per_emotion = [{"system": s, "target_emotion": e, **summary(s, by_emo[(s, e)])}
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
