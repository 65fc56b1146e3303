"""What each :class:`~emovc.app.services.AppBackend` operation returns to the UI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure


@dataclass(frozen=True)
class ConvertResult:
    """Output of one conversion: file, figure, timing and a one-line summary."""

    output: Path
    figure: Figure
    seconds: float
    source: str | None
    summary: str


@dataclass(frozen=True)
class RecogniseResult:
    """Emotion probabilities, their bar chart and a one-line summary."""

    probabilities: dict[str, float]
    figure: Figure
    summary: str


@dataclass(frozen=True)
class CloneResult:
    """Cloned speech, speaker similarity to the reference, and the embedding map."""

    output: Path
    similarity: float
    figure: Figure
    seconds: float
    summary: str


@dataclass(frozen=True)
class EvaluateResult:
    """The evaluation report and its data files (``metrics.json``, ``per_utterance.csv``,
    ``per_emotion.csv``; inside the work dir), and the listening-test page address (``None``:
    the test could not start)."""

    report: Path
    listening_url: str | None
    summary: str
    data: tuple[Path, ...] = ()


@dataclass(frozen=True)
class ListeningResult:
    """A listening test's answers so far: a copy of its ratings CSV to download (``None``
    before the first answer) and their summary (``emovc listen-summary``'s table)."""

    ratings: Path | None
    summary: str
