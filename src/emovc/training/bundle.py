"""Bundle a trained converter into ``src/emovc/pretrained/<name>/`` with its model card.

``bundle(model_pt, name, metrics_json=None, reproduce="...")`` copies the checkpoint, writes
``card.md`` (data, license, training steps/time, measured metrics, reproduce command) and
``meta.json`` (kind, checksum, summary) via :func:`emovc.pretrained.registry.write_meta`.
"""

from __future__ import annotations

import json
from pathlib import Path

from emovc.fileio import copy_atomic, write_atomic
from emovc.models.checkpoint import load_checkpoint
from emovc.pretrained.registry import ROOT, write_meta

LICENSE = ("Trained on RAVDESS (Livingstone & Russo 2018, PLoS ONE 13(5): e0196391), "
           "licensed CC BY-NC-SA 4.0: this model is a derivative work under the same terms "
           "(attribution, non-commercial, share-alike).")


def _metrics_table(table: dict, systems: list[str]) -> str:
    cols = ["all", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    keys = (("rate", "emotion rate", "{:.0%}"),
            ("rate_e", "emotion rate, judge-E mirror (raw level)", "{:.0%}"),
            ("mcd", "MCD dB", "{:.2f}"),
            ("f0", "log-F0 RMSE cents", "{:.0f}"), ("spk", "spk-sim", "{:.3f}"))
    lines = ["| system | metric | " + " | ".join(cols) + " |", "|---" * (len(cols) + 2) + "|"]
    for name in systems:
        if name not in table:
            continue
        t = table[name]
        for key, label, fmt in keys:
            v = t.get("all", {}).get(key)
            if v is not None and v == v:  # present and not NaN
                vals = [fmt.format(t[c][key]) if c in t and key in t[c] else "–" for c in cols]
                vals = ["–" if x == "nan" else x for x in vals]
                lines.append(f"| {name} | {label} | " + " | ".join(vals) + " |")
    return "\n".join(lines)


def _spectrogan_info(extra: dict) -> dict:
    """The card's training facts from a SpectroGAN checkpoint (its ``train`` config)."""
    train = extra.get("train", {})
    return {"train_speakers": [f"{int(a):02d}" for a in train.get("train_actors", [])],
            "steps": extra.get("iterations", "?"), "seconds": extra.get("train_seconds", 0),
            "preset": train.get("preset", "?")}


def bundle(model_pt: str | Path, name: str, summary: str, method: str, reproduce: str,
           metrics_json: str | Path | None = None, notes: str = "",
           inference: dict | None = None) -> Path:
    """Copy ``model_pt`` into the package and write its card; returns the folder.
    ``inference``: the model's default inference settings (``meta.json``), e.g.
    ``{"pitch_level": 0.5}``."""
    ck = load_checkpoint(model_pt)
    info = ck["extra"].get("training") or _spectrogan_info(ck["extra"])
    emotions = ck["extra"].get("emotions") or ck["config"].get("emotions", [])
    folder = ROOT / name
    folder.mkdir(parents=True, exist_ok=True)
    copy_atomic(model_pt, folder / "model.pt")
    size_mb = (folder / "model.pt").stat().st_size / 1e6
    metrics = ""
    if metrics_json:
        table = json.loads(Path(metrics_json).read_text(encoding="utf-8"))
        metrics = _metrics_table(table, list(table))
    card = f"""# {name}

{summary}

- **Kind**: `{ck['kind']}` — {method}
- **Emotions**: {', '.join(emotions)}
- **Training data**: RAVDESS speech, actors {', '.join(info.get('train_speakers', []))}
  (16 kHz FLAC copy); validation actors 17-20 were never trained on.
- **Training**: {info.get('steps', '?')} generator steps, {info.get('seconds', 0) / 60:.0f} min of
  training-step wall time on a shared 2-core CPU (preset `{info.get('preset', '?')}`).
- **File**: {size_mb:.1f} MB (weights + normalisation statistics).
- **License**: {LICENSE}

## Measured on unseen speakers (RAVDESS actors 17-20)

Protocol: every calm take converted to each target emotion and compared with the real take of
the same speaker, sentence, intensity and repetition (`benchmarks/bench_conversion.py`).

{metrics or '(not measured)'}

{notes}

## Reproduce

```
{reproduce}
```
"""
    write_atomic(folder / "card.md", card)
    write_meta(folder, ck["kind"], summary, inference)
    return folder
