"""Validate and normalise the claims of the city's credentials, one rule (and one code) at a time.

Every rule raises :class:`~kaga_vc.errors.InputError` with a stable code and a detail that names
the *field*, never the value: a claim may be personal data, and an individual number (My Number)
must never be echoed anywhere, not even in an error message.

The individual number rule comes first: any text anywhere in the claims or the evidence that holds
twelve or more digits in a row is refused with ``kaga:individual-number-refused``. Digits are read
after Unicode compatibility folding (full-width and circled digits count), digits of any script count,
kanji numerals count (〇 零 一 二 三 四 五 六 七 八 九 and the formal 壱 弐 参 …), and *any* separator between
them is ignored — spaces of every kind, hyphens, dashes, commas, dots, slashes, brackets, symbols,
invisible format characters — so ``1234-5678-9012``, ``1,234,567,890,123`` and ``一二三四 五六七八 九〇一二``
all count. Only a letter (or a kanji that is not a numeral) ends a run. No field of these credentials
legitimately holds such a run.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from enum import Enum
from typing import Any

from ...errors import InputError
from ._address import (
    ADDRESS_PARTS,
    ISHIKAWA_MUNICIPALITIES,
    KAGA_MUNICIPALITY,
    KAGA_MUNICIPALITY_CODE,
    KAGA_PREFECTURE,
    PREFECTURE_CODES,
)

JSONObject = dict[str, Any]

# Stable codes (each has a negative test in tests/issuer/test_claims.py).
INDIVIDUAL_NUMBER_REFUSED = "kaga:individual-number-refused"
UNKNOWN_CREDENTIAL_TYPE = "kaga:unknown-credential-type"
UNKNOWN_CLAIM = "kaga:unknown-claim"
MISSING_CLAIM = "kaga:missing-claim"
INVALID_TEXT = "kaga:invalid-text"
NOT_KANA = "kaga:not-kana"
INVALID_DATE = "kaga:invalid-date"
DATE_IN_FUTURE = "kaga:date-in-future"
IMPLAUSIBLE_DATE = "kaga:implausible-date"
INVALID_GENDER = "kaga:invalid-gender"
INVALID_ASSURANCE_LEVEL = "kaga:invalid-assurance-level"
UNKNOWN_EVIDENCE = "kaga:unknown-evidence"
ASSURANCE_EXCEEDS_EVIDENCE = "kaga:assurance-exceeds-evidence"
VIRTUAL_RESIDENT_ASSURANCE = "kaga:virtual-resident-assurance"
INVALID_ADDRESS = "kaga:invalid-address"
UNKNOWN_PREFECTURE = "kaga:unknown-prefecture"
INVALID_MUNICIPALITY_CODE = "kaga:invalid-municipality-code"
NOT_A_KAGA_ADDRESS = "kaga:not-a-kaga-address"
INVALID_SUBJECT = "kaga:invalid-subject"
SCHEMA_VIOLATION = "kaga:schema-violation"
NOT_ELIGIBLE = "kaga:not-eligible"
INVALID_COUNT = "kaga:invalid-count"

MAX_TEXT = 100
EARLIEST_DATE = date(1900, 1, 1)

_DIGIT_RUN = re.compile(r"\d{12,}")
#: kanji numerals written digit by digit (positional 十 百 千 end a run: 12 digits are not written that way)
_KANJI_DIGITS = {**dict.fromkeys("〇零", "0"), **dict.fromkeys("一壱壹弌", "1"), **dict.fromkeys("二弐貳貮弍", "2"),
                 **dict.fromkeys("三参參弎", "3"), **dict.fromkeys("四肆", "4"), **dict.fromkeys("五伍", "5"),
                 **dict.fromkeys("六陸", "6"), **dict.fromkeys("七漆柒", "7"), **dict.fromkeys("八捌", "8"),
                 **dict.fromkeys("九玖", "9")}
#: letters that are used as dashes between digit groups (katakana prolonged sound marks)
_DASH_LETTERS = frozenset("ーｰ〜～")
_ASCII_RUN = re.compile(r"[0-9](?:[^0-9A-Za-z]*+[0-9]){11}")
"""In ASCII text, 12 digits with only separators (neither letters nor digits) between them: the digit
run of the text with its separators removed, found without building that text."""
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Hiragana, katakana (with ー and ・), and spaces between words (ASCII or ideographic).
_KANA = re.compile(r"[\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe\u30fb]+(?:[ \u3000][\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe\u30fb]+)*")


class AssuranceLevel(str, Enum):
    """Identity assurance level (eIDAS-style: low, substantial, high)."""

    LOW = "low"
    SUBSTANTIAL = "substantial"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return ("low", "substantial", "high").index(self.value)


class EvidenceMethod(str, Enum):
    """How the city proofed the person, and the assurance level each method reaches."""

    EMAIL = "email"
    OPENID = "openid"
    DRIVERS_LICENCE = "driversLicence"
    RESIDENCE_CARD = "residenceCard"
    MY_NUMBER_CARD = "myNumberCardPublicKey"  # JPKI public-key authentication; the number itself is never read

    @property
    def level(self) -> AssuranceLevel:
        return _EVIDENCE_LEVEL[self]


_EVIDENCE_LEVEL = {
    EvidenceMethod.EMAIL: AssuranceLevel.LOW,
    EvidenceMethod.OPENID: AssuranceLevel.LOW,
    EvidenceMethod.DRIVERS_LICENCE: AssuranceLevel.SUBSTANTIAL,
    EvidenceMethod.RESIDENCE_CARD: AssuranceLevel.SUBSTANTIAL,
    EvidenceMethod.MY_NUMBER_CARD: AssuranceLevel.HIGH,
}

GENDERS = ("female", "male", "other")


def refuse_individual_number(value: Any, path: str = "claims") -> None:
    """Raise ``kaga:individual-number-refused`` if any text in ``value`` looks like an individual number.

    Walks dicts (keys too), lists and strings; numbers are checked through their decimal form. The
    error names the field path only. Every batch row is checked, so the texts are first scanned in one
    pass without building paths (an ASCII text by one regular expression, no copy); only a hit walks
    again to name the path.
    """
    if _may_hold_individual_number(value):
        _refuse_at(value, path)


def _may_hold_individual_number(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            # an ASCII text under 12 characters cannot hold 12 digits (a non-ASCII one can: NFKC folds
            # ⑫ to two digits, so contains_individual_number counts after folding)
            if (len(item) >= 12 and _ASCII_RUN.search(item) is not None) if item.isascii() \
                    else contains_individual_number(item):
                return True
        elif isinstance(item, Mapping):
            for key, member in item.items():
                stack.append(key)
                stack.append(member)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, (int, float)) and not isinstance(item, bool) and contains_individual_number(str(item)):
            return True
    return False


def _refuse_at(value: Any, path: str) -> None:
    if isinstance(value, Mapping):
        for key, member in value.items():
            _refuse_at(key, path)
            _refuse_at(member, f"{path}.{key}" if not contains_individual_number(str(key)) else path)
    elif isinstance(value, (list, tuple)):
        for index, member in enumerate(value):
            _refuse_at(member, f"{path}[{index}]")
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool) and contains_individual_number(str(value)):
        raise InputError(
            INDIVIDUAL_NUMBER_REFUSED,
            f"{path} holds an individual-number-like run of 12 or more digits; "
            "the individual number (My Number) is never accepted",
            field=path,
        )


def contains_individual_number(text: str) -> bool:
    """True if ``text`` holds 12+ digits in a row (digits of any script, full-width forms, separators,
    and invisible format characters such as zero-width spaces between them included).

    Two exact shortcuts keep batch issuance cheap: ASCII text folds to itself (letters end a run, every
    other non-digit is a separator), and text whose NFKC form holds fewer than 12 characters that can
    fold to a digit cannot hold a run of 12."""
    if text.isascii():
        return _ASCII_RUN.search(text) is not None
    folded = unicodedata.normalize("NFKC", text)
    # the two counts are disjoint (no kanji numeral is a digit to isdigit()); mapped builtins, not a
    # generator: every non-ASCII text of a batch row comes here
    if len(folded) < 12 or sum(map(str.isdigit, folded)) + sum(map(_KANJI_DIGITS.__contains__, folded)) < 12:
        return False
    return bool(_DIGIT_RUN.search(digits_only(text)))


def digits_only(text: str) -> str:
    """``text`` folded for the individual-number rule: each digit (any script, kanji numerals) as ASCII,
    each separator dropped, anything else (letters, other kanji) as a space that ends a run."""
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        if ch in _KANJI_DIGITS:
            out.append(_KANJI_DIGITS[ch])
        elif ch.isdecimal() or unicodedata.category(ch) == "Nd":
            out.append(str(unicodedata.decimal(ch, 0)))
        elif ch.isdigit():  # superscripts and the like NFKC did not fold
            out.append(str(unicodedata.digit(ch, 0)))
        elif ch in _DASH_LETTERS or unicodedata.category(ch)[0] in "PSZC":
            continue  # a separator: punctuation, symbols, spaces, controls and format characters
        else:
            out.append(" ")
    return "".join(out)


def text(value: Any, field: str, *, max_length: int = MAX_TEXT) -> str:
    """A non-empty NFC-normalised single line of at most ``max_length`` characters."""
    if not isinstance(value, str):
        raise InputError(INVALID_TEXT, f"{field} must be text", field=field)
    normalised = unicodedata.normalize("NFC", value).strip()
    if not normalised or len(normalised) > max_length:
        raise InputError(INVALID_TEXT, f"{field} must be 1 to {max_length} characters", field=field)
    # isprintable() is False for every Cc/Cf/Cs/Co/Cn character (and for separators but the ASCII
    # space, which the loop then lets through): a printable line needs no look at each character
    if not normalised.isprintable() and any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn")
                                            for ch in normalised):
        raise InputError(INVALID_TEXT, f"{field} holds control or unassigned characters", field=field)
    return normalised


def count(value: Any, field: str, maximum: int) -> int:
    """A whole number from 1 to ``maximum`` (a CSV or CLI gives digits as text; a bool is no number)."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise InputError(INVALID_COUNT, f"{field} must be a whole number from 1 to {maximum}", field=field)
    return value


