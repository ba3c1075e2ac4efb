"""Differential test (issue 16): ``process_disclosures`` with its scalar shortcut (a scalar member is
copied without a call or a path) gives what the plain recursive walk gives — the same claims, the same
paths, the same error code — on generated payloads with object and array Disclosures, decoys, reused,
reserved and unreferenced ones, and nesting near ``max_depth``.

The reference below is the walk as it was before the shortcut, kept verbatim.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaga_vc.errors import (
    DOCUMENT_TOO_DEEP,
    MALFORMED_VALUE_ERROR,
    SD_DIGEST_DUPLICATE,
    SD_DISCLOSURE_DUPLICATE,
    SD_DISCLOSURE_INVALID,
    SD_DISCLOSURE_UNREFERENCED,
    InputError,
    KagaError,
)
from kaga_vc.proofs.jose._jws import DEFAULT_LIMITS, JOSELimits
from kaga_vc.proofs.jose.sd_jwt import Disclosure, Path, Processed, digest_of, process_disclosures

JSONObject = dict[str, Any]


def reference_process(
    payload: JSONObject, disclosures: Sequence[str], sd_alg: str, *, limits: JOSELimits = DEFAULT_LIMITS
) -> Processed:
    """RFC 9901 §7.1 step 3-5: replace digests by disclosed claims; raise on any rule broken."""
    by_digest: dict[str, Disclosure] = {}
    for encoded in disclosures:
        digest = digest_of(encoded, sd_alg) if encoded.isascii() else ""
        if digest in by_digest:
            raise InputError(SD_DISCLOSURE_DUPLICATE, "the same Disclosure is given twice")
        by_digest[digest] = Disclosure.decode(encoded, max_depth=limits.max_depth)
    seen: set[str] = set()
    paths: dict[str, Path] = {}

    def visit(digest: Any) -> Disclosure | None:
        if not isinstance(digest, str):
            raise InputError(MALFORMED_VALUE_ERROR, "a digest must be a string")
        if digest in seen:
            raise InputError(SD_DIGEST_DUPLICATE, "a digest appears more than once")
        seen.add(digest)
        return by_digest.get(digest)

    def walk(value: Any, path: Path, depth: int) -> Any:
        if depth > limits.max_depth:
            raise InputError(DOCUMENT_TOO_DEEP, "SD-JWT payload nested too deeply", limit=limits.max_depth)
        if isinstance(value, dict):
            out: JSONObject = {}
            for key, member in value.items():
                if key == "_sd" or (key == "_sd_alg" and not path):
                    continue
                out[key] = walk(member, path + (key,), depth + 1)
            sd = value.get("_sd", [])
            if not isinstance(sd, list):
                raise InputError(MALFORMED_VALUE_ERROR, "_sd must be an array of digests")
            for digest in sd:
                disclosure = visit(digest)
                if disclosure is None:
                    continue  # a decoy, or a claim not disclosed
                if disclosure.name is None:
                    raise InputError(SD_DISCLOSURE_INVALID, "an array-element Disclosure is referenced from _sd")
                if disclosure.name in ("_sd", "...", "_sd_alg"):
                    raise InputError(SD_DISCLOSURE_INVALID, f"disclosed claim name {disclosure.name!r} is reserved")
                if disclosure.name in out:
                    raise InputError(SD_DISCLOSURE_INVALID, f"disclosed claim {disclosure.name!r} already exists")
                child = path + (disclosure.name,)
                paths[disclosure.encoded] = child
                out[disclosure.name] = walk(disclosure.value, child, depth + 1)
            return out
        if isinstance(value, list):
            items: list[Any] = []
            for member in value:
                if isinstance(member, dict) and len(member) == 1 and "..." in member:
                    disclosure = visit(member["..."])
                    if disclosure is None:
                        continue
                    if disclosure.name is not None:
                        raise InputError(SD_DISCLOSURE_INVALID, "an object-property Disclosure is used as an array element")
                    child = path + (len(items),)
                    paths[disclosure.encoded] = child
                    items.append(walk(disclosure.value, child, depth + 1))
                else:
                    items.append(walk(member, path + (len(items),), depth + 1))
            return items
        return value

    processed = walk(payload, (), 0)
    unreferenced = [d for d in by_digest.values() if d.encoded not in paths]
    if unreferenced:
        raise InputError(SD_DISCLOSURE_UNREFERENCED, f"{len(unreferenced)} Disclosure(s) referenced by no digest")
    return Processed(processed, paths)



SCALARS = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3)
NAMES = st.sampled_from(["a", "b", "c", "_sd", "...", "_sd_alg", "x"])


@st.composite
def payloads(draw: st.DrawFn) -> tuple[JSONObject, list[str], int]:
    """A payload whose members (at any level) may be replaced by digests of Disclosures."""
    disclosures: list[str] = []

    def build(level: int) -> Any:
        kind = draw(st.sampled_from(["scalar", "object", "array"] if level < 6 else ["scalar"]))
        if kind == "scalar":
            return draw(SCALARS)
        if kind == "object":
            out: JSONObject = {}
            sd: list[Any] = []
            for name in draw(st.lists(NAMES, max_size=3)):
                value = build(level + 1)
                if draw(st.booleans()):
                    disclosure = Disclosure.make(draw(st.text("abc", min_size=1, max_size=2)), name, value)
                    disclosures.append(disclosure.encoded)
                    sd.append(digest_of(disclosure.encoded))
                else:
                    out[name] = value
            if draw(st.booleans()):
                sd.append(draw(st.sampled_from(["decoy", 7] + sd)))  # a decoy, a non-string, a repeat
            if sd:
                out["_sd"] = sd
            return out
        items: list[Any] = []
        for _ in range(draw(st.integers(0, 3))):
            value = build(level + 1)
            if draw(st.booleans()):
                disclosure = Disclosure.make("s", None, value)
                disclosures.append(disclosure.encoded)
                items.append({"...": digest_of(disclosure.encoded)})
            else:
                items.append(value)
        return items

    payload = {"iss": "did:example:i", "top": build(0)}
    if draw(st.booleans()) and disclosures:
        disclosures.append(draw(st.sampled_from(disclosures)))  # the same Disclosure twice
    if draw(st.booleans()):
        disclosures.append(Disclosure.make("u", "unref", 1).encoded)
    return payload, draw(st.permutations(disclosures)), draw(st.integers(1, 8))


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        result: Processed = call()
    except KagaError as exc:
        return "error", exc.code
    return "ok", (result.payload, result.paths)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads())
def test_the_scalar_shortcut_processes_like_the_plain_walk(case: tuple[JSONObject, list[str], int]) -> None:
    payload, disclosures, max_depth = case
    for limits in (DEFAULT_LIMITS, JOSELimits(max_depth=max_depth)):
        fast = _outcome(lambda lim=limits: process_disclosures(payload, disclosures, "sha-256", limits=lim))
        plain = _outcome(lambda lim=limits: reference_process(payload, disclosures, "sha-256", limits=lim))
        assert fast == plain


def test_a_scalar_one_level_past_the_limit_is_still_refused() -> None:
    payload = {"a": {"b": {"c": 1}}}
    for depth, expected in ((3, "ok"), (2, "error")):
        limits = JOSELimits(max_depth=depth)
        fast = _outcome(lambda lim=limits: process_disclosures(payload, [], "sha-256", limits=lim))
        assert fast[0] == expected
        assert fast == _outcome(lambda lim=limits: reference_process(payload, [], "sha-256", limits=lim))
    assert _outcome(lambda: process_disclosures(payload, [], "sha-256", limits=JOSELimits(max_depth=2))) == (
        "error", DOCUMENT_TOO_DEEP)
