/*
 * Deploys the conversion engine's contracts to an EVM chain for tests and local setups:
 * StableToken (a 6-decimal ERC-20, "Test USD Coin"/USDC by default) and HashTimeLock, and mints
 * tokens to the accounts asked for.
 *
 *   const { htlc, token } = await deployContracts({
 *     rpcUrl: chain.url, privateKey: chain.accounts[0].privateKey,
 *     mint: [{ to: engine.address, amount: 1_000_000_000n }],
 *   });
 *
 * The deployer owns the token (only it can mint later). Contracts come from compile.ts (cached
 * after the first compilation). Each transaction waits for its receipt and checks its status.
 */
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  type Address,
  type Hex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { stableTokenAbi } from './abi.js';
import { compileContracts } from './compile.js';

export interface DeployOptions {
  rpcUrl: string;
  /** The deployer's key; it pays gas and owns the token. */
  privateKey: Hex;
  tokenName?: string;
  tokenSymbol?: string;
  /** Tokens to mint after deploying, minor units (6 decimals). */
  mint?: { to: Address; amount: bigint }[];
  pollingIntervalMs?: number;
}

export interface Deployment {
  htlc: Address;
  token: Address;
  tokenSymbol: string;
  /** The block HashTimeLock was deployed in: where log scans for it can start. */
  htlcBlock: bigint;
  chainId: number;
}

/** An operational fault: a deployment or mint transaction failed. */
export class DeployError extends Error {
  readonly code = 'evm_deploy_failed';
}

const DEFAULT_TOKEN_NAME = 'Test USD Coin';
const DEFAULT_TOKEN_SYMBOL = 'USDC';
/** Against a local chain receipts are there at once; poll often rather than every 4 s. */
const DEFAULT_POLLING_INTERVAL_MS = 100;

export async function deployContracts(options: DeployOptions): Promise<Deployment> {
  const { contracts } = await compileContracts();
  const transport = http(options.rpcUrl);
  const chainId = await createPublicClient({ transport }).getChainId();
  const chain = defineChain({
    id: chainId,
    name: `evm-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [options.rpcUrl] } },
  });
  const pollingInterval = options.pollingIntervalMs ?? DEFAULT_POLLING_INTERVAL_MS;
  const publicClient = createPublicClient({ chain, transport, pollingInterval });
  const account = privateKeyToAccount(options.privateKey);
  const wallet = createWalletClient({ account, chain, transport, pollingInterval });

  async function committed(what: string, hash: Hex) {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new DeployError(`${what} reverted (tx ${hash})`);
    return receipt;
  }

  const tokenSymbol = options.tokenSymbol ?? DEFAULT_TOKEN_SYMBOL;
  const tokenReceipt = await committed(
    'deploying StableToken',
    await wallet.deployContract({
      abi: contracts.StableToken.abi,
      bytecode: contracts.StableToken.bytecode,
      args: [options.tokenName ?? DEFAULT_TOKEN_NAME, tokenSymbol, account.address],
    }),
  );
  const htlcReceipt = await committed(
    'deploying HashTimeLock',
    await wallet.deployContract({
      abi: contracts.HashTimeLock.abi,
      bytecode: contracts.HashTimeLock.bytecode,
    }),
  );
  if (!tokenReceipt.contractAddress || !htlcReceipt.contractAddress) {
    throw new DeployError('a deployment receipt has no contract address');
  }
  // Checksummed, as every other address viem answers with.
  const token = getAddress(tokenReceipt.contractAddress);
  const htlc = getAddress(htlcReceipt.contractAddress);

  for (const { to, amount } of options.mint ?? []) {
    await committed(
      `minting ${amount} to ${to}`,
      await wallet.writeContract({
        address: token,
        abi: stableTokenAbi,
        functionName: 'mint',
        args: [to, amount],
      }),
    );
  }
  return { htlc, token, tokenSymbol, htlcBlock: htlcReceipt.blockNumber, chainId };
}
