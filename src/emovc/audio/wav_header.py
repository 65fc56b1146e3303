"""The frame count a WAV file's header declares (:func:`declared_frames`), read from its RIFF,
RIFX, RF64 or Sony Wave64 chunks, so that a WAV cut short (libsndfile reads it as a shorter,
intact file) is found: compared with the frames present, beyond :func:`cut_tolerance`, and not
for the sizes a streaming writer leaves (:data:`UNKNOWN_DATA_SIZES`)."""

from __future__ import annotations

import os
import struct
from pathlib import Path


def declared_frames(path: str | os.PathLike, frames: int, sr: int) -> int:
    """The frames the header of a WAV file (RIFF, RIFX, RF64 or Sony Wave64) declares, when
    at least :func:`cut_tolerance` more than the ``frames`` present (at ``sr`` Hz); else
    ``frames`` (any other file, or one that is whole or short by a sliver only).

    Our own code, because libsndfile hides the damage: it clips a WAV's frame count to the
    bytes present, so a WAV cut short (an interrupted recording or download) would read as a
    shorter, intact file, while a cut FLAC fails to decode and is warned about. The data
    chunk's declared size is compared with the bytes after its start. A header that
    overstates its data by less (a sloppy writer's extra frame or pad byte) is not a cut,
    nor is a size a streaming writer leaves when it cannot seek back
    (:data:`UNKNOWN_DATA_SIZES`, or one of 2**62 bytes or more).
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            sizes = _wav_data_sizes(fh, p.stat().st_size)
    except (OSError, struct.error):
        return frames
    if sizes is None or frames <= 0 or sizes[0] <= sizes[1]:
        return frames
    declared, present = sizes
    total = round(frames * declared / present)  # bytes per frame: those present's
    return total if total - frames >= cut_tolerance(sr) else frames


def cut_tolerance(sr: int) -> int:
    """Frames a WAV's data may fall short of its header's size without being called cut:
    10 ms of them, and at least one frame."""
    return max(1, sr // 100)


#: data sizes a WAV writer that cannot seek back (a pipe, a live stream) leaves in the
#: header: 0, 0xFFFFFFFF (e.g. ffmpeg to a pipe), 0x7FFFFFFF (arecord) and 0x7FFFF000 (SoX);
#: an RF64 or Wave64 size of 2**64-1, or any other of :data:`ABSURD_DATA_SIZE` or more, too
UNKNOWN_DATA_SIZES = frozenset({0, 0xFFFFFFFF, 0x7FFFFFFF, 0x7FFFF000})
ABSURD_DATA_SIZE = 1 << 62  # bytes: no real file holds this much
_W64_RIFF = b"riff\x2e\x91\xcf\x11\xa5\xd6\x28\xdb\x04\xc1\x00\x00"
MAX_CHUNKS = 1000  # chunks walked before the data chunk at most (a real file has a few)


def _wav_data_sizes(fh, file_size: int) -> tuple[int, int] | None:
    """``(declared, present)`` bytes of the data chunk of the WAV file open in ``fh``;
    ``None``: not a WAV, no data chunk, or a size of :data:`UNKNOWN_DATA_SIZES` (or from
    :data:`ABSURD_DATA_SIZE` on)."""
    head = fh.read(40)
    if head[:4] in (b"RIFF", b"RIFX", b"RF64") and head[8:12] == b"WAVE":
        # 4-byte ids and sizes (RIFX: big-endian) after the chunk id, chunks 2-aligned
        w64, order, pos = False, ">" if head[:4] == b"RIFX" else "<", 12
    elif head[:16] == _W64_RIFF and head[24:28] == b"wave":
        # Wave64: 16-byte GUIDs, 8-byte sizes that count the 24-byte chunk header, 8-aligned
        w64, order, pos = True, "<", 40
    else:
        return None
    head_len, size_fmt, align = (24, "Q", 8) if w64 else (8, "I", 2)
    ds64 = None  # RF64: the data size, in the ds64 chunk
    for _ in range(MAX_CHUNKS):
        fh.seek(pos)
        chunk = fh.read(head_len + 16)
        if len(chunk) < head_len:
            return None
        (size,) = struct.unpack(order + size_fmt, chunk[head_len - struct.calcsize(size_fmt):
                                                        head_len])
        body = size - head_len if w64 else size  # bytes after the chunk header
        if chunk[:4] == b"ds64" and not w64 and len(chunk) >= 24:
            ds64 = struct.unpack("<Q", chunk[16:24])[0]  # after the RIFF size
        if chunk[:4] == b"data":
            if size == 0xFFFFFFFF and ds64 is not None:
                size = body = ds64
            if size in UNKNOWN_DATA_SIZES or size >= ABSURD_DATA_SIZE or body < 0:
                return None
            return body, file_size - pos - head_len
        if body < 0:
            return None
        pos += head_len + body + (-body % align)
    return None
