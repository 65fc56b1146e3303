"""benchmarks/exp_augmentation.py: its SER fits are configured on the ``--data`` corpus."""

import argparse
import importlib.util
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load_script(monkeypatch):
    # the benchmarks are scripts, not a package: load it by its path (it imports _data)
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("exp_augmentation",
                                                  BENCHMARKS / "exp_augmentation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _NoFeatures:
    def get(self, paths, variant="original", synthetic=False):
        return [{} for _ in paths]


def test_fits_are_configured_on_the_data_argument(monkeypatch, tmp_path):
    """fit() built its SER config on the default data folder whatever --data said."""
    script = _load_script(monkeypatch)
    seen = []
    monkeypatch.setattr(script, "fit_model", lambda cfg, *a, **k: seen.append(cfg))
    args = argparse.Namespace(method="linear", feature_set="compare", data=tmp_path / "rav")
    script.fit(_NoFeatures(), [], [], "real", 3, script.ser_recipe(args))
    cfg = seen[0]
    assert cfg.data_dir == str(tmp_path / "rav") != str(script.DATA)
    assert (cfg.seed, cfg.method, cfg.feature_set) == (3, "linear", "compare")


class _PathFeatures:
    """Each clip's "features" are its (path, variant): what a fit was given, in order."""

    def get(self, paths, variant="original", synthetic=False):
        return [(p, variant) for p in paths]


def _extra_rows(n_sources=6):
    """Converted rows of an extra corpus as ``augment_corpus`` lists them: each source clip
    (taken as neutral) converted into the seven other emotions."""
    targets = ("calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
    return [{"path": f"x/{t}/spk{k}.wav", "emotion": t, "speaker": f"spk{k}",
             "source_path": f"src/spk{k}.flac", "source_emotion": "neutral"}
            for k in range(n_sources) for t in targets]


def _fitted(script, monkeypatch, condition, seed, conv):
    seen = {}

    def fake_fit_model(cfg, labels, x, y, groups, *a, **k):
        seen.update(x=list(x), y=[labels[i] for i in y])

    monkeypatch.setattr(script, "fit_model", fake_fit_model)
    args = argparse.Namespace(method="cnn", feature_set="egemaps", data=Path("rav"))
    _, n = script.fit(_PathFeatures(), [], conv, condition, seed, script.ser_recipe(args))
    assert n == len(seen["y"])
    return seen["x"], seen["y"]


def test_shuffled_control_has_the_converted_clips_with_permuted_labels(monkeypatch):
    """real+xshuf: the clips and class counts of real+xconv, the conversions' labels permuted
    (fixed per seed); the WORLD copies of the sources keep their source emotion."""
    script = _load_script(monkeypatch)
    conv = _extra_rows()
    x_conv, y_conv = _fitted(script, monkeypatch, "real+xconv", 3, conv)
    x_shuf, y_shuf = _fitted(script, monkeypatch, "real+xshuf", 3, conv)
    assert x_shuf == x_conv and len(x_conv) == len(conv) + 6
    assert sorted(y_shuf) == sorted(y_conv)
    n = len(conv)
    assert y_shuf[:n] != y_conv[:n]  # the converted clips' labels are permuted ...
    assert y_shuf[n:] == y_conv[n:] == ["neutral"] * 6  # ... not those of the WORLD copies
    assert [r["emotion"] for r in conv] == y_conv[:n]  # the caller's rows are not changed
    assert _fitted(script, monkeypatch, "real+xshuf", 3, conv)[1] == y_shuf  # fixed per seed
    assert _fitted(script, monkeypatch, "real+xshuf", 4, conv)[1] != y_shuf


def test_shuffled_control_is_compared_with_the_conversions(monkeypatch):
    """The printed comparisons pair real+xconv with its shuffled-label control."""
    script = _load_script(monkeypatch)
    results = [{"setting": "low-resource", "seed": s, "condition": c, "n_train": 240,
                "utterance/unweighted_accuracy": 0.3 + 0.01 * s + d,
                "utterance/macro_f1": 0.3 + 0.02 * s + d}
               for s in range(3) for c, d in (("real", 0.0), ("real+xworld", 0.01),
                                              ("real+xshuf", 0.02), ("real+xconv", 0.05))]
    stats, md = script.comparisons(results)
    key = "low-resource|utterance/macro_f1|real+xconv vs real+xshuf"
    assert abs(stats[key]["mean"] - 0.03) < 1e-9 and stats[key]["wins"] == 3
    assert "real+xshuf vs real+xworld" in md and "real+xshuf vs real" in md
    assert "| real+xshuf |" in script.table(results, "utterance")
