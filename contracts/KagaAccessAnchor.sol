// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title KagaAccessAnchor
/// @notice Anchors batches of kaga_vc access-log entries: one transaction records the Merkle root
/// (RFC 9162 §2.1, SHA-256) of a batch, whatever the batch's size. It holds no personal data: the
/// log's random identifier, the root, the sequence number of the batch's first entry and the number
/// of entries. Each anchor is kept under the account that sent it, so a verifier checks a root
/// against the log operator's account and nobody else can write in that operator's name.
contract KagaAccessAnchor {
    struct Anchor {
        uint64 blockNumber;
        uint64 timestamp;
        uint64 firstSeq;
        uint64 size;
    }

    /// anchorer => log id => Merkle root => anchor (one storage slot)
    mapping(address => mapping(bytes32 => mapping(bytes32 => Anchor))) private anchors;

    event Anchored(address indexed anchorer, bytes32 indexed logId, bytes32 indexed root, uint64 firstSeq, uint64 size);

    /// @notice Record `root` as the Merkle root of `size` entries of log `logId` starting at `firstSeq`.
    function anchor(bytes32 logId, bytes32 root, uint64 firstSeq, uint64 size) external {
        require(size > 0, "empty_batch");
        require(anchors[msg.sender][logId][root].blockNumber == 0, "already_anchored");
        anchors[msg.sender][logId][root] = Anchor(uint64(block.number), uint64(block.timestamp), firstSeq, size);
        emit Anchored(msg.sender, logId, root, firstSeq, size);
    }

    /// @notice The anchor of `root` by `anchorer` in log `logId`; blockNumber 0 when there is none.
    function anchorOf(address anchorer, bytes32 logId, bytes32 root)
        external
        view
        returns (uint64 blockNumber, uint64 timestamp, uint64 firstSeq, uint64 size)
    {
        Anchor storage a = anchors[anchorer][logId][root];
        return (a.blockNumber, a.timestamp, a.firstSeq, a.size);
    }
}
