"""The compiled schema check (fastjsonschema) against the reference (jsonschema, 2020-12): on valid
credentials of every type and on hypothesis-mutated ones (values replaced, members dropped or added,
booleans for numbers and numbers for booleans, impossible dates), both accept exactly the same."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from fastjsonschema import JsonSchemaException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaga_vc.credentials.kaga import CredentialKind, build_credential, check_schema, validate_claims
from kaga_vc.credentials.kaga._types import _fast_validator, _validator
from kaga_vc.errors import InputError

from .conftest import CLAIMS, resident_did

NOW = datetime(2026, 6, 1, tzinfo=UTC)
STATUS = {"id": "https://city.example/status/1#7", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
          "statusListIndex": "7", "statusListCredential": "https://city.example/status/1"}


def valid(kind: CredentialKind, version: str = "2.0") -> dict[str, Any]:
    checked = validate_claims(kind, CLAIMS[kind.value](), today=NOW.date())
    return build_credential(checked, issuer="did:ethr:0x4b6:0x" + "ab" * 20, subject_did=resident_did(3), now=NOW,
                            credential_status=[STATUS], vc_version=version)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, member in value.items():
            out += paths(member, prefix + (key,))
    elif isinstance(value, list):
        for index, member in enumerate(value):
            out += paths(member, prefix + (index,))
    return out


SCALARS = st.one_of(
    st.none(), st.booleans(), st.sampled_from([0, 1, 1.0, -1, 17206, "17206"]), st.text(max_size=12),
    st.sampled_from(["2020-02-30", "1990-13-01", "1990-02-03", "１９９０-02-03", "2015-04-01", "urn:uuid:x", "did:key:z6",
                     "low", "substantial", "high", "石川県", "加賀市", "JapaneseAddress", "IdentityProofing",
                     "カガ ハナコ", "カガ　ハナコ", "かが", "", "a\u0000b", "x" * 101, "VerifiableCredential",
                     "ResidencyCredential", "KycCredential", "JsonSchema", "residenceCard",
                     "https://city.kaga.ishikawa.jp/ns/credentials/v1"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                      max_leaves=6)
MUTATION = st.tuples(st.sampled_from(["set", "drop", "add"]), st.integers(min_value=0), VALUES, st.text(max_size=8))


def mutate(doc: dict[str, Any], op: str, pick: int, value: Any, name: str) -> None:
    targets = paths(doc)[1:]
    path = targets[pick % len(targets)]
    parent: Any = doc
    for part in path[:-1]:
        parent = parent[part]
    if op == "set":
        parent[path[-1]] = value
    elif op == "drop":
        del parent[path[-1]]
    else:
        holder = parent[path[-1]]
        if isinstance(holder, dict):
            holder[name] = value
        elif isinstance(holder, list):
            holder.append(value)
        else:
            parent[path[-1]] = [holder, value]


def both(kind: CredentialKind, doc: Any) -> tuple[bool, bool]:
    fast = _fast_validator(kind)
    assert fast is not None
    try:
        fast(copy.deepcopy(doc))
        fast_ok = True
    except JsonSchemaException:
        fast_ok = False
    return fast_ok, bool(_validator(kind).is_valid(doc))


@pytest.mark.parametrize("kind", list(CredentialKind))
@pytest.mark.parametrize("version", ["2.0", "1.1"])
def test_valid_credentials_pass_both(kind: CredentialKind, version: str) -> None:
    assert both(kind, valid(kind, version)) == (True, True)


@pytest.mark.parametrize("kind", list(CredentialKind))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations=st.lists(MUTATION, min_size=1, max_size=3))
def test_mutated_credentials_get_the_same_verdict(kind: CredentialKind, mutations: list[Any]) -> None:
    doc = valid(kind)
    for mutation in mutations:
        mutate(doc, *mutation)
    fast_ok, reference_ok = both(kind, doc)
    assert fast_ok == reference_ok, doc


def test_boolean_and_number_are_not_confused() -> None:
    kind = CredentialKind.RESIDENCY
    doc = valid(kind)
    doc["credentialSubject"]["residentOfKaga"] = 1  # 1 == True in Python; not the const true in JSON Schema
    assert both(kind, doc) == (False, False)
    doc["credentialSubject"]["residentOfKaga"] = True
    doc["evidence"][0]["verifiedAt"] = "2026-02-30"  # the pattern matches, the calendar does not
    assert both(kind, doc) == (False, False)
    with pytest.raises(InputError) as caught:
        check_schema(doc)
    assert "$.evidence[0].verifiedAt" in caught.value.detail


DIGITISH = st.sampled_from(list("0123456789０１２３４５６７８９一二三四五六七八九〇零壱⑫²٣") + ["-", " ", "ー", "\u200b", "a", "加", "・", "."])


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(max_size=40), st.lists(DIGITISH, max_size=30).map("".join)))
def test_individual_number_shortcuts_agree_with_the_full_fold(text: str) -> None:
    from kaga_vc.credentials.kaga._validate import _DIGIT_RUN, contains_individual_number, digits_only

    assert contains_individual_number(text) == bool(_DIGIT_RUN.search(digits_only(text)))


def _any_text_holds_a_number(value: object) -> bool:
    from kaga_vc.credentials.kaga._validate import _DIGIT_RUN, digits_only

    if isinstance(value, dict):
        return any(_any_text_holds_a_number(k) or _any_text_holds_a_number(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_any_text_holds_a_number(v) for v in value)
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return bool(_DIGIT_RUN.search(digits_only(str(value))))
    return False


ROW_TEXT = st.one_of(st.text(max_size=30), st.lists(DIGITISH, max_size=30).map("".join),
                     st.integers(min_value=0, max_value=10**14), st.booleans())


@settings(max_examples=300, deadline=None)
@given(value=st.recursive(ROW_TEXT, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                             st.dictionaries(st.text(max_size=14), inner, max_size=4)),
                          max_leaves=12))
def test_the_one_pass_row_scan_refuses_exactly_what_the_full_fold_finds(value: object) -> None:
    """The batch's one-pass scan (ASCII texts by one regular expression, short ones skipped) refuses a
    value exactly when some text in it, key or value, folds to a run of 12 digits."""
    from kaga_vc.credentials.kaga import refuse_individual_number

    try:
        refuse_individual_number(value)
        refused = False
    except InputError as error:
        assert error.code == "kaga:individual-number-refused"
        refused = True
    assert refused == _any_text_holds_a_number(value)
