"""The embedded chain: an in-process EVM (py-evm through eth-tester) persisted in SQLite.

The chain answers the subset of Ethereum JSON-RPC that :mod:`kaga_vc.registry` uses, in the wire format
of a real node (hex quantities, hex data), so the registry client runs the same code against it as
against any node. Three things a plain eth-tester chain lacks are added here:

* **Persistence.** py-evm's key-value database is a SQLite table; each block (state, receipts and the
  log index) is written in one SQLite transaction, so a crash leaves the previous block intact.
* **An event index.** eth-tester answers ``eth_getLogs`` by walking blocks, which costs more the deeper
  the block lies below the head (see docs/registry.md); here every log is indexed when its block is
  mined, so a did:ethr resolution costs the same at any depth.
* **Wall-clock block times.** A block's timestamp is the wall-clock second it is mined in, never later:
  several blocks may share a second (py-evm insists on strictly increasing times, which after a burst of
  writes put the head hours ahead of the clock), so ``block.timestamp`` and validity periods derived from
  it mean what they say.

Only one process may open a chain directory at a time (an exclusive lock file); opening waits up to
:data:`LOCK_WAIT_SECONDS` for another process to close it, then raises ``kaga:chain-busy``.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from kaga_vc._sqlite import use_wal
from kaga_vc.registry._errors import (
    CHAIN_BUSY,
    CHAIN_CORRUPT,
    RPC_ERROR,
    TRANSACTION_REVERTED,
    RegistryError,
)

#: The chain id of embedded chains (1337 = 0x539, the usual id of a private development chain).
DEFAULT_CHAIN_ID = 1337
_FUNDING = 10**24  # wei given to the chain's own submitter account at genesis
_GAS_PRICE = 10**9
#: How long opening a chain waits for another process to release it before ``kaga:chain-busy``.
LOCK_WAIT_SECONDS = 10.0


def _hex(value: int) -> str:
    return hex(value)


def _data(value: bytes) -> str:
    return "0x" + value.hex()


def _unhex(value: str) -> bytes:
    text = value[2:] if value.startswith(("0x", "0X")) else value
    return bytes.fromhex(text)


def _quantity(value: Any) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.startswith(("0x", "0X")):
        return int(value, 16)
    raise RegistryError(RPC_ERROR, f"invalid quantity {value!r}")


class _SqliteKV:
    """py-evm's key-value database as a SQLite table (the BaseDB interface)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._cache: dict[bytes, bytes] = {}

    def __getitem__(self, key: bytes) -> bytes:
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        row = self._conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        value = bytes(row[0])
        if len(self._cache) < 200_000:
            self._cache[key] = value
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._conn.execute("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", (key, value))
        self._cache[key] = value

    def __delitem__(self, key: bytes) -> None:
        cur = self._conn.execute("DELETE FROM kv WHERE k = ?", (key,))
        self._cache.pop(key, None)
        if cur.rowcount == 0:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, bytes) and self._exists(key)

    def exists(self, key: bytes) -> bool:
        return self._exists(key)

    def _exists(self, key: bytes) -> bool:
        if key in self._cache:
            return True
        return self._conn.execute("SELECT 1 FROM kv WHERE k = ?", (key,)).fetchone() is not None

    def invalidate(self) -> None:
        self._cache.clear()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS logs (
    block_number INTEGER NOT NULL, log_index INTEGER NOT NULL, tx_hash BLOB NOT NULL,
    tx_index INTEGER NOT NULL, block_hash BLOB NOT NULL, address BLOB NOT NULL,
    topic0 BLOB, topic1 BLOB, topic2 BLOB, topic3 BLOB, data BLOB NOT NULL, block_timestamp INTEGER NOT NULL,
    PRIMARY KEY (block_number, log_index));
CREATE INDEX IF NOT EXISTS logs_by_topic1 ON logs (address, topic1, block_number);
CREATE TABLE IF NOT EXISTS receipts (tx_hash BLOB PRIMARY KEY, block_number INTEGER NOT NULL,
    receipt TEXT NOT NULL) WITHOUT ROWID;
