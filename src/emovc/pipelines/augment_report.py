"""What an ``emovc augment`` run did (:class:`AugmentReport`, returned by
:func:`~emovc.pipelines.augment.augment_corpus`) and its summary lines: the counts of the run
and the manifest's real and synthetic clips per emotion."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from emovc.data.emotions import EMOTIONS
from emovc.pipelines.augment_balance import Balance


@dataclass
class AugmentReport:
    """What an augmentation run did."""

    out_dir: Path
    converted: int = 0
    reused: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    # (path, reason) of good clips not converted (the model cannot start from their emotion)
    notes: list[tuple[str, str]] = field(default_factory=list)
    # (output path, what was wrong) of existing outputs found damaged and converted again
    redone: list[tuple[str, str]] = field(default_factory=list)
    # (output path, reason) of damaged outputs of targets not asked this time: not listed
    left_out: list[tuple[str, str]] = field(default_factory=list)
    manifest: Path | None = None
    table: Path | None = None  # conversions.csv
    # the manifest's clips per emotion: {emotion ("" unlabelled): (real, synthetic)}
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    temporaries_removed: int = 0  # stale temporary files of killed runs deleted
    balance: Balance | None = None  # what a balanced run aimed at (None: every clip converted)

    @property
    def failed_inputs(self) -> int:
        """Number of distinct input files with at least one failure."""
        return len({path for path, _ in self.failures})

    def summary(self) -> str:
        """Counts of the run, then the manifest's real + synthetic clips per emotion."""
        kept = (f"{len(self.notes)} real clip(s) in emotions the model does not convert from "
                "(listed in failures.csv), " if self.notes else "")
        if self.left_out:
            kept += (f"{len(self.left_out)} damaged output(s) of other targets left out "
                     "(listed in failures.csv), ")
        redone = (f" ({len(self.redone)} of them damaged outputs converted again)"
                  if self.redone else "")
        lines = [f"{self.converted} converted{redone}, {self.reused} already present, "
                 f"{len(self.failures)} failed ({self.failed_inputs} input file(s)); {kept}"
                 f"manifest: {self.manifest}"]
        if self.temporaries_removed:
            lines[0] += (f"; {self.temporaries_removed} stale temporary file(s) of a killed run "
                         "removed")
        if self.counts:
            lines.append(balance_line(self.counts))
        if self.balance is not None:
            lines.append(self.balance.line(self.counts))
        return "\n".join(lines)


def balance_line(counts: dict[str, tuple[int, int]]) -> str:
    """``"clips per emotion in the manifest, real + synthetic: neutral 4+0, happy 0+10, ..."``
    (canonical order, unlabelled clips last), naming the emotions with only synthetic clips
    and those with over :data:`IMBALANCE` times more synthetic than real ones: a recogniser
    trained on the manifest as it is learns them mostly from converted speech."""
    order = [e for e in (*EMOTIONS, "") if e in counts]
    parts = [f"{e or '(unlabelled)'} {counts[e][0]}+{counts[e][1]}" for e in order]
    line = "clips per emotion in the manifest, real + synthetic: " + ", ".join(parts)
    only = [e for e in order if e and counts[e][1] and not counts[e][0]]
    if only:
        line += f"; {', '.join(only)}: synthetic clips only"
    ratios = {e: counts[e][1] / counts[e][0] for e in order if e and counts[e][0]}
    over = [e for e, r in ratios.items() if r > IMBALANCE]
    if over:
        line += (f"; {', '.join(over)}: more synthetic than real clips (up to "
                 f"{max(ratios[e] for e in over):.1f}x)")
    return line


IMBALANCE = 2.0  # synthetic per real clips of an emotion beyond which the summary names it
