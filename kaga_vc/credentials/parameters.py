"""The typed parameters of the one verify pipeline (issue 11: no ``**options`` that swallow a typo).

Every entry point (:func:`kaga_vc.verify_credential`, :func:`kaga_vc.verify_presentation`, the
verifier's :func:`~kaga_vc.verifier.verify_response`, the wallet's self-check, ``kaga-vc verify``)
takes one frozen :class:`VerifyParameters`; the keyword arguments of the two library entry points are
a convenience that builds one, and an unknown keyword is a ``TypeError`` like any Python call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..did import DocumentCache, Resolver
from ..proofs import Cryptosuite, DocumentLoader
from ..proofs.jose import DEFAULT_LIMITS, JOSELimits
from .formats import Format

if TYPE_CHECKING:
    from ..results import VerificationResult
    from ..status import StatusListSource

DEFAULT_MAX_CLOCK_SKEW = timedelta(minutes=5)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyParameters:
    """What a verification may use and accept; the defaults are the strictest sound choice.

    * ``resolver`` — the :class:`~kaga_vc.did.Resolver` (only the DID methods it holds are used);
      ``credential_resolver`` — optional: the resolver for one embedded credential or status list,
      given its document or token (the verifier pins each issuer's DID document at issuance time).
    * ``loader`` — the JSON-LD document loader (the offline one by default).
    * ``suites`` — the accepted Data Integrity cryptosuites by name (default: every one built in).
    * ``formats`` — the accepted securing formats (see :class:`~kaga_vc.credentials.Format`);
      ``None`` accepts every format.
    * ``algorithms`` — the accepted JOSE ``alg`` values (default: the whole built-in allow-list);
      a JWS signed with another is ``kaga:algorithm-not-allowed``.
    * ``status_source`` — where Bitstring Status Lists come from; without one a credential with a
      status entry gets the warning ``kaga:status-not-checked``.
    * ``now`` — a fixed instant to verify at; else ``clock()`` is read once per verification.
    * ``max_clock_skew`` — the tolerance applied to every validity window.
    * ``limits`` — the JOSE size limits (token, header, disclosures, depth).
    * ``credential_check`` — optional: a last rule on each credential (alone, inside a presentation,
      or an SD-JWT presentation's own), called with the document as received and its result, and
      returning the result (refused or not); never on status list credentials. The trust bundle's
      rule for keys the issuer no longer lists is one (:func:`kaga_vc.verifier.bundle_parameters`).
    * ``documents`` — the DID documents resolved under these parameters, remembered (bounded in
      number and age, :class:`~kaga_vc.did.DocumentCache`) for the JOSE formats: one object reused
      for a batch, or a presentation and its credentials and status lists, resolves each DID once.
      It is shared by the copies :meth:`at` and the pipeline make; ``None`` resolves every time.
    """

    resolver: Resolver
    credential_resolver: Callable[[Any], Resolver] | None = None
    loader: DocumentLoader | None = None
    suites: Mapping[str, Cryptosuite] | None = None
    formats: frozenset[Format] | None = None
    algorithms: frozenset[str] | None = None
    status_source: StatusListSource | None = None
    now: datetime | None = None
    clock: Callable[[], datetime] = _utc_now
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW
    limits: JOSELimits = DEFAULT_LIMITS
    credential_check: Callable[[Any, VerificationResult], VerificationResult] | None = None
    documents: DocumentCache | None = dataclasses.field(default_factory=DocumentCache, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_clock_skew < timedelta(0):
            raise ValueError("max_clock_skew must not be negative")
        if self.formats is not None:  # a misspelled format is a ValueError, not a silent refusal
            object.__setattr__(self, "formats", frozenset(Format(value) for value in self.formats))
        if self.algorithms is not None and not isinstance(self.algorithms, frozenset):
            object.__setattr__(self, "algorithms", frozenset(self.algorithms))

    def instant(self) -> datetime:
        """The instant this verification is done at (``now``, else the clock)."""
        return self.now if self.now is not None else self.clock()

    def at(self, now: datetime) -> VerifyParameters:
        """The same parameters pinned at ``now`` (so nested verifications agree on the clock)."""
        return self if self.now == now else dataclasses.replace(self, now=now)

    def resolver_for(self, document: Any) -> Resolver:
        """The resolver for one embedded credential or status list."""
        return self.credential_resolver(document) if self.credential_resolver is not None else self.resolver

    def document_resolver(self) -> Resolver:
        """The resolver with :attr:`documents` in front of it (the resolver itself without one)."""
        return self.resolver if self.documents is None else self.documents.view(self.resolver)

    def jose_limits(self) -> JOSELimits:
        """The JOSE limits with this call's algorithm allow-list."""
        if self.algorithms is None or self.limits.algorithms == self.algorithms:
            return self.limits
        return dataclasses.replace(self.limits, algorithms=self.algorithms)

    def cache_key(self) -> tuple[Any, ...]:
        """What a verified status list depends on (lists verified under other settings are not reused)."""
        suites = tuple(sorted(self.suites.items())) if self.suites else None
        # a list is resolved by credential_resolver when there is one: the credential's own resolver
        # does not matter then (each credential of a presentation has its own; the list is verified once)
        resolver = self.resolver if self.credential_resolver is None else None
        return (resolver, self.credential_resolver, self.loader, suites, self.formats, self.algorithms,
                self.max_clock_skew, self.limits)


def build_parameters(parameters: VerifyParameters | None, **given: Any) -> VerifyParameters:
    """``parameters`` with the keyword arguments that were given (not ``None``) replacing its fields."""
    chosen = {name: value for name, value in given.items() if value is not None}
    if parameters is None:
        if "resolver" not in chosen:
            raise TypeError("verify needs a resolver (or parameters=VerifyParameters(resolver=...))")
        return VerifyParameters(**chosen)
    return dataclasses.replace(parameters, **chosen) if chosen else parameters


__all__ = ["DEFAULT_MAX_CLOCK_SKEW", "VerifyParameters", "build_parameters"]
