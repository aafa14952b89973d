/**
 * The CLI's one error class and its codes. A command never prints and exits on its own: it throws
 * a `CliError`, and `main` prints `coffer: <code>: <message>` on one line of stderr and exits with
 * the code's exit status. Rejections by the node keep the node's own snake_case code (see
 * docs/errors.md); the codes below are the CLI's own.
 */
export const cliErrors = {
  usage: 'The command line is not valid.',
  invalid_amount: 'The amount is not a positive decimal number the asset can represent.',
  invalid_key_name:
    'A key name is 1 to 32 characters: a-z, 0-9, _ and -, starting with a-z or 0-9, not cof1.',
  invalid_secret_key: 'A secret key is 64 hex digits.',
  invalid_hex: 'The value is not lowercase hex of the expected length.',
  unknown_key: 'No key in the keystore has this name.',
  key_exists: 'The keystore already holds a key with this name or address.',
  wrong_passphrase: 'The passphrase does not unlock the key.',
  passphrase_required: 'No passphrase: set COFFER_PASSPHRASE or run in a terminal.',
  passphrase_mismatch: 'The two passphrases typed differ.',
  empty_passphrase: 'A key cannot be stored under an empty passphrase.',
  keystore_corrupt: 'A keystore file is damaged or was altered.',
  cancelled: 'Cancelled at the prompt.',
  unexpected_answer: 'The node answered something the CLI does not understand.',
  asset_mismatch: 'The symbol given is not the asset of the hold.',
  verification_failed: 'The data does not verify.',
  audit_failed: 'Replaying the chain from its genesis does not give what the data directory holds.',
  invalid_file: 'A file named on the command line cannot be read, is too large or is not JSON.',
  invalid_info: "The producer's identity information is too large or cannot be written as JSON.",
  wrong_producer_key: 'The key given is not the key the producer was registered with.',
  invalid_input:
    'A value given for a certificate (a device id, a role, a name, a number of days) is not valid.',
  file_exists:
    'The command would overwrite a file that exists (a key or a certificate): it never does.',
  invalid_config: 'The configuration file is not valid JSON of the documented shape.',
  admin_token_missing:
    "No admin token: set COFFER_ADMIN_TOKEN or pass --admin-token-file (the node's data directory holds one, admin-token).",
} as const;

export type CliErrorCode = keyof typeof cliErrors;

/** Exit statuses: 1 for every failure of the operation itself, 2 for a command line misuse. */
export const exitCodes = { failure: 1, usage: 2, cancelled: 130 } as const;

export class CliError extends Error {
  constructor(
    /** A `cliErrors` code, or the node's rejection code for a tx or request it refused. */
    readonly code: string,
    message: string,
    readonly exitCode: number = code === 'usage'
      ? exitCodes.usage
      : code === 'cancelled'
        ? exitCodes.cancelled
        : exitCodes.failure,
    /** Printed on stderr before the one line of reason: the list of commands, for a bare group. */
    readonly before?: string,
  ) {
    super(message);
  }
}

export function usageError(message: string): CliError {
  return new CliError('usage', message, exitCodes.usage);
}

/** Collapses a message onto one line: the contract is one line of reason on stderr. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
