"""The city's credential types: KycCredential, ResidencyCredential, VirtualResidentCredential, and the
programme credentials VotingEligibilityCredential, VaccinationCertificate, VolunteerContributionCredential.

:func:`build_credential` turns validated claims into an unsecured VCDM 2.0 (or 1.1, for the VC 1.1
JWT encoding) credential using the city's JSON-LD context and referencing the type's JSON Schema
through ``credentialSchema`` (type ``JsonSchema``, with its ``digestSRI``); :func:`check_schema`
validates a credential against that schema with the ``jsonschema`` package (JSON Schema 2020-12).

Population-scale issuance checks every credential, and jsonschema's interpreter costs about 1 ms per
credential (more than signing it), so :func:`check_schema` first runs the same schema compiled once
into Python by ``fastjsonschema``; jsonschema stays the reference: it decides (and names the failing
path) whenever the compiled check does not accept. The compiled check only ever accepts what
jsonschema accepts: the schemas use no keyword whose draft-07 meaning differs from 2020-12 (checked
when compiling), ``const``/``enum`` booleans are typed (fastjsonschema compares ``1 == True``) and
``format: date`` is the same calendar check; tests/issuer/test_schema_fast_path.py holds both to it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from functools import cache
from importlib import resources
from typing import Any

from ...errors import InputError, KagaError
from . import _validate as v

JSONObject = dict[str, Any]

KAGA_CONTEXT = "https://city.kaga.ishikawa.jp/ns/credentials/v1"
PROGRAMMES_CONTEXT = "https://city.kaga.ishikawa.jp/ns/credentials/programmes/v1"
"""The programme types' own terms: a second context, so the published v1 context never changes."""
SCHEMA_BASE = "https://city.kaga.ishikawa.jp/ns/credentials/schemas/"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
STATUS_V1 = "https://www.w3.org/ns/credentials/status/v1"
VCT_BASE = "https://city.kaga.ishikawa.jp/ns/credentials/vct/"


class CredentialKind(str, Enum):
    """The credential types the city issues (CLI spelling as value)."""

    KYC = "kyc"
    RESIDENCY = "residency"
    VIRTUAL_RESIDENT = "virtual-resident"
    VOTING_ELIGIBILITY = "voting-eligibility"
    VACCINATION = "vaccination"
    VOLUNTEER = "volunteer"

    @classmethod
    def parse(cls, value: CredentialKind | str) -> CredentialKind:
        if isinstance(value, CredentialKind):
            return value
        for kind in cls:
            if value in (kind.value, kind.type_name):
                return kind
        raise InputError(v.UNKNOWN_CREDENTIAL_TYPE, f"type must be one of {', '.join(k.value for k in cls)}")

    @property
    def type_name(self) -> str:
        return _SPECS[self].type_name

    @property
    def spec(self) -> TypeSpec:
        return _SPECS[self]


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """What distinguishes one credential type: names, claims, defaults, what SD-JWT makes disclosable."""

    type_name: str
    schema_file: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    valid_for: timedelta
    disclosable: tuple[str, ...]
    carried: tuple[str, ...] | None = None
    """The subject claims the credential carries (``None``: all); the others are checked, then left out."""
    contexts: tuple[str, ...] = (KAGA_CONTEXT,)

    @property
    def schema_id(self) -> str:
        return SCHEMA_BASE + self.schema_file

    @property
    def vct(self) -> str:
        return VCT_BASE + self.type_name


_PERSON = ("fullName", "fullNameKana", "birthDate")
_ADDRESS_PATHS = ("address", "address.prefecture", "address.municipality", "address.municipalityCode",
                  "address.town", "address.block")
_DERIVED = ("ageOver18", "ageOver20", "residentOfKaga")

