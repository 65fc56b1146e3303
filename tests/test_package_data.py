"""The wheel ships every data file the package reads (models, cards, templates, markers).

An editable install reads ``src/emovc`` itself, so a data file that no package-data glob in
pyproject.toml matches still works there and in the test suite, but is missing from the
wheel a user installs. These tests compare the globs with the files under ``src/emovc``.
"""

from __future__ import annotations

import glob
import os
import subprocess
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "emovc"


def package_data_globs() -> list[str]:
    """The ``[tool.setuptools.package-data]`` patterns for ``emovc``."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["setuptools"]["package-data"]["emovc"]


def shipped(pattern: str) -> set[str]:
    """Files (package-relative, ``/``-separated) that setuptools adds for ``pattern``: it
    expands package-data globs with ``glob.glob(..., recursive=True)`` and keeps files."""
    hits = glob.glob(os.path.join(glob.escape(str(PACKAGE)), pattern), recursive=True)
    return {Path(h).relative_to(PACKAGE).as_posix() for h in hits if os.path.isfile(h)}


def data_files() -> set[str]:
    """Non-Python files of the package: git's tracked ones in a checkout (a developer's
    untracked scratch files are not the package's), else every file on disk (an sdist)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--", "."], cwd=PACKAGE, check=True,
                             capture_output=True).stdout.decode()
        files = {f for f in out.split("\0") if f}
    except (OSError, subprocess.CalledProcessError):
        files = set()
    if not files:  # not a git checkout, or an sdist unpacked inside another repository
        files = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*") if p.is_file()}
    return {f for f in files if not f.endswith((".py", ".pyc")) and "__pycache__" not in f}


def test_every_data_file_of_the_package_is_matched_by_a_package_data_glob():
    files = data_files()
    assert "pretrained/m2m-ravdess/model.pt" in files  # the listing itself works
    covered = set().union(*(shipped(p) for p in package_data_globs()))
    assert sorted(files - covered) == [], "add a glob to [tool.setuptools.package-data]"


def test_every_package_data_glob_ships_a_file():
    """A glob that matches nothing is stale: it names data the package no longer has."""
    assert [p for p in package_data_globs() if not shipped(p)] == []

