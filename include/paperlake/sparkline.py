"""Tiny bar-chart PNGs for trend series, written with zlib alone (no plotting library needed)."""

from __future__ import annotations

import struct
import zlib

BACKGROUND = (255, 255, 255)
BAR = (37, 99, 235)
BASELINE = (203, 213, 225)


def sparkline_png(values: list[int], bar_width: int = 8, gap: int = 2, height: int = 32) -> bytes:
    """One bar per value, scaled to the largest; a grey baseline marks zero."""
    width = max(1, len(values) * (bar_width + gap) - gap)
    top = max(values, default=0) or 1
    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(width):
            slot, offset = divmod(x, bar_width + gap)
            bar_height = round(values[slot] / top * (height - 2)) if slot < len(values) and offset < bar_width else 0
            if y == height - 1:
                color = BASELINE
            elif bar_height and y >= height - 1 - bar_height:
                color = BAR
            else:
                color = BACKGROUND
            row.extend(color)
        rows.append(bytes(row))
    return encode_png(width, height, rows)


def encode_png(width: int, height: int, rows: list[bytes]) -> bytes:
    """An 8-bit RGB PNG from rows of RGB bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + row for row in rows), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
