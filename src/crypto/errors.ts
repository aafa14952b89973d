/**
 * The one error class of src/crypto: the caller passed a value that cannot be used.
 *
 * `field` names the bad input (a parameter name, or a path such as `payload.amount`), so the
 * API layer can answer `{ "error": { "code": "invalid_input", "message", "field" } }`.
 */
export class CryptoInputError extends Error {
  readonly code = 'invalid_input';

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'CryptoInputError';
  }
}
