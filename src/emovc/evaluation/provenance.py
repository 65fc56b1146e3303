"""What produced an evaluation's numbers: the judges' model files and the versions of the
libraries behind the metrics (``metrics.json``'s ``"provenance"``), so numbers can be tied to
a model after the bundled one changes."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from emovc.errors import EmovcError
from emovc.fileio import file_sha256

#: distributions whose versions change the numbers: WORLD (MCD, F0), SPTK, the speaker
#: encoder's and the ASR's packages, the resampler and torch (recogniser, speaker encoder)
PACKAGES = ("emovc", "pyworld", "pysptk", "resemblyzer", "pocketsphinx", "soxr", "numpy",
            "torch")


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """``{distribution: installed version}`` (``None`` where it is not installed; emovc's is
    the running code's, ``emovc.__version__``)."""
    from emovc import __version__

    out: dict[str, str | None] = {}
    for name in packages:
        if name == "emovc":
            out[name] = __version__
            continue
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def model_file(path: Path, name: str) -> dict:
    """``{"name", "path", "sha256"}`` of a model file (the full hex digest)."""
    return {"name": name, "path": str(path), "sha256": file_sha256(path)}


def recognizer_identity(name_or_path: str) -> dict | None:
    """The checkpoint an emotion recogniser named ``name_or_path`` loads from (bundled name or
    ``"default"``, or a path): its name (the bundled model's for a bundled one), path and
    sha256; ``None`` when it cannot be resolved (the run notes why)."""
    from emovc.pipelines.recognition import ALIASES, KIND
    from emovc.pretrained.registry import ROOT, resolve

    try:
        path = resolve(ALIASES.get(name_or_path, name_or_path), kind=KIND, verify=False)
    except EmovcError:
        return None
    path = Path(path)
    bundled = path.resolve().parent.parent == ROOT
    return model_file(path, path.parent.name if bundled else str(name_or_path))


def speaker_encoder_identity(name_or_path: str) -> dict | None:
    """The weights a speaker encoder named ``name_or_path`` loads (``"resemblyzer"``: the file
    in resemblyzer's wheel; else a ``.pt`` or a run folder's ``model.pt``), as
    :func:`model_file`; ``None`` when they cannot be found."""
    from emovc.pipelines.speaker import ALIASES, BUNDLED, resemblyzer_weights

    name = ALIASES.get(str(name_or_path), str(name_or_path))
    try:
        path = resemblyzer_weights() if name == BUNDLED else Path(name)
    except EmovcError:
        return None
    path = path / "model.pt" if path.is_dir() else path
    return model_file(path, name) if path.is_file() else None


def provenance(recognizer: str | None, judge_class: str | None, speaker_encoder: str | None,
               ) -> dict:
    """``{"recognizer", "speaker_encoder", "versions"}`` of a run: ``recognizer`` the name or
    path emovc loaded the judge from (``None``: no judge, or ``judge_class``, the class of
    one passed by the caller, whose files emovc does not know), ``speaker_encoder`` the
    encoder's name or path (``None``: no speaker similarity)."""
    if recognizer is not None:
        judge = recognizer_identity(recognizer)
    elif judge_class is not None:
        judge = {"name": f"passed by the caller ({judge_class})", "path": None, "sha256": None}
    else:
        judge = None
    return {"recognizer": judge,
            "speaker_encoder": (speaker_encoder_identity(speaker_encoder)
                                if speaker_encoder is not None else None),
            "versions": package_versions()}
