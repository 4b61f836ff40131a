"""Random byte streams for fuzzing the virtual printer: seeded, and biased toward the command
prefixes the interpreter knows (``ESC``/``GS``/``FS``/``DLE``/``US`` + a known second byte) with
random, sometimes out-of-range, parameters. Shared by the tests and the benchmark."""

from __future__ import annotations

import random

ESC, GS, FS, DLE, US = 0x1B, 0x1D, 0x1C, 0x10, 0x1F

#: (prefix, second byte, how many parameter bytes typically follow)
COMMANDS: tuple[tuple[int, int, int], ...] = (
    (ESC, 0x40, 0),
    (ESC, 0x21, 1),
    (ESC, 0x45, 1),
    (ESC, 0x47, 1),
    (ESC, 0x2D, 1),
    (ESC, 0x61, 1),
    (ESC, 0x4D, 1),
    (ESC, 0x74, 1),
    (ESC, 0x32, 0),
    (ESC, 0x33, 1),
    (ESC, 0x64, 1),
    (ESC, 0x4A, 1),
    (ESC, 0x70, 3),
    (ESC, 0x42, 2),
    (ESC, 0x43, 3),
    (ESC, 0x76, 0),
    (ESC, 0x69, 0),
    (ESC, 0x6D, 0),
    (ESC, 0x44, 4),
    (ESC, 0x20, 1),
    (ESC, 0x7B, 1),
    (ESC, 0x56, 1),
    (ESC, 0x52, 1),
    (ESC, 0x2A, 5),
    (GS, 0x21, 1),
    (GS, 0x42, 1),
    (GS, 0x56, 2),
    (GS, 0x76, 6),
    (GS, 0x28, 6),
    (GS, 0x6B, 6),
    (GS, 0x68, 1),
    (GS, 0x77, 1),
    (GS, 0x48, 1),
    (GS, 0x66, 1),
    (GS, 0x61, 1),
    (GS, 0x4C, 2),
    (GS, 0x57, 2),
    (GS, 0x72, 1),
    (FS, 0x26, 0),
    (FS, 0x2E, 0),
    (FS, 0x2D, 1),
    (FS, 0x21, 1),
    (FS, 0x70, 2),
    (DLE, 0x04, 1),
    (DLE, 0x05, 1),
    (US, 0x1B, 8),
    # the rest of the firmware's table (emulator/table.py, lines, symbols, extras)
    *((ESC, c, n) for c, n in ((0x24, 2), (0x5C, 2), (0x66, 2), (0x4B, 3), (0x13, 3), (0x5A, 6), (0x3D, 1))),
    *((ESC, c, n) for c, n in ((0x26, 5), (0x63, 2), (0x75, 1), (0x57, 1), (0x58, 2), (0x6C, 1), (0x31, 1))),
    *((ESC, c, n) for c, n in ((0x25, 1), (0x3F, 1), (0x4C, 0), (0x54, 1), (0x55, 1), (0x72, 1), (0x0C, 0))),
    *((GS, c, n) for c, n in ((0x50, 2), (0x5A, 1), (0x3A, 0), (0x5E, 3), (0x2A, 4), (0x2F, 1), (0x51, 8))),
    *((GS, c, n) for c, n in ((0x49, 1), (0x67, 4), (0x53, 0), (0x23, 1), (0x24, 2), (0x44, 1), (0x45, 1))),
    *((FS, c, n) for c, n in ((0x32, 2), (0x3F, 2), (0x43, 1), (0x50, 1), (0x53, 2), (0x57, 1), (0x71, 5))),
)


def _params(rng: random.Random, n: int) -> bytes:
    # small values hit the interesting ranges (modes, 0/1/48/49), big ones the limits
    def pick() -> int:
        return rng.choice((0, 1, 2, 3, 48, 49, 50, 65, 66, 73, 255, rng.randrange(256)))

    return bytes(pick() for _ in range(n))


def _structured(rng: random.Random) -> bytes:
    """A well-formed-looking command with random content (QR, barcode, raster, column image)."""
    kind = rng.randrange(7)
    if kind == 0:  # QR: store (random data, sometimes empty) and print
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
        n = len(data) + 3
        return (
            bytes([GS, 0x28, 0x6B, 3, 0, 0x31, 0x43, rng.randrange(20)])
            + bytes([GS, 0x28, 0x6B, n & 0xFF, n >> 8, 0x31, 0x50, 0x30])
            + data
            + bytes([GS, 0x28, 0x6B, 3, 0, 0x31, 0x51, 0x30])
        )
    if kind == 1:  # barcode function B with random data and HRI
        m = rng.randrange(65, 75)
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 20)))
        return bytes([GS, 0x48, rng.randrange(4), GS, 0x66, rng.randrange(3), GS, 0x6B, m, len(data)]) + data
    if kind == 2:  # barcode function A, NUL-terminated
        data = bytes(rng.randrange(1, 256) for _ in range(rng.randrange(0, 16)))
        return bytes([GS, 0x48, rng.randrange(4), GS, 0x6B, rng.randrange(8)]) + data + b"\x00"
    if kind == 3:  # small raster, random scale mode
        x, y = rng.randrange(0, 6), rng.randrange(0, 6)
        return bytes([GS, 0x76, 0x30, rng.choice((0, 1, 2, 3, 48, 51, 7)), x, 0, y, 0]) + rng.randbytes(x * y)
    if kind == 4:  # column image
        m = rng.choice((0, 1, 32, 33, 5))
        cols = rng.randrange(0, 8)
        per = 3 if m in (32, 33) else 1
        return bytes([ESC, 0x2A, m, cols, 0]) + rng.randbytes(cols * per)
    if kind == 5:  # PDF417 (GS ( k cn 48) or a vendor 2D symbol: store and print
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 30)))
        n = len(data) + 3
        if rng.random() < 0.5:
            return (
                bytes([GS, 0x28, 0x6B, n & 0xFF, n >> 8, 0x30, 0x50, 0x30])
                + data
                + bytes([GS, 0x28, 0x6B, 3, 0, 0x30, rng.choice((0x51, 0x45, 0x41)), 0x30])
            )
        return bytes([GS, 0x5A, rng.randrange(4), ESC, 0x5A, 0, 0x4C, rng.randrange(10), len(data), 0]) + data
    sub = rng.choice((0x91, 0x22, 0xB0, 0xB1, 0xB2, 0xE0, 0x77))
    return bytes([US, 0x1B, US, sub]) + rng.randbytes(rng.randrange(0, 20))


def stream(rng: random.Random, max_len: int = 300) -> bytes:
    """One fuzzed stream: commands, structured codes, text and raw noise, up to about ``max_len`` bytes."""
    out = bytearray()
    while len(out) < rng.randrange(1, max_len):
        r = rng.random()
        if r < 0.45:
            p, c, n = rng.choice(COMMANDS)
            out += bytes([p, c]) + _params(rng, rng.choice((n, n, max(0, n - 1), n + 1)))
        elif r < 0.6:
            out += _structured(rng)
        elif r < 0.85:
            out += bytes(rng.choice(b"abc XYZ 0123\n\t\xe9\xd5\x81\x40") for _ in range(rng.randrange(1, 30)))
        else:
            out += rng.randbytes(rng.randrange(1, 12))
    return bytes(out)


def streams(seed: int, count: int, max_len: int = 300):
    """``count`` streams from ``seed`` (the same seed gives the same streams)."""
    rng = random.Random(seed)
    for _ in range(count):
        yield stream(rng, max_len)
