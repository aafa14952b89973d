/**
 * Every way the ledger refuses an operation, with the sentence a person reads. A rejection is a
 * value returned by the ledger, never a throw; the node maps each code to its HTTP status.
 */
export const ledgerRejections = {
  invalid_amount: 'The amount must be a positive whole number of minor units, as a decimal string.',
  invalid_address: 'The address is not a valid Coffer address.',
  invalid_symbol: 'An asset symbol is 2 to 12 characters: A-Z and 0-9, starting with a letter.',
  invalid_decimals: 'Decimals must be a whole number from 0 to 18.',
  invalid_max_supply: 'The maximum supply must be a positive amount of minor units.',
  asset_exists: 'An asset with this symbol already exists.',
  asset_not_found: 'No asset has this symbol.',
  not_issuer: 'Only the issuer of the asset may do this.',
  max_supply_exceeded: "This would take the asset's supply past its maximum supply.",
  accounts_must_be_different: 'The payer and the payee must be different accounts.',
  account_frozen: 'The account is frozen for this asset.',
  insufficient_funds: 'The account does not hold enough of the asset.',
  hold_not_found: 'No open hold has this id.',
  hold_exists: 'A hold with this id already exists.',
  hold_forbidden: 'Only the payee or the arbiter of the hold may post or void it.',
  hold_hash_locked:
    'A hash-locked hold is released by its preimage or refunded at expiry, never posted or voided.',
  hold_not_hash_locked: 'This hold has no hash lock to release.',
  hold_amount_exceeded: 'The amount is more than the hold has left.',
  invalid_condition:
    'A hash-lock condition is the hex SHA-256 digest of the preimage (64 hex digits).',
  preimage_mismatch: "The preimage's SHA-256 digest does not match the hold's condition.",
  invalid_hold_expiry:
    'A hold expires after the current height and at most 10,000,000 blocks ahead.',
  invalid_hold_id: 'A hold id is the 64 hex digits of the tx hash that created the hold.',
  invalid_preimage: 'A preimage is 1 to 256 bytes written in lowercase hex.',
  too_many_holds: 'The account has too many open holds.',
} as const;

export type LedgerRejection = keyof typeof ledgerRejections;
