"""The city's issuing service: credential issuance, issuance records, status lists, batch issuance.

A thin re-export; see :mod:`kaga_vc.issuer.service`, :mod:`kaga_vc.issuer.records`, :mod:`kaga_vc.issuer.batch`.
"""

from __future__ import annotations

from .service import (
    DEFAULT_FORMAT,
    FORMATS,
    CityConfig,
    CityIssuer,
    IssuedCredential,
    city_bundle_signer,
    init_city,
    open_city_issuer,
    read_city,
)

__all__ = [
    "DEFAULT_FORMAT",
    "FORMATS",
    "CityConfig",
    "CityIssuer",
    "IssuedCredential",
    "city_bundle_signer",
    "init_city",
    "open_city_issuer",
    "read_city",
]
