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
property in its context. The rules themselves are in :mod:`._rules` (plain Python, shared with the
verify path, which does not import pydantic); this module adds pydantic's field validation.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from ._rules import (
    VC_V1,
    VC_V2,
    VERSION_1_1,
    VERSION_2,
    CredentialFacts,
    check_credential,
    check_presentation,
    fail,
    id_of,
    is_presentation,
)

JSONObject = dict[str, Any]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)
    _raw: JSONObject = PrivateAttr(default_factory=dict)

    @property
    def raw(self) -> JSONObject:
        """The JSON this object was read from (sign and verify over this)."""
        return self._raw


class Credential(CredentialFacts, _Wire):
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
        types = check_credential(data)
        fields = {k: v for k, v in data.items() if k != "type"}
        try:
            model = cls.model_validate({**fields, "type": types})
        except ValidationError as exc:
            raise fail("", f"credential does not match the data model: {type(exc).__name__}") from None
        model._raw = data
        return model


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
        types, credentials = check_presentation(data)
        fields = {k: v for k, v in data.items() if k not in ("type", "verifiableCredential")}
        try:
            model = cls.model_validate({**fields, "type": types, "verifiableCredential": credentials})
        except ValidationError as exc:
            raise fail("", f"presentation does not match the data model: {type(exc).__name__}") from None
        model._raw = data
        return model

    @property
    def holder_id(self) -> str | None:
        return id_of(self.holder)


__all__ = ["VC_V1", "VC_V2", "VERSION_1_1", "VERSION_2", "Credential", "Presentation", "is_presentation"]
