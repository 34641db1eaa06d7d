"""String formats: how we check them, how we generate them, and known-bad examples.

Why our own checkers: jsonschema only asserts ``date-time``, ``uri``, ``hostname``, ``duration``
... when optional helper packages are installed, and they are not dependencies of this project.
An unchecked format would let a "valid" draw be garbage for that format (the server would then
be blamed for rejecting it) and would make format violations unverifiable. The checkers below
are deliberately strict-but-simple (RFC syntax, no exotic forms): a valid draw must be
unambiguously valid, a violation unambiguously invalid.

``GENERATORS`` fills the gaps in hypothesis-jsonschema's own format table (it ignores formats it
does not know and emits arbitrary strings; ``uuid`` was 0/150 valid, library-notes 1.2).
"""

from __future__ import annotations

import re
from typing import Callable

from hypothesis import strategies as st
from jsonschema import FormatChecker

_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME_RE = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$")
_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f<>\"{}|\\^`]*$")
_URI_REF_RE = re.compile(r"^[^\s\x00-\x1f\x7f<>\"{}|\\^`]*$")
_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_DURATION_RE = re.compile(
    r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def is_date(s: str) -> bool:
    m = _DATE_RE.match(s)
    if not m:
        return False
    y, mo, d = (int(g) for g in m.groups())
    return 1 <= mo <= 12 and 1 <= d <= _days_in_month(y, mo)


def is_time(s: str) -> bool:
    m = _TIME_RE.match(s)
    if not m:
        return False
    h, mi, sec = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if m.group(6) is not None and (int(m.group(6)) > 23 or int(m.group(7)) > 59):
        return False
    return h <= 23 and mi <= 59 and sec <= 60  # 60: leap second


def is_date_time(s: str) -> bool:
    """RFC 3339 ``date-time``: a full date, ``T`` (either case), a full time with offset."""
    if len(s) < 20 or s[10] not in "Tt":
        return False
    return is_date(s[:10]) and is_time(s[11:])


def is_uri(s: str) -> bool:
    return bool(_URI_RE.match(s))


def is_uri_reference(s: str) -> bool:
    return bool(_URI_REF_RE.match(s))


def is_hostname(s: str) -> bool:
    if not s or len(s) > 253:
        return False
    labels = s[:-1].split(".") if s.endswith(".") else s.split(".")
    return all(_LABEL_RE.match(label) for label in labels)


def is_duration(s: str) -> bool:
    return bool(_DURATION_RE.match(s))


def is_json_pointer(s: str) -> bool:
    return s == "" or (s.startswith("/") and re.search(r"~(?![01])", s) is None)


def is_uuid(s: str) -> bool:
    return bool(_UUID_RE.match(s))


EXTRA_CHECKERS: dict[str, Callable[[str], bool]] = {
    "date-time": is_date_time,
    "date": is_date,
    "time": is_time,
    "uri": is_uri,
    "iri": is_uri,
    "uri-reference": is_uri_reference,
    "iri-reference": is_uri_reference,
    "hostname": is_hostname,
    "duration": is_duration,
    "json-pointer": is_json_pointer,
    "uuid": is_uuid,
}


def format_checker(base: FormatChecker) -> FormatChecker:
    """A copy of a dialect's FormatChecker with our extra checkers added (ours win)."""
    checker = FormatChecker(formats=())
    checker.checkers = dict(base.checkers)
    for name, fn in EXTRA_CHECKERS.items():

        def check(instance: object, fn: Callable[[str], bool] = fn) -> bool:
            return not isinstance(instance, str) or fn(instance)  # formats only constrain strings

        checker.checkers[name] = (check, ())
    return checker


ALL_FORMATS = format_checker(FormatChecker())


def conforms(value: str, fmt: str) -> bool:
    return ALL_FORMATS.conforms(value, fmt)


def asserted_formats() -> frozenset[str]:
    """Formats we can actually check (and therefore violate verifiably)."""
    return frozenset(ALL_FORMATS.checkers)


# Strategies for formats hypothesis-jsonschema does not know. (Overriding its own entries
# makes it warn, so only gaps are filled; its date-time/uri/hostname output passes our checkers.)
GENERATORS: dict[str, st.SearchStrategy[str]] = {
    "uuid": st.uuids().map(str),
    "duration": st.builds(
        lambda d, h, m, s: f"P{d}DT{h}H{m}M{s}S",
        st.integers(0, 400),
        st.integers(0, 23),
        st.integers(0, 59),
        st.integers(0, 59),
    ),
}

# Near-miss strings that break one format each (each is checked against ALL_FORMATS before use).
BAD_EXAMPLES: dict[str, tuple[str, ...]] = {
    "date-time": ("2024-13-01T00:00:00Z", "2024-02-30T10:00:00Z", "2024-01-01 25:00", "2024-01-01T00:00:00", "yesterday", ""),
    "date": ("2024-13-01", "2024-02-30", "24-1-1", "01/02/2024", "today", ""),
    "time": ("25:00:00Z", "12:60:00Z", "12:00", "noon", ""),
    "email": ("no-at-sign", "plainaddress", ""),
    "idn-email": ("no-at-sign", ""),
    "uri": ("not a uri", "//missing-scheme", "http://exa mple.com", "", "1http://x"),
    "iri": ("not an iri", "", "//no-scheme"),
    "uri-reference": ("has space", "a<b>", "back\\slash"),
    "iri-reference": ("has space", "a<b>"),
    "hostname": ("-bad-.example", "exa mple.com", "a" * 64 + ".com", ""),
    "ipv4": ("256.1.1.1", "1.2.3", "1.2.3.4.5", "localhost", ""),
    "ipv6": ("12345::", "1:2:3:4:5:6:7:8:9", ":::", "localhost", ""),
    "uuid": ("not-a-uuid", "1234", "00000000-0000-0000-0000-00000000000g", "00000000000000000000000000000000x", ""),
    "duration": ("P", "1D", "PT", "P1H", "P-1D"),
    "json-pointer": ("no-leading-slash", "/a~2b", "~"),
    "regex": ("(unclosed", "[z-a]", "*"),
}
