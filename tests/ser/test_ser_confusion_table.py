"""The confusion table that benchmarks/bench_ser.py prints (row-normalised percentages)."""

from __future__ import annotations

import numpy as np

from emovc.models.ser.metrics import classification_report, confusion_markdown


def test_confusion_markdown_rows_are_percent_of_each_true_class():
    """Rows are true classes, columns predictions, each row in % of its class (rounded); a
    class with no clips is a row of zeros, not a division by zero."""
    y = np.array([0, 0, 0, 0, 1, 1, 1])
    pred = np.array([0, 0, 0, 1, 1, 1, 0])
    rep = classification_report(y, np.eye(3)[pred], ("calm", "angry", "sad"))
    assert confusion_markdown(rep).splitlines() == [
        "| true \\ predicted | calm | angry | sad |",
        "|---|---|---|---|",
        "| **calm** | 75 | 25 | 0 |",
        "| **angry** | 33 | 67 | 0 |",
        "| **sad** | 0 | 0 | 0 |",
    ]
