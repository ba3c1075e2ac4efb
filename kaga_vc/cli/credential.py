"""``kaga-vc credential``: secure credentials with Data Integrity proofs, or as JOSE (``--format``)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..credentials import issue_credential, parse_json
from ..did import did_key_from_public_key
from ..errors import UNSUPPORTED_CRYPTOSUITE, InputError, UnsupportedError
from ..keys import KeySigner
from ..keys.keystore import load_key
from ..proofs import ProofPurpose, default_suites
from . import _jose_sign
from ._common import PasswordFileOption, error_boundary, print_json, read_input, read_password

app = typer.Typer(help="Secure credentials with Data Integrity proofs or as JWT / SD-JWT.", no_args_is_help=True)


@app.command("sign")
@error_boundary
def sign(
    file: str = typer.Argument(..., help="Unsigned credential JSON file, or - for stdin."),
    key: Path = typer.Option(..., "--key", exists=True, dir_okay=False, help="Keystore file of the issuer's key."),
    suite: str = typer.Option(
        "", "--suite", help="eddsa-rdfc-2022 (Ed25519) or ecdsa-rdfc-2019 (P-256, P-384); default: by key type."
    ),
    purpose: ProofPurpose = typer.Option(ProofPurpose.ASSERTION_METHOD, "--purpose", help="Proof purpose."),
    verification_method: str = typer.Option(
        "", "--verification-method", help="DID URL of the key's verification method (default: its did:key)."
    ),
    password_file: Path | None = PasswordFileOption,
    fmt: str = _jose_sign.FormatOption,
    disclosable: list[str] = _jose_sign.DisclosableOption,
    holder_key: str = _jose_sign.HolderKeyOption,
    vct: str = _jose_sign.VctOption,
    recoverable: bool = _jose_sign.RecoverableOption,
    as_json: bool = typer.Option(
        False, "--json", help="Data Integrity: always JSON; JOSE formats: print {format, token} instead of the token."
    ),
) -> None:
    """Sign an unsigned credential with a keystore's key and print the secured credential.

    Example: kaga-vc credential sign unsigned.json --key city-assertion.json --suite eddsa-rdfc-2022
    (or --format vc-jwt | jwt-vc11 | sd-jwt --disclosable credentialSubject.residentOf)
    """
    if fmt != "data-integrity":
        if suite or purpose is not ProofPurpose.ASSERTION_METHOD:
            raise InputError("MALFORMED_VALUE_ERROR", "--suite and --purpose apply to --format data-integrity only")
        _jose_sign.sign_jose(
            file, key=key, fmt=fmt, verification_method=verification_method, disclosable=disclosable,
            holder_key=holder_key, vct=vct, recoverable=recoverable, password_file=password_file, as_json=as_json,
        )
        return
    if disclosable or holder_key or vct or recoverable:
        raise InputError("MALFORMED_VALUE_ERROR", "--disclosable, --holder-key, --vct, --recoverable need a JOSE --format")
    credential = parse_json(read_input(file))
    if not isinstance(credential, dict):
        raise InputError("PARSING_ERROR", "a credential must be a JSON object")
    suites = default_suites()
    chosen = None
    if suite:
        chosen = suites.get(suite)
        if chosen is None:
            raise UnsupportedError(UNSUPPORTED_CRYPTOSUITE, f"unknown suite {suite!r}; use one of {', '.join(suites)}")
    private_key = load_key(key, read_password(password_file))
    if verification_method:
        key_id = verification_method
    else:
        did = did_key_from_public_key(private_key.public_key)
        key_id = f"{did}#{did.rsplit(':', 1)[-1]}"
    secured = issue_credential(credential, signer=KeySigner(private_key, key_id), suite=chosen, proof_purpose=purpose)
    print_json(secured)
