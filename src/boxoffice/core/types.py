"""Field types shared by the schemas: money, currencies, time zones, bounded text."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

# Active ISO 4217 codes (funds and precious metals left out).
ISO_4217 = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
    BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP
    GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD
    KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK
    NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD
    SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD
    XCG XOF XPF YER ZAR ZMW ZWG""".split()  # noqa: SIM905  (a block reads better than 170 strings)
)


# In the tz database but not places: "Factory" is a placeholder zone, never a real one.
_NOT_PLACES = frozenset({"Factory"})


@cache
def _known_time_zones() -> frozenset[str]:
    """The IANA names, exactly as spelled in the database the service ships (the ``tzdata``
    package), not whatever the host's zoneinfo directory holds (``localtime``, ``posixrules``,
    ``posix/...``); old names the database keeps as links (``US/Pacific``) stay valid."""
    names = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return frozenset(names) - _NOT_PLACES


def _known_time_zone(name: str) -> str:
    if name not in _known_time_zones():
        raise ValueError(f"unknown IANA time zone {name!r} (for example 'Europe/Berlin' or 'UTC')")
    return name


def _known_currency(code: str) -> str:
    code = code.upper()
    if code not in ISO_4217:
        raise ValueError(f"unknown ISO 4217 currency code {code!r}")
    return code


def money_string(amount: Decimal) -> str:
    """``Decimal('12.5')`` → ``"12.50"``: money is always served with exactly two decimal places."""
    return f"{amount.quantize(Decimal('0.01')):f}"


# Instants outside this range are refused: they are mistakes, and some cannot be represented in UTC.
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def _in_utc(moment: datetime) -> datetime:
    try:
        utc = moment.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("the instant is outside the supported range") from error
    if not EARLIEST <= utc < LATEST:
        raise ValueError(f"the instant must fall between {EARLIEST.year} and {LATEST.year}")
    return utc


def local_instant(moment: datetime | None, zone: str) -> datetime | None:
    """``moment`` in the IANA ``zone``, with that zone's offset at that moment (for ``*_local``)."""
    return None if moment is None else moment.astimezone(ZoneInfo(zone))


LOCAL_TIME = "The same instant in the event's time zone: RFC 3339 with that zone's offset then"

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339_text(value: Any) -> Any:
    """Only RFC 3339 text is an instant here: no Unix timestamps, no dates without a time."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("expected an RFC 3339 date-time with an offset, such as 2027-03-14T19:30:00Z")
    return value


UtcDatetime = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339_text),
    AfterValidator(_in_utc),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            # The years accepted (1970 to 8999), which "date-time" alone does not say.
            "pattern": "^(19[7-9][0-9]|[2-8][0-9]{3})-",
        }
    ),
]
"""A request instant: RFC 3339 with an offset (naive ones are refused), converted to UTC."""

MAX_PRICE = Decimal("99999999.99")

MONEY_PATTERN = r"^[0-9]{1,8}(\.[0-9]{1,2})?$"
_MONEY_TEXT = re.compile(MONEY_PATTERN)


def _money_text(value: Any) -> Any:
    """Money as text is plain digits with at most two decimals: no exponent, sign or spaces."""
    if isinstance(value, str) and not _MONEY_TEXT.match(value):
        raise ValueError("expected an amount such as 12.50 (at most two decimal places)")
    return value


# Money in: a JSON number or string with at most two decimal places. Money out: "12.50".
Price = Annotated[
    Decimal,
    BeforeValidator(_money_text),
    Field(ge=0, le=MAX_PRICE, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": float(MAX_PRICE), "multipleOf": 0.01},
                {"type": "string", "pattern": MONEY_PATTERN},
            ],
            "examples": ["25.00"],
        },
        mode="validation",
    ),
    PlainSerializer(money_string, return_type=str, when_used="json"),
]
MoneyOut = Annotated[Decimal, PlainSerializer(money_string, return_type=str), Field(examples=["25.00"])]
TimeZone = Annotated[
    str,
    Field(max_length=64),
    AfterValidator(_known_time_zone),
    WithJsonSchema({"type": "string", "enum": sorted(_known_time_zones()), "examples": ["Europe/Berlin"]}),
]
Currency = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=3),
    AfterValidator(_known_currency),
    WithJsonSchema({"type": "string", "enum": sorted(ISO_4217), "examples": ["EUR"]}),
]
