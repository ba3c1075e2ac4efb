"""The city of Kaga's credential types, their JSON-LD context and JSON Schemas, and the claim rules.

- :func:`validate_claims` checks and normalises claims (NFC, kana, dates, addresses, evidence →
  assurance level) and adds the derived ``ageOver18`` / ``ageOver20`` / ``residentOfKaga``;
- :func:`build_credential` makes the unsecured credential; :func:`check_schema` validates one;
- the individual number (My Number) is refused everywhere (``kaga:individual-number-refused``).
"""

from __future__ import annotations

from ._types import (
    KAGA_CONTEXT,
    SCHEMA_BASE,
    Claims,
    CredentialKind,
    TypeSpec,
    build_credential,
    check_schema,
    check_subject_did,
    kind_of,
    load_schema,
    schema_digest_sri,
    validate_claims,
)
from ._validate import AssuranceLevel, EvidenceMethod, contains_individual_number, refuse_individual_number

__all__ = [
    "KAGA_CONTEXT",
    "SCHEMA_BASE",
    "AssuranceLevel",
    "Claims",
    "CredentialKind",
    "EvidenceMethod",
    "TypeSpec",
    "build_credential",
    "check_schema",
    "check_subject_did",
    "contains_individual_number",
    "kind_of",
    "load_schema",
    "refuse_individual_number",
    "schema_digest_sri",
    "validate_claims",
]
