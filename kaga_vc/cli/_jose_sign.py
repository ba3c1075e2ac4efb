"""``kaga-vc credential sign --format vc-jwt|jwt-vc11|sd-jwt``: the JOSE half of ``credential sign``.

``credential sign`` (kaga_vc/cli/credential.py) hands every ``--format`` other than ``data-integrity`` to
:func:`sign_jose`, which prints the compact token (JWT or SD-JWT) on stdout, or ``{"format", "token"}``
under ``--json``. The verify side needs no CLI code: ``kaga-vc verify`` recognises the format itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import typer

from ..credentials.verify import JWT_VC11, SD_JWT, VC_JWT
from ..did import DID, did_key_from_public_key, public_key_from_did_key
from ..errors import (
    MALFORMED_VALUE_ERROR,
    PARSING_ERROR,
    UNSUPPORTED_FORMAT,
    UNSUPPORTED_KEY_TYPE,
    InputError,
    KagaError,
    UnsupportedError,
)
from ..keys import KeySigner, KeyType, PublicKey, Signer
from ..keys.keystore import load_key
from ._common import print_json, read_input, read_password

# CLI spelling → format constant of kaga_vc.credentials.verify.
CLI_FORMATS = {"vc-jwt": VC_JWT, "jwt-vc11": JWT_VC11, "sd-jwt": SD_JWT}
FORMAT_HELP = (
    "data-integrity (default), vc-jwt (VC-JOSE-COSE, VCDM 2.0), jwt-vc11 (VC 1.1 JWT, did-jwt-vc), "
    "sd-jwt (SD-JWT VC, dc+sd-jwt)"
)
DISCLOSABLE_HELP = (
    "sd-jwt only: a claim path to make selectively disclosable, e.g. residentOf, address.locality, "
    "nationalities[0], nationalities[*] (credentialSubject. prefix optional); repeat the option."
)


def holder_key_from(value: str) -> PublicKey:
    """The holder's public key for ``cnf``: a did:key DID, or a file holding a public JWK."""
    if value.startswith("did:"):
        try:
            return public_key_from_did_key(DID.parse(value))
        except KagaError:
            raise InputError(MALFORMED_VALUE_ERROR, "--holder-key must be a did:key DID or a JWK file") from None
    try:
        jwk = json.loads(Path(value).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError(PARSING_ERROR, f"cannot read a JWK from {value}") from None
    return PublicKey.from_jwk(jwk)


def sign_in_format(
    credential: dict[str, Any],
    *,
    fmt: str,
    signer: Signer,
    disclosable: Sequence[str] = (),
    holder_key: PublicKey | None = None,
    vct: str | None = None,
    recoverable: bool = False,
) -> str:
    """Secure ``credential`` as ``fmt`` (a CLI spelling or a format constant) and return the token."""
    fmt = CLI_FORMATS.get(fmt, fmt)
    if disclosable and fmt != SD_JWT:
        raise InputError(MALFORMED_VALUE_ERROR, "--disclosable only applies to --format sd-jwt")
    if recoverable and fmt != JWT_VC11:
        raise InputError(MALFORMED_VALUE_ERROR, "--recoverable (ES256K-R) only applies to --format jwt-vc11")
    if fmt == VC_JWT:
        from ..proofs.jose.vc_jose import sign_vc_jwt

        return sign_vc_jwt(credential, signer)
    if fmt == JWT_VC11:
        from ..proofs.jose.jwt_vc11 import sign_jwt_vc11

        return sign_jwt_vc11(credential, signer, recoverable=recoverable)
    if fmt == SD_JWT:
        from ..proofs.jose.sd_jwt import Decoys, issue_sd_jwt, sd_jwt_vc_claims, strip_subject_prefix

        if holder_key is None:
            subject = credential.get("credentialSubject")
            subject_id = subject.get("id") if isinstance(subject, dict) else None
            if isinstance(subject_id, str) and subject_id.startswith("did:key:"):
                holder_key = public_key_from_did_key(subject_id)
        claims = sd_jwt_vc_claims(credential, vct=vct)
        return issue_sd_jwt(
            claims,
            signer=signer,
            disclosable=strip_subject_prefix(disclosable),
            holder_key=holder_key,
            decoys=Decoys(1, 3),
        )
    raise InputError(UNSUPPORTED_FORMAT, f"unknown format {fmt!r}; use one of {', '.join(CLI_FORMATS)}")


def default_key_id(public_key: PublicKey) -> str:
    """The did:key verification method of a key (the CLI's default ``kid``)."""
    did = did_key_from_public_key(public_key)
    return f"{did}#{did.rsplit(':', 1)[-1]}"


def sign_jose(
    file: str,
    *,
    key: Path,
    fmt: str,
    verification_method: str = "",
    disclosable: Sequence[str] = (),
    holder_key: str = "",
    vct: str = "",
    recoverable: bool = False,
    password_file: Path | None = None,
    as_json: bool = False,
) -> None:
    """Read, sign and print: the body of ``credential sign`` for the JOSE formats."""
    from ..credentials import parse_json

    credential = parse_json(read_input(file))
    if not isinstance(credential, dict):
        raise InputError(PARSING_ERROR, "a credential must be a JSON object")
    private_key = load_key(key, read_password(password_file))
    if private_key.key_type is KeyType.X25519:
        raise UnsupportedError(UNSUPPORTED_KEY_TYPE, "X25519 keys do not sign")
    # cast: KeySigner is frozen, and the Signer Protocol on main declares settable attributes.
    signer = cast(Signer, KeySigner(private_key, verification_method or default_key_id(private_key.public_key)))
    token = sign_in_format(
        credential,
        fmt=fmt,
        signer=signer,
        disclosable=disclosable,
        holder_key=holder_key_from(holder_key) if holder_key else None,
        vct=vct or None,
        recoverable=recoverable,
    )
    if as_json:
        print_json({"format": CLI_FORMATS.get(fmt, fmt), "token": token})
    else:
        print(token)


# Options for ``credential sign`` (declare them as parameters with these defaults, then call
# ``sign_jose`` when ``format != "data-integrity"``).
FormatOption = typer.Option("data-integrity", "--format", help=FORMAT_HELP)
DisclosableOption = typer.Option([], "--disclosable", help=DISCLOSABLE_HELP)
HolderKeyOption = typer.Option(
    "", "--holder-key", help="sd-jwt only: the holder's key for cnf (a did:key DID or a public JWK file); default: the subject's did:key."
)
VctOption = typer.Option("", "--vct", help="sd-jwt only: the vct claim (default urn:kaga:vct:<last credential type>).")
RecoverableOption = typer.Option(False, "--recoverable", help="jwt-vc11 with a secp256k1 key: sign ES256K-R (did-jwt's recoverable form).")
