"""Atomic file output shared by every writer (audio, checkpoints, manifests, reports).

A file is written to a temporary name in the target folder and renamed over the target only
when complete, so readers never see half-written outputs and a crash leaves no partial file.
``tempfile.mkstemp`` creates files with mode 0600; the finished file gets the usual mode
(0666 minus the process umask) so outputs stay readable like any other file.

Also the file helpers the writers and their resume checks share: :func:`file_sha256`, and
:func:`relative_inside` (a path relative to a folder, by any of its spellings).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


STALE_TEMPORARY_S = 3600.0
_RANDOM_CHARS = 8  # mkstemp's random part: 8 of [a-z0-9_]


def remove_stale_temporaries_of(final: Path, suffix: str = "") -> int:
    """Delete temporaries of ``final`` that a killed run left (SIGKILL or power loss skip the
    cleanup below): names ``.<final name>.<8 of [a-z0-9_]><suffix>`` over an hour old, so a
    writer still running elsewhere keeps its file (a hidden file of the user's shaped exactly
    like that would go too). Returns how many were deleted."""
    return remove_stale_temporaries_in(final.parent, [final.name], suffix)


def remove_stale_temporaries_in(folder: str | os.PathLike, finals: Iterable[str],
                                suffix: str = "") -> int:
    """:func:`remove_stale_temporaries_of` for the files named ``finals`` in ``folder`` at
    once, listing the folder once (not once per file: a folder of many outputs): names shaped
    like mkstemp's only. Returns how many were deleted."""
    names = set(finals)
    shape = re.compile(r"\.(.+)\.[a-z0-9_]" + f"{{{_RANDOM_CHARS}}}" + re.escape(suffix))
    try:
        with os.scandir(folder) as it:
            entries = [e for e in it if e.name.startswith(".")]
    except OSError:  # gone, or not readable: nothing of ours to delete
        return 0
    stale = []
    for e in entries:
        m = shape.fullmatch(e.name)
        if m is not None and m.group(1) in names and e.is_file(follow_symlinks=False):
            stale.append(Path(e.path))
    return remove_older_than(stale)


def remove_older_than(paths: Iterable[Path], seconds: float = STALE_TEMPORARY_S) -> int:
    """Delete those of ``paths`` last modified over ``seconds`` ago; returns how many."""
    n = 0
    for p in paths:
        try:
            if time.time() - p.stat().st_mtime > seconds:
                p.unlink()
                n += 1
        except OSError:  # gone already, or not ours to delete
            continue
    return n


