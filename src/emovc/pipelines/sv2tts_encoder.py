"""The speaker encoder of an SV2TTS synthesizer: the bundled one, or a retrained GE2E model
whose weights the synthesizer's checkpoint keeps.

A synthesizer learns to read the embeddings of one encoder, so cloning must embed the
references with that same encoder. ``emovc train-voice synthesizer --set
encoder=RUN/model.pt`` (the ``model.pt`` of ``emovc train-voice encoder``) chooses it
(:func:`choose_encoder`: the synthesizer's corpus is embedded with it), and the trained
``synthesizer.pt`` records it under ``extra["encoder"]`` as plain data
(:meth:`EncoderChoice.record`; it loads with ``weights_only=True``)::

    {"name": "runs/ge2e/model.pt", "sha256": "<hex digest of that file>",
     "config": {...GE2EConfig...}, "state_dict": {name: tensor}}

— about 6 MB for a 256-wide encoder — or ``{"name": "resemblyzer"}`` for the bundled one. A
voice folder therefore stays self-contained: :meth:`~emovc.pipelines.sv2tts.NeuralCloner.
from_folder` embeds with what ``synthesizer.pt`` records (:func:`recorded_encoder`; a
synthesizer without the record was trained on the bundled encoder).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from emovc.errors import ConfigError
from emovc.fileio import file_sha256
from emovc.models.speaker_encoder import GE2EConfig

if TYPE_CHECKING:  # pragma: no cover
    from emovc.pipelines.speaker import SpeakerEncoder

BUNDLED = "resemblyzer"
#: setting values that choose the bundled encoder (besides ``None``)
BUNDLED_NAMES = (BUNDLED, "default")
HINT = ("give the model.pt of emovc train-voice encoder, or leave the setting out for the "
        "bundled encoder")


def read_checkpoint(path: str | os.PathLike, kind: str) -> tuple[dict, str]:
    """``(checkpoint, sha256 of its file)`` of a ``kind`` checkpoint, read once per version
    of the file (path, size, modification time): a recipe checks its ``encoder`` or ``gta``
    file when its config is built, again when it trains and when it loads the corpus, and
    each read loaded and hashed the whole file.

    Raises:
        ConfigError: as :func:`emovc.models.checkpoint.load_checkpoint` (not cached).
    """
    from emovc.models.checkpoint import checkpoint_file

    path = checkpoint_file(path)  # a run folder: its model.pt
    try:
        st = os.stat(path)
    except OSError:  # no such file: load_checkpoint says so in its own words
        st = None
    if st is None:
        from emovc.models.checkpoint import load_checkpoint

        return load_checkpoint(path, kind), ""  # raises
    return _read_checkpoint(str(path), os.path.realpath(path), st.st_size, st.st_mtime_ns, kind)


@functools.lru_cache(maxsize=2)
def _read_checkpoint(path: str, real: str, size: int, mtime_ns: int, kind: str,
                     ) -> tuple[dict, str]:
    """Cached by the file (``real``: its resolved path; size, time) and the path as given,
    which its messages name."""
    from emovc.models.checkpoint import load_checkpoint

    return load_checkpoint(path, kind), file_sha256(path)


@dataclass
class EncoderChoice:
    """A speaker encoder a synthesizer is trained on: the bundled one (the defaults) or a
    retrained checkpoint's data.

    Attributes:
        name: ``"resemblyzer"`` or the checkpoint path as it was given (informative only).
        sha256: hex digest of the checkpoint file (``""`` for the bundled encoder).
        config: the encoder's :class:`~emovc.models.speaker_encoder.GE2EConfig` as a dict.
        state_dict: its weights (``None``: the bundled encoder).
    """

    name: str = BUNDLED
    sha256: str = ""
    config: dict | None = None
    state_dict: dict | None = field(default=None, repr=False)

    @property
    def bundled(self) -> bool:
        """Whether this is the bundled resemblyzer encoder."""
        return self.state_dict is None

    @property
    def identity(self) -> str:
        """What the embeddings depend on: ``"resemblyzer"`` or ``"sha256:<hex>"`` (for cache
        keys; the bundled encoder's keeps the name earlier caches were keyed by)."""
        return BUNDLED if self.bundled else f"sha256:{self.sha256}"

    @property
    def embedding(self) -> int:
        """Embedding size ``D`` (256 for the bundled encoder)."""
        return GE2EConfig(**(self.config or {})).embedding

    def describe(self) -> str:
        """``"the bundled speaker encoder"`` or ``"the speaker encoder NAME"``."""
        return "the bundled speaker encoder" if self.bundled else f"the speaker encoder {self.name}"

    def load(self) -> SpeakerEncoder:
        """The encoder, ready to embed (CPU, eval mode).

        Raises:
            ConfigError: recorded weights that do not fit its config.
        """
        from emovc.pipelines.speaker import SpeakerEncoder

        if self.bundled:
            return SpeakerEncoder.from_pretrained(BUNDLED)
        try:
            return SpeakerEncoder.from_checkpoint({"config": self.config,
                                                   "state_dict": self.state_dict})
        except ConfigError as exc:
            raise ConfigError(f"speaker encoder {self.name}: {exc}") from None

    def record(self) -> dict:
        """Plain data for a synthesizer checkpoint's ``extra["encoder"]`` (module docstring)."""
        if self.bundled:
            return {"name": BUNDLED}
        return {"name": self.name, "sha256": self.sha256, "config": dict(self.config or {}),
                "state_dict": dict(self.state_dict or {})}


def choose_encoder(setting: str | os.PathLike | None, what: str) -> EncoderChoice:
    """The encoder a synthesizer's ``encoder`` setting names: ``None``, ``"resemblyzer"`` or
    ``"default"`` (the bundled one), or the path of a ``speaker-encoder/ge2e`` checkpoint
    (read and checked here: call it before any corpus work).

    Raises:
        ConfigError: one line naming ``what``'s setting: not a string, no such file, not an
            emovc checkpoint, a checkpoint of another kind, or weights that do not fit.
    """
    from emovc.pipelines.speaker import KIND, SpeakerEncoder

    if setting is None or str(setting) in BUNDLED_NAMES:
        return EncoderChoice()
    if not isinstance(setting, (str, os.PathLike)) or not str(setting):
        raise ConfigError(f"{what} setting encoder must be the path of a speaker encoder's "
                          f"model.pt, got {setting!r}; {HINT}")
    try:
        ckpt, sha256 = read_checkpoint(setting, KIND)
        SpeakerEncoder.from_checkpoint(ckpt)
    except ConfigError as exc:
        raise ConfigError(f"{what} setting encoder: {exc}; {HINT}") from None
    return EncoderChoice(str(setting), sha256, dict(ckpt["config"]), dict(ckpt["state_dict"]))


def recorded_encoder(extra: dict, where: str = "synthesizer.pt") -> EncoderChoice:
    """The encoder a synthesizer checkpoint's ``extra`` records (none: the bundled one).

    Raises:
        ConfigError: a record that is not the plain data :meth:`EncoderChoice.record` writes.
    """
    rec = extra.get("encoder")
    if rec is None or (isinstance(rec, dict) and rec.get("name") in BUNDLED_NAMES
                       and "state_dict" not in rec):
        return EncoderChoice()
    if (not isinstance(rec, dict) or not isinstance(rec.get("config"), dict)
            or not isinstance(rec.get("state_dict"), dict)):
        raise ConfigError(f"{where} records its speaker encoder without the encoder's config "
                          "and weights; train the synthesizer again with emovc")
    return EncoderChoice(str(rec.get("name", "")), str(rec.get("sha256", "")),
                         dict(rec["config"]), dict(rec["state_dict"]))
