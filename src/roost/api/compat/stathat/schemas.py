"""StatHat wire shapes: form fields, and the JSON bulk body's fast decoder.

Form and query parameters are read by hand (``translate.parse_form``) because real clients send
bodies that are not URL-encoded. The msgspec models accept only the plain, common JSON shape;
anything they refuse is re-validated item by item by ``roost.domain``, which accepts the lenient
forms (numbers as strings, ``~`` names) and names the failing field.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

# /ez: the account key (``email`` before 2012), the stat, and one of count or value.
EZKEY_FIELDS = ("ezkey", "email")
# /c and /v: the stat's classic key and the user key.
CLASSIC_KEY = "key"
USER_KEY = "ukey"
COUNT = "count"
VALUE = "value"
TIME = "t"
# A form with more fields than this is not a StatHat post.
MAX_FORM_FIELDS = 50

_FINITE = msgspec.Meta(ge=-1.7976931348623157e308, le=1.7976931348623157e308)
_INT64 = msgspec.Meta(ge=-(2**63) + 1, le=2**63 - 1)
Number = Annotated[int, _INT64] | Annotated[float, _FINITE]


class EzItem(msgspec.Struct, gc=False):
    stat: str
    count: Number | None = None
    value: Number | None = None
    t: float | None = None


class EzBulk(msgspec.Struct, gc=False):
    data: list[EzItem]
    ezkey: str | None = None
    email: str | None = None


ez_bulk_decoder = msgspec.json.Decoder(EzBulk)
