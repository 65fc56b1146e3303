"""The report's and the speaker map's figures leave the caller's matplotlib backend alone."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import sys
import matplotlib
import numpy as np
from emovc.evaluation import plots
from emovc.pipelines.speaker import embedding_map

plots.confusion_plot({"converted": {"labels": ["angry", "sad"], "matrix": [[2, 1], [0, 3]]}},
                     {})
embedding_map(np.random.default_rng(0).normal(size=(4, 8)), list("aabb"),
              sys.argv[1], method="pca")
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
"""


def test_figures_keep_the_backend_and_do_not_use_pyplot(tmp_path) -> None:
    """evaluation/plots.py called matplotlib.use("Agg") on import (a notebook user's
    backend switched) and both used pyplot, whose figure registry is not thread-safe (the app
    builds reports in request threads)."""
    env = {**os.environ, "MPLBACKEND": "svg"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "map.png")], env=env,
                          capture_output=True, text=True, timeout=300, check=True)
    assert done.stdout.split() == ["svg", "False"]
    assert (tmp_path / "map.png").stat().st_size > 0
