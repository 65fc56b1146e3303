"""Classification metrics used to report SER results."""

from __future__ import annotations

import numpy as np


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts ``(C, C)``: rows = true class, columns = predicted class."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def classification_report(y_true: np.ndarray, proba: np.ndarray,
                          labels: tuple[str, ...]) -> dict:
    """Unweighted accuracy (mean per-class recall over classes present), weighted accuracy
    (plain accuracy), macro-F1 and the confusion matrix, as plain data.

    Args:
        y_true: true class indices ``(N,)``.
        proba: class probabilities or scores ``(N, C)``.
        labels: class names ``(C,)``.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(proba).argmax(axis=1)
    cm = confusion(y_true, y_pred, len(labels))
    support = cm.sum(axis=1)
    present = support > 0
    recall = np.divide(np.diag(cm), support, out=np.zeros(len(labels)), where=present)
    predicted = cm.sum(axis=0)
    precision = np.divide(np.diag(cm), predicted, out=np.zeros(len(labels)),
                          where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(len(labels)), where=denom > 0)
    return {
        "n": int(len(y_true)),
        "unweighted_accuracy": float(recall[present].mean()) if present.any() else 0.0,
        "weighted_accuracy": float((y_pred == y_true).mean()) if len(y_true) else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "recall": {lab: float(r) for lab, r, p in zip(labels, recall, present, strict=True) if p},
        "labels": list(labels),
        "confusion": cm.tolist(),
    }


def confusion_markdown(report: dict) -> str:
    """The report's confusion matrix as a markdown table (row-normalised percentages)."""
    labels, cm = report["labels"], np.asarray(report["confusion"], dtype=np.float64)
    rows = ["| true \\ predicted | " + " | ".join(labels) + " |",
            "|---" * (len(labels) + 1) + "|"]
    for lab, row in zip(labels, cm, strict=True):
        pct = 100 * row / max(row.sum(), 1)
        rows.append(f"| **{lab}** | " + " | ".join(f"{v:.0f}" for v in pct) + " |")
    return "\n".join(rows)