@contextmanager
def atomic_output(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``.

    Args:
        path: final file path (its folder is created).
        suffix: suffix of the temporary name (some writers pick the format from it).

    On an exception inside the block the temporary file is removed and ``path`` is untouched;
    temporaries of ``path`` left by an earlier killed run are removed first.

    Raises:
        OutputPathError: ``path`` cannot be written (a folder above it is a file, it is a
            folder, its folder is read-only or cannot hold files, e.g. ``/proc``); one line
            naming ``path``, not the hidden temporary file.
    """
    final = Path(path)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries_of(final, suffix)
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=suffix, dir=final.parent)
    except OSError as exc:  # name the output, not the hidden temporary file
        raise _cannot_write(path, exc) from None
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _default_mode())
        try:
            os.replace(tmp, final)
        except OSError as exc:  # e.g. a folder of that name appeared meanwhile
            raise _cannot_write(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_output_file(out: str | os.PathLike, extensions: tuple[str, ...], force: bool,
                      what: str, error: type[Exception] | None = None) -> Path:
    """``Path(out)`` for a command about to write ``what`` there, checked before its work:
    not a folder, one of ``extensions`` (lower-case, with the dot), not existing unless
    ``force``. Raises ``error`` (default :class:`emovc.errors.ConfigError`) for the
    extension and :class:`~emovc.errors.ConfigError` for the rest, each in one line."""
    from emovc.errors import ConfigError, output_exists

    path = Path(out)
    if path.is_dir():
        raise ConfigError(f"output {path} is a folder; give a file name ending in "
                          f"{', '.join(extensions)}")
    if path.suffix.lower() not in extensions:
        raise (error or ConfigError)(f"cannot write {what} as {path.suffix or '(no extension)'!r}"
                                     f": {path}; valid extensions: {', '.join(extensions)}")
    if path.exists() and not force:
        raise output_exists(path)
    return path


def refuse_input_overwrite(out: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (),
                           what: str = "the input file", within: str | os.PathLike | None = None,
                           hint: str = "") -> None:
    """Refuse an output that is one of the command's inputs, whatever ``force`` says (an
    existing output that is not an input is :func:`check_output_file`'s concern).

    Args:
        out: the output path.
        inputs: the input files; ``out`` is one of them when both name the same file once
            made absolute and their links resolved.
        what: the input in the message, e.g. ``"a reference file"``.
        within: a folder whose files are all inputs (a corpus): ``out`` inside it counts too.
        hint: what to do instead, appended to the message after ``"; "``.

    Raises:
        ConfigError: ``"output would overwrite <what>: <out>[; <hint>]"``, in one line.
    """
    from emovc.errors import ConfigError

    target = Path(out).resolve()
    inside = within is not None and any(
        p.is_relative_to(root) for p, root in ((Path(out).absolute(), Path(within).absolute()),
                                               (target, Path(within).resolve())))
    if inside or any(Path(p).resolve() == target for p in inputs):
        raise ConfigError(f"output would overwrite {what}: {out}" + (f"; {hint}" if hint else ""))


def check_writable(path: str | os.PathLike) -> None:
    """Check, before a command's work rather than at the end of it, that ``path`` can be
    written: its folder (or the nearest existing one above it, where the folders would be
    created) is a folder that can be written.

    Raises:
        OutputPathError: it cannot; one line naming ``path`` and the folder.
    """
    folder = _nearest_existing(Path(path).absolute().parent)
    if not folder.is_dir() or not _can_write(folder):
        raise _cannot_write(path)


def _nearest_existing(folder: Path) -> Path:
    """``folder`` or the nearest folder above it that exists."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _cannot_write(path: str | os.PathLike, exc: OSError | None = None) -> Exception:
    """The :class:`~emovc.errors.OutputPathError` for an output ``path`` that cannot be
    written (``exc``: the operating system's error, whose file name may be a temporary's)."""
    from emovc.errors import OutputPathError

    final = Path(path)
    above = _nearest_existing(final.absolute().parent)
    if not above.is_dir():
        why = f"{above} is a file, not a folder"
    elif final.is_dir():
        why = "it is a folder"
    elif exc is None or isinstance(exc, PermissionError):
        why = f"no permission to write into {above}"
    else:
        why = f"cannot create a file in {final.parent} ({(exc.strerror or str(exc)).lower()})"
    return OutputPathError(f"cannot write {path}: {why}")


def _can_write(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def write_atomic(path: str | os.PathLike, data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write ``data`` (text or bytes) to ``path`` atomically; returns ``Path(path)``."""
    with atomic_output(path) as tmp:
        tmp.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return Path(path)


def copy_atomic(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Copy the file ``src`` to ``dst`` atomically (its folder is created); returns
    ``Path(dst)``. A failed copy leaves ``dst`` as it was (the temporary file keeps ``dst``'s
    suffix)."""
    with atomic_output(dst, suffix=Path(dst).suffix) as tmp:
        shutil.copyfile(src, tmp)
    return Path(dst)


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 digest of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def relative_inside(path: str | os.PathLike, *folders: str | os.PathLike) -> Path | None:
    """``path`` relative to the first of ``folders`` it lies under (``.``: the folder
    itself), or ``None`` when it lies under none.

    Paths are compared as written, nothing is resolved: a caller passes each spelling of a
    folder it accepts (as given, ``os.path.abspath``, ``resolve()``) and spells ``path`` to
    match, which is where the callers differ on purpose (what a path is keyed or written by).
    """
    p = Path(path)
    for folder in folders:
        if p.is_relative_to(folder):
            return p.relative_to(folder)
    return None
