"""Ethereum JSON-RPC over HTTP(S), with timeouts, a response size limit and typed errors."""

from __future__ import annotations

import itertools
from typing import Any, Protocol

from kaga_vc.registry._errors import (
    BAD_NONCE,
    INSUFFICIENT_FUNDS,
    NODE_UNREACHABLE,
    RPC_ERROR,
    TRANSACTION_REJECTED,
    TRANSACTION_REVERTED,
    RegistryError,
)

MAX_RESPONSE_BYTES = 32 * 1024 * 1024


class Transport(Protocol):
    """Answers JSON-RPC requests: a node over HTTP, or the embedded chain in process."""

    calls: int

    def request(self, method: str, params: list[Any]) -> Any: ...


class HttpTransport:
    """A JSON-RPC endpoint such as ``http://127.0.0.1:8545``; counts the requests it sends."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise RegistryError(NODE_UNREACHABLE, f"not an http(s) JSON-RPC URL: {url[:100]!r}")
        import requests

        self.url = url
        self.timeout = timeout
        self.calls = 0
        self._ids = itertools.count(1)
        self._session = requests.Session()

    def request(self, method: str, params: list[Any]) -> Any:
        import requests

        self.calls += 1
        payload: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        try:
            response = self._session.post(self.url, json=payload, timeout=self.timeout, stream=True)
            body = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise RegistryError(NODE_UNREACHABLE, f"cannot reach the Ethereum node at {self.url}: "
                                f"{type(exc).__name__}") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise RegistryError(RPC_ERROR, f"{method}: the node's answer exceeds {MAX_RESPONSE_BYTES} bytes")
        if response.status_code >= 400 and not body.startswith(b"{"):
            raise RegistryError(NODE_UNREACHABLE, f"{method}: HTTP {response.status_code} from {self.url}")
        try:
            import json

            data = json.loads(body)
        except ValueError:
            raise RegistryError(RPC_ERROR, f"{method}: the node did not answer JSON") from None
        if not isinstance(data, dict):
            raise RegistryError(RPC_ERROR, f"{method}: not a JSON-RPC response")
        if data.get("error") is not None:
            raise rpc_error(method, data["error"])
        if "result" not in data:
            raise RegistryError(RPC_ERROR, f"{method}: JSON-RPC response without a result")
        return data["result"]

    def close(self) -> None:
        self._session.close()


def rpc_error(method: str, error: Any) -> RegistryError:
    """Map a node's JSON-RPC error object to a typed RegistryError."""
    message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
    lowered = message.lower()
    if "revert" in lowered:
        reason = _revert_reason(error) or message
        return RegistryError(TRANSACTION_REVERTED, f"{method}: {reason}")
    if "insufficient funds" in lowered or "insufficient balance" in lowered:
        return RegistryError(INSUFFICIENT_FUNDS, f"{method}: {message}")
    if "nonce" in lowered:
        return RegistryError(BAD_NONCE, f"{method}: {message}")
    if method == "eth_sendRawTransaction":
        return RegistryError(TRANSACTION_REJECTED, f"{method}: {message}")
    return RegistryError(RPC_ERROR, f"{method}: {message}")


def _revert_reason(error: Any) -> str | None:
    if not isinstance(error, dict):
        return None
    data = error.get("data")
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x08c379a0"):
        from eth_abi.abi import decode
        from eth_abi.exceptions import DecodingError

        try:
            return "execution reverted: " + str(decode(["string"], bytes.fromhex(data[10:]))[0])
        except (DecodingError, ValueError, TypeError, OverflowError):  # not a well-formed Error(string)
            return None
    return None
