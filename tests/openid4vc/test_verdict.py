"""The counter's verdict: only asked claims, none on a refusal, a "no" answer is a refusal, reasons in ja/en."""

from __future__ import annotations

from kaga_vc.results import Problem, VerificationResult
from kaga_vc.verifier.verdict import counter_verdict


def test_accepted_shows_only_the_asked_claims() -> None:
    result = VerificationResult(True, "kaga-presentation-response",
                                details={"claims": {"ageOver18": True, "fullName": "加賀 花子"}})
    verdict = counter_verdict(result, ["ageOver18"])
    assert verdict["accepted"] is True and [c["name"] for c in verdict["claims"]] == ["ageOver18"]


def test_a_no_answer_is_refused_with_plain_words() -> None:
    result = VerificationResult(True, "kaga-presentation-response", details={"claims": {"residentOfKaga": False}})
    verdict = counter_verdict(result, ["residentOfKaga"])
    assert verdict["accepted"] is False and verdict["reasons"][0]["code"] == "kaga:requirement-not-met"
    assert verdict["reasons"][0]["ja"] and verdict["reasons"][0]["en"]


def test_a_refusal_shows_no_claim() -> None:
    problem = Problem("kaga:nonce-replayed", "replayed", None, {})
    result = VerificationResult(False, "kaga-presentation-response", problems=(problem,),
                                details={"claims": {"ageOver18": True}})
    verdict = counter_verdict(result, ["ageOver18"])
    assert verdict == {"accepted": False, "claims": [], "reasons": [
        {"code": "kaga:nonce-replayed", "ja": "この提示はすでに使われています（再利用）",
         "en": "This presentation was already used (replay)"}]}
