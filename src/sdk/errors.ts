/**
 * Codes the SDK itself gives a `CofferError` when the node never answered with one of its own
 * (the node's codes are in docs/errors.md). `status` is 0 for all of them but `http_error`.
 */
export const clientErrorCodes = {
  network_error: 'The node could not be reached, or did not answer in time.',
  http_error: 'The node answered an HTTP error without the API error body.',
  invalid_response: 'The node answered something that is not the API JSON.',
  invalid_input: 'An argument given to the SDK cannot be used.',
} as const;

export type ClientErrorCode = keyof typeof clientErrorCodes;

function bodyField(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null
    ? (body as Record<string, unknown>)[name]
    : undefined;
}

/**
 * An error the node answered with, or the SDK's own when it could not get one. `code` is the
 * API's snake_case code (`insufficient_funds`, `nonce_too_low`) or one of `clientErrorCodes`;
 * `status` is the HTTP status, 0 when there was no HTTP answer.
 *
 * When the node names the tx (a duplicate, a commit timeout, a committed tx that failed),
 * `hash` is set. A tx that was committed but failed (HTTP 422) also has `height`, `index` and
 * `txStatus` (its receipt status, equal to `code`): it is in a block and its nonce is spent,
 * which `committed` says.
 */
export class CofferError extends Error {
  readonly hash?: string;
  readonly height?: number;
  readonly index?: number;
  readonly txStatus?: string;

  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly field?: string,
    readonly body?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CofferError';
    const hash = bodyField(body, 'hash');
    const height = bodyField(body, 'height');
    const index = bodyField(body, 'index');
    const txStatus = bodyField(body, 'status');
    if (typeof hash === 'string') this.hash = hash;
    if (typeof height === 'number') this.height = height;
    if (typeof index === 'number') this.index = index;
    if (typeof txStatus === 'string' && typeof height === 'number') this.txStatus = txStatus;
  }

  /** True when the tx is in a block (it failed there): resubmitting it is a `duplicate_tx`. */
  get committed(): boolean {
    return this.height !== undefined;
  }
}
