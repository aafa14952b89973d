// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/*
 * HashTimeLock: ERC-20 hash-time locks, one leg of a conversion between ecosystems (issue 19).
 *
 * A payer locks tokens for a recipient under a SHA-256 hashlock and a unix-seconds timelock.
 * Anyone who knows the preimage may withdraw the tokens to the recipient while
 * block.timestamp <= timelock (the lock is usable up to and including its expiry, as a Coffer
 * hold is); once block.timestamp > timelock anyone may refund them to the payer. Withdrawing
 * stores the preimage on chain, so the other leg's party can always read it back.
 *
 * Why SHA-256 and not keccak256: Coffer holds are conditioned on the hex SHA-256 of the preimage,
 * so one secret releases both legs. Why preimages are 1 to 256 bytes: that is what Coffer accepts
 * (`invalid_preimage`); a longer preimage released here could not be replayed on Coffer, and the
 * party holding it would lose the other leg.
 *
 * Lock ids are chosen by the payer (the conversion engine derives them from its address and its
 * idempotency key, so a repeated call finds its lock instead of locking twice). An id is used
 * once: a withdrawn or refunded lock keeps its record and its id stays taken. Because ids are
 * public, someone watching the mempool could take an id first with other terms; the caller then
 * sees a different lock under its id (the engine compares the terms and reports a conflict).
 *
 * Tokens that take a fee on transfer or rebase are refused: the contract checks it received
 * exactly `amount`, so each lock is always backed by its full amount.
 */

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

contract HashTimeLock {
    using SafeERC20 for IERC20;

    enum State {
        None,
        Open,
        Withdrawn,
        Refunded
    }

    struct Lock {
        address token;
        address sender;
        address recipient;
        uint256 amount;
        bytes32 hashlock;
        uint64 timelock;
        State state;
        bytes preimage;
    }

    /// The longest preimage Coffer accepts (see the header).
    uint256 public constant PREIMAGE_LENGTH_MAX = 256;

    mapping(bytes32 id => Lock) private _locks;

    event Locked(
        bytes32 indexed id,
        address indexed sender,
        address indexed recipient,
        address token,
        uint256 amount,
        bytes32 hashlock,
        uint64 timelock
    );
    event Withdrawn(bytes32 indexed id, bytes preimage);
    event Refunded(bytes32 indexed id);

    error LockExists(bytes32 id);
    error AmountZero();
    error RecipientZero();
    error TimelockNotInFuture(uint64 timelock, uint256 blockTimestamp);
    error AmountNotReceived(uint256 expected, uint256 received);
    error LockNotOpen(bytes32 id, State state);
    error PreimageLengthInvalid(uint256 length);
    error PreimageMismatch(bytes32 id);
    error LockExpired(bytes32 id, uint64 timelock);
    error LockNotExpired(bytes32 id, uint64 timelock);

    /// Locks `amount` of `token` from the caller (who approved this contract first) for
    /// `recipient`, released by the SHA-256 preimage of `hashlock` until `timelock`.
    function lock(
        bytes32 id,
        address token,
        address recipient,
        uint256 amount,
        bytes32 hashlock,
        uint64 timelock
    ) external {
        if (_locks[id].state != State.None) revert LockExists(id);
        if (amount == 0) revert AmountZero();
        if (recipient == address(0)) revert RecipientZero();
        if (timelock <= block.timestamp) revert TimelockNotInFuture(timelock, block.timestamp);

        // The record is written before the tokens move, so a token that calls back into this
        // contract during the transfer finds the id taken.
        _locks[id] = Lock({
            token: token,
            sender: msg.sender,
            recipient: recipient,
            amount: amount,
            hashlock: hashlock,
            timelock: timelock,
            state: State.Open,
            preimage: ""
        });

        IERC20 erc20 = IERC20(token);
        uint256 balanceBefore = erc20.balanceOf(address(this));
        erc20.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = erc20.balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert AmountNotReceived(amount, received);

        emit Locked(id, msg.sender, recipient, token, amount, hashlock, timelock);
    }

    /// Pays an open lock to its recipient; anyone may call it with the preimage.
    function withdraw(bytes32 id, bytes calldata preimage) external {
        Lock storage l = _locks[id];
        if (l.state != State.Open) revert LockNotOpen(id, l.state);
        if (preimage.length == 0 || preimage.length > PREIMAGE_LENGTH_MAX) {
            revert PreimageLengthInvalid(preimage.length);
        }
        if (sha256(preimage) != l.hashlock) revert PreimageMismatch(id);
        if (block.timestamp > l.timelock) revert LockExpired(id, l.timelock);

        l.state = State.Withdrawn;
        l.preimage = preimage;
        IERC20(l.token).safeTransfer(l.recipient, l.amount);
        emit Withdrawn(id, preimage);
    }

    /// Pays an expired open lock back to its sender; anyone may call it.
    function refund(bytes32 id) external {
        Lock storage l = _locks[id];
        if (l.state != State.Open) revert LockNotOpen(id, l.state);
        if (block.timestamp <= l.timelock) revert LockNotExpired(id, l.timelock);

        l.state = State.Refunded;
        IERC20(l.token).safeTransfer(l.sender, l.amount);
        emit Refunded(id);
    }

    /// Everything about a lock; an unknown id answers a zeroed record with state None.
    function getLock(bytes32 id) external view returns (Lock memory) {
        return _locks[id];
    }
}