def kana(value: Any, field: str) -> str:
    """Full-width hiragana or katakana words (ー and ・ allowed), separated by single spaces."""
    normalised = text(value, field)
    if not _KANA.fullmatch(normalised):
        raise InputError(NOT_KANA, f"{field} must be written in full-width kana", field=field)
    return normalised


def iso_date(value: Any, field: str) -> date:
    """A calendar date written ``YYYY-MM-DD`` that exists."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE.fullmatch(value.strip()):
        raise InputError(INVALID_DATE, f"{field} must be a date written YYYY-MM-DD", field=field)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(INVALID_DATE, f"{field} is not a real calendar date", field=field) from None


def past_date(value: Any, field: str, today: date, *, not_before: date = EARLIEST_DATE,
              not_before_name: str = "1900-01-01") -> date:
    """A real date, not after ``today`` and not before ``not_before`` (named, not shown, in errors)."""
    parsed = iso_date(value, field)
    if parsed > today:
        raise InputError(DATE_IN_FUTURE, f"{field} is in the future", field=field)
    if parsed < not_before:
        raise InputError(IMPLAUSIBLE_DATE, f"{field} is before {not_before_name}", field=field)
    return parsed


def gender(value: Any) -> str:
    if not isinstance(value, str) or value.strip().lower() not in GENDERS:
        raise InputError(INVALID_GENDER, f"gender must be one of {', '.join(GENDERS)}", field="gender")
    return value.strip().lower()


def assurance_level(value: Any) -> AssuranceLevel:
    try:
        return AssuranceLevel(value)
    except ValueError:
        raise InputError(
            INVALID_ASSURANCE_LEVEL, "assuranceLevel must be low, substantial or high", field="assuranceLevel"
        ) from None


def evidence_list(value: Any, today: date) -> list[tuple[EvidenceMethod, date]]:
    """Evidence given as method names or ``{"method", "verifiedAt"?}`` objects (nothing else)."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise InputError(MISSING_CLAIM, "at least one piece of evidence is needed", field="evidence")
    out: list[tuple[EvidenceMethod, date]] = []
    for index, item in enumerate(items):
        field = f"evidence[{index}]"
        verified_at = today
        if isinstance(item, Mapping):
            extra = sorted(set(item) - {"method", "verifiedAt"})
            if extra:
                raise InputError(UNKNOWN_CLAIM, f"{field} has unknown members {extra}", field=field)
            if "verifiedAt" in item:
                verified_at = past_date(item["verifiedAt"], f"{field}.verifiedAt", today)
            item = item.get("method")
        try:
            method = EvidenceMethod(item.strip() if isinstance(item, str) else item)
        except ValueError:
            names = ", ".join(m.value for m in EvidenceMethod)
            raise InputError(UNKNOWN_EVIDENCE, f"{field} must be one of {names}", field=field) from None
        out.append((method, verified_at))
    return out