"""


def _make_chain_class(chain_id: int) -> Any:
    from eth.chains.base import MiningChain
    from eth.vm.forks.prague import PragueVM

    class KagaVM(PragueVM):
        @classmethod
        def validate_header(cls, header: Any, parent_header: Any) -> None:
            # several blocks may share a second: accept a child stamped in its parent's second by checking
            # the rest of the header as py-evm would (its rule is a strictly later time)
            if parent_header is not None and header.timestamp == parent_header.timestamp:
                header = header.copy(timestamp=header.timestamp + 1)
            super().validate_header(header, parent_header)

    class KagaEmbeddedChain(MiningChain):
        vm_configuration = ((0, KagaVM),)  # type: ignore[assignment]  # py-evm types BlockNumber

        def create_header_from_parent(self, parent_header: Any, **header_params: Any) -> Any:
            header_params["gas_limit"] = parent_header.gas_limit
            return super().create_header_from_parent(parent_header, **header_params)

        def get_transaction_builder(self) -> Any:
            return super().get_vm().get_transaction_builder()

    KagaEmbeddedChain.chain_id = chain_id
    return KagaEmbeddedChain


class EmbeddedChain:
    """An EVM chain in ``directory`` (created on first use) that answers JSON-RPC requests."""

    def __init__(self, directory: str | os.PathLike[str], *, chain_id: int = DEFAULT_CHAIN_ID,
                 lock_wait: float | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.calls = 0
        self._lock = threading.RLock()
        self._lock_file = open(self.directory / "chain.lock", "a+")  # noqa: SIM115 - held while open
        wait = LOCK_WAIT_SECONDS if lock_wait is None else lock_wait
        deadline = time.monotonic() + wait
        while True:  # another kaga-vc command holds the chain for a moment: wait for it, then give up
            try:
                fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() >= deadline:
                    self._lock_file.close()
                    raise RegistryError(
                        CHAIN_BUSY, f"the embedded chain in {self.directory} is in use by another process "
                        f"(waited {wait:g} s)"
                    ) from exc
                time.sleep(0.05)
        db_path = self.directory / "chain.sqlite3"
        fresh = not db_path.exists()
        self._conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        if fresh:
            os.chmod(db_path, 0o600)
        use_wal(self._conn)
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._kv = _SqliteKV(self._conn)
        meta = dict(self._conn.execute("SELECT k, v FROM meta").fetchall())
        if "chain_id" in meta:
            self.chain_id = int(meta["chain_id"])
        else:
            self.chain_id = chain_id
        self._backend = self._open_backend(meta)

    # --- setup ---------------------------------------------------------------------------------

    def _open_backend(self, meta: Mapping[str, str]) -> Any:
        from eth.db.atomic import AtomicDB
        from eth_tester.backends.pyevm.main import (  # type: ignore[import-untyped]
            PyEVMBackend,
            get_default_genesis_params,
        )

        chain_class = self._chain_class = _make_chain_class(self.chain_id)
        base_db = AtomicDB(self._kv)  # type: ignore[arg-type]  # _SqliteKV implements py-evm's DatabaseAPI
        backend = PyEVMBackend.__new__(PyEVMBackend)
        backend.account_keys = ()
        if "genesis" not in meta:
            submitter = secrets.token_bytes(32)
            from eth_keys.datatypes import PrivateKey as EthKey

            address = EthKey(submitter).public_key.to_canonical_address()
            params = get_default_genesis_params({"timestamp": int(time.time())})
            state = {address: {"balance": _FUNDING, "nonce": 0, "code": b"", "storage": {}}}
            with self._transaction():
                backend.chain = chain_class.from_genesis(base_db, params, state)
                self._set_meta("chain_id", str(self.chain_id))
                self._set_meta("submitter_key", submitter.hex())
                self._set_meta("genesis", "1")
        else:
            try:
                backend.chain = chain_class(base_db)
            except Exception as exc:  # py-evm raises several lookup errors for a damaged database
                raise RegistryError(CHAIN_CORRUPT, f"cannot open the embedded chain: {exc}") from exc
        return backend

    def _set_meta(self, key: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", (key, value))

    def get_meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT v FROM meta WHERE k = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._set_meta(key, value)

    @property
    def submitter_key(self) -> bytes:
        """The private key of the account funded at genesis, which pays for registry writes."""
        return bytes.fromhex(self.get_meta("submitter_key") or "")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            self._kv.invalidate()
            self._reload()
            raise
        else:
            self._conn.execute("COMMIT")

    def _reload(self) -> None:
        """Rebuild the in-memory chain from the database after a rolled-back block."""
        backend = getattr(self, "_backend", None)
        if backend is not None:
            from eth.db.atomic import AtomicDB

            backend.chain = self._chain_class(AtomicDB(self._kv))  # type: ignore[arg-type]

    def close(self) -> None:
        """Release the database and the directory lock."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None  # type: ignore[assignment]
            if not self._lock_file.closed:
                fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
                self._lock_file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- JSON-RPC --------------------------------------------------------------------------------

    def request(self, method: str, params: list[Any]) -> Any:
        """Answer one JSON-RPC request; errors are :class:`RegistryError`."""
        self.calls += 1
        handler = getattr(self, "_rpc_" + method, None)
        if handler is None:
            raise RegistryError(RPC_ERROR, f"method {method} is not supported by the embedded chain")
        with self._lock:
            if self._conn is None:
                raise RegistryError(RPC_ERROR, "the embedded chain is closed")
            return handler(*params)

    @property
    def _chain(self) -> Any:
        return self._backend.chain

    def _head_number(self) -> int:
        return int(self._chain.get_canonical_head().block_number)

    def _block_number_param(self, tag: Any) -> int:
        if tag in (None, "latest", "safe", "finalized", "pending"):
            return self._head_number()
        if tag == "earliest":
            return 0
        number = _quantity(tag)
        if number > self._head_number():
            raise RegistryError(RPC_ERROR, f"block {number} is beyond the current head")
        return number

    def _rpc_eth_chainId(self) -> str:
        return _hex(self.chain_id)

    def _rpc_net_version(self) -> str:
        return str(self.chain_id)

    def _rpc_eth_blockNumber(self) -> str:
        return _hex(self._head_number())

    def _rpc_eth_gasPrice(self) -> str:
        return _hex(_GAS_PRICE)

    def _rpc_eth_getBlockByNumber(self, tag: Any, full: bool = False) -> dict[str, Any] | None:
        number = self._block_number_param(tag)
        header = self._chain.get_canonical_block_header_by_number(number)
        return {
            "number": _hex(header.block_number),
            "hash": _data(header.hash),
            "parentHash": _data(header.parent_hash),
            "timestamp": _hex(header.timestamp),
            "gasLimit": _hex(header.gas_limit),
            "gasUsed": _hex(header.gas_used),
            "baseFeePerGas": _hex(getattr(header, "base_fee_per_gas", 0) or 0),
        }

    def _rpc_eth_getBalance(self, address: str, tag: Any = "latest") -> str:
        return _hex(self._backend.get_balance(_unhex(address), self._tag_for_backend(tag)))

    def _rpc_eth_getTransactionCount(self, address: str, tag: Any = "latest") -> str:
        return _hex(self._backend.get_nonce(_unhex(address), self._tag_for_backend(tag)))

    def _rpc_eth_getCode(self, address: str, tag: Any = "latest") -> str:
        return _data(self._backend.get_code(_unhex(address), self._tag_for_backend(tag)))

    def _tag_for_backend(self, tag: Any) -> Any:
        # eth-tester's "latest" is the last mined block; a number must be below its pending block
        if tag in (None, "latest", "safe", "finalized", "pending"):
            return "latest"
        return self._block_number_param(tag)

    def _call_params(self, tx: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            # a call without a sender runs as the funded account: py-evm checks that gas can be paid
            "from": _unhex(tx["from"]) if tx.get("from") else self._funded_address(),
            "to": _unhex(tx["to"]) if tx.get("to") else b"",
            "data": _unhex(tx.get("data") or tx.get("input") or "0x"),
            "value": _quantity(tx.get("value", "0x0")),
            "gas_price": _GAS_PRICE,
        }
        if tx.get("gas"):
            out["gas"] = _quantity(tx["gas"])
        return out

    def _funded_address(self) -> bytes:
        from eth_keys.datatypes import PrivateKey as EthKey

        return bytes(EthKey(self.submitter_key).public_key.to_canonical_address())

    def _rpc_eth_call(self, tx: Mapping[str, Any], tag: Any = "latest") -> str:
        from eth_tester.exceptions import TransactionFailed  # type: ignore[import-untyped]
        from eth_utils.exceptions import ValidationError

        params = self._call_params(tx)
        params.setdefault("gas", 10_000_000)
        try:
            return _data(self._backend.call(params, self._tag_for_backend(tag)))
        except ValidationError as exc:
            raise _send_error(exc) from exc
        except TransactionFailed as exc:
            raise RegistryError(TRANSACTION_REVERTED, f"execution reverted: {_reason(exc)}") from exc

    def _rpc_eth_estimateGas(self, tx: Mapping[str, Any], tag: Any = "latest") -> str:
        from eth_tester.exceptions import TransactionFailed
        from eth_utils.exceptions import ValidationError

        params = self._call_params(tx)
        params.pop("gas", None)
        try:
            # simulate first: py-evm's estimate does not always surface the revert reason
            self._backend.call({**params, "gas": 10_000_000}, "latest")
            return _hex(self._backend.estimate_gas(params, "latest"))
        except ValidationError as exc:
            raise _send_error(exc) from exc
        except TransactionFailed as exc:
            raise RegistryError(TRANSACTION_REVERTED, f"execution reverted: {_reason(exc)}") from exc

    def _rpc_eth_sendRawTransaction(self, raw: str) -> str:
        from eth.exceptions import PyEVMError
        from eth_tester.exceptions import ValidationError as TesterValidationError
        from eth_utils.exceptions import ValidationError as EVMValidationError

        raw_bytes = _unhex(raw)
        chain = self._chain
        with self._transaction():
            parent = chain.get_canonical_head()
            # stamp the pending block with the second it is mined in; never ahead of the wall clock (a
            # parent already ahead, from a clock set back, is matched rather than overtaken)
            stamp = max(int(time.time()), parent.timestamp)
            chain.header = chain.header.copy(timestamp=stamp)
            try:
                tx_hash = self._backend.send_raw_transaction(raw_bytes)
            except (EVMValidationError, TesterValidationError, PyEVMError, ValueError) as exc:
                chain.header = chain.create_header_from_parent(chain.get_canonical_head())
                raise _send_error(exc) from exc
            self._backend.mine_blocks(1)
            block = chain.get_canonical_block_by_number(chain.get_canonical_head().block_number)
            self._index_block(block)
        return _data(tx_hash)

    def _index_block(self, block: Any) -> None:
        receipts = block.get_receipts(self._chain.chaindb)
        log_index = 0
        cumulative_prev = 0
        for tx_index, (tx, receipt) in enumerate(zip(block.transactions, receipts, strict=True)):
            logs_json = []
            for log in receipt.logs:
                topics = [t.to_bytes(32, "big") if isinstance(t, int) else bytes(t) for t in log.topics]
                padded = (topics + [None, None, None, None])[:4]
                self._conn.execute(
                    "INSERT INTO logs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (block.number, log_index, tx.hash, tx_index, block.hash, log.address, *padded, log.data,
                     block.header.timestamp),
                )
                logs_json.append(_log_json(block.number, block.hash, tx.hash, tx_index, log_index,
                                           log.address, topics, log.data, block.header.timestamp))
                log_index += 1
            gas_used = receipt.gas_used - cumulative_prev
            cumulative_prev = receipt.gas_used
            to = tx.to
            record = {
                "transactionHash": _data(tx.hash),
                "transactionIndex": _hex(tx_index),
                "blockHash": _data(block.hash),
                "blockNumber": _hex(block.number),
                "from": _data(tx.sender),
                "to": _data(to) if to else None,
                "contractAddress": _data(_contract_address(tx.sender, tx.nonce)) if not to else None,
                "gasUsed": _hex(gas_used),
                "cumulativeGasUsed": _hex(receipt.gas_used),
                "effectiveGasPrice": _hex(_effective_gas_price(tx, block)),
                "status": _hex(1 if receipt.state_root == b"\x01" else 0),
                "logs": logs_json,
            }
            self._conn.execute(
                "INSERT OR REPLACE INTO receipts VALUES (?,?,?)", (tx.hash, block.number, json.dumps(record))
            )

    def _rpc_eth_getTransactionReceipt(self, tx_hash: str) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT receipt FROM receipts WHERE tx_hash = ?", (_unhex(tx_hash),)).fetchone()
        return None if row is None else json.loads(row[0])

    def _rpc_eth_getLogs(self, flt: Mapping[str, Any]) -> list[dict[str, Any]]:
        if "blockHash" in flt:
            row = self._conn.execute(
                "SELECT block_number FROM logs WHERE block_hash = ? LIMIT 1", (_unhex(flt["blockHash"]),)
            ).fetchone()
            if row is None:
                return []
            lo = hi = int(row[0])
        else:
            lo = self._block_number_param(flt.get("fromBlock", "latest"))
            hi = self._block_number_param(flt.get("toBlock", "latest"))
        sql = ["SELECT * FROM logs WHERE block_number BETWEEN ? AND ?"]
        args: list[Any] = [lo, hi]
        address = flt.get("address")
        if address:
            addresses = [address] if isinstance(address, str) else list(address)
            sql.append(f"AND address IN ({','.join('?' * len(addresses))})")
            args.extend(_unhex(a) for a in addresses)
        for position, topic in enumerate(flt.get("topics") or []):
            if topic is None:
                continue
            options = [topic] if isinstance(topic, str) else list(topic)
            sql.append(f"AND topic{position} IN ({','.join('?' * len(options))})")
            args.extend(_unhex(t) for t in options)
        sql.append("ORDER BY block_number, log_index")
        out = []
        for row in self._conn.execute(" ".join(sql), args):
            number, index, txh, txi, bh, addr, t0, t1, t2, t3, data, stamp = row
            topics = [bytes(t) for t in (t0, t1, t2, t3) if t is not None]
            out.append(_log_json(number, bytes(bh), bytes(txh), txi, index, bytes(addr), topics, bytes(data), stamp))
        return out