_SPECS: dict[CredentialKind, TypeSpec] = {
    CredentialKind.KYC: TypeSpec(
        "KycCredential", "kyc-v1.json", _PERSON, ("gender", "address", "evidence", "assuranceLevel"),
        timedelta(days=5 * 365), (*_PERSON, "gender", *_ADDRESS_PATHS, "ageOver18", "ageOver20"),
    ),
    CredentialKind.RESIDENCY: TypeSpec(
        "ResidencyCredential", "residency-v1.json", (*_PERSON, "address", "residentSince"),
        ("evidence", "assuranceLevel"), timedelta(days=365), (*_PERSON, *_ADDRESS_PATHS, "residentSince", *_DERIVED),
    ),
    CredentialKind.VIRTUAL_RESIDENT: TypeSpec(
        "VirtualResidentCredential", "virtual-resident-v1.json", (*_PERSON,),
        ("gender", "address", "virtualResidentSince", "evidence", "assuranceLevel"), timedelta(days=365),
        (*_PERSON, "gender", *_ADDRESS_PATHS, "virtualResidentSince", *_DERIVED),
    ),
    # For an online vote: the city checks name, birth date and a Kaga address, but the credential carries
    # only the verdicts, each disclosable alone, so a ballot server learns "eligible" and nothing else.
    CredentialKind.VOTING_ELIGIBILITY: TypeSpec(
        "VotingEligibilityCredential", "voting-eligibility-v1.json", (*_PERSON, "address"),
        ("evidence", "assuranceLevel"), timedelta(days=365), ("eligibleToVote", "ageOver18", "residentOfKaga"),
        carried=("eligibleToVote", "ageOver18", "residentOfKaga", "assuranceLevel"),
        contexts=(KAGA_CONTEXT, PROGRAMMES_CONTEXT),
    ),
    CredentialKind.VACCINATION: TypeSpec(
        "VaccinationCertificate", "vaccination-v1.json", (*_PERSON, "vaccine", "vaccinatedOn", "dose"),
        ("evidence", "assuranceLevel"), timedelta(days=365), (*_PERSON, "vaccine", "vaccinatedOn", "dose"),
        carried=(*_PERSON, "vaccine", "vaccinatedOn", "dose", "assuranceLevel"),
        contexts=(KAGA_CONTEXT, PROGRAMMES_CONTEXT),
    ),
    CredentialKind.VOLUNTEER: TypeSpec(
        "VolunteerContributionCredential", "volunteer-v1.json", (*_PERSON, "activity", "hours", "volunteeredOn"),
        ("organiser", "evidence", "assuranceLevel"), timedelta(days=5 * 365),
        (*_PERSON, "activity", "organiser", "hours", "volunteeredOn"),
        carried=(*_PERSON, "activity", "organiser", "hours", "volunteeredOn", "assuranceLevel"),
        contexts=(KAGA_CONTEXT, PROGRAMMES_CONTEXT),
    ),
}

MAX_DOSE = 20
MAX_HOURS = 10_000


@dataclass(frozen=True, slots=True)
class Claims:
    """Validated, normalised claims: the subject's properties and the evidence objects."""

    kind: CredentialKind
    subject: JSONObject
    evidence: list[JSONObject]


