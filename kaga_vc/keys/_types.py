"""Key types and the identifiers each standard uses for them (multicodec, JWK, JOSE)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..errors import UNSUPPORTED_KEY_TYPE, UnsupportedError


@dataclass(frozen=True, slots=True)
class _KeyInfo:
    multicodec_pub: str
    multicodec_priv: str | None
    kty: str
    crv: str
    jose_alg: str | None  # the one JOSE algorithm a key of this type signs with
    public_size: int  # raw (compressed, for EC) public key length
    signs: bool


class KeyType(str, Enum):
    """A key type kaga_vc can hold; the value is its JWK ``crv`` name."""

    ED25519 = "Ed25519"
    SECP256K1 = "secp256k1"
    P256 = "P-256"
    P384 = "P-384"
    P521 = "P-521"
    X25519 = "X25519"

    @property
    def info(self) -> _KeyInfo:
        return _INFO[self]

    @classmethod
    def parse(cls, name: str) -> KeyType:
        """Accept the JWK curve name or the CLI spelling (``ed25519``, ``p256``, ``secp256k1``)."""
        if isinstance(name, KeyType):
            return name
        wanted = str(name).strip().lower().replace("-", "").replace("_", "")
        for key_type in cls:
            if key_type.value.lower().replace("-", "") == wanted:
                return key_type
        raise UnsupportedError(UNSUPPORTED_KEY_TYPE, f"unsupported key type {name!r}")

    @classmethod
    def from_multicodec(cls, codec: str, *, private: bool = False) -> KeyType:
        for key_type, info in _INFO.items():
            if codec == (info.multicodec_priv if private else info.multicodec_pub):
                return key_type
        raise UnsupportedError(UNSUPPORTED_KEY_TYPE, f"unsupported multicodec key type {codec!r}")


_INFO = {
    KeyType.ED25519: _KeyInfo("ed25519-pub", "ed25519-priv", "OKP", "Ed25519", "EdDSA", 32, True),
    KeyType.SECP256K1: _KeyInfo("secp256k1-pub", "secp256k1-priv", "EC", "secp256k1", "ES256K", 33, True),
    KeyType.P256: _KeyInfo("p256-pub", "p256-priv", "EC", "P-256", "ES256", 33, True),
    KeyType.P384: _KeyInfo("p384-pub", "p384-priv", "EC", "P-384", "ES384", 49, True),
    KeyType.P521: _KeyInfo("p521-pub", "p521-priv", "EC", "P-521", "ES512", 67, True),
    KeyType.X25519: _KeyInfo("x25519-pub", "x25519-priv", "OKP", "X25519", None, 32, False),
}