def _log_json(number: int, block_hash: bytes, tx_hash: bytes, tx_index: int, log_index: int,
              address: bytes, topics: list[bytes], data: bytes, timestamp: int) -> dict[str, Any]:
    # blockTimestamp: as current nodes (geth, anvil) return it, which saves a block lookup per change
    return {
        "address": _data(address),
        "topics": [_data(t) for t in topics],
        "data": _data(data),
        "blockNumber": _hex(number),
        "blockHash": _data(block_hash),
        "blockTimestamp": _hex(timestamp),
        "transactionHash": _data(tx_hash),
        "transactionIndex": _hex(tx_index),
        "logIndex": _hex(log_index),
        "removed": False,
    }


def _contract_address(sender: bytes, nonce: int) -> bytes:
    import rlp  # type: ignore[import-untyped]
    from eth_hash.auto import keccak

    return keccak(rlp.encode([sender, nonce]))[12:]


def _effective_gas_price(tx: Any, block: Any) -> int:
    base = getattr(block.header, "base_fee_per_gas", 0) or 0
    if hasattr(tx, "max_fee_per_gas"):
        return int(min(tx.max_fee_per_gas, base + tx.max_priority_fee_per_gas))
    return int(tx.gas_price)


def _reason(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else ""
    if isinstance(arg, BaseException):
        arg = arg.args[0] if arg.args else str(arg)
    if isinstance(arg, bytes):
        from eth_abi.abi import decode
        from eth_abi.exceptions import DecodingError

        try:
            return str(decode(["string"], arg[4:])[0])
        except (DecodingError, ValueError, TypeError, OverflowError):  # not an Error(string) payload
            return "0x" + arg.hex()
    return str(arg)


def _send_error(exc: BaseException) -> RegistryError:
    from kaga_vc.registry._errors import BAD_NONCE, INSUFFICIENT_FUNDS, TRANSACTION_REJECTED

    text = str(exc)
    lowered = text.lower()
    if "nonce" in lowered:
        return RegistryError(BAD_NONCE, f"transaction rejected: {text}")
    if "balance" in lowered or "funds" in lowered or "afford" in lowered:
        return RegistryError(INSUFFICIENT_FUNDS, f"transaction rejected: {text}")
    return RegistryError(TRANSACTION_REJECTED, f"transaction rejected: {text}")
