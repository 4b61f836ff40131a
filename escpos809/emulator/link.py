"""The pace of the link into the virtual printer: a slow network (``--slow``) or a serial line
(``--baud``; 8N1 carries 10 bits a byte, so 115,200 baud is 11,520 bytes/s).

Bytes are taken in slices of about 10 ms of line time and each slice is handed on when its
last byte would have arrived. The line's clock runs on from the previous slice while the host
keeps it busy: a reader that wakes late (a busy machine) loses no line time, up to
:data:`LATE_S`. It starts again from now after the line stood still: the host sent nothing,
or the receive buffer was full (flow control stops the line, as on a real printer).
"""

from __future__ import annotations

import time

SLICE_S = 0.01  # line time per slice: the receive buffer fills smoothly, not in 4 KB steps
#: how late the reader may wake and still count the line as busy meanwhile (sleeps overshoot;
#: without this the line ran some 6 % slow on a loaded 2-core machine)
LATE_S = 0.05


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
        self._stood = True  # the line stood still since the last slice: its clock starts from now

    def slice(self) -> int:
        return max(1, int(self.bytes_per_s * SLICE_S))

    def stood_still(self) -> None:
        """Nothing came, or the buffer was full: the line did not carry bytes meanwhile."""
        self._stood = True

    def arrived(self, n: int) -> None:
        """Return when ``n`` bytes read just now would have come down the line."""
        now = time.monotonic()
        self._free_at = max(now if self._stood else now - LATE_S, self._free_at) + n / self.bytes_per_s
        self._stood = False
        if self._free_at > now:
            time.sleep(self._free_at - now)
