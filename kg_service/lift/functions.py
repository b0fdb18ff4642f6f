"""Functions for messy department data, called from mappings the RML-FNML way.

https://kg-construct.github.io/fnml-spec/ (RML-Core: ``rml:functionExecution``; legacy and YARRRML
via yatter: ``fnml:execution``). Each function takes its parameters by IRI and returns a string,
or raises :class:`~kg_service.errors.RecordError` for a value it cannot handle, so that record is
quarantined and the others go on.

CityKG's functions live under ``https://w3id.org/citykg/functions#`` (prefix ``cityfn:``); the
common GREL string functions are accepted too, since YARRRML users know them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from kg_service.errors import RecordError

CITYFN = "https://w3id.org/citykg/functions#"
GREL = "http://users.ugent.be/~bjdmeest/function/grel.ttl#"
VALUE = f"{CITYFN}value"
FROM_UNIT = f"{CITYFN}from"
TO_UNIT = f"{CITYFN}to"
GREL_VALUE = f"{GREL}valueParameter"

Arguments = Mapping[str, str]
XSD = "http://www.w3.org/2001/XMLSchema#"


@dataclass(frozen=True)
class Function:
    """A function and the datatype of what it returns (used when the mapping gives none)."""

    call: Callable[[Arguments], str | None]
    returns: str | None = None


def _value(arguments: Arguments) -> str:
    for parameter in (VALUE, GREL_VALUE):
        if parameter in arguments:
            return arguments[parameter]
    raise RecordError("the function was called without its value parameter (cityfn:value)")


def trim(arguments: Arguments) -> str:
    """Strip spaces, including full-width ones and non-breaking spaces, and collapse inner runs."""
    return re.sub(r"\s+", " ", _value(arguments).replace("\u3000", " ").replace("\xa0", " ")).strip()


def upper(arguments: Arguments) -> str:
    return _value(arguments).upper()


def lower(arguments: Arguments) -> str:
    return _value(arguments).lower()


def normalise_code(arguments: Arguments) -> str:
    """A code as departments should have written it: full-width characters to ASCII, upper case,
    no spaces, hyphens or dots (91 9901-01MA01ＱＨ0A1G -> 919901 01MA01QH0A1G without the space)."""
    text = unicodedata.normalize("NFKC", _value(arguments))
    return re.sub(r"[\s\-_.·]", "", text).upper()


_DATE_PATTERNS = [
    re.compile(r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日?$"),
    re.compile(r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"),
]


def parse_date(arguments: Arguments) -> str:
    """The common Chinese date forms to an ISO date: 2023年4月1日, 2023/4/1, 2023.04.01, 20230401,
    2023-4-1 and date-times starting with a date."""
    text = unicodedata.normalize("NFKC", _value(arguments)).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"])).isoformat()
            except ValueError as error:
                raise RecordError(f"'{text}' is not a real date: {error}") from error
    raise RecordError(f"'{text}' is not a date in a known form (2023-04-01, 2023/4/1, 2023年4月1日, 20230401)")


# Units that convert by a factor, grouped by what they measure; the factor is to the group's base.
_UNITS: dict[str, tuple[str, Decimal]] = {
    "元": ("money", Decimal(1)), "万元": ("money", Decimal(10_000)), "亿元": ("money", Decimal(100_000_000)),
    "m2": ("area", Decimal(1)), "平方米": ("area", Decimal(1)), "km2": ("area", Decimal(1_000_000)),
    "平方公里": ("area", Decimal(1_000_000)), "ha": ("area", Decimal(10_000)), "公顷": ("area", Decimal(10_000)),
    "亩": ("area", Decimal(10_000) / Decimal(15)),
    "m": ("length", Decimal(1)), "米": ("length", Decimal(1)), "km": ("length", Decimal(1000)),
    "公里": ("length", Decimal(1000)), "mm": ("length", Decimal("0.001")), "毫米": ("length", Decimal("0.001")),
    "m3/d": ("flow", Decimal(1)), "万m3/d": ("flow", Decimal(10_000)), "立方米/日": ("flow", Decimal(1)),
    "万立方米/日": ("flow", Decimal(10_000)),
}


def convert_unit(arguments: Arguments) -> str:
    """A number from one unit to another of the same kind (万元 to 元, 亩 to m2, 公里 to m, ...)."""
    text = unicodedata.normalize("NFKC", _value(arguments)).replace(",", "").strip()
    source, target = arguments.get(FROM_UNIT, ""), arguments.get(TO_UNIT, "")
    if source not in _UNITS or target not in _UNITS:
        unknown = source if source not in _UNITS else target
        raise RecordError(f"unknown unit '{unknown}'", hint=f"known units: {', '.join(_UNITS)}")
    if _UNITS[source][0] != _UNITS[target][0]:
        raise RecordError(f"cannot convert {source} ({_UNITS[source][0]}) to {target} ({_UNITS[target][0]})")
    try:
        number = Decimal(text)
    except InvalidOperation as error:
        raise RecordError(f"'{text}' is not a number") from error
    converted = number * _UNITS[source][1] / _UNITS[target][1]
    normalised = converted.normalize()
    return format(normalised.quantize(Decimal(1)) if normalised == normalised.to_integral() else normalised, "f")


FUNCTIONS: dict[str, Function] = {
    f"{CITYFN}trim": Function(trim),
    f"{CITYFN}upper": Function(upper),
    f"{CITYFN}lower": Function(lower),
    f"{CITYFN}normaliseCode": Function(normalise_code),
    f"{CITYFN}parseDate": Function(parse_date, returns=f"{XSD}date"),
    f"{CITYFN}convertUnit": Function(convert_unit, returns=f"{XSD}decimal"),
    f"{GREL}toUpperCase": Function(upper),
    f"{GREL}toLowerCase": Function(lower),
    f"{GREL}string_trim": Function(trim),
}
