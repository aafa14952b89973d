/*
 * Compiles the conversion engine's Solidity contracts (contracts/HashTimeLock.sol,
 * contracts/StableToken.sol) with solc from npm, for deploying them to a test or local chain.
 *
 *   const { contracts } = await compileContracts();
 *   contracts.HashTimeLock.abi, contracts.HashTimeLock.bytecode
 *
 * Nothing generated is committed: a fresh clone compiles on first use (a few seconds: solc is
 * WebAssembly), and the output is cached in a file under os.tmpdir() named by the SHA-256 of
 * everything that decides it (our sources, the solc and OpenZeppelin versions, the settings), so
 * repeated test runs read the file instead. A cache file that does not parse is ignored and
 * rewritten. Writes go to a temporary file renamed into place, so test files compiling at once
 * never read half a file.
 *
 * The engine itself never compiles: it talks to a deployed contract through the ABI in abi.ts.
 */

import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Abi, Hex } from 'viem';

/** The contracts this module compiles, by source file name without `.sol`. */
export const contractNames = ['HashTimeLock', 'StableToken'] as const;
export type ContractName = (typeof contractNames)[number];

export interface CompiledContract {
  abi: Abi;
  /** Creation bytecode, 0x-prefixed. */
  bytecode: Hex;
}

export interface CompileResult {
  contracts: Record<ContractName, CompiledContract>;
  solcVersion: string;
  /** True when the output came from the cache file rather than a fresh compilation. */
  cached: boolean;
  /** Wall-clock milliseconds this call took (loading solc and compiling, or reading the cache). */
  elapsedMs: number;
  cacheFile: string;
}

/** An operational fault: solc reported errors, or a source or import could not be read. */
export class ContractCompileError extends Error {
  readonly code = 'evm_compile_failed';
}

/**
 * The EVM version the bytecode targets. Ganache 7.9 implements hardforks up to Shanghai, and
 * solc 0.8.30+ defaults to a later one (Prague/Osaka opcodes such as MCOPY would not run there).
 */
const EVM_VERSION = 'shanghai';
/** Optimizer runs: the contracts are called many times per deployment. */
const OPTIMIZER_RUNS = 200;
/** Cache file names start with this so they are easy to find and clear. */
const CACHE_FILE_PREFIX = 'coffer-evm-contracts-';

const require = createRequire(import.meta.url);
const contractsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'contracts');

function packageVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

function standardJsonInput(sources: Record<string, string>): object {
  return {
    language: 'Solidity',
    sources: Object.fromEntries(
      Object.entries(sources).map(([file, content]) => [file, { content }]),
    ),
    settings: {
      optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
      evmVersion: EVM_VERSION,
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
}

/** solc's import callback: `@openzeppelin/...` (and any other package path) from node_modules. */
function findImport(importPath: string): { contents: string } | { error: string } {
  try {
    return { contents: readFileSync(require.resolve(importPath), 'utf8') };
  } catch (error) {
    return { error: `cannot read import ${importPath}: ${(error as Error).message}` };
  }
}

interface SolcOutput {
  errors?: { severity: 'error' | 'warning' | 'info'; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
}

interface Solc {
  version(): string;
  compile(input: string, callbacks: { import: typeof findImport }): string;
}

function readCache(file: string): Record<ContractName, CompiledContract> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // missing or torn: compile again
  }
  const contracts = parsed as Partial<Record<ContractName, Partial<CompiledContract>>>;
  for (const name of contractNames) {
    const entry = contracts[name];
    if (!Array.isArray(entry?.abi) || !/^0x[0-9a-f]+$/.test(entry.bytecode ?? '')) return undefined;
  }
  return parsed as Record<ContractName, CompiledContract>;
}

/**
 * Compiles HashTimeLock and StableToken, or reads the cached output of an identical compilation.
 * `cacheDir` defaults to os.tmpdir(); pass `cache: false` to always compile (to measure it).
 */
export async function compileContracts(
  options: { cacheDir?: string; cache?: boolean } = {},
): Promise<CompileResult> {
  const startedMs = performance.now();
  const sources = Object.fromEntries(
    contractNames.map((name) => [
      `${name}.sol`,
      readFileSync(path.join(contractsDir, `${name}.sol`), 'utf8'),
    ]),
  );
  const input = standardJsonInput(sources);
  const solcVersion = packageVersion('solc');
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        input,
        solc: solcVersion,
        openzeppelin: packageVersion('@openzeppelin/contracts'),
      }),
    )
    .digest('hex');
  const cacheFile = path.join(options.cacheDir ?? os.tmpdir(), `${CACHE_FILE_PREFIX}${key}.json`);

  if (options.cache !== false) {
    const cached = readCache(cacheFile);
    if (cached) {
      return {
        contracts: cached,
        solcVersion,
        cached: true,
        elapsedMs: performance.now() - startedMs,
        cacheFile,
      };
    }
  }

  // Loaded only on a cache miss: solc's WebAssembly takes about a second to load.
  const solc = ((await import('solc')) as { default: Solc }).default;
  const output = JSON.parse(
    solc.compile(JSON.stringify(input), { import: findImport }),
  ) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new ContractCompileError(errors.map((e) => e.formattedMessage).join('\n'));
  }
  const contracts = {} as Record<ContractName, CompiledContract>;
  for (const name of contractNames) {
    const compiled = output.contracts?.[`${name}.sol`]?.[name];
    if (!compiled) throw new ContractCompileError(`solc produced no output for ${name}`);
    contracts[name] = { abi: compiled.abi, bytecode: `0x${compiled.evm.bytecode.object}` };
  }

  const temporary = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(contracts));
  renameSync(temporary, cacheFile);
  return {
    contracts,
    solcVersion: solc.version(),
    cached: false,
    elapsedMs: performance.now() - startedMs,
    cacheFile,
  };
}
