"""The PPD options of the OCPP-809 queue and where they land in the raster page header.

One table, read both by the PPD generator (:mod:`.ppd`) and by the raster filter, so an
option the PPD offers is always one the filter understands.
"""

from __future__ import annotations

from ..record import Record
from .raster import CUT_JOB, CUT_NONE, CUT_PAGE


class Choice(Record):
    __slots__ = ("name", "text", "value")
    name: str
    text: str
    value: int


class Option(Record):
    __slots__ = ("keyword", "text", "field", "choices", "default")
    keyword: str
    text: str
    field: str  # "CutMedia" or "cupsInteger<n>"
    choices: tuple[Choice, ...]
    default: str


#: cupsInteger slots (documented in packaging/cups/README.md)
FEED_LINES, CUT_MODE, BUZZER, DRAWER, KEEP_LENGTH = 0, 1, 2, 3, 4

#: CashDrawer choice value → (pin, before printing?)
DRAWER_ACTIONS = {1: (2, True), 2: (2, False), 3: (5, True), 4: (5, False)}

OPTIONS: tuple[Option, ...] = (
    Option(
        "CutMedia",
        "Cut",
        "CutMedia",
        (
            Choice("None", "No cut", CUT_NONE),
            Choice("Job", "Cut after the job", CUT_JOB),
            Choice("Page", "Cut after every page", CUT_PAGE),
        ),
        "Page",
    ),
    Option(
        "CutMode",
        "Cut type",
        f"cupsInteger{CUT_MODE}",
        (Choice("Partial", "Partial cut", 0), Choice("Full", "Full cut", 1)),
        "Partial",
    ),
    Option(
        "FeedLines",
        "Feed after page",
        f"cupsInteger{FEED_LINES}",
        tuple(Choice(str(n), f"{n} lines", n) for n in (0, 1, 2, 3, 4, 5, 6, 8, 10)),
        "3",
    ),
    Option(
        "PaperReduction",
        "Blank page end",
        f"cupsInteger{KEEP_LENGTH}",
        (Choice("Trim", "Trim the blank end of the page", 0), Choice("Keep", "Feed the whole page length", 1)),
        "Trim",
    ),
    Option(
        "Buzzer",
        "Buzzer",
        f"cupsInteger{BUZZER}",
        tuple(
            [Choice("None", "Off", 0)]
            + [Choice(f"Beep{n}", f"{n} beep{'s' if n > 1 else ''} after the job", n) for n in (1, 2, 3, 5)]
        ),
        "None",
    ),
    Option(
        "CashDrawer",
        "Cash drawer",
        f"cupsInteger{DRAWER}",
        (
            Choice("None", "Do not open", 0),
            Choice("Drawer1Before", "Open drawer 1 (pin 2) before printing", 1),
            Choice("Drawer1After", "Open drawer 1 (pin 2) after printing", 2),
            Choice("Drawer2Before", "Open drawer 2 (pin 5) before printing", 3),
            Choice("Drawer2After", "Open drawer 2 (pin 5) after printing", 4),
        ),
        "None",
    ),
)
