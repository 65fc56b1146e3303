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
