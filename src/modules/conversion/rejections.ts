/**
 * Rejections of the conversion module's txs, with the sentence a person reads. `invalid_decimals`
 * is the ledger's code (the same rule: 0 to 18).
 */
export const conversionRejections = {
  invalid_engine_name:
    "The engine's name is 1 to 64 printable ASCII characters, with no space at either end.",
  invalid_quote_ttl: 'quoteTtlSeconds must be a whole number from 5 to 3600.',
  invalid_hops_max: 'hopsMax must be a whole number from 1 to 4.',
  invalid_slippage_bps_max:
    'slippageBpsMax must be a whole number of basis points from 0 to 10000.',
  invalid_conversion_status: 'status must be active or paused.',
  invalid_ecosystem: 'An ecosystem id is 2 to 32 characters: a-z, 0-9 and "-".',
  invalid_ecosystem_kind: 'kind must be coffer, evm or http.',
  invalid_network:
    'network must be, for coffer, a Coffer chain id (a-z, 0-9, "-", up to 63); for evm, the chain id as a decimal string (1 to 2^64 - 1); for http, the provider name (a-z, 0-9, ".", "_", "-", up to 64).',
  invalid_engine_address:
    "engineAddress must be, for coffer, a Coffer address (cof1...); for evm, 0x and 40 hex digits (with a valid EIP-55 checksum if in mixed case); for http, the provider's account id (up to 128 of A-Z, a-z, 0-9, . _ : @ -).",
  invalid_block_interval:
    'A coffer ecosystem needs blockMsMin and blockMsMax, whole milliseconds from 1 to 600000 with blockMsMin <= blockMsMax; evm and http ecosystems take neither.',
  invalid_conversion_asset: 'An asset symbol here is 2 to 12 characters: A-Z, a-z and 0-9.',
  invalid_currency: 'currency is 3 to 5 uppercase letters (what the asset is worth: USD, EUR).',
  invalid_liquidity:
    'liquidityLow and liquidityHigh are minor units as decimal strings, with liquidityLow <= liquidityHigh.',
  invalid_pair_side: 'from and to are each {ecosystem, asset}.',
  invalid_pair_bps: 'spreadBps and feeBps are whole numbers of basis points from 0 to 5000.',
  invalid_fee_fixed: 'feeFixed is minor units of the output asset as a decimal string.',
  invalid_pair_limits:
    'min and max are minor units of the input asset as decimal strings, from 1, with min <= max.',
  pair_same_asset: 'A pair converts from one asset to another: from and to must differ.',
  engine_not_found:
    "No conversion engine has this address: its operator creates it with conversion.setEngine (a tx acts on its sender's engine).",
  ecosystem_not_found: 'The engine has no ecosystem with this id.',
  asset_not_registered: 'The engine has no such asset on this ecosystem.',
  pair_not_found: 'The engine has no pair from this asset to that one.',
  too_many_ecosystems: 'An engine has at most 16 ecosystems: remove one first.',
  too_many_assets: 'An ecosystem has at most 16 assets: remove one first.',
  too_many_pairs: 'An engine has at most 128 pairs: remove one first.',
  asset_in_use:
    'A pair converts from or to this asset: remove the pair first (nor may its decimals change while one does).',
  ecosystem_in_use:
    'The ecosystem holds assets: remove them first (nor may its kind change while it holds any).',
} as const;

export type ConversionRejection = keyof typeof conversionRejections | 'invalid_decimals';

/** HTTP statuses of the codes that are not a bad input (400). */
export const conversionHttpStatuses = {
  engine_not_found: 404,
  ecosystem_not_found: 404,
  asset_not_registered: 404,
  pair_not_found: 404,
  asset_in_use: 409,
  ecosystem_in_use: 409,
  too_many_ecosystems: 422,
  too_many_assets: 422,
  too_many_pairs: 422,
} as const;
