/**
 * Rejections of the printing module's txs, with the sentence a person reads. Codes shared with
 * the ledger (`invalid_address`, `asset_not_found`, `insufficient_funds`, `account_frozen`) keep
 * the ledger's messages. HTTP statuses: index.ts (`printingHttpStatuses`).
 */
export const printingRejections = {
  invalid_hardware_id: 'A hardware id is hw_ and 32 lowercase hex digits (hardwareIdOf).',
  invalid_device_key_hash:
    "deviceKeyHash must be 64 lowercase hex digits: the SHA-256 of the device's ed25519 public key.",
  invalid_device_key: "deviceKey must be 64 lowercase hex digits: the device's ed25519 public key.",
  invalid_device_proof: 'deviceProof must be 128 lowercase hex digits (an ed25519 signature).',
  invalid_delivered:
    'delivered must be a whole number from 0 to 100 (percent of the lines written).',
  invalid_printer_id: 'A printer id is pr_ and 32 lowercase hex digits.',
  invalid_client_id: 'clientId must be 1 to 64 of a-z, 0-9 and "-".',
  invalid_cert_fingerprint:
    "certFingerprint must be 64 lowercase hex digits: the SHA-256 of the client certificate's DER.",
  invalid_profile:
    "profile must be {firmware: marlin|klipper, bed: {x, y, z} in µm from 10000 to 2000000, nozzleUm 100..2000, filament: pla|petg|abs|tpu, hotendC 150..300, bedC 0..120, flowPct 50..150, startGcode and endGcode: at most 2048 characters of printable ASCII and newlines, no '*', and only motion, homing, levelling, temperature, fan, positioning, feed/flow, dwell, stepper-off commands and PRINT_START/PRINT_END-style macros (no SD-card, file, EEPROM or firmware commands)}.",
  invalid_owner_proof: 'ownerProof must be 128 lowercase hex digits (an ed25519 signature).',
  invalid_server_proof: 'serverProof must be 128 lowercase hex digits (an ed25519 signature).',
  invalid_design_id: 'A design id is 32 lowercase hex digits (designIdOf).',
  invalid_design_title:
    'title must be 1 to 120 characters without control characters or bidirectional overrides.',
  invalid_content_hash:
    "contentHash must be 64 lowercase hex digits: the SHA-256 of the design's G-code.",
  invalid_design_size: 'sizeBytes must be a whole number of bytes from 1 to 64 MiB.',
  invalid_lines: 'lines must be a whole number from 1 to 2^26.',
  invalid_bbox: 'bbox must be {x, y, z}: whole micrometres from 0 to 2000000 each.',
  invalid_design_price:
    'price must be {asset: an asset symbol, amount: positive minor units as a decimal string}.',
  invalid_prints_max: 'printsMax must be a whole number from 1 to 1000000.',
  invalid_platform_share: 'platformShareBp must be a whole number of basis points from 0 to 5000.',
  invalid_licence: 'licence must be {commercial: boolean, remix: boolean}.',
  invalid_design_status: "status must be 'listed' or 'unlisted'.",
  invalid_design_update: 'A design.update must change the price or the status (or both).',
  invalid_token_id: 'A print token id is the 64 lowercase hex digits of its print.buy tx hash.',
  invalid_watermark_commitment:
    "watermarkCommitment must be 64 lowercase hex digits: the SHA-256 of the print's watermark id and a salt.",
  invalid_percent: 'percent must be a whole number from 0 to 100.',
  invalid_fail_reason:
    'reason must be 1 to 200 characters without control characters or bidirectional overrides.',
  hwid_mismatch:
    'hardwareId is not hardwareIdOf(sender, deviceKeyHash): an authority records only the ids it derives from a device key.',
  hwid_exists: 'This hardware id is recorded already (an id is issued once).',
  hwid_not_found: 'No hardware id like this is recorded on chain.',
  hwid_registered: 'This hardware id is an active printer already: revoke that printer first.',
  printer_exists: 'A printer with this id is registered already (printer ids are never reused).',
  device_key_mismatch:
    "deviceKey's SHA-256 is not the hardware id's recorded deviceKeyHash: only the SBC holding that key may be registered.",
  device_proof_invalid:
    "deviceProof is not the device key's signature of printerDeviceMessage(chainId, hardwareId, server, owner, profileHash): the SBC must consent to its registration.",
  owner_proof_invalid:
    "ownerProof is not the owner's signature of printerRegistrationMessage(chainId, hardwareId, server, profileHash): only the owner may have a printer registered to its account.",
  owner_printers_full: 'The owner has 16 active printers already: revoke one first.',
  printer_not_found: 'No printer is registered with this id.',
  not_printer_server_or_owner: "Only the printer's server or its owner may revoke it.",
  printer_revoked: 'The printer is revoked.',
  design_id_mismatch:
    'designId is not designIdOf(server, sender, contentHash): a design is named by its server, its designer and its G-code.',
  design_exists: 'This design is listed already (a design lists once; update it instead).',
  server_proof_invalid:
    "serverProof is not the server's signature of designUploadMessage(chainId, designId, designer, contentHash, lines, sizeBytes, bbox, platformShareBp): the server must hold the G-code and agree the platform's share.",
  design_not_found: 'No design is listed with this id.',
  not_designer: "Only the design's designer may do this.",
  not_printer_owner: "Only the printer's owner may buy prints for it.",
  printer_other_server: "The printer is registered with another server than the design's.",
  design_unlisted: 'The design is not listed for sale.',
  price_changed:
    "price is not the design's current price: it changed since it was read; buy again at the new price.",
  sold_out: 'The design has sold its printsMax prints.',
  design_does_not_fit: "The design's extent (bbox) does not fit the printer's bed.",
  tokens_full: 'The buyer has 64 outstanding print tokens already: print or cancel one first.',
  print_token_not_found: 'No print token has this id.',
  not_token_server: "Only the token's print server may report on its print.",
  not_buyer: "Only the token's buyer may cancel it.",
  token_redeemed: 'The token was redeemed already: a token starts one print at a time.',
  token_closed: 'The token is finished or refunded.',
  token_expired: 'The token has expired: its buyer may cancel it for a refund.',
  token_not_printing: 'The token is not printing: no print was started with it.',
  progress_backwards: "percent is below the print's last reported percent.",
  delivered_backwards:
    "delivered is below the share this print's server reported delivered already.",
  token_not_cancellable:
    'The token cannot be cancelled yet: an issued token after its expiry (or its printer revoked), a printing one after 24 h without progress or 7 days after its start.',
} as const;

export type PrintingRejection =
  keyof typeof printingRejections | 'asset_not_found' | 'invalid_address' | 'insufficient_funds';
