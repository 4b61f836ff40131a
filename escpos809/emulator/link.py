"""The pace of the link into the virtual printer: a slow network (``--slow``) or a serial line
(``--baud``; 8N1 carries 10 bits a byte, so 115,200 baud is 11,520 bytes/s).

Bytes are taken in slices of about 10 ms of line time and each slice is handed on when its
last byte would have arrived; the line's clock runs on from the previous slice while the host
keeps it busy, and starts again when the host left it idle.
"""

from __future__ import annotations

import time

SLICE_S = 0.01  # line time per slice: the receive buffer fills smoothly, not in 4 KB steps


def baud_to_bytes_per_s(baud: int) -> int:
    """Bytes per second on an asynchronous serial line, 8N1 (start + 8 data + stop bits)."""
    return baud // 10


class LinkPace:
    """Delays received slices to ``bytes_per_s``; :meth:`slice` says how much to read at once."""

    def __init__(self, bytes_per_s: int):
        if bytes_per_s < 1:
            raise ValueError("a link carries at least one byte per second")
        self.bytes_per_s = bytes_per_s
        self._free_at = 0.0  # when (time.monotonic) the line has carried everything so far

    def slice(self) -> int:
        return max(1, int(self.bytes_per_s * SLICE_S))

    def arrived(self, n: int) -> None:
        """Return when ``n`` bytes read just now would have come down the line."""
        now = time.monotonic()
        self._free_at = max(now, self._free_at) + n / self.bytes_per_s
        if self._free_at > now:
            time.sleep(self._free_at - now)