def address(value: Any, *, kaga_only: bool) -> JSONObject:
    """A structured Japanese address; text ``"県 市 町 番地"`` (space separated) is accepted too.

    The municipality code (JIS X 0402, five digits) is filled in for Ishikawa's municipalities and
    must otherwise be given; it must start with the prefecture's JIS X 0401 code.
    """
    if isinstance(value, str):
        parts = unicodedata.normalize("NFC", value).split()
        if len(parts) < 4:
            raise InputError(
                INVALID_ADDRESS, "address text must be 'prefecture municipality town block' separated by spaces",
                field="address",
            )
        value = dict(zip(ADDRESS_PARTS, [*parts[:3], " ".join(parts[3:])], strict=True))
    if not isinstance(value, Mapping):
        raise InputError(INVALID_ADDRESS, "address must be an object or text", field="address")
    extra = sorted(set(value) - {*ADDRESS_PARTS, "municipalityCode", "type"})
    if extra:
        raise InputError(UNKNOWN_CLAIM, f"address has unknown members {extra}", field="address")
    missing = [part for part in ADDRESS_PARTS if part not in value]
    if missing:
        raise InputError(INVALID_ADDRESS, f"address lacks {missing}", field="address")
    out: JSONObject = {"type": "JapaneseAddress"}
    for part in ADDRESS_PARTS:
        out[part] = text(value[part], f"address.{part}")
    prefecture_code = PREFECTURE_CODES.get(out["prefecture"])
    if prefecture_code is None:
        raise InputError(UNKNOWN_PREFECTURE, "address.prefecture is not one of the 47 prefectures", field="address.prefecture")
    known = ISHIKAWA_MUNICIPALITIES.get(out["municipality"]) if prefecture_code == "17" else None
    code = value.get("municipalityCode", known)
    if code is not None:
        if not isinstance(code, str) or not re.fullmatch(r"\d{5}", code):
            raise InputError(INVALID_MUNICIPALITY_CODE, "address.municipalityCode must be five digits (JIS X 0402)",
                             field="address.municipalityCode")
        if not code.startswith(prefecture_code) or (known is not None and code != known):
            raise InputError(INVALID_MUNICIPALITY_CODE, "address.municipalityCode does not match the municipality",
                             field="address.municipalityCode")
        out["municipalityCode"] = code
    if kaga_only and (out["prefecture"], out["municipality"], out.get("municipalityCode")) != (
        KAGA_PREFECTURE, KAGA_MUNICIPALITY, KAGA_MUNICIPALITY_CODE
    ):
        raise InputError(NOT_A_KAGA_ADDRESS, f"a residency credential needs an address in {KAGA_PREFECTURE}{KAGA_MUNICIPALITY}",
                         field="address")
    return {k: out[k] for k in ("type", "prefecture", "municipality", "municipalityCode", "town", "block") if k in out}


def age_on(birth: date, day: date) -> int:
    """Completed years on ``day`` (a 29 February birthday completes a year on 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
