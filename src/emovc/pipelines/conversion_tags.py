"""Provenance tags of converted files, read back: what an existing output of ``emovc
convert`` was made with (:meth:`~emovc.pipelines.conversion.EmotionConverter.provenance_tag`
wrote it into the file's comment), for a folder conversion that resumes
(:func:`~emovc.pipelines.conversion_batch.convert_paths`) — which outputs it keeps and which
it refuses."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from emovc.audio.io import read_comment
from emovc.errors import OutputExistsError
from emovc.pipelines.run_table import row_path

# the provenance tag EmotionConverter.provenance_tag writes: version, source, the rest
TAG = re.compile(r"emovc \S+: emotion (\S+)->(.+)")
# the rest: target (model[ sha256:digest], intensity ...): the model apart from the settings
# (a tag written before the digest was recorded has the model's name alone)
_REST = re.compile(r"(\S+) \((.*?)(?: sha256:([0-9a-f]+))?, (intensity .*)\)")


@dataclass(frozen=True)
class Made:
    """What an output's tag says it was made with, or what this run would write."""

    rest: str  # the tag after "source->"
    model: str = ""
    digest: str = ""
    settings: str = ""  # target and every setting but the model

    @classmethod
    def of(cls, rest: str) -> Made:
        m = _REST.fullmatch(rest)
        if m is None:
            return cls(rest)
        target, model, digest, settings = m.groups()
        return cls(rest, model, digest or "", f"{target} {settings}")

    def matches(self, tag: Made, names: set[str]) -> bool:
        """Whether an output tagged ``tag`` is what this run makes: the same settings, and
        the same checkpoint digest when both record one, else a model named as one of
        ``names`` (this run's, as typed or canonical)."""
        if not (self.settings and tag.settings):
            return tag.rest == self.rest
        if tag.settings != self.settings:
            return False
        if self.digest and tag.digest:
            return tag.digest == self.digest
        return tag.model in names


def other_outputs(folder: Path, other: list[tuple[Path, str]], ours: str
                   ) -> OutputExistsError:
    """The refusal of existing outputs ``other`` (``(path, why)``, why ``"made <tag>"`` for
    other settings) that a run making ``ours`` (``"source->target (settings)"``) would not
    have made: up to three named, then the first one's settings against this run's, once."""
    def short(path: Path) -> str:
        return path.relative_to(folder).as_posix() if path.is_relative_to(folder) else str(path)

    named = [f"{short(o)} ({'other settings' if why.startswith('made ') else why})"
             for o, why in other[:3]]
    more = f" and {len(other) - 3} more" if len(other) > 3 else ""
    made = next(((o, why) for o, why in other if why.startswith("made ")), None)
    settings = f"; {short(made[0])} was {made[1]}, this run: {ours}" if made else ""
    return OutputExistsError(
        f"{len(other)} output file(s) in {folder} were not made from these inputs with these "
        f"settings: {', '.join(named)}{more}{settings} (use --force to redo them; outputs "
        "are named after their inputs, not the emotion: to keep conversions into each "
        "emotion, use a separate -o per emotion)")


def made_by(out: Path, inp: Path, expected: Made, names: set[str], source: str | None,
             row: dict | None, table: Path) -> tuple[str, str]:
    """``(source emotion, "")`` when ``out`` was converted from ``inp`` with the model and
    settings ``expected`` (:meth:`Made.matches`; ``names``: this run's model names) and
    from ``source``, when one is given, else ``("", why not)``; ``row``: its row in
    ``table``'s table, if any."""
    m = TAG.fullmatch(tag_of(out))
    if m is None:
        return "", "no emovc conversion tag"
    used, rest = m.groups()
    if not expected.matches(Made.of(rest), names) or (source is not None and used != source):
        return "", f"made {used}->{rest}"
    listed = row["source"].strip() if row is not None else ""
    if listed and not same_file(row_path(table, row, "source"), inp):
        return "", f"converted from {listed}"
    return ("" if used == "?" else used), ""


def same_file(listed: str, inp: Path) -> bool:
    """Whether the table's ``listed`` source is ``inp``, however either is reached (a
    symlinked folder, ``..``, a relative spelling): their resolved paths, or the same file."""
    if os.path.realpath(listed) == os.path.realpath(inp):
        return True
    try:
        return os.path.samefile(listed, inp)
    except OSError:  # the listed input is gone: only its path can be compared
        return False


def tag_of(path: Path) -> str:
    """The provenance tag of an audio file (``""``: none, or not a readable audio file)."""
    try:
        return read_comment(path)
    except (RuntimeError, OSError):  # soundfile's LibsndfileError is a RuntimeError
        return ""
