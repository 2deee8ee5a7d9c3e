"""Draws the package icon (src/assets/icon.png, 128x128 RGBA): a large teacher node passing knowledge to a small
student node. Pure Python (zlib + struct), 4x supersampled. Run: python3 src/assets/make-icon.py"""
import math, os, struct, zlib

SIZE, SS = 128, 4
N = SIZE * SS
BG = (0x1F, 0x3A, 0x5F)       # rounded square
TEACHER = (0x4F, 0xA3, 0xE0)
STUDENT = (0xF5, 0xA6, 0x23)
LINK = (0xE8, 0xEE, 0xF4)

def shape(x, y):
    """Colour of a supersample, or None (transparent)."""
    r = 22 * SS                                   # corner radius of the background square
    cx, cy = min(max(x, r), N - r), min(max(y, r), N - r)
    if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
        return None
    t = (40 * SS, 44 * SS, 26 * SS)               # teacher: centre x, y, radius
    s = (92 * SS, 88 * SS, 15 * SS)               # student
    if (x - t[0]) ** 2 + (y - t[1]) ** 2 <= t[2] ** 2:
        return TEACHER
    if (x - s[0]) ** 2 + (y - s[1]) ** 2 <= s[2] ** 2:
        return STUDENT
    # the link: a thick segment between the two circles
    ax, ay, bx, by = t[0], t[1], s[0], s[1]
    u = ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)
    if 0 <= u <= 1:
        px, py = ax + u * (bx - ax), ay + u * (by - ay)
        if math.hypot(x - px, y - py) <= 5 * SS:
            return LINK
    return BG

rows = []
for j in range(SIZE):
    row = bytearray([0])
    for i in range(SIZE):
        acc, alpha = [0, 0, 0], 0
        for dy in range(SS):
            for dx in range(SS):
                c = shape(i * SS + dx + 0.5, j * SS + dy + 0.5)
                if c is not None:
                    alpha += 1
                    for k in range(3):
                        acc[k] += c[k]
        a = alpha / (SS * SS)
        row += bytes([acc[k] // alpha if alpha else 0 for k in range(3)] + [round(255 * a)])
    rows.append(bytes(row))

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "icon.png"), "wb") as f:
    f.write(png)