def validate_claims(kind: CredentialKind | str, claims: Mapping[str, Any], *, today: date | None = None) -> Claims:
    """Check every field rule and return the normalised claims plus the derived ones.

    Raises :class:`InputError` with the rule's code (``kaga:individual-number-refused`` first of
    all, then ``kaga:unknown-claim``, ``kaga:missing-claim``, ``kaga:not-kana``,
    ``kaga:invalid-date``, ``kaga:date-in-future``, …). Details never repeat a claim's value.
    """
    kind = CredentialKind.parse(kind)
    if not isinstance(claims, Mapping):
        raise InputError(v.INVALID_TEXT, "claims must be an object")
    v.refuse_individual_number(dict(claims))
    spec = kind.spec
    today = today or datetime.now(UTC).date()
    given = {k: val for k, val in claims.items() if val is not None and val != ""}
    unknown = sorted(set(given) - set(spec.required) - set(spec.optional))
    if unknown:
        raise InputError(v.UNKNOWN_CLAIM, f"{spec.type_name} has no claim(s) {unknown}", field=unknown[0])
    missing = [name for name in spec.required if name not in given]
    if missing:
        raise InputError(v.MISSING_CLAIM, f"{spec.type_name} needs {missing}", field=missing[0])

    subject: JSONObject = {
        "fullName": v.text(given["fullName"], "fullName"),
        "fullNameKana": v.kana(given["fullNameKana"], "fullNameKana"),
    }
    birth = v.past_date(given["birthDate"], "birthDate", today)
    subject["birthDate"] = birth.isoformat()
    if "gender" in given:
        subject["gender"] = v.gender(given["gender"])
    if "address" in given:
        kaga_only = kind in (CredentialKind.RESIDENCY, CredentialKind.VOTING_ELIGIBILITY)
        subject["address"] = v.address(given["address"], kaga_only=kaga_only)
    for since in ("residentSince", "virtualResidentSince"):
        if since in given:
            subject[since] = v.past_date(given[since], since, today, not_before=birth, not_before_name="birthDate").isoformat()
    if kind is CredentialKind.VIRTUAL_RESIDENT and "virtualResidentSince" not in subject:
        subject["virtualResidentSince"] = today.isoformat()
    if kind is CredentialKind.VACCINATION:
        subject["vaccine"] = v.text(given["vaccine"], "vaccine")
        subject["vaccinatedOn"] = v.past_date(given["vaccinatedOn"], "vaccinatedOn", today, not_before=birth,
                                              not_before_name="birthDate").isoformat()
        subject["dose"] = v.count(given["dose"], "dose", MAX_DOSE)
    elif kind is CredentialKind.VOLUNTEER:
        subject["activity"] = v.text(given["activity"], "activity")
        if "organiser" in given:
            subject["organiser"] = v.text(given["organiser"], "organiser")
        subject["hours"] = v.count(given["hours"], "hours", MAX_HOURS)
        subject["volunteeredOn"] = v.past_date(given["volunteeredOn"], "volunteeredOn", today, not_before=birth,
                                               not_before_name="birthDate").isoformat()

    evidence = v.evidence_list(given.get("evidence", ["email"]), today)
    reached = max((method.level for method, _ in evidence), key=lambda level: level.rank)
    level = v.assurance_level(given["assuranceLevel"]) if "assuranceLevel" in given else reached
    if level.rank > reached.rank:
        raise InputError(v.ASSURANCE_EXCEEDS_EVIDENCE, "assuranceLevel is higher than the evidence supports",
                         field="assuranceLevel")
    if kind is CredentialKind.VIRTUAL_RESIDENT and level is v.AssuranceLevel.HIGH:
        level = v.AssuranceLevel.SUBSTANTIAL  # virtual residents are issued at most at "substantial"
        if "assuranceLevel" in given:
            raise InputError(v.VIRTUAL_RESIDENT_ASSURANCE, "a virtual resident is issued at low or substantial",
                             field="assuranceLevel")
    if kind is CredentialKind.VOTING_ELIGIBILITY and level.rank < v.AssuranceLevel.SUBSTANTIAL.rank:
        raise InputError(v.NOT_ELIGIBLE, "voting eligibility needs identity proofing at substantial or high "
                         "(e.g. --evidence residenceCard or myNumberCardPublicKey)", field="evidence")
    subject["assuranceLevel"] = level.value

    age = v.age_on(birth, today)
    subject["ageOver18"] = age >= 18
    subject["ageOver20"] = age >= 20
    if kind in (CredentialKind.RESIDENCY, CredentialKind.VOTING_ELIGIBILITY):
        subject["residentOfKaga"] = True  # the address was checked to be in Kaga
    elif kind is CredentialKind.VIRTUAL_RESIDENT:
        subject["residentOfKaga"] = False
    if kind is CredentialKind.VOTING_ELIGIBILITY:
        if age < 18:
            raise InputError(v.NOT_ELIGIBLE, "a voter must be 18 or over on the day of issuance", field="birthDate")
        subject["eligibleToVote"] = True
    if spec.carried is not None:
        subject = {name: subject[name] for name in spec.carried if name in subject}
    evidence_objects = [
        {"type": "IdentityProofing", "evidenceMethod": method.value, "assuranceLevel": method.level.value,
         "verifiedAt": at.isoformat()}
        for method, at in evidence
    ]
    return Claims(kind, subject, evidence_objects)


