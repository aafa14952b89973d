import os from 'node:os';
import path from 'node:path';

/**
 * The CLI's environment, read once here and passed down; nothing else under src/cli reads
 * `process.env` (the node's own settings are parsed by src/node/config.ts for `init`/`start`).
 */
export interface CliEnv {
  /** `COFFER_HOME`, default `~/.coffer`: the keystore lives in `<home>/keys`. */
  home: string;
  /** `COFFER_PASSPHRASE`; unset (or empty) means prompt on a terminal. */
  passphrase: string | undefined;
  /** `COFFER_ADMIN_TOKEN`: the node operator's token for `coffer webhooks` (else --admin-token-file). */
  adminToken: string | undefined;
  /**
   * `COFFER_WEBHOOK_SECRET`: the secret `coffer webhooks add` subscribes with when neither
   * --secret nor --secret-file is given (kept out of argv and shell history).
   */
  webhookSecret: string | undefined;
  /** `COFFER_BRIDGE_URL`: the conversion engine `coffer bridge ...` talks to (else --bridge). */
  bridgeUrl: string | undefined;
  /** `COFFER_BRIDGE_TOKEN`: the bridge operator's token for `coffer bridge liquidity|reconcile`. */
  bridgeToken: string | undefined;
  /** `COFFER_BRIDGE_CRASH_AFTER`: the crash tests' fault injection for `coffer bridge start`. */
  bridgeCrashAfter: string | undefined;
}

export function readCliEnv(
  env: NodeJS.ProcessEnv = process.env,
  homeDir: string = os.homedir(),
): CliEnv {
  const home = env.COFFER_HOME ? path.resolve(env.COFFER_HOME) : path.join(homeDir, '.coffer');
  const passphrase = env.COFFER_PASSPHRASE === '' ? undefined : env.COFFER_PASSPHRASE;
  const adminToken = env.COFFER_ADMIN_TOKEN === '' ? undefined : env.COFFER_ADMIN_TOKEN;
  const webhookSecret = env.COFFER_WEBHOOK_SECRET === '' ? undefined : env.COFFER_WEBHOOK_SECRET;
  const bridgeUrl = env.COFFER_BRIDGE_URL === '' ? undefined : env.COFFER_BRIDGE_URL;
  const bridgeCrashAfter = env.COFFER_BRIDGE_CRASH_AFTER || undefined;
  const bridgeToken = env.COFFER_BRIDGE_TOKEN || undefined;
  return Object.freeze({
    home,
    passphrase,
    adminToken,
    webhookSecret,
    bridgeUrl,
    bridgeToken,
    bridgeCrashAfter,
  });
}
