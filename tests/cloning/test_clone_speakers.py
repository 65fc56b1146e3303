"""The mixed-reference warning: similarity and the male-female axis of the speaker encoder."""

from __future__ import annotations

import numpy as np
import pytest

from emovc.errors import ConfigError
from emovc.pipelines import clone_speakers
from emovc.pipelines.clone_speakers import (
    MAX_AXIS_GAP,
    MIN_SIMILARITY,
    SAME_VOICE_SIMILARITY,
    MixedCheck,
    gender_axis,
    speaker_mismatch,
)

NAMES = ["r1", "r2", "r3"]


def _voices(cos: float, along_axis: bool, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two unit 256-d embeddings at cosine ``cos``, apart along the encoder's male-female
    axis (``along_axis``) or orthogonally to it."""
    rng = np.random.default_rng(seed)
    u = gender_axis() / np.linalg.norm(gender_axis())
    c, d = rng.standard_normal((2, 256))
    c -= (c @ u) * u
    c /= np.linalg.norm(c)
    d -= (d @ u) * u + (d @ c) * c
    d /= np.linalg.norm(d)
    step = u if along_axis else d
    alpha = np.sqrt((1 - cos) / (1 + cos))  # cos of c ± alpha·step
    pair = [(c + alpha * step), (c - alpha * step)]
    return tuple(x / np.linalg.norm(x) for x in pair)


def test_the_axis_is_the_bundled_encoders_size() -> None:
    axis = gender_axis()
    assert axis.shape == (256,) and np.all(np.isfinite(axis))
    a, b = _voices(0.6, along_axis=True)
    assert float(a @ b) == pytest.approx(0.6)
    assert abs((a - b) @ axis) > MAX_AXIS_GAP  # the test voices really are apart on it


def test_a_man_and_a_woman_scoring_above_the_old_threshold_are_warned_about() -> None:
    """A man's and a woman's references scored above 0.5 in 38 % of LibriSpeech pairs, and
    the check let them through."""
    woman, man = _voices(0.6, along_axis=True)
    message = speaker_mismatch(np.stack([woman, man]), NAMES[:2])
    assert message == ("r1 and r2 may be different speakers (similarity 0.60; their voices lie "
                       "far apart on the speaker encoder's male-female axis); if they are, the "
                       "clone mixes their voices")
    other, _ = _voices(0.9, along_axis=False, seed=1)  # a second take of the woman
    woman2 = woman + 0.3 * other
    woman2 /= np.linalg.norm(woman2)
    message = speaker_mismatch(np.stack([woman, woman2, man]), NAMES)
    assert message.startswith("r3 (0.") and ", far on the male-female axis)" in message
    assert message.count("(0.") == 1 and "may be another speaker" in message


def test_one_speakers_takes_that_differ_off_the_axis_are_not_warned_about() -> None:
    """Emotional takes of one actor score as low as 0.45-0.5 (4 % of RAVDESS pairs below 0.5,
    which warned): they stay on their side of the axis."""
    for cos in (0.47, 0.6):
        a, b = _voices(cos, along_axis=False)
        assert speaker_mismatch(np.stack([a, b]), NAMES[:2]) == ""
    a, b = _voices(MIN_SIMILARITY - 0.02, along_axis=False)
    assert (f"(similarity {MIN_SIMILARITY - 0.02:.2f}; one speaker's read speech usually scores"
            in speaker_mismatch(np.stack([a, b]), NAMES[:2]))


def test_clearly_one_voice_is_not_warned_about_whatever_the_axis() -> None:
    a, b = _voices(SAME_VOICE_SIMILARITY + 0.02, along_axis=True)
    assert abs((a - b) @ gender_axis()) > MAX_AXIS_GAP
    assert speaker_mismatch(np.stack([a, b]), NAMES[:2]) == ""


def test_the_rule_without_the_axis_is_the_similarity_test_alone() -> None:
    woman, man = _voices(0.6, along_axis=True)
    assert MixedCheck().mixed(np.stack([woman, man]))
    assert not MixedCheck(max_axis_gap=np.inf).mixed(np.stack([woman, man]))
    sims, gaps = MixedCheck().measure(np.stack([[woman, man], [woman, woman]]))
    assert sims.shape == gaps.shape == (2, 2)  # sets of references at once
    assert np.allclose(sims[1], 1.0) and np.allclose(gaps[1], 0.0)


def test_a_damaged_axis_file_is_a_one_line_error(tmp_path, monkeypatch) -> None:
    np.save(tmp_path / "gender.npy", np.zeros(3))
    monkeypatch.setattr(clone_speakers, "AXIS_FILE", tmp_path / "gender.npy")
    gender_axis.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"is not a \(256,\) vector; reinstall emovc"):
            gender_axis()
        monkeypatch.setattr(clone_speakers, "AXIS_FILE", tmp_path / "missing.npy")
        gender_axis.cache_clear()
        with pytest.raises(ConfigError, match="cannot read the speaker axis .*missing.npy"):
            gender_axis()
    finally:
        monkeypatch.undo()
        gender_axis.cache_clear()


@pytest.mark.parametrize(("damage", "why"), [
    ("missing", "not found"), ("empty", "empty or truncated"),
    ("truncated", "empty or truncated"), ("text", "not a .npy array file"),
    ("html", "not a .npy array file"), ("header", "not a .npy array file"),
])
def test_a_damaged_axis_file_says_what_is_wrong_with_it(damage, why, tmp_path,
                                                        monkeypatch) -> None:
    """Review 42b L3: numpy's message was passed on as it is: for a git-LFS pointer or an
    HTML page it advised loading the file unsafely (allow_pickle), for a damaged header it
    quoted the header; the error says what is wrong with the file in a few words."""
    path = _damaged(tmp_path / "gender.npy", damage)
    monkeypatch.setattr(clone_speakers, "AXIS_FILE", path)
    gender_axis.cache_clear()
    try:
        with pytest.raises(ConfigError) as err:
            gender_axis()
        assert str(err.value) == f"cannot read the speaker axis {path} ({why}); reinstall emovc"
    finally:
        monkeypatch.undo()
        gender_axis.cache_clear()


def _damaged(path, damage: str):
    """``path`` written as a damaged axis file (``"missing"``: not written)."""
    import io
    import zipfile

    buf = io.BytesIO()
    np.save(buf, np.ones(256, np.float32))
    good = buf.getvalue()
    if damage == "empty":  # an interrupted copy, a full disk
        path.write_bytes(b"")
    elif damage == "truncated":
        path.write_bytes(good[:100])
    elif damage == "wrong shape":
        np.save(path, np.zeros(3))
    elif damage == "text":  # e.g. a git-LFS pointer
        path.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:0\n")
    elif damage == "html":  # an error page saved in its place
        path.write_text("<html>\n<body>404 Not Found</body>\n</html>\n")
    elif damage == "header":
        path.write_bytes(good[:10] + b"{'descr': '<f4',\n 'fortran_order': Fals" + good[60:])
    elif damage == "strings":
        np.save(path, np.array(["x"] * 256))
    elif damage == "zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("gender.npy", good)
    return path


@pytest.mark.parametrize("damage", ["missing", "empty", "truncated", "wrong shape", "text",
                                    "strings", "zip"])
def test_a_damaged_axis_file_does_not_stop_a_clone(damage, tmp_path, monkeypatch) -> None:
    """Review 41 L7: the check is a warning, so a missing axis file falls back to the
    similarity test with one warning instead of refusing every multi-reference clone;
    review 42 L2: an empty file raised EOFError past the fallback; any damage falls back."""
    from emovc.errors import EmovcWarning

    woman, man = _voices(0.6, along_axis=True)
    other = np.random.default_rng(1).standard_normal(256)
    far_apart = np.stack([woman, other / np.linalg.norm(other)])  # cosine near 0
    monkeypatch.setattr(clone_speakers, "AXIS_FILE", _damaged(tmp_path / "gender.npy", damage))
    gender_axis.cache_clear()
    clone_speakers._usable_axis.cache_clear()
    try:
        with pytest.warns(EmovcWarning, match="similarity alone") as said:
            assert speaker_mismatch(np.stack([woman, man]), NAMES[:2]) == ""
            assert speaker_mismatch(far_apart, NAMES[:2])  # the similarity test still runs
        assert len([w for w in said if "similarity alone" in str(w.message)]) == 1
    finally:
        monkeypatch.undo()
        gender_axis.cache_clear()
        clone_speakers._usable_axis.cache_clear()
