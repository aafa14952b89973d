import type { ChainModule } from '../../chain/index.js';
import type { CofferModule } from '../manifest.js';
import { iotCommands } from './cli.js';
import { iotServiceCommands } from './cli-service.js';
import { iotRoutes } from './routes.js';
import { iotModuleName } from './state.js';
import { iotRejections, iotTxs } from './txs.js';

export * from './schema.js';
export * from './state.js';
export * from './queries.js';
export { iotRejections, type IotRejection } from './txs.js';
export { deviceRefusal, iotArbiter, sessionStatusAt } from './txs.js';
export { iotCommands } from './cli.js';
export {
  iotRequestHash,
  signIotRequest,
  verifyIotRequest,
  type IotFields,
  type IotRequestKind,
} from './crypto.js';
export {
  fingerprintOf,
  isPartyCertificate,
  isSelfSignedCa,
  issuedBy,
  parseCertificate,
  partyIdentity,
  type ParsedCertificate,
} from './x509.js';

/**
 * IoT payments (issue 20): anyone registers a CA; devices and wallets enrol the X.509
 * certificates a registered CA issued them (deviceIds first-come); a wallet's owner links an iot
 * device to its account under a mandate (per session, per day, the merchants it trusts); a
 * service device's owner sets its tariff; a session holds the mandate's cap from the payer for the
 * provider at its start, each signed bill captures its price from the hold (the bill tx is the
 * payment and registers its result), and the end returns the rest.
 */
export const iotModule: ChainModule = {
  name: iotModuleName,
  txs: iotTxs,
  rejections: iotRejections,
};

/** HTTP statuses of the module's codes (not listed: 400). */
export const iotHttpStatuses: Readonly<Record<string, number>> = {
  not_ca_operator: 403,
  not_device_owner: 403,
  not_device_owner_or_ca_operator: 403,
  certificate_not_issued: 403,
  merchant_not_allowed: 403,
  signature_invalid: 403,
  proof_invalid: 403,
  authorisation_invalid: 403,
  ca_not_found: 404,
  iot_device_not_found: 404,
  link_not_found: 404,
  tariff_not_found: 404,
  session_not_found: 404,
  bill_not_found: 404,
  ca_exists: 409,
  ca_subject_taken: 409,
  certificate_exists: 409,
  device_id_taken: 409,
  session_exists: 409,
  bill_duplicate: 409,
  bill_out_of_order: 409,
  unsupported_key_type: 422,
  certificate_not_ca: 422,
  certificate_not_party: 422,
  invalid_certificate_subject: 422,
  ca_limit_reached: 422,
  ca_revoked: 422,
  ca_expired: 422,
  certificate_expired: 422,
  certificate_not_yet_valid: 422,
  device_role_mismatch: 422,
  device_revoked: 422,
  tariff_asset_mismatch: 422,
  time_in_future: 422,
  time_in_past: 422,
  day_cap_reached: 422,
  session_device_mismatch: 422,
  session_closed: 422,
  session_expired: 422,
  tariff_mismatch: 422,
  meter_negative: 422,
  usage_mismatch: 422,
  meter_reset: 422,
  meter_gap: 422,
  period_overlap: 422,
  period_invalid: 422,
  meter_rate_impossible: 422,
  amount_mismatch: 422,
};

/** The iot module: chain, routes, codes and commands (src/modules/manifest.ts). */
export const iot: CofferModule = {
  chain: iotModule,
  routes: iotRoutes,
  tag: {
    name: 'iot',
    description:
      'IoT payments: registered CAs, device certificates, links with mandates, tariffs, sessions and bill results.',
  },
  httpStatuses: iotHttpStatuses,
  commands: [...iotCommands, ...iotServiceCommands],
  cliNotes:
    'iot ca-register and enrol take a PEM file and its key (--key, PKCS#8: it signs the proof of\n' +
    'possession); the --from account becomes the CA operator or the device owner.\n' +
    "Sessions start, bill and end by the devices' signed messages (the payment service).",
};
