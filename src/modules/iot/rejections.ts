/**
 * Rejections of the iot module's txs, with the sentence a person reads. Codes shared with the
 * ledger (`invalid_address`, `invalid_symbol`, `invalid_amount`, `asset_not_found`,
 * `insufficient_funds`, ...) keep the ledger's messages; `amount_mismatch` is shared with the
 * cards module (one message for both).
 */
export const iotRejections = {
  invalid_ca_name: "A CA's name is 1 to 64 characters without control characters.",
  invalid_certificate:
    'certificate must be one X.509 certificate in PEM (at most 4096 bytes) that parses.',
  invalid_ca: "A CA id is the 64 lowercase hex digits of the SHA-256 of its certificate's DER.",
  invalid_device_id:
    'A deviceId is 1 to 63 characters: a-z, 0-9 and "-", starting with a letter or digit.',
  invalid_revoke_reason: 'reason must be 1 to 128 characters without control characters.',
  invalid_session_blocks: 'sessionBlocks must be a whole number from 1 to 10,000,000.',
  invalid_unit: 'unit must be 1 to 16 of A-Z, a-z, 0-9 and "/".',
  invalid_price: 'unitPrice must be a whole number of minor units as a decimal string.',
  invalid_units_per: 'unitsPer must be a whole number from 1.',
  invalid_max_rate: 'maxRatePerHour must be a whole number of units from 1.',
  invalid_session_id: 'A sessionId is 1 to 64 of A-Z, a-z, 0-9, ".", "_" and "-", not "." or "..".',
  invalid_seq: 'seq must be a whole number from 1 to 100,000.',
  invalid_meter: 'A meter reading is a whole number from 0 to 2^53 - 1.',
  invalid_time: 'A time is a whole number of Unix milliseconds from 0.',
  invalid_device_signature:
    'A device signature is 86 characters of base64url (64 bytes: ed25519, or P-256 as r || s).',
  invalid_bill_amount: 'amount must be a whole number of minor units as a decimal string.',
  invalid_mandate:
    'mandate must be {sessionMax, dayMax: positive amounts, sessionMax <= dayMax; sessionBlocks; merchants: 1 to 32 distinct deviceIds}.',
  invalid_bill_period: 'period must be {from, to} in Unix milliseconds.',
  invalid_detail: 'detail must be {usage, unit, unitPrice, meterStart, meterEnd, period}.',
  invalid_start:
    'start must be {serviceDevice, iotDevice, sessionId, meterStart, startedAt, authorisation}.',
  invalid_bill: 'bill must be {serviceDevice, iotDevice, sessionId, seq, detail, amount}.',
  invalid_end: 'end must be {serviceDevice, sessionId, meterEnd, endedAt}.',
  unsupported_key_type: 'The certificate key must be ed25519 or ECDSA P-256.',
  certificate_not_ca:
    'A CA certificate must be self-signed with basicConstraints cA=true (its own key signs it).',
  certificate_not_party:
    'A device certificate is an end-entity certificate (cA=false) for TLS clients (clientAuth).',
  invalid_certificate_subject:
    'A device certificate subject is O=Coffer IoT, OU=iot-device|service-device|wallet, CN=<deviceId>.',
  ca_exists: 'This CA certificate is registered already.',
  ca_subject_taken: 'An active CA with this subject is registered already: name yours otherwise.',
  ca_limit_reached: 'The sender operates 4 active CAs already: revoke one first.',
  ca_not_found: 'No registered CA has this id (or issued this certificate).',
  not_ca_operator: "Only the CA's operator (the account that registered it) may do this.",
  ca_revoked: 'The CA is revoked: its certificates are no longer trusted.',
  ca_expired: "The CA's certificate is not valid at the block time.",
  certificate_expired: 'The certificate expired before the block time.',
  certificate_not_yet_valid: 'The certificate is not valid yet at the block time.',
  certificate_not_issued: "The certificate does not chain to the CA: the CA's key did not sign it.",
  certificate_exists: 'This certificate has been enrolled already (a certificate enrols once).',
  device_id_taken: 'Another account owns this deviceId (deviceIds are first-come).',
  device_role_mismatch:
    'The device has another role than this needs (iot-device, service-device or wallet).',
  iot_device_not_found: 'No device is enrolled with this deviceId.',
  not_device_owner: "Only the device's owner (the account that enrolled it) may do this.",
  not_device_owner_or_ca_operator:
    "Only the device's owner or its CA's operator may revoke its certificate.",
  device_revoked: "The device's certificate is revoked.",
  link_not_found: 'The iot device is not linked to a wallet.',
  tariff_not_found: 'The service device has no tariff.',
  tariff_asset_mismatch: "The service device's tariff is in another asset than the link pays in.",
  merchant_not_allowed:
    "The service device is not among the merchants of the iot device's mandate.",
  session_exists: 'The service device has a session with this id already.',
  session_not_found: 'The service device has no session with this id.',
  proof_invalid:
    "proof is not the certificate key's signature over {certificate: its fingerprint, account: the sender}.",
  signature_invalid: "signature is not the service device's over the message (by its certificate).",
  authorisation_invalid:
    "authorisation is not the iot device's signature over {serviceDevice, iotDevice, sessionId}.",
  time_in_future: "A device's time is more than 60 seconds after the block time.",
  time_in_past: "A session's startedAt is more than an hour before the block time.",
  day_cap_reached: "The iot device's sessions hold its mandate's dayMax today already.",
  session_device_mismatch: 'The bill names another iot device than its session.',
  bill_duplicate: 'This bill (seq) has been registered already: it is not paid twice.',
  bill_out_of_order: "seq must be one more than the session's last bill.",
  session_closed: 'The session is ended or capped: it takes no more bills.',
  session_expired: "The session's hold has expired: it takes no more bills.",
  tariff_mismatch: "The bill's unit or unitPrice is not the session's tariff.",
  meter_negative: 'meterEnd is below meterStart: usage cannot be negative.',
  usage_mismatch: 'usage must be meterEnd - meterStart, more than 0.',
  meter_reset: "meterStart is below the session's meter: a reset meter is not billed again.",
  meter_gap: "meterStart is above the session's meter: usage between bills would go unbilled.",
  period_overlap: 'The period starts before the end of the previous bill (or the start).',
  period_invalid: 'A period must have from < to.',
  meter_rate_impossible:
    "The usage is more than the tariff's maxRatePerHour can deliver in the period.",
  amount_mismatch:
    "The amount is not what it must be: a card device's answer for another amount than the terminal's request, or an IoT bill's amount other than price(usage after) - price(usage before).",
  bill_not_found: 'The session has no bill with this seq.',
} as const;

export type IotRejection =
  | keyof typeof iotRejections
  | 'asset_not_found'
  | 'invalid_address'
  | 'invalid_symbol'
  | 'invalid_amount';
