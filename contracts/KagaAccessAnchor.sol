// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title KagaAccessAnchor
/// @notice Signed tree heads of kaga_vc access logs, as Certificate Transparency keeps them (RFC 9162): per
/// log, an append-only sequence of (tree size, Merkle root) over the whole log. A head is kept under the
/// account that sent it, so nobody else can write in a log operator's name; the operator itself cannot
/// rewrite, remove or reorder a head, nor anchor a tree that is not larger than the last one, nor change
/// the log's identity (the hash of its id, verifier DID and signing key) committed with the first head.
/// Whether each head extends the previous one is what consistency proofs (RFC 9162 §2.1.4) show off chain.
/// Nothing personal is stored: a random log id, an identity hash, sizes and roots.
contract KagaAccessAnchor {
    struct Head {
        bytes32 root;
        uint64 treeSize;
        uint64 blockNumber;
        uint64 timestamp;
    }

    struct Log {
        bytes32 identity;
        Head[] heads;
    }

    /// anchorer => log id => its identity and heads
    mapping(address => mapping(bytes32 => Log)) private logs;

    event Anchored(
        address indexed anchorer, bytes32 indexed logId, uint256 indexed index, uint64 treeSize, bytes32 root, bytes32 identity
    );

    /// @notice Append the head (`treeSize`, `root`) to log `logId` of the sender; `identity` is committed by the
    /// first head and must be the same for every later one. Returns the head's index.
    function anchor(bytes32 logId, bytes32 identity, uint64 treeSize, bytes32 root) external returns (uint256 index) {
        Log storage log = logs[msg.sender][logId];
        index = log.heads.length;
        require(identity != bytes32(0), "no_identity");
        if (index == 0) {
            require(treeSize > 0, "empty_tree");
            log.identity = identity;
        } else {
            require(identity == log.identity, "identity_changed");
            require(treeSize > log.heads[index - 1].treeSize, "size_must_grow");
        }
        log.heads.push(Head(root, treeSize, uint64(block.number), uint64(block.timestamp)));
        emit Anchored(msg.sender, logId, index, treeSize, root, identity);
    }

    /// @notice The identity committed for `anchorer`'s log `logId` and how many heads it has (0: none).
    function logOf(address anchorer, bytes32 logId) external view returns (bytes32 identity, uint256 heads) {
        Log storage log = logs[anchorer][logId];
        return (log.identity, log.heads.length);
    }

    /// @notice Head `index` of `anchorer`'s log `logId`; treeSize 0 when there is no such head.
    function headAt(address anchorer, bytes32 logId, uint256 index)
        external
        view
        returns (uint64 treeSize, bytes32 root, uint64 blockNumber, uint64 timestamp)
    {
        Log storage log = logs[anchorer][logId];
        if (index >= log.heads.length) {
            return (0, bytes32(0), 0, 0);
        }
        Head storage h = log.heads[index];
        return (h.treeSize, h.root, h.blockNumber, h.timestamp);
    }
}
