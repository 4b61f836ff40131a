"""Writes the sample receipts in this folder from their items, so that no money figure on them
is typed by hand: line totals, VAT, net, sums and change come from :mod:`escpos809.money`
(Decimal; VAT per rate on the rate's total, ROUND_HALF_UP to the cent — see that module).

    python3 examples/build.py           # rewrite the JSON files
    python3 examples/build.py --check   # exit 1 if a file differs from what the items give

``restaurant.json`` is a template without figures and is written by hand; its figures are in
``restaurant.data.json``, written here. tests/receipts/test_examples.py runs ``--check``.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal as D
from pathlib import Path

from escpos809.money import Bill, Item, fmt, percent_of

HERE = Path(__file__).resolve().parent


def kv(key: str, value: str, **style) -> dict:
    return {"type": "kv", "key": key, "value": value, **style}


def text(s: str, **style) -> dict:
    return {"type": "text", "text": s, **style}


def shop() -> dict:
    """A supermarket receipt: two VAT rates, paid in cash."""
    milk = Item("Bio-Vollmilch 3,8 % 1 l", D("1.29"), D(2), D(7))
    bread = Item("Roggenmischbrot 750 g", D("3.49"), vat=D(7))
    apples = Item("Äpfel Elstar lose", D("0.49"), D(3), D(7))
    soap = Item("Spülmittel Zitrone 500 ml (Pfand 0,25)", D("1.24"))  # 0,99 + 0,25 deposit
    bill, paid = Bill((milk, bread, apples, soap)), D("10.00")
    return {
        "version": 1,
        "blocks": [
            {"type": "image", "path": "logo.png", "align": "center"},
            text("Müller Markt", bold=True, width=2, height=2, align="center"),
            text("Königstraße 7 · 70173 Stuttgart\nUSt-IdNr. DE123456789", align="center"),
            {"type": "rule"},
            {
                "type": "columns",
                "columns": [{"width": 4, "align": "right"}, {"width": 0.75}, {"width": 0.25, "align": "right"}],
                "header": ["Anz", "Artikel", "EUR"],
                "rows": [[str(i.qty), i.name, fmt(i.total)] for i in bill.items],
            },
            {"type": "rule"},
            kv("SUMME", f"{fmt(bill.total)} €", bold=True, height=2),
            *(kv(f"davon MwSt. {s.rate} %", f"{fmt(s.vat)} €") for s in bill.shares),
            kv("Bar", f"{fmt(paid)} €"),
            kv("Rückgeld", f"{fmt(paid - bill.total)} €"),
            {"type": "feed", "lines": 1},
            {"type": "barcode", "kind": "ean13", "data": "4006381333931", "height": 60, "width": 2},
            text("Vielen Dank für Ihren Einkauf!", align="center"),
            {"type": "drawer", "pin": 2},
            {"type": "cut", "mode": "partial", "feed": 0},
        ],
    }


def charging_session() -> dict:
    """A charging receipt: energy, session fee and idle time at 19 %, net and VAT shown."""
    bill = Bill(
        (
            Item("Energie 23,456 kWh @ 0,39 €", D("0.39"), D("23.456")),
            Item("Startgebühr", D("1.00")),
            Item("Standzeit 60-95 min @ 0,10 €/min", D("0.10"), D(35)),
        )
    )
    (share,) = bill.shares
    return {
        "version": 1,
        "blocks": [
            text("VOLTPARK CHARGING", bold=True, width=2, height=2, align="center"),
            text("Hauptstraße 12, 10115 Berlin\nLadepunkt DE*VPK*E0001*1", align="center"),
            {"type": "rule"},
            kv("Start", "21.11.2026 08:14 +01:00"),
            kv("Ende", "21.11.2026 09:49 +01:00"),
            kv("Dauer", "1 h 35 min"),
            kv("Energie", "23,456 kWh"),
            kv("Zählerstand Start / Ende", "104 512,300 / 104 535,756 kWh"),
            {"type": "rule"},
            {
                "type": "columns",
                "columns": [{"width": 0.7}, {"width": 0.3, "align": "right"}],
                "rows": [[i.name, f"{fmt(i.total)} €"] for i in bill.items],
            },
            {"type": "rule"},
            kv("Netto", f"{fmt(bill.net)} €"),
            kv(f"MwSt. {share.rate} %", f"{fmt(share.vat)} €"),
            kv("SUMME", f"{fmt(bill.total)} €", bold=True, height=2),
            text("Token 04A1****9F80 · Transaktion 000123", font="B", align="center"),
            {
                "type": "qr",
                "data": "https://charge.example.com/r/2024/000123?s=ABCDEFGHJKLMNPQRS",
                "size": 6,
                "ec": "M",
            },
            text("Danke für Ihren Besuch!", align="center"),
            {"type": "cut", "mode": "partial", "feed": 0},
        ],
    }


def kiosk_ticket() -> dict:
    """A museum day ticket: one price, a barcode and a beep."""
    price = Item("Tageskarte Erwachsene", D("12.00")).total
    return {
        "version": 1,
        "font": "A",
        "blocks": [
            text("STADTMUSEUM", bold=True, width=3, height=3, align="center"),
            text("Tageskarte Erwachsene", align="center", width=2),
            text("Gültig am 21.11.2026", align="center"),
            {"type": "feed", "dots": 24},
            text(f" {fmt(price)} € ", invert=True, bold=True, width=2, height=2, align="center"),
            {"type": "feed", "dots": 24},
            {
                "type": "barcode",
                "kind": "code128",
                "data": "MUS-2026-112100042",
                "height": 80,
                "width": 2,
                "hri": "below",
            },
            text("Билет действителен один день · 一日有效", align="center", font="B"),
            {"type": "beep", "times": 1, "duration": 2},
            {"type": "cut", "mode": "partial", "feed": 0},
        ],
    }


def restaurant_data() -> dict:
    """The data for the restaurant.json template: items, subtotal, 10 % service, total."""
    bill = Bill(
        (
            Item("Spaghetti alla carbonara", D("12.50"), D(2)),
            Item("Tiramisù", D("7.50")),
            Item("Espresso doppio", D("3.00"), D(3)),
        )
    )
    service = percent_of(bill.total, 10)

    def eur(x: D) -> str:
        return f"€ {fmt(x, '.')}"

    return {
        "table": "12",
        "server": "Giulia",
        "items": [{"qty": int(i.qty), "name": i.name, "total": eur(i.total)} for i in bill.items],
        "subtotal": eur(bill.total),
        "service": eur(service),
        "total": eur(bill.total + service),
    }


FILES = {
    "shop.json": shop,
    "charging-session.json": charging_session,
    "kiosk-ticket.json": kiosk_ticket,
    "restaurant.data.json": restaurant_data,
}


def dump(data: dict) -> str:
    """The files' form: one-space indent, UTF-8 as is."""
    return json.dumps(data, indent=1, ensure_ascii=False)


def main(argv: list[str]) -> int:
    stale = []
    for name, build in FILES.items():
        path, want = HERE / name, dump(build())
        have = path.read_text("utf-8") if path.exists() else None
        if have != want:
            stale.append(name)
            if "--check" not in argv:
                path.write_text(want, "utf-8")
    verb = "differ from their items" if "--check" in argv else "rewritten"
    print(f"{', '.join(stale)}: {verb}" if stale else "examples match their items")
    return 1 if stale and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
