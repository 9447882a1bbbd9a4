#!/usr/bin/env python3
"""Big test images for the "Streaming --fit" figures of docs/benchmarks.md.

png W H PATH [LEVEL]: an RGB PNG of noise (incompressible, like a detailed scan), written
  row by row so this script stays small in memory; zlib LEVEL 0 (stored) makes a file of
  about W*H*3 bytes quickly, 1 a slightly smaller one.
smooth W H PATH [LEVEL]: the same with bands of a horizontal gradient instead of noise
  (what a fitted image that meets the 4 MiB limit at full size looks like).
jpeg W H PATH: an RGB JPEG of noise at quality 90 (needs numpy and pillow; holds the
  image, W*H*3 bytes).
"""
import os
import struct
import sys
import zlib


def chunk(f, kind, data):
    f.write(struct.pack(">I", len(data)) + kind + data)
    f.write(struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png(w, h, path, level=1, smooth=False):
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        chunk(f, b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        z = zlib.compressobj(level)
        pending, size = [], 0
        bands = []
        if smooth:
            bands = [
                b"\x00" + bytes((x * 255 // w + k) & 255 for x in range(w) for _ in range(3))
                for k in range(0, 256, 8)
            ]
        for y in range(h):
            # Filter byte 0 (none), then one row of noise or of a gradient band.
            row = bands[(y // 600) % len(bands)] if smooth else b"\x00" + os.urandom(w * 3)
            out = z.compress(row)
            if out:
                pending.append(out)
                size += len(out)
            if size > 8 << 20:
                chunk(f, b"IDAT", b"".join(pending))
                pending, size = [], 0
        pending.append(z.flush())
        chunk(f, b"IDAT", b"".join(pending))
        chunk(f, b"IEND", b"")


def jpeg(w, h, path):
    import numpy as np
    from PIL import Image

    noise = np.random.default_rng(1).integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    Image.fromarray(noise).save(path, quality=90)


if __name__ == "__main__":
    kind, w, h, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    if kind in ("png", "smooth"):
        png(w, h, path, int(sys.argv[5]) if len(sys.argv) > 5 else 1, kind == "smooth")
    elif kind == "jpeg":
        jpeg(w, h, path)
    else:
        sys.exit(f"unknown kind {kind} (png or jpeg)")
