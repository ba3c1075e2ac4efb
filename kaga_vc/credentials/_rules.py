"""The data model's rules (VCDM 2.0 §4, 1.1 §4) in plain Python: what the verify path checks.

Why: :mod:`._model`'s pydantic classes cost a cold ``kaga-vc verify`` about 200 ms of imports and
schema building, for a status list credential read once. The rules live here once: the pydantic
``Credential.from_json`` / ``Presentation.from_json`` run :func:`check_credential` /
:func:`check_presentation` and then pydantic's field validation; the verify path runs the same
checks and then :func:`check_credential_fields` / :func:`check_presentation_fields`, which refuse
exactly what that pydantic validation refuses on JSON values (the only values the verify path has:
``parse_json`` or ``check_structure`` has read them). ``tests/di/test_model_rules.py`` runs both on
the model's test vectors, hostile inputs and generated documents and requires the same verdict, the
same error and the same facts.

The pydantic models are built with ``populate_by_name``: a field absent under its JSON name (its
alias, ``validFrom``) is read under its Python name (``valid_from``) if present. The views here read
fields the same way, so every fact (dates, status, holder) is the one the model gives.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .._encoding import multibase_decode
from ..contexts import bundled_contexts
from ..errors import MALFORMED_VALUE_ERROR, RELATED_RESOURCE_DIGEST_MISMATCH, InputError, KagaError
from ..proofs.data_integrity import parse_datetime

JSONObject = dict[str, Any]

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
VERSION_2 = "2.0"
VERSION_1_1 = "1.1"

# the pydantic models' optional fields: (JSON name, Python name, kind); kinds: "str" (str | None),
# "objects" (JSONObject | list[JSONObject] | None). Required fields and ``type`` / ``id`` /
# ``issuer`` / ``holder`` / ``verifiableCredential`` are fully decided by check_credential /
# check_presentation (what they accept, pydantic accepts).
CREDENTIAL_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("validFrom", "valid_from", "str"),
    ("validUntil", "valid_until", "str"),
    ("issuanceDate", "issuance_date", "str"),
    ("expirationDate", "expiration_date", "str"),
    ("credentialStatus", "credential_status", "objects"),
    ("credentialSchema", "credential_schema", "objects"),
    ("evidence", "evidence", "objects"),
    ("termsOfUse", "terms_of_use", "objects"),
    ("refreshService", "refresh_service", "objects"),
    ("proof", "proof", "objects"),
)
PRESENTATION_FIELDS: tuple[tuple[str, str, str], ...] = (("proof", "proof", "objects"),)

_ABSENT = object()


def fail(prop: str, detail: str) -> InputError:
    return InputError(MALFORMED_VALUE_ERROR, detail, property=prop)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def is_url(value: Any) -> bool:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    scheme, sep, rest = value.partition(":")
    return bool(sep and rest and scheme and scheme[0].isalpha() and all(c.isalnum() or c in "+-." for c in scheme))


def id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def is_presentation(data: Any) -> bool:
    """True when ``data`` declares the ``VerifiablePresentation`` type."""
    return isinstance(data, dict) and "VerifiablePresentation" in as_list(data.get("type"))


# -- the checks (before any field validation) ----------------------------------------------------


def check_credential(data: Any) -> list[str]:
    """VCDM 2.0 §4 / 1.1 §4 for a credential: its types; InputError ``MALFORMED_VALUE_ERROR``."""
    if not isinstance(data, dict):
        raise fail("", "a credential must be a JSON object")
    version = check_context(data)
    types = check_type(data, "VerifiableCredential")
    issuer = data.get("issuer")
    if id_of(issuer) is None or not is_url(id_of(issuer)):
        raise fail("issuer", "issuer must be a URL or an object whose id is a URL")
    subject = data.get("credentialSubject")
    subjects = as_list(subject)
    if not subjects or not all(isinstance(s, dict) and s for s in subjects):
        raise fail("credentialSubject", "credentialSubject must be a non-empty object or list of objects")
    for s in subjects:
        if "id" in s and not is_url(s["id"]):
            raise fail("credentialSubject.id", "credentialSubject.id must be a URL")
    if "id" in data and not is_url(data["id"]):
        raise fail("id", "id must be a URL")
    if version == VERSION_2:
        for name in ("validFrom", "validUntil"):
            if name in data:
                parse_datetime(data[name], name)
        if "validFrom" in data and "validUntil" in data and (
            parse_datetime(data["validFrom"], "validFrom") > parse_datetime(data["validUntil"], "validUntil")
        ):
            raise fail("validUntil", "validUntil is before validFrom")
    else:
        if "issuanceDate" not in data:
            raise fail("issuanceDate", "a VC 1.1 credential needs issuanceDate")
        for name in ("issuanceDate", "expirationDate"):
            if name in data:
                parse_datetime(data[name], name)
    check_typed_objects(data, "credentialStatus", id_required=False)
    check_typed_objects(data, "credentialSchema", id_required=True)
    for name in ("evidence", "termsOfUse", "refreshService"):
        check_typed_objects(data, name, id_required=False)
    check_related_resources(data)
    return types


def check_presentation(data: Any) -> tuple[list[str], list[Any]]:
    """VCDM 2.0 §4.13 for a presentation: its types and credentials; InputError ``MALFORMED_VALUE_ERROR``."""
    if not isinstance(data, dict):
        raise fail("", "a presentation must be a JSON object")
    check_context(data)
    types = check_type(data, "VerifiablePresentation")
    if "holder" in data and (id_of(data["holder"]) is None or not is_url(id_of(data["holder"]))):
        raise fail("holder", "holder must be a URL or an object whose id is a URL")
    if "id" in data and not is_url(data["id"]):
        raise fail("id", "id must be a URL")
    credentials = as_list(data.get("verifiableCredential"))
    if not all(isinstance(c, (dict, str)) for c in credentials):
        raise fail("verifiableCredential", "verifiableCredential holds credential objects")
    return types, credentials


def check_context(data: JSONObject) -> str:
    contexts = data.get("@context")
    if not isinstance(contexts, list) or not contexts:
        raise fail("@context", "@context must be a non-empty list starting with the VC base context")
    if contexts[0] == VC_V2:
        return VERSION_2
    if contexts[0] == VC_V1:
        return VERSION_1_1
    raise fail("@context", f"the first @context must be {VC_V2} (or {VC_V1})")


def check_type(data: JSONObject, required: str) -> list[str]:
    types = as_list(data.get("type"))
    if not types or not all(isinstance(t, str) and t for t in types):
        raise fail("type", "type must be a string or a list of strings")
    if required not in types:
        raise fail("type", f"type must include {required}")
    return types


def check_typed_objects(data: JSONObject, name: str, *, id_required: bool) -> None:
    if name not in data:
        return
    items = as_list(data[name])
    if not items:
        raise fail(name, f"{name} must not be empty")
    for item in items:
        if not isinstance(item, dict):
            raise fail(name, f"{name} must be an object or a list of objects")
        if not as_list(item.get("type")) or not all(isinstance(t, str) for t in as_list(item.get("type"))):
            raise fail(f"{name}.type", f"each {name} needs a type")
        if id_required and not is_url(item.get("id")):
            raise fail(f"{name}.id", f"each {name} needs an id URL")
        if not id_required and "id" in item and not is_url(item["id"]):
            raise fail(f"{name}.id", f"{name}.id must be a URL")


_SRI = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_BY_SIZE = {32: hashlib.sha256, 48: hashlib.sha384, 64: hashlib.sha512}
_MULTIHASH = {b"\x12\x20": hashlib.sha256, b"\x20\x30": hashlib.sha384, b"\x13\x40": hashlib.sha512}


def _sri_digests(value: Any) -> list[tuple[Any, bytes]]:
    """``digestSRI``: SRI hash expressions (``sha384-<base64>``, space-separated, SRI §3.5)."""
    if not isinstance(value, str) or not value.strip():
        raise fail("relatedResource.digestSRI", "digestSRI must be an SRI hash expression such as sha384-…")
    out = []
    for expression in value.split():
        alg, sep, b64 = expression.partition("-")
        if not sep or alg not in _SRI:
            raise fail("relatedResource.digestSRI", f"digestSRI {expression!r} is not sha256/384/512-<base64>")
        try:
            digest = base64.b64decode(b64.split("?")[0], validate=True)
        except ValueError:
            raise fail("relatedResource.digestSRI", f"digestSRI {expression!r} is not base64") from None
        if len(digest) != _SRI[alg]().digest_size:
            raise fail("relatedResource.digestSRI", f"digestSRI {expression!r} has the wrong length for {alg}")
        out.append((_SRI[alg], digest))
    return out


def _multibase_digest(value: Any) -> tuple[Any, bytes]:
    """``digestMultibase``: a multibase-encoded SHA-2 digest, bare or as a multihash."""
    try:
        raw = multibase_decode(value, expected_base=None) if isinstance(value, str) else b""
    except KagaError:
        raw = b""
    if raw[:2] in _MULTIHASH and len(raw) == 2 + _MULTIHASH[raw[:2]]().digest_size:
        return _MULTIHASH[raw[:2]], raw[2:]
    if len(raw) in _BY_SIZE:
        return _BY_SIZE[len(raw)], raw
    raise fail("relatedResource.digestMultibase", "digestMultibase must be a multibase SHA-256/384/512 digest")


def check_related_resources(data: JSONObject) -> None:
    """VCDM 2.0 §5.3: objects with a unique ``id`` URL and a ``digestSRI`` or ``digestMultibase``.

    A resource this library holds byte for byte (a bundled context) is also checked against its
    digests: "if the digest ... does not match the digest computed for the retrieved resource, the
    conforming verifier implementation MUST produce an error" (``kaga:related-resource-digest-mismatch``).
    Other resources are not fetched (offline by default), so their digests cannot be checked here.
    """
    if "relatedResource" not in data:
        return
    items = as_list(data["relatedResource"])
    if not items or not all(isinstance(item, dict) for item in items):
        raise fail("relatedResource", "relatedResource must be an object or a non-empty list of objects")
    seen: set[str] = set()
    for item in items:
        rid = item.get("id")
        if not is_url(rid):
            raise fail("relatedResource.id", "each relatedResource needs an id URL")
        if rid in seen:
            raise fail("relatedResource.id", f"relatedResource id {rid!r} appears twice")
        seen.add(rid)
        if "digestSRI" not in item and "digestMultibase" not in item:
            raise fail("relatedResource", f"relatedResource {rid!r} has neither digestSRI nor digestMultibase")
        if "mediaType" in item and not isinstance(item["mediaType"], str):
            raise fail("relatedResource.mediaType", "relatedResource.mediaType must be a string")
        digests = _sri_digests(item["digestSRI"]) if "digestSRI" in item else []
        if "digestMultibase" in item:
            digests.append(_multibase_digest(item["digestMultibase"]))
        bundle = bundled_contexts()
        if rid in bundle:
            raw = bundle.raw_bytes(rid)
            for algorithm, digest in digests:
                if not hmac.compare_digest(algorithm(raw).digest(), digest):
                    raise InputError(RELATED_RESOURCE_DIGEST_MISMATCH,
                                     f"relatedResource {rid!r}: the digest does not match the resource", property="relatedResource")


# -- the field validation pydantic does after the checks ------------------------------------------


def _field(data: JSONObject, alias: str, name: str) -> Any:
    """The value pydantic (``populate_by_name``) validates for a field: its alias first, then its name."""
    if alias in data:
        return data[alias]
    return data.get(name, _ABSENT)


def _fits(value: Any, kind: str) -> bool:
    if value is None or value is _ABSENT:
        return True
    if kind == "str":
        return isinstance(value, str)
    return isinstance(value, dict) or (isinstance(value, list) and all(isinstance(item, dict) for item in value))


def _check_fields(data: JSONObject, fields: tuple[tuple[str, str, str], ...], kind: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for alias, name, field_kind in fields:
        value = _field(data, alias, name)
        if not _fits(value, field_kind):
            raise fail("", f"{kind} does not match the data model: ValidationError")
        values[name] = None if value is _ABSENT else value
    return values


def check_credential_fields(data: JSONObject) -> dict[str, Any]:
    """The optional fields as the pydantic ``Credential`` reads them; refuses what its validation refuses."""
    return _check_fields(data, CREDENTIAL_FIELDS, "credential")


def check_presentation_fields(data: JSONObject) -> dict[str, Any]:
    """The optional fields as the pydantic ``Presentation`` reads them; refuses what its validation refuses."""
    return _check_fields(data, PRESENTATION_FIELDS, "presentation")


# -- the facts read from a checked document -------------------------------------------------------


class CredentialFacts:
    """The facts a verifier reads from a credential (shared by the pydantic model and the view).

    Reads ``context``, ``issuer``, ``credential_subject``, ``valid_from``, ``valid_until``,
    ``issuance_date`` and ``expiration_date`` from the object it is mixed into.
    """

    if TYPE_CHECKING:  # declared for the type checker only: pydantic would collect them as fields
        context: list[Any]
        issuer: str | JSONObject
        credential_subject: JSONObject | list[JSONObject]
        valid_from: str | None
        valid_until: str | None
        issuance_date: str | None
        expiration_date: str | None

    @property
    def version(self) -> str:
        return VERSION_2 if self.context and self.context[0] == VC_V2 else VERSION_1_1

    @property
    def issuer_id(self) -> str:
        return str(id_of(self.issuer))

    @property
    def subject_ids(self) -> list[str]:
        return [s["id"] for s in as_list(self.credential_subject) if isinstance(s, dict) and isinstance(s.get("id"), str)]

    @property
    def not_before(self) -> datetime | None:
        """validFrom (2.0) or issuanceDate (1.1)."""
        value = self.valid_from if self.version == VERSION_2 else self.issuance_date
        return parse_datetime(value, "validFrom") if value else None

    @property
    def not_after(self) -> datetime | None:
        """validUntil (2.0) or expirationDate (1.1)."""
        value = self.valid_until if self.version == VERSION_2 else self.expiration_date
        return parse_datetime(value, "validUntil") if value else None


class CredentialView(CredentialFacts):
    """A checked credential without pydantic: what ``Credential.from_json`` accepts, the same facts."""

    def __init__(self, data: Any) -> None:
        types = check_credential(data)
        fields = check_credential_fields(data)
        self.raw: JSONObject = data
        self.context = data["@context"]
        self.type = types
        self.issuer = data["issuer"]
        self.credential_subject = data["credentialSubject"]
        self.valid_from = fields["valid_from"]
        self.valid_until = fields["valid_until"]
        self.issuance_date = fields["issuance_date"]
        self.expiration_date = fields["expiration_date"]
        self.credential_status: JSONObject | list[JSONObject] | None = fields["credential_status"]
        self.proof: JSONObject | list[JSONObject] | None = fields["proof"]


class PresentationView:
    """A checked presentation without pydantic: what ``Presentation.from_json`` accepts, the same facts."""

    def __init__(self, data: Any) -> None:
        types, credentials = check_presentation(data)
        fields = check_presentation_fields(data)
        self.raw: JSONObject = data
        self.type = types
        self.holder: str | JSONObject | None = data.get("holder")
        self.verifiable_credential: list[Any] = credentials
        self.proof: JSONObject | list[JSONObject] | None = fields["proof"]

    @property
    def holder_id(self) -> str | None:
        return id_of(self.holder)
