"""Receipt arithmetic in Decimal: line totals, the VAT contained in gross prices, sums.

How figures are rounded (one rule for every receipt this package builds):

- Prices are gross (VAT included), as on a retail receipt.
- A line total is quantity x unit price, rounded to the cent with ROUND_HALF_UP.
- VAT is computed once **per rate on the total** of that rate's line totals, not per line and
  then summed: ``vat = gross - gross / (1 + rate)``, rounded to the cent with ROUND_HALF_UP.
  Per-line rounding drifts by a cent on a few lines (12.65 € at 19 % holds 2.02 € of VAT; the
  hand-typed demo once printed 2.01 €).
- Net is gross minus VAT, so net + VAT = gross to the cent on the paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def cents(value: Decimal | int | str) -> Decimal:
    """``value`` rounded to the cent, halves away from zero (ROUND_HALF_UP)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal | int | str) -> Decimal:
    """``percent`` % of ``amount``, rounded to the cent (a service charge, a discount)."""
    return cents(amount * Decimal(percent) / HUNDRED)


def vat_in_gross(gross: Decimal, rate_percent: Decimal | int | str) -> Decimal:
    """The VAT contained in a gross amount at ``rate_percent``, rounded to the cent."""
    rate = Decimal(rate_percent)
    return cents(gross - gross * HUNDRED / (HUNDRED + rate))


def fmt(amount: Decimal, decimal_mark: str = ",", thousands: str = "") -> str:
    """``1234.5`` → ``1234,50`` (two places; the marks are the receipt's locale)."""
    q = cents(amount)
    sign = "-" if q < 0 else ""
    whole, frac = f"{abs(q):.2f}".split(".")
    if thousands:
        whole = f"{int(whole):,}".replace(",", thousands)
    return f"{sign}{whole}{decimal_mark}{frac}"


@dataclass(frozen=True)
class Item:
    """One receipt line: ``qty`` x gross ``unit`` price at ``vat`` percent."""

    name: str
    unit: Decimal
    qty: Decimal = Decimal(1)
    vat: Decimal = Decimal(19)

    @property
    def total(self) -> Decimal:
        return cents(Decimal(self.qty) * Decimal(self.unit))


@dataclass(frozen=True)
class VatShare:
    """The part of a bill taxed at one rate."""

    rate: Decimal
    gross: Decimal
    vat: Decimal

    @property
    def net(self) -> Decimal:
        return self.gross - self.vat


@dataclass(frozen=True)
class Bill:
    """Items and every figure a receipt prints about them."""

    items: tuple[Item, ...]

    @property
    def total(self) -> Decimal:
        return sum((i.total for i in self.items), Decimal("0.00"))

    @property
    def shares(self) -> tuple[VatShare, ...]:
        """One share per VAT rate, lowest rate first; VAT rounded on each rate's total."""
        gross: dict[Decimal, Decimal] = {}
        for item in self.items:
            rate = Decimal(item.vat)
            gross[rate] = gross.get(rate, Decimal("0.00")) + item.total
        return tuple(VatShare(r, g, vat_in_gross(g, r)) for r, g in sorted(gross.items()))

    @property
    def vat(self) -> Decimal:
        return sum((s.vat for s in self.shares), Decimal("0.00"))

    @property
    def net(self) -> Decimal:
        return self.total - self.vat
