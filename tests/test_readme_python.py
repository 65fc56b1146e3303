"""The README's Python section runs as written (its file names given synthetic speech)."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import soundfile as sf

from emovc.data.synthetic import EMOTION_VOICES, synthesize

README = Path(__file__).parents[1] / "README.md"


def test_the_readme_python_section_runs(tmp_path, monkeypatch, capsys):
    section = README.read_text().split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    for i, name in enumerate(("calm.wav", "alice1.wav", "alice2.wav")):
        sf.write(tmp_path / name, synthesize(EMOTION_VOICES["calm"], duration=2.5, seed=i),
                 16000)
    (tmp_path / "snippet.py").write_text(code)
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(tmp_path / "snippet.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert (tmp_path / "angry.wav").is_file() and "m2m-ravdess" in out
    assert "unknown target emotion 'bored'" in out
