"""Open a page in real headless Chromium: its DOM after rendering, its console, a screenshot.

Chromium comes from the Debian package (``make browser`` installs it). ``chromium_or_skip`` skips
only when the binary cannot be present (no apt-get on this system); otherwise a missing browser
fails the test.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_or_skip() -> str:
    path = find_chromium()
    if path:
        return path
    if shutil.which("apt-get") is None:
        pytest.skip("no Chromium and no apt-get to install it (Debian package 'chromium'): browser test cannot run here")
    pytest.fail("Chromium is missing: run 'make browser' (apt-get install -y chromium)")


@dataclass
class Rendered:
    dom: str
    console: list[str]
    screenshot: Path


def _run(binary: str, args: list[str], user_dir: Path) -> subprocess.CompletedProcess[str]:
    base = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--disable-background-networking", "--hide-scrollbars", f"--user-data-dir={user_dir}",
            "--enable-logging=stderr", "--v=0"]
    env = {**os.environ, "HOME": str(user_dir)}
    return subprocess.run([*base, *args], capture_output=True, text=True, timeout=120, env=env)


def render(page: Path, out_dir: Path, *, width: int = 1400, height: int = 2600) -> Rendered:
    binary = chromium_or_skip()
    url = page.resolve().as_uri()
    dom = _run(binary, ["--dump-dom", url], out_dir / "profile-dom")
    shot = out_dir / "screenshot.png"
    snap = _run(binary, [f"--screenshot={shot}", f"--window-size={width},{height}", url], out_dir / "profile-shot")
    console = [ln for ln in (dom.stderr + snap.stderr).splitlines() if ":CONSOLE" in ln]
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert shot.is_file(), snap.stderr[-2000:]
    return Rendered(dom=dom.stdout, console=console, screenshot=shot)


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes): width, height, rows."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    width = height = 0
    channels = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour, interlace)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    i = 0
    for _ in range(height):
        ftype, line = raw[i], bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 255
            elif ftype == 2:
                line[x] = (line[x] + b) & 255
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line) if channels == 3 else bytes(v for k, v in enumerate(line) if k % 4 != 3))
        prev = line
    return width, height, rows
