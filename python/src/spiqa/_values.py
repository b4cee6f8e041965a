"""JSON metadata values held to the Swift tools' rules (Sources/SpiqaCore/JSONValue.swift)."""
import math

_INT_LIMIT = 9.0e18        # JSONValue.intValue reads a double as an int below this


def finite_number(x):
    """A JSON number that is finite as a double (not a bool, not None; an int beyond any double is not)."""
    if type(x) not in (int, float):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:
        return False


def as_int(x):
    """``x`` as the tools read an integer (an int, or an integral double below 9e18), else None."""
    if type(x) is int:
        return x if -(1 << 63) <= x < (1 << 63) else None
    if type(x) is float and math.isfinite(x) and x == int(x) and abs(x) < _INT_LIMIT:
        return int(x)
    return None


def valid_levels(levels):
    """A codes record's ``levels`` as the tools read them (DecodeAttention.swift): a non-empty list of finite
    numbers."""
    return isinstance(levels, list) and bool(levels) and all(finite_number(x) for x in levels)