def check_subject_did(subject_did: Any) -> str:
    """The subject must be a DID (``kaga:invalid-subject``)."""
    from ...did import DID

    if not isinstance(subject_did, str):
        raise InputError(v.INVALID_SUBJECT, "the subject must be a DID")
    try:
        return str(DID.parse(subject_did.strip()))
    except KagaError:  # the value is not echoed
        raise InputError(v.INVALID_SUBJECT, "the subject is not a valid DID") from None


def build_credential(
    claims: Claims,
    *,
    issuer: str,
    subject_did: str,
    now: datetime | None = None,
    valid_for: timedelta | None = None,
    credential_id: str | None = None,
    credential_status: Sequence[JSONObject] = (),
    vc_version: str = "2.0",
) -> JSONObject:
    """The unsecured credential (VCDM 2.0 by default, 1.1 for the VC 1.1 JWT encoding)."""
    spec = claims.kind.spec
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    until = now + (valid_for or spec.valid_for)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    if vc_version == "1.1":
        contexts = [VC_V1, *spec.contexts] + ([STATUS_V1] if credential_status else [])
        dates = {"issuanceDate": now.strftime(stamp), "expirationDate": until.strftime(stamp)}
    else:
        contexts = [VC_V2, *spec.contexts]
        dates = {"validFrom": now.strftime(stamp), "validUntil": until.strftime(stamp)}
    credential: JSONObject = {
        "@context": contexts,
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", spec.type_name],
        "issuer": issuer,
        **dates,
        "credentialSubject": {"id": check_subject_did(subject_did), **claims.subject},
        "evidence": claims.evidence,
        "credentialSchema": {"id": spec.schema_id, "type": "JsonSchema", "digestSRI": schema_digest_sri(claims.kind)},
    }
    if credential_status:
        credential["credentialStatus"] = list(credential_status) if len(credential_status) > 1 else credential_status[0]
    check_schema(credential)
    return credential


@cache
def _schema_bytes(kind: CredentialKind) -> bytes:
    return resources.files("kaga_vc.credentials.kaga.schemas").joinpath(kind.spec.schema_file).read_bytes()


def load_schema(kind: CredentialKind | str) -> JSONObject:
    """The JSON Schema (2020-12) of a credential type, as shipped in the package."""
    return dict(json.loads(_schema_bytes(CredentialKind.parse(kind))))


def schema_digest_sri(kind: CredentialKind | str) -> str:
    """The ``digestSRI`` (sha384) of the shipped schema file, as put in ``credentialSchema``."""
    return _digest_sri(CredentialKind.parse(kind))


@cache
def _digest_sri(kind: CredentialKind) -> str:
    digest = hashlib.sha384(_schema_bytes(kind)).digest()
    return "sha384-" + base64.b64encode(digest).decode("ascii")


@cache
def _validator(kind: CredentialKind) -> Any:
    from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]

    schema = load_schema(kind)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


