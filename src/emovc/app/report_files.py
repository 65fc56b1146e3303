"""The app's evaluation reports without server paths.

``emovc evaluate`` names every file by its full path: in the report's tooltips, in
``metrics.json`` (each row's audio, source and reference, and the judges' model files) and in
``per_utterance.csv``. The app hands these files to the browser, which must not see where the
app keeps its files or where Python is installed: they name a file of the work dir by its
path inside it (``runs/upload-3f2a1b9c/conv0.wav``), and an installed file by its path inside
its package (``resemblyzer/pretrained.pt``; :func:`~emovc.app.limits.hide_installed_paths`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from markupsafe import escape

from emovc.app.limits import installed_folders
from emovc.fileio import write_atomic

REPORT_FILES = ("report.html", "metrics.json", "per_utterance.csv", "per_emotion.csv")
"""What ``emovc evaluate`` writes into its report folder (the audio copies aside)."""


def _without(value: object, folders: list[str]) -> object:
    """``value`` (parsed JSON) with ``folders`` taken out of every string."""
    if isinstance(value, str):
        for folder in folders:
            value = value.replace(folder, "")
        return value
    if isinstance(value, list):
        return [_without(v, folders) for v in value]
    if isinstance(value, dict):
        return {k: _without(v, folders) for k, v in value.items()}
    return value


def _hidden(name: str, text: str, folders: list[str]) -> str:
    """The text of report file ``name`` without ``folders``: ``metrics.json`` parsed and
    written again as ``emovc evaluate`` writes it (one-space indent, no NaN); the others as
    their paths are written, raw in a CSV (a quote doubled) and HTML-escaped in the report."""
    if name == "metrics.json":
        try:
            return json.dumps(_without(json.loads(text), folders), indent=1, allow_nan=False)
        except json.JSONDecodeError:  # not emovc evaluate's: its paths as JSON writes them
            forms = [json.dumps(folder)[1:-1] for folder in folders]
    else:
        forms = [form for folder in folders
                 for form in dict.fromkeys([str(escape(folder)), folder.replace('"', '""'),
                                            folder])]
    for form in forms:
        text = text.replace(form, "")
    return text


def hide_report_paths(report_dir: Path, root: Path) -> None:
    """Rewrite the report files in ``report_dir`` (:data:`REPORT_FILES`, atomically) so that
    a file inside the work dir ``root`` is named by its path relative to ``root`` and an
    installed file (a judge's model: its SHA-256 still identifies it) by its path inside
    its package, also within a message (a file that failed)."""
    folders = [str(root).rstrip("/\\") + os.sep, *installed_folders()]
    for name in REPORT_FILES:
        path = report_dir / name
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            new = _hidden(name, text, folders)
            if new != text:
                write_atomic(path, new)
