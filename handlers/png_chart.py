"""A stacked bar chart as a PNG, in pure Python (zlib): answered / pending per group.

Small on purpose: bars, counts and upper-case labels in a 3x5 pixel font scaled up. Enough for
a Slack upload of a survey's status without a plotting library.
"""

from __future__ import annotations

import struct
import zlib

WHITE, INK, GREEN, GREY = (255, 255, 255), (40, 40, 40), (46, 139, 87), (200, 200, 200)
SCALE = 2  # font pixels per glyph dot
_FONT = {  # 3 columns x 5 rows, row by row
    "A": "010101111101101", "B": "110101110101110", "C": "011100100100011", "D": "110101101101110",
    "E": "111100110100111", "F": "111100110100100", "G": "011100101101011", "H": "101101111101101",
    "I": "111010010010111", "J": "001001001101010", "K": "101101110101101", "L": "100100100100111",
    "M": "101111111101101", "N": "110101101101101", "O": "010101101101010", "P": "110101110100100",
    "Q": "010101101110011", "R": "110101110101101", "S": "011100010001110", "T": "111010010010010",
    "U": "101101101101111", "V": "101101101101010", "W": "101101111111101", "X": "101101010101101",
    "Y": "101101010010010", "Z": "111001010100111", "0": "111101101101111", "1": "010110010010111",
    "2": "110001010100111", "3": "110001010001110", "4": "101101111001001", "5": "111100110001110",
    "6": "011100111101111", "7": "111001010010010", "8": "111101111101111", "9": "111101111001110",
    "-": "000000111000000", "/": "001001010100100", ".": "000000000000010", "%": "101001010100101",
    ":": "000010000010000", " ": "000000000000000", "?": "110001010000010", "(": "010100100100010",
    ")": "010001001001010", ",": "000000000010100", "_": "000000000000111", "+": "000010111010000",
}


class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.rows = [bytearray(WHITE * width) for _ in range(height)]

    def rect(self, x: int, y: int, w: int, h: int, colour: tuple[int, int, int]) -> None:
        for row in self.rows[max(0, y):max(0, min(self.height, y + h))]:
            x0, x1 = max(0, x), max(0, min(self.width, x + w))
            row[3 * x0:3 * x1] = bytes(colour) * (x1 - x0)

    def text(self, x: int, y: int, text: str, colour=INK) -> None:
        for i, char in enumerate(text.upper()):
            glyph = _FONT.get(char, _FONT["?"])
            for dot, bit in enumerate(glyph):
                if bit == "1":
                    self.rect(x + i * 4 * SCALE + (dot % 3) * SCALE, y + (dot // 3) * SCALE, SCALE, SCALE, colour)

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(row) for row in self.rows)

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def text_width(text: str) -> int:
    return len(text) * 4 * SCALE


def stacked_bars(title: str, groups: list[tuple[str, int, int]]) -> bytes:
    """PNG of one horizontal bar per (label, answered, pending): green answered, grey pending."""
    label_w = max([text_width(label) for label, _, _ in groups] + [40]) + 12
    bar_w, bar_h, gap, top = 360, 18, 10, 40
    width = label_w + bar_w + 90
    height = top + len(groups) * (bar_h + gap) + 30
    canvas = Canvas(width, height)
    canvas.text(10, 10, title[:60])
    most = max([a + p for _, a, p in groups] + [1])
    for i, (label, answered, pending) in enumerate(groups):
        y = top + i * (bar_h + gap)
        canvas.text(10, y + 4, label)
        done_w = round(bar_w * answered / most)
        left_w = round(bar_w * pending / most)
        canvas.rect(label_w, y, done_w, bar_h, GREEN)
        canvas.rect(label_w + done_w, y, left_w, bar_h, GREY)
        canvas.text(label_w + done_w + left_w + 6, y + 4, f"{answered}/{answered + pending}")
    legend_y = height - 18
    canvas.rect(10, legend_y, 10, 10, GREEN)
    canvas.text(26, legend_y, "ANSWERED")
    canvas.rect(110, legend_y, 10, 10, GREY)
    canvas.text(126, legend_y, "PENDING")
    return canvas.png()
