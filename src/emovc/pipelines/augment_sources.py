"""Which clips of a corpus ``emovc augment`` converts: those of the source emotions and
speakers asked for (:func:`select_sources`), with one warning for unlabelled clips left out
or converted from a guessed emotion."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from emovc.data.emotions import EMOTIONS
from emovc.data.manifest import Manifest, Utterance
from emovc.errors import ConfigError, EmovcWarning


def select_sources(manifest: Manifest, emotions: Iterable[str] | None,
                   speakers: Iterable[str] | None) -> Manifest:
    """The utterances of ``manifest`` to convert: those labelled with one of ``emotions``
    (canonical names; ``None``: any, unlabelled too) and spoken by one of ``speakers``
    (``None``: any). Unlabelled utterances left out by ``emotions`` get one
    :class:`~emovc.errors.EmovcWarning`.

    Raises:
        ConfigError: a speaker the corpus does not have, or nothing left to convert.
    """
    chosen = manifest
    if speakers is not None:
        spk = [str(s).strip() for s in as_items(speakers) if str(s).strip()]
        known = manifest.speakers()
        missing = [s for s in spk if s not in known]
        if missing or not spk:
            shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
            what = f"speaker {missing[0]!r} is not in the corpus" if missing else "no speaker given"
            raise ConfigError(f"{what}; the corpus's speakers: {shown}")
        chosen = chosen.filter(speakers=spk)
    if emotions is not None:
        emos = list(dict.fromkeys(emotions))
        unlabelled = sum(1 for u in chosen if not u.emotion)
        chosen = chosen.filter(emotions=emos)
        if unlabelled:
            warnings.warn(f"{unlabelled} clip(s) have no emotion label and are not converted: "
                          f"--only-from {','.join(emos)} selects clips by their label (pass "
                          "--from EMOTION to say what the unlabelled clips are)",
                          EmovcWarning, stacklevel=4)  # augment_corpus's caller
    if not len(chosen):
        n = manifest.counts("emotion")
        have = ", ".join(f"{e or '(unlabelled)'} {n[e]}" for e in (*EMOTIONS, "") if e in n)
        asked = " and ".join(x for x in (
            f"emotion {', '.join(emos)}" if emotions is not None else "",
            f"speaker {', '.join(spk)}" if speakers is not None else "") if x)
        raise ConfigError(f"no clip to convert: none of the corpus's {len(manifest)} clips is "
                          f"of the source {asked} (its clips per emotion: {have})")
    return chosen


def as_items(values: Iterable[str]) -> list[str]:
    """One value or several as a list (a bare string is one value, not its characters)."""
    return [values] if isinstance(values, str) else list(values)


def warn_guessed_sources(utterances: Iterable[Utterance], hint: str = "") -> None:
    """One :class:`~emovc.errors.EmovcWarning` when utterances without an emotion label will
    be converted from an emotion the recogniser guesses (``hint`` added: why the corpus has
    no labels, :func:`~emovc.data.catalogs.unlabelled_hint`)."""
    n = sum(1 for u in utterances if not u.emotion)
    if n:
        warnings.warn(
            f"{n} clip(s) have no emotion label: the emotion each is converted from is guessed "
            "by the emotion recogniser, which was trained on acted RAVDESS speech and is "
            "unmeasured on other corpora (one clip can get a different guess per target); "
            f"pass --from EMOTION (e.g. --from neutral for read speech) when you know it{hint}",
            EmovcWarning, stacklevel=4)  # the caller of augment_corpus
