/*
 * The HashTimeLock contract's ABI (contracts/HashTimeLock.sol), written out so viem types every
 * call and the engine never needs solc at run time. abi.test.ts checks it against solc's output,
 * so an edit to the contract that is not mirrored here fails the tests.
 *
 * The ERC-20 errors at the end are not the contract's own: SafeERC20 passes a token's revert
 * data through, and listing OpenZeppelin's errors lets viem name them (an unapproved or
 * underfunded lock then reads `ERC20InsufficientAllowance(...)` rather than raw bytes).
 */
import { parseAbi } from 'viem';

/** A lock's state as `getLock` answers it (Solidity `enum State`). */
export const LockStateCode = { none: 0, open: 1, withdrawn: 2, refunded: 3 } as const;

export const hashTimeLockAbi = parseAbi([
  'struct Lock { address token; address sender; address recipient; uint256 amount; bytes32 hashlock; uint64 timelock; uint8 state; bytes preimage; }',
  'function lock(bytes32 id, address token, address recipient, uint256 amount, bytes32 hashlock, uint64 timelock)',
  'function withdraw(bytes32 id, bytes preimage)',
  'function refund(bytes32 id)',
  'function getLock(bytes32 id) view returns (Lock)',
  'function PREIMAGE_LENGTH_MAX() view returns (uint256)',
  'event Locked(bytes32 indexed id, address indexed sender, address indexed recipient, address token, uint256 amount, bytes32 hashlock, uint64 timelock)',
  'event Withdrawn(bytes32 indexed id, bytes preimage)',
  'event Refunded(bytes32 indexed id)',
  'error LockExists(bytes32 id)',
  'error AmountZero()',
  'error RecipientZero()',
  'error TimelockNotInFuture(uint64 timelock, uint256 blockTimestamp)',
  'error AmountNotReceived(uint256 expected, uint256 received)',
  'error LockNotOpen(bytes32 id, uint8 state)',
  'error PreimageLengthInvalid(uint256 length)',
  'error PreimageMismatch(bytes32 id)',
  'error LockExpired(bytes32 id, uint64 timelock)',
  'error LockNotExpired(bytes32 id, uint64 timelock)',
  'error SafeERC20FailedOperation(address token)',
  // OpenZeppelin's IERC20Errors, passed through from the token (see the header).
  'error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)',
  'error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)',
  'error ERC20InvalidSender(address sender)',
  'error ERC20InvalidReceiver(address receiver)',
]);

/** The errors listed above that come from the token rather than from HashTimeLock itself. */
export const passedThroughErrorNames = [
  'ERC20InsufficientBalance',
  'ERC20InsufficientAllowance',
  'ERC20InvalidSender',
  'ERC20InvalidReceiver',
] as const;

/** What the deploy script and tests need of StableToken beyond the standard ERC-20 calls. */
export const stableTokenAbi = parseAbi([
  'function mint(address to, uint256 amount)',
  'function owner() view returns (address)',
]);
