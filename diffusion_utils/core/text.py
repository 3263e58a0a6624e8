"""Numbers formatted for prose, so that the chapters glue computed values into their text (home chapter: Introduction)."""

from __future__ import annotations

import math

__all__ = ["sci"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci(value: float, digits: int = 2) -> str:
    """``value`` with ``digits`` significant digits as plain text, e.g. 2.8·10⁻⁴ (chapter: Introduction).

    Numbers between 0.01 and 10 000 are written without a power of ten (0.034, 1200); others as m·10ⁿ.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise TypeError(f"value must be a real number, got {type(value).__name__}")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 15:
        raise ValueError(f"digits must be an int in [1, 15], got {digits!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"value must be finite, got {value!r}")
    if value == 0.0:
        return "0"
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    exponent = int(exponent)
    if -2 <= exponent <= 3:
        decimals = digits - 1 - exponent
        return f"{value:.{decimals}f}" if decimals >= 0 else f"{round(value, decimals):.0f}"
    return f"{mantissa}·10{str(exponent).translate(_SUPERSCRIPT)}"
