"""What the counter's screen says about one verification: accepted or refused, why, in Japanese and English.

:func:`counter_verdict` reads a :func:`~kaga_vc.verifier.verify_response` result and nothing else. It
shows the requested claims that were disclosed and nothing more about the person; a refusal shows
no claim at all. A requested yes/no claim (``ageOver18``, ``residentOfKaga``) that is disclosed as
``false`` is a refusal too (``kaga:requirement-not-met``): the credential is genuine, the answer is no.
"""

from __future__ import annotations

from typing import Any

from ..results import VerificationResult

JSONObject = dict[str, Any]
REQUIREMENT_NOT_MET = "kaga:requirement-not-met"

# code → (Japanese, English), in plain words for the clerk and the resident
_REASONS: dict[str, tuple[str, str]] = {
    REQUIREMENT_NOT_MET: ("条件を満たしていません", "The requirement is not met"),
    "kaga:nonce-replayed": ("この提示はすでに使われています（再利用）", "This presentation was already used (replay)"),
    "kaga:request-expired": ("要求の有効期限が切れました。もう一度お試しください", "The request expired; please try again"),
    "kaga:credential-revoked": ("証明書は失効しています", "The credential has been revoked"),
    "kaga:credential-suspended": ("証明書は一時停止中です", "The credential is suspended"),
    "kaga:credential-expired": ("証明書の有効期限が切れています", "The credential has expired"),
    "kaga:issuer-not-trusted": ("発行元を信頼できません", "The issuer is not trusted"),
    "kaga:credential-type-not-accepted": ("この種類の証明書は受け付けていません", "This kind of credential is not accepted"),
    "kaga:claim-not-disclosed": ("必要な項目が提示されていません", "A required item was not shown"),
    "kaga:holder-not-subject": ("本人の端末からの提示ではありません", "Not presented by the credential's holder"),
    "INVALID_CHALLENGE_ERROR": ("別の要求への回答です", "The answer is for another request"),
    "INVALID_DOMAIN_ERROR": ("別の店舗への回答です", "The answer is for another verifier"),
    "kaga:response-invalid": ("読み取れない回答です", "The answer cannot be read"),
    "kaga:bundle-stale": ("信頼情報が古くなっています", "The trust data is out of date"),
    "PROOF_VERIFICATION_ERROR": ("署名が正しくありません", "The signature is not valid"),
    "kaga:purpose-not-accepted": ("この目的では確認できません", "This purpose is not accepted"),
}
_DEFAULT_REASON = ("確認できませんでした", "The credential could not be accepted")
CLAIM_LABELS: dict[str, tuple[str, str]] = {
    "ageOver18": ("18歳以上", "Aged 18 or over"), "ageOver20": ("20歳以上", "Aged 20 or over"),
    "residentOfKaga": ("加賀市民", "Resident of Kaga"), "fullName": ("氏名", "Full name"),
    "fullNameKana": ("氏名（カナ）", "Full name (kana)"), "birthDate": ("生年月日", "Date of birth"),
    "address": ("住所", "Address"), "residentSince": ("転入日", "Resident since"),
}


def reason(code: str) -> JSONObject:
    """A problem code in plain words: ``{"code", "ja", "en"}``."""
    ja, en = _REASONS.get(code, _DEFAULT_REASON)
    return {"code": code, "ja": ja, "en": en}


def counter_verdict(result: VerificationResult, requested: list[str]) -> JSONObject:
    """``{"accepted", "reasons": [...], "claims": [{"name", "ja", "en", "value"}]}`` for the counter's screen."""
    disclosed = result.details.get("claims") if isinstance(result.details.get("claims"), dict) else {}
    assert isinstance(disclosed, dict)
    codes = [p.code for p in result.problems]
    if result.verified:
        unmet = [name for name in requested if disclosed.get(name) is False]
        if unmet:
            codes.append(REQUIREMENT_NOT_MET)
    accepted = not codes
    seen: list[str] = []
    for code in codes:
        if code not in seen:
            seen.append(code)
    claims = []
    if result.verified:  # a refused presentation shows no claim
        for name in requested:
            if name in disclosed:
                ja, en = CLAIM_LABELS.get(name, (name, name))
                claims.append({"name": name, "ja": ja, "en": en, "value": disclosed[name]})
    return {"accepted": accepted, "reasons": [reason(code) for code in seen[:3]], "claims": claims}


__all__ = ["CLAIM_LABELS", "REQUIREMENT_NOT_MET", "counter_verdict", "reason"]
