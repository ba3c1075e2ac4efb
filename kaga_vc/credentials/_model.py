"""Verifiable Credentials Data Model 2.0 (and reading 1.1): typed views over the received JSON.

https://www.w3.org/TR/vc-data-model-2.0/ — the models keep the raw dict (``.raw``) beside the
typed fields: proofs are created and verified over the JSON actually received, never over
``model_dump()`` (STYLE.md §4). ``extra="allow"``: JSON-LD is open-world; whether an extra term is
defined is decided by JSON-LD expansion (``kaga:undefined-term``), not by the model.

Validation follows VCDM 2.0 §4 (and 1.1 §4 for v1 credentials): the base context first, the
``VerifiableCredential`` type, an ``issuer`` URL, a ``credentialSubject``, dateTimeStamps for
``validFrom`` / ``validUntil`` (``issuanceDate`` / ``expirationDate`` in 1.1), and the shape of
``credentialStatus``, ``credentialSchema``, ``evidence``, ``termsOfUse`` and ``refreshService``.
Every failure is an :class:`~kaga_vc.errors.InputError` with code ``MALFORMED_VALUE_ERROR`` and the
property in its context.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from .._encoding import multibase_decode
from ..contexts import bundled_contexts
from ..errors import MALFORMED_VALUE_ERROR, RELATED_RESOURCE_DIGEST_MISMATCH, InputError, KagaError
from ..proofs.data_integrity import parse_datetime

JSONObject = dict[str, Any]

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
VERSION_2 = "2.0"
VERSION_1_1 = "1.1"


def _fail(prop: str, detail: str) -> InputError:
    return InputError(MALFORMED_VALUE_ERROR, detail, property=prop)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _is_url(value: Any) -> bool:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    scheme, sep, rest = value.partition(":")
    return bool(sep and rest and scheme and scheme[0].isalpha() and all(c.isalnum() or c in "+-." for c in scheme))


def _id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)
    _raw: JSONObject = PrivateAttr(default_factory=dict)

    @property
    def raw(self) -> JSONObject:
        """The JSON this object was read from (sign and verify over this)."""
        return self._raw


class Credential(_Wire):
    """A verifiable credential (VCDM 2.0 or 1.1), with the received JSON in ``raw``."""

    context: list[Any] = Field(alias="@context")
    id: str | None = None
    type: list[str]
    issuer: str | JSONObject
    credential_subject: JSONObject | list[JSONObject] = Field(alias="credentialSubject")
    valid_from: str | None = Field(default=None, alias="validFrom")
    valid_until: str | None = Field(default=None, alias="validUntil")
    issuance_date: str | None = Field(default=None, alias="issuanceDate")
    expiration_date: str | None = Field(default=None, alias="expirationDate")
    credential_status: JSONObject | list[JSONObject] | None = Field(default=None, alias="credentialStatus")
    credential_schema: JSONObject | list[JSONObject] | None = Field(default=None, alias="credentialSchema")
    evidence: JSONObject | list[JSONObject] | None = None
    terms_of_use: JSONObject | list[JSONObject] | None = Field(default=None, alias="termsOfUse")
    refresh_service: JSONObject | list[JSONObject] | None = Field(default=None, alias="refreshService")
    proof: JSONObject | list[JSONObject] | None = None

    @classmethod
    def from_json(cls, data: Any) -> Credential:
        """Validate a credential (VCDM 2.0 §4 / 1.1 §4); InputError ``MALFORMED_VALUE_ERROR``."""
        if not isinstance(data, dict):
            raise _fail("", "a credential must be a JSON object")
        version = _check_context(data)
        types = _check_type(data, "VerifiableCredential")
        issuer = data.get("issuer")
        if _id_of(issuer) is None or not _is_url(_id_of(issuer)):
            raise _fail("issuer", "issuer must be a URL or an object whose id is a URL")
        subject = data.get("credentialSubject")
        subjects = _as_list(subject)
        if not subjects or not all(isinstance(s, dict) and s for s in subjects):
            raise _fail("credentialSubject", "credentialSubject must be a non-empty object or list of objects")
        for s in subjects:
            if "id" in s and not _is_url(s["id"]):
                raise _fail("credentialSubject.id", "credentialSubject.id must be a URL")
        if "id" in data and not _is_url(data["id"]):
            raise _fail("id", "id must be a URL")
        if version == VERSION_2:
            for name in ("validFrom", "validUntil"):
                if name in data:
                    parse_datetime(data[name], name)
            if "validFrom" in data and "validUntil" in data and (
                parse_datetime(data["validFrom"], "validFrom") > parse_datetime(data["validUntil"], "validUntil")
            ):
                raise _fail("validUntil", "validUntil is before validFrom")
        else:
            if "issuanceDate" not in data:
                raise _fail("issuanceDate", "a VC 1.1 credential needs issuanceDate")
            for name in ("issuanceDate", "expirationDate"):
                if name in data:
                    parse_datetime(data[name], name)
        _check_typed_objects(data, "credentialStatus", id_required=False)
        _check_typed_objects(data, "credentialSchema", id_required=True)
        for name in ("evidence", "termsOfUse", "refreshService"):
            _check_typed_objects(data, name, id_required=False)
        _check_related_resources(data)
        fields = {k: v for k, v in data.items() if k != "type"}
        try:
            model = cls.model_validate({**fields, "type": types})
        except ValidationError as exc:
            raise _fail("", f"credential does not match the data model: {type(exc).__name__}") from None
        model._raw = data
        return model

    @property
    def version(self) -> str:
        return VERSION_2 if self.context and self.context[0] == VC_V2 else VERSION_1_1

    @property
    def issuer_id(self) -> str:
        return str(_id_of(self.issuer))

    @property
    def subject_ids(self) -> list[str]:
        return [s["id"] for s in _as_list(self.credential_subject) if isinstance(s, dict) and isinstance(s.get("id"), str)]

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


class Presentation(_Wire):
    """A verifiable presentation (VCDM 2.0 or 1.1), with the received JSON in ``raw``."""

    context: list[Any] = Field(alias="@context")
    id: str | None = None
    type: list[str]
    holder: str | JSONObject | None = None
    verifiable_credential: list[Any] = Field(default_factory=list, alias="verifiableCredential")
    proof: JSONObject | list[JSONObject] | None = None

    @classmethod
    def from_json(cls, data: Any) -> Presentation:
        """Validate a presentation (VCDM 2.0 §4.13); InputError ``MALFORMED_VALUE_ERROR``."""
        if not isinstance(data, dict):
            raise _fail("", "a presentation must be a JSON object")
        _check_context(data)
        types = _check_type(data, "VerifiablePresentation")
        if "holder" in data and (_id_of(data["holder"]) is None or not _is_url(_id_of(data["holder"]))):
            raise _fail("holder", "holder must be a URL or an object whose id is a URL")
        if "id" in data and not _is_url(data["id"]):
            raise _fail("id", "id must be a URL")
        credentials = _as_list(data.get("verifiableCredential"))
        if not all(isinstance(c, (dict, str)) for c in credentials):
            raise _fail("verifiableCredential", "verifiableCredential holds credential objects")
        fields = {k: v for k, v in data.items() if k not in ("type", "verifiableCredential")}
        try:
            model = cls.model_validate({**fields, "type": types, "verifiableCredential": credentials})
        except ValidationError as exc:
            raise _fail("", f"presentation does not match the data model: {type(exc).__name__}") from None
        model._raw = data
        return model

    @property
    def holder_id(self) -> str | None:
        return _id_of(self.holder)


def is_presentation(data: Any) -> bool:
    """True when ``data`` declares the ``VerifiablePresentation`` type."""
    return isinstance(data, dict) and "VerifiablePresentation" in _as_list(data.get("type"))


def _check_context(data: JSONObject) -> str:
    contexts = data.get("@context")
    if not isinstance(contexts, list) or not contexts:
        raise _fail("@context", "@context must be a non-empty list starting with the VC base context")
    if contexts[0] == VC_V2:
        return VERSION_2
    if contexts[0] == VC_V1:
        return VERSION_1_1
    raise _fail("@context", f"the first @context must be {VC_V2} (or {VC_V1})")


def _check_type(data: JSONObject, required: str) -> list[str]:
    types = _as_list(data.get("type"))
    if not types or not all(isinstance(t, str) and t for t in types):
        raise _fail("type", "type must be a string or a list of strings")
    if required not in types:
        raise _fail("type", f"type must include {required}")
    return types


def _check_typed_objects(data: JSONObject, name: str, *, id_required: bool) -> None:
    if name not in data:
        return
    items = _as_list(data[name])
    if not items:
        raise _fail(name, f"{name} must not be empty")
    for item in items:
        if not isinstance(item, dict):
            raise _fail(name, f"{name} must be an object or a list of objects")
        if not _as_list(item.get("type")) or not all(isinstance(t, str) for t in _as_list(item.get("type"))):
            raise _fail(f"{name}.type", f"each {name} needs a type")
        if id_required and not _is_url(item.get("id")):
            raise _fail(f"{name}.id", f"each {name} needs an id URL")
        if not id_required and "id" in item and not _is_url(item["id"]):
            raise _fail(f"{name}.id", f"{name}.id must be a URL")


_SRI = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_BY_SIZE = {32: hashlib.sha256, 48: hashlib.sha384, 64: hashlib.sha512}
_MULTIHASH = {b"\x12\x20": hashlib.sha256, b"\x20\x30": hashlib.sha384, b"\x13\x40": hashlib.sha512}


def _sri_digests(value: Any) -> list[tuple[Any, bytes]]:
    """``digestSRI``: SRI hash expressions (``sha384-<base64>``, space-separated, SRI §3.5)."""
    if not isinstance(value, str) or not value.strip():
        raise _fail("relatedResource.digestSRI", "digestSRI must be an SRI hash expression such as sha384-…")
    out = []
    for expression in value.split():
        alg, sep, b64 = expression.partition("-")
        if not sep or alg not in _SRI:
            raise _fail("relatedResource.digestSRI", f"digestSRI {expression!r} is not sha256/384/512-<base64>")
        try:
            digest = base64.b64decode(b64.split("?")[0], validate=True)
        except ValueError:
            raise _fail("relatedResource.digestSRI", f"digestSRI {expression!r} is not base64") from None
        if len(digest) != _SRI[alg]().digest_size:
            raise _fail("relatedResource.digestSRI", f"digestSRI {expression!r} has the wrong length for {alg}")
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
    raise _fail("relatedResource.digestMultibase", "digestMultibase must be a multibase SHA-256/384/512 digest")


def _check_related_resources(data: JSONObject) -> None:
    """VCDM 2.0 §5.3: objects with a unique ``id`` URL and a ``digestSRI`` or ``digestMultibase``.

    A resource this library holds byte for byte (a bundled context) is also checked against its
    digests: "if the digest ... does not match the digest computed for the retrieved resource, the
    conforming verifier implementation MUST produce an error" (``kaga:related-resource-digest-mismatch``).
    Other resources are not fetched (offline by default), so their digests cannot be checked here.
    """
    if "relatedResource" not in data:
        return
    items = _as_list(data["relatedResource"])
    if not items or not all(isinstance(item, dict) for item in items):
        raise _fail("relatedResource", "relatedResource must be an object or a non-empty list of objects")
    seen: set[str] = set()
    for item in items:
        rid = item.get("id")
        if not _is_url(rid):
            raise _fail("relatedResource.id", "each relatedResource needs an id URL")
        if rid in seen:
            raise _fail("relatedResource.id", f"relatedResource id {rid!r} appears twice")
        seen.add(rid)
        if "digestSRI" not in item and "digestMultibase" not in item:
            raise _fail("relatedResource", f"relatedResource {rid!r} has neither digestSRI nor digestMultibase")
        if "mediaType" in item and not isinstance(item["mediaType"], str):
            raise _fail("relatedResource.mediaType", "relatedResource.mediaType must be a string")
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
