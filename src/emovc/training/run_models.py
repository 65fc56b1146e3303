"""The record of the ``model.pt`` files a run folder's trainer wrote (SV2TTS runs).

``RUN_DIR/model_sha256.json`` holds ``{"sha256": [hex, ...]}``: the SHA-256 of every
``model.pt`` the synthesizer and vocoder trainers wrote into the folder, oldest first. A voice
folder's model whose hash is listed is an earlier export of that run, even after the run was
extended without ``--export`` (:func:`emovc.training.sv2tts.own_export`). A fresh start
(``--force``) removes the record with the run's other outputs
(:data:`emovc.training.run_dir.RUN_ONLY`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from emovc.fileio import file_sha256, write_atomic

MODELS_FILE = "model_sha256.json"


def recorded_models(run_dir: str | os.PathLike) -> list[str]:
    """The SHA-256 digests of the ``model.pt`` files recorded in ``run_dir`` (empty: no
    record, as in runs made before it existed, or one that cannot be read)."""
    try:
        data = json.loads((Path(run_dir) / MODELS_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return []
    listed = data.get("sha256") if isinstance(data, dict) else None
    return [h for h in listed if isinstance(h, str)] if isinstance(listed, list) else []


def record_model(model_pt: str | os.PathLike) -> Path:
    """Add the SHA-256 of ``model_pt`` to the record of its run folder (written atomically);
    returns ``Path(model_pt)``."""
    path = Path(model_pt)
    digests = recorded_models(path.parent)
    digest = file_sha256(path)
    if digest not in digests:
        text = json.dumps({"sha256": [*digests, digest]}, indent=1) + "\n"
        write_atomic(path.parent / MODELS_FILE, text)
    return path
