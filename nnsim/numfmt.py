"""One number format for everything nnsim shows: the app's status bar, cards, stepper and plot
axes, and the command line's epoch lines. Headless (no UI library).

The rule (`num`): a fixed number of significant digits (4 by default); scientific notation for
magnitudes of 1e5 and above or below 1e-3 (`6.149e30`, `1.2e-5`: the mantissa keeps the
significant digits, the exponent has no `+` and no padding); `0` for an exact zero; `nan`,
`inf`, `-inf` for the non-finite. `trim=True` drops trailing zeros (for settings a person
typed: a learning rate of 0.03 stays `0.03`, not `0.03000`). Percentages (`pct`) have one
decimal. Axis ticks (`nice_ticks`, `int_ticks`, `log_ticks`) are labelled with the same rule.

```python
>>> num(6148732928074425472098771140608.0), num(0.12345), num(0.0), num(-2.5e-7)
('6.149e30', '0.1235', '0', '-2.500e-7')
>>> num(0.03, trim=True), pct(0.9725), pct(0.95, trim=True)
('0.03', '97.2%', '95%')
```
"""

from __future__ import annotations

import math

__all__ = ["SCI_ABOVE", "SCI_BELOW", "int_ticks", "log_ticks", "nice_ticks", "num", "parse",
           "pct", "power_label"]

#: Magnitudes at or above this are written in scientific notation.
SCI_ABOVE = 1e5
#: Non-zero magnitudes below this are written in scientific notation.
SCI_BELOW = 1e-3
MINUS = "\u2212"


def _trim(mantissa: str) -> str:
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return mantissa


def num(value: float | int | None, digits: int = 4, *, trim: bool = False, minus: str = "-",
        none: str = "—", min_decimals: int = 0) -> str:
    """`value` with `digits` significant digits (see the module docstring for the rule).

    `minus`: the sign to write ("-", or "−" for formulas); `none`: what None shows as;
    `min_decimals`: at least this many decimals in fixed notation (the neuron card's equations
    keep four, so 12.3400 × 0.5000 reads as exactly as 0.1234 × 0.5000)."""
    if value is None:
        return none
    v = float(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return ("-inf" if v < 0 else "inf").replace("-", minus)
    if v == 0.0:
        return "0"
    digits = max(1, int(digits))
    mant, exp_text = f"{v:.{digits - 1}e}".split("e")
    exp = int(exp_text)
    rounded = abs(float(f"{mant}e{exp}"))
    if rounded >= SCI_ABOVE or rounded < SCI_BELOW:
        text = f"{_trim(mant) if trim else mant}e{exp}"
    else:
        decimals = max(0, digits - 1 - exp, min_decimals)
        text = f"{v:.{decimals}f}"
        if trim:
            text = _trim(text)
        if float(text) == 0.0:
            text = "0"
    return text.replace("-", minus) if minus != "-" else text


def pct(fraction: float | None, decimals: int = 1, *, trim: bool = False, none: str = "—") -> str:
    """A fraction as a percentage with `decimals` decimals: 0.9725 → "97.2%" (trim: 0.95 → "95%");
    all of it is "100%"."""
    if fraction is None:
        return none
    v = float(fraction)
    if not math.isfinite(v):
        return num(v)
    text = f"{v * 100:.{decimals}f}"
    if trim or float(text) == 100.0:       # "100%" is exact: no ".0" to read
        text = _trim(text)
    return text + "%"


def parse(text: str) -> float:
    """The inverse of `num` (either minus sign)."""
    return float(text.replace(MINUS, "-"))


# -- axis ticks ------------------------------------------------------------------------------------
def _nice_step(span: float, count: int) -> float:
    raw = span / max(1, count)
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * mag >= raw:
            return m * mag
    return 10.0 * mag


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About `count` round tick values (steps of 1, 2, 2.5 or 5 × 10ᵏ) inside [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi < lo:
        lo, hi = hi, lo
    if hi - lo <= abs(hi) * 1e-12 or hi == lo:
        return [lo]
    step = _nice_step(hi - lo, count)
    places = max(0, 1 - math.floor(math.log10(step)))
    first = math.ceil(lo / step - 1e-9)
    ticks = []
    k = first
    while k * step <= hi + step * 1e-9:
        t = round(k * step, places)
        ticks.append(0.0 if t == 0 else t)
        k += 1
    return ticks


def int_ticks(lo: float, hi: float, count: int = 5) -> list[int]:
    """Whole-number ticks (epochs, counts) inside [lo, hi]: never 1.25 or 1131.5."""
    a, b = math.ceil(min(lo, hi)), math.floor(max(lo, hi))
    if b < a:
        return [round((lo + hi) / 2)]
    if b - a + 1 <= count:
        return list(range(a, b + 1))
    step = max(1, round(_nice_step(b - a, count)))
    ticks = list(range(math.ceil(a / step) * step, b + 1, step))
    if not ticks or ticks[0] - a > step / 2:
        ticks.insert(0, a)
    return ticks


def log_ticks(lo_exp: float, hi_exp: float, count: int = 6) -> list[int]:
    """Integer powers of ten (exponents) covering [lo_exp, hi_exp], at most about `count`."""
    a, b = math.floor(lo_exp), math.ceil(hi_exp)
    if b <= a:
        b = a + 1
    step = max(1, math.ceil((b - a) / max(1, count - 1)))
    return list(range(a, b + step, step))


def power_label(exp: int) -> str:
    """A power of ten as an axis label: 1, 10, 100, 1000 and 0.1, 0.01, 0.001; else "1e-6", "1e5"."""
    if 0 <= exp <= 3:
        return str(10 ** exp)
    if -3 <= exp < 0:
        return f"{10.0 ** exp:.{-exp}f}"
    return f"1e{exp}"