_SCHEMA_MAPS = frozenset({"properties", "$defs", "patternProperties"})
_SCHEMA_ONE = frozenset({"items", "contains", "not", "additionalProperties", "propertyNames"})
_SCHEMA_LIST = frozenset({"allOf", "anyOf", "oneOf"})
_SAME_IN_BOTH = frozenset({"type", "const", "enum", "required", "pattern", "format", "minLength", "maxLength",
                           "minItems", "maxItems", "uniqueItems", "minimum", "maximum", "exclusiveMinimum",
                           "exclusiveMaximum", "multipleOf", "minProperties", "maxProperties", "$ref", "$id",
                           "title", "description", "$comment", "examples"})


def _fast_schema(node: Any) -> Any:
    """A schema node for fastjsonschema (draft-07), meaning what it means in 2020-12 to jsonschema:
    booleans in ``const`` / ``enum`` typed (fastjsonschema compares ``1 == True``); any keyword outside
    the ones both drafts read alike, or a ``$ref`` with siblings, refuses (jsonschema then does it all)."""
    if isinstance(node, bool):
        return node
    if not isinstance(node, dict) or not node.keys() <= _SCHEMA_MAPS | _SCHEMA_ONE | _SCHEMA_LIST | _SAME_IN_BOTH:
        raise ValueError("a schema the compiled check does not read as jsonschema does")
    if "$ref" in node and len(node) > 1:
        raise ValueError("$ref with siblings (ignored by draft-07)")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_MAPS:
            out[key] = {name: _fast_schema(member) for name, member in value.items()}
        elif key in _SCHEMA_ONE:
            out[key] = _fast_schema(value)
        elif key in _SCHEMA_LIST:
            out[key] = [_fast_schema(member) for member in value]
        else:
            out[key] = value
    values = [node["const"]] if "const" in node else list(node.get("enum", []))
    booleans = [x for x in values if isinstance(x, bool)]
    others = [x for x in values if not isinstance(x, bool)]
    if booleans:  # typed as jsonschema compares: a boolean const/enum accepts no number
        rest = {key: value for key, value in out.items() if key not in ("const", "enum")}
        out = {"allOf": [rest, {"anyOf": [{"type": "boolean", "enum": booleans},
                                          {"not": {"type": "boolean"}, "enum": others or [None]}]}]}
        if not others:
            out["allOf"][1] = {"type": "boolean", "enum": booleans}
    elif any(isinstance(x, (int, float)) for x in others):  # and a numeric one no boolean
        out = {"allOf": [out, {"not": {"type": "boolean"}}]}
    return out


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


@cache
def _fast_validator(kind: CredentialKind) -> Any:
    """The type's schema compiled once into Python (``None`` if it uses what only jsonschema reads)."""
    import fastjsonschema

    schema = load_schema(kind)
    schema.pop("$schema", None)
    try:
        return fastjsonschema.compile(_fast_schema(schema), formats={"date": _is_date}, use_default=False,
                                      use_formats=True)
    except ValueError:
        return None


def kind_of(credential: Mapping[str, Any]) -> CredentialKind:
    """The city's credential type named in ``credential['type']``."""
    types = credential.get("type")
    names = types if isinstance(types, list) else [types]
    for kind in CredentialKind:
        if kind.type_name in names:
            return kind
    raise InputError(v.UNKNOWN_CREDENTIAL_TYPE, "the credential is none of the city's types")


def check_schema(credential: Mapping[str, Any]) -> None:
    """Validate ``credential`` against its type's JSON Schema; ``kaga:schema-violation`` names the path.

    The detail gives the JSON path and the keyword that failed, never the offending value.
    """
    kind = kind_of(credential)
    fast = _fast_validator(kind)
    if fast is not None:
        from fastjsonschema import JsonSchemaException

        try:
            fast(credential)
            return
        except JsonSchemaException:
            pass  # jsonschema decides, and names the path
    errors = sorted(_validator(kind).iter_errors(dict(credential)), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = first.json_path
        raise InputError(v.SCHEMA_VIOLATION, f"schema check failed at {where} ({first.validator})", field=where)
