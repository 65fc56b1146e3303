"""What a run's ``config.yaml`` records of its inputs beyond its settings, so that a resumed
run is checked against them: the sha256 of a file a setting names (a speaker encoder that may
be retrained under the same path; :func:`record_file_hash`) and the corpus layout the corpus is
read with (:func:`record_corpus_layout`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emovc.errors import ConfigError


def record_file_hash(data: dict, setting: str, sha256: str, resume: bool, cli: bool,
                     what: str, why: str) -> dict:
    """``data`` (a run's settings, as its ``config.yaml`` records them) with the sha256 of the
    file its setting ``setting`` names, as ``<setting>_sha256``: the file may be replaced
    under the same path (a speaker encoder retrained into its ``model.pt``), which the path
    alone does not show. A resumed run must find the file it started with.

    Args:
        data: the run's settings (``data["run_dir"]``: its folder; ``data[setting]``: the path).
        setting: ``"encoder"``, ``"gta"``.
        sha256: hex digest of the file now.
        resume: the run resumes what its folder holds (else nothing is compared).
        cli: the message names ``-o``/``--force`` (else ``run_dir``/``resume=False``).
        what: the file, for the message (``"the speaker encoder"``).
        why: what resuming would do (``"the synthesizer would go on learning another
            encoder's embeddings"``).

    Returns:
        ``data`` with the hash added; unchanged for a run folder whose ``config.yaml``, written
        by an earlier emovc, records no hash (resumed unchecked, as before).

    Raises:
        ConfigError: the folder's run names the same file, with another sha256 (one line
            saying what changed and that ``--force`` starts the run afresh).
    """
    from emovc.training.run_dir import FORCE_HINT, PYTHON_FORCE_HINT, saved_config

    key = f"{setting}_sha256"
    root = Path(str(data["run_dir"]))
    # none, or not a run's: the run folder checks say what it is
    old = saved_config(root) if resume else None
    if isinstance(old, dict) and "max_steps" in old and key not in old:
        return data  # a run of an earlier emovc
    if (isinstance(old, dict) and old.get(key) != sha256 and old.get(key) is not None
            and _same_path(old.get(setting), data.get(setting))):
        hint = FORCE_HINT if cli else PYTHON_FORCE_HINT
        raise ConfigError(f"run folder {root} was started with {what} {data[setting]} of "
                          f"sha256 {str(old[key])[:12]}, and that file has changed since "
                          f"(sha256 {sha256[:12]}): {why}; {hint}")
    return {**data, key: sha256}



def record_corpus_layout(data: dict, resume: bool) -> dict:
    """``data`` (a run's settings) with its ``corpus`` setting as the layout the corpus is
    read with (:func:`~emovc.data.catalogs.corpus_layout`: ``auto`` resolved to the one
    detected), so that ``--corpus libritts`` and ``auto`` name one corpus on resume, and a
    layout other than the run's is refused (:func:`~emovc.training.run_dir.claim_run_dir`).
    A run folder of an earlier emovc, whose ``config.yaml`` records no layout (it always
    detected it), gets ``data`` without one when the layout is the detected one (resumed as
    before), and is refused naming ``corpus`` otherwise."""
    from emovc.data.catalogs import corpus_layout
    from emovc.training.run_dir import saved_config

    layout = corpus_layout(data["corpus"], data["data_dir"])
    old = saved_config(str(data["run_dir"])) if resume else None
    if (isinstance(old, dict) and "max_steps" in old and "corpus" not in old
            and layout == corpus_layout("auto", data["data_dir"])):
        return {k: v for k, v in data.items() if k != "corpus"}
    return {**data, "corpus": layout}


def _same_path(a: Any, b: Any) -> bool:
    """Whether two path settings name one file (both unset: the same too)."""
    if not a or not b:
        return not a and not b
    return Path(str(a)).resolve() == Path(str(b)).resolve()
