import { z } from 'zod';
import { assetSymbolPattern, holdDurationBlocksMax } from '../../protocol/ledger.js';
import { coded, hexOf, wire } from '../../protocol/schema.js';

/*
 * The iot module's wire contract (issue 20; /work/iot-spec.md is the contract with the MQTT
 * transport): tx payloads as zod schemas whose fields carry their rejection codes, and the
 * records the routes answer. Pure (zod, src/protocol): the SDK loads it in browsers, so the
 * X.509 and signature checks, which need node:crypto, live in x509.ts and crypto.ts.
 *
 * Words: a *CA* is a registered certificate authority (its id is its certificate's fingerprint,
 * the account that registered it its *operator*); a *device* is a party holding a certificate a
 * registered CA issued, named by its *deviceId* (the certificate's CN) in one of three roles:
 * an *iot device* (a car, a scooter: it consumes), a *service device* (a charger, a parking
 * meter: it measures and bills) or a *wallet*; a *link* ties an iot device to the account paying
 * for it under a *mandate*; a *tariff* prices a service device's unit; a *session* is one service
 * with its hold, paid bill by bill.
 */

// ---- limits --------------------------------------------------------------------------------------

/** A CA's or a reason's text: short, for lists and logs. */
export const iotNameLengthMax = 64;
export const iotReasonLengthMax = 128;
/** A certificate in PEM: a device certificate with an ed25519 or P-256 key is under 1 KiB. */
export const certificatePemBytesMax = 4096;
/** Active CAs one operator may run at a time: enough to roll a CA over, few enough to list. */
export const casPerOperatorMax = 4;
/** Service devices one mandate trusts. */
export const merchantsMax = 32;
/** A session's bills: `seq` runs 1..this. */
export const billSeqMax = 100_000;
/** How far ahead of the block time a device's clock may be (a bill's period end, a start). */
export const deviceClockSkewMs = 60_000;
/**
 * How far before the block time a session's `startedAt` may be (the relay's delay, or a charger
 * that was offline: OCPP chargers queue their transaction events): the first bill's period starts
 * there, so an older start would let the meter rate check allow usage for time the session never
 * ran. What a late start can bill stays bounded by the session cap's hold.
 */
export const sessionStartLagMaxMs = 60 * 60_000;
/** An hour in ms: `maxRatePerHour` is units per hour. */
export const hourMs = 3_600_000;

export const iotRoles = ['iot-device', 'service-device', 'wallet'] as const;
export type IotRole = (typeof iotRoles)[number];

/** The subject's O of every party certificate. */
export const iotOrganisation = 'Coffer IoT';

export const deviceIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Not "." or "..": a URL path drops those segments, so such a session could not be read. */
export const sessionIdPattern = /^(?!\.\.?$)[A-Za-z0-9._-]{1,64}$/;
export const unitPattern = /^[A-Za-z0-9/]{1,16}$/;
const fingerprintPattern = /^[0-9a-f]{64}$/;
/** A text a person reads: no control characters. */
const textPattern = /^[^\p{Cc}]+$/u;
const pemPattern =
  /^-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=]{1,76}\r?\n)+-----END CERTIFICATE-----\r?\n?$/;

export function isDeviceId(value: unknown): value is string {
  return typeof value === 'string' && deviceIdPattern.test(value);
}

export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && sessionIdPattern.test(value);
}

export function isFingerprint(value: unknown): value is string {
  return typeof value === 'string' && fingerprintPattern.test(value);
}

// ---- field schemas -------------------------------------------------------------------------------

const safeCount = (min: number) => z.number().int().min(min).max(Number.MAX_SAFE_INTEGER);

export const iotFields = {
  name: coded(
    z.string().min(1).max(iotNameLengthMax).regex(textPattern).meta({
      description: "A CA's name: 1 to 64 characters, no control characters",
    }),
    'invalid_ca_name',
  ),
  certificate: coded(
    // ASCII only (the pattern), so its length is its size in bytes.
    z
      .string()
      .max(certificatePemBytesMax)
      .regex(pemPattern)
      .meta({ description: 'One X.509 certificate in PEM, at most 4096 bytes' }),
    'invalid_certificate',
  ),
  ca: coded(
    hexOf(32).meta({
      description: "A CA's id: the lowercase hex SHA-256 of its certificate's DER",
    }),
    'invalid_ca',
  ),
  deviceId: coded(
    z.string().regex(deviceIdPattern).meta({
      description: "A deviceId (the certificate's CN): 1 to 63 of a-z, 0-9 and '-', not first",
    }),
    'invalid_device_id',
  ),
  reason: coded(
    z
      .string()
      .min(1)
      .max(iotReasonLengthMax)
      .regex(textPattern)
      .meta({ description: 'Why: 1 to 128 characters, no control characters' }),
    'invalid_revoke_reason',
  ),
  asset: coded(z.string().regex(assetSymbolPattern), 'invalid_symbol'),
  address: coded(wire.address, 'invalid_address'),
  /** A positive amount of minor units as a decimal string (a cap). */
  cap: coded(
    wire.minorUnitsText.refine((text) => text !== '0'),
    'invalid_amount',
  ),
  /** An amount of minor units as a decimal string, 0 allowed (a bill's). */
  amount: coded(wire.minorUnitsText, 'invalid_bill_amount'),
  unitPrice: coded(wire.minorUnitsText, 'invalid_price'),
  sessionBlocks: coded(
    z
      .number()
      .int()
      .min(1)
      .max(holdDurationBlocksMax)
      .meta({ description: 'Blocks a session hold lives: 1 to 10,000,000' }),
    'invalid_session_blocks',
  ),
  unit: coded(
    z.string().regex(unitPattern).meta({
      description: 'The unit a meter counts (kWh, min, Wh/10): 1 to 16 of A-Z, a-z, 0-9 and /',
    }),
    'invalid_unit',
  ),
  unitsPer: coded(
    safeCount(1).meta({
      description: 'How many units unitPrice buys (price = floor(usage * unitPrice / unitsPer))',
    }),
    'invalid_units_per',
  ),
  maxRatePerHour: coded(
    safeCount(1).meta({
      description: 'The most units the service can deliver in an hour (meter sanity)',
    }),
    'invalid_max_rate',
  ),
  sessionId: coded(
    z.string().regex(sessionIdPattern).meta({
      description: 'A session id: 1 to 64 of A-Z, a-z, 0-9, ".", "_" and "-", not "." or ".."',
    }),
    'invalid_session_id',
  ),
  seq: coded(z.number().int().min(1).max(billSeqMax), 'invalid_seq'),
  meter: coded(
    safeCount(0).meta({
      description: 'A meter reading: a whole number from 0 to 2^53 - 1',
    }),
    'invalid_meter',
  ),
  time: coded(safeCount(0).meta({ description: 'Unix milliseconds' }), 'invalid_time'),
  signature: coded(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{86}$/)
      .meta({
        description: 'A device signature: 64 bytes in base64url (ed25519, or P-256 as r || s)',
      }),
    'invalid_device_signature',
  ),
};

/** What an iot device's wallet owner allows its device to spend (the link's limits). */
export const mandateSchema = coded(
  z
    .strictObject({
      /** The most one session may take: the hold placed at its start. */
      sessionMax: iotFields.cap,
      /** The most the iot device's sessions may hold in one UTC day. */
      dayMax: iotFields.cap,
      /** Blocks a session's hold lives before what is left returns to the payer. */
      sessionBlocks: iotFields.sessionBlocks,
      /** The service devices this iot device may use (deviceIds): no other may start a session. */
      merchants: z.array(iotFields.deviceId).min(1).max(merchantsMax),
    })
    .refine((m) => BigInt(m.sessionMax) <= BigInt(m.dayMax))
    .refine((m) => new Set(m.merchants).size === m.merchants.length),
  'invalid_mandate',
);
export type Mandate = z.infer<typeof mandateSchema>;

export const periodSchema = coded(
  z.strictObject({ from: iotFields.time, to: iotFields.time }),
  'invalid_bill_period',
);

/** A bill's detail, as the service device measured it. */
export const billDetailSchema = coded(
  z.strictObject({
    usage: iotFields.meter,
    unit: iotFields.unit,
    unitPrice: iotFields.unitPrice,
    meterStart: iotFields.meter,
    meterEnd: iotFields.meter,
    period: periodSchema,
  }),
  'invalid_detail',
);
export type BillDetail = z.infer<typeof billDetailSchema>;

/** What the service device signs to start a session (`signIotRequest('start', ...)`). */
export const startRequestSchema = coded(
  z.strictObject({
    serviceDevice: iotFields.deviceId,
    iotDevice: iotFields.deviceId,
    sessionId: iotFields.sessionId,
    meterStart: iotFields.meter,
    startedAt: iotFields.time,
    /** The iot device's signature over `{serviceDevice, iotDevice, sessionId}` ('authorise'). */
    authorisation: iotFields.signature,
  }),
  'invalid_start',
);
export type StartRequest = z.infer<typeof startRequestSchema>;

/** What the service device signs to bill (`signIotRequest('bill', ...)`). */
export const billRequestSchema = coded(
  z.strictObject({
    serviceDevice: iotFields.deviceId,
    iotDevice: iotFields.deviceId,
    sessionId: iotFields.sessionId,
    seq: iotFields.seq,
    detail: billDetailSchema,
    amount: iotFields.amount,
  }),
  'invalid_bill',
);
export type BillRequest = z.infer<typeof billRequestSchema>;

/** What the service device signs to end a session (`signIotRequest('end', ...)`). */
export const endRequestSchema = coded(
  z.strictObject({
    serviceDevice: iotFields.deviceId,
    sessionId: iotFields.sessionId,
    meterEnd: iotFields.meter,
    endedAt: iotFields.time,
  }),
  'invalid_end',
);
export type EndRequest = z.infer<typeof endRequestSchema>;

/** The fields an iot device signs to authorise a session (`signIotRequest('authorise', ...)`). */
export function authoriseFields(p: {
  serviceDevice: string;
  iotDevice: string;
  sessionId: string;
}) {
  return { serviceDevice: p.serviceDevice, iotDevice: p.iotDevice, sessionId: p.sessionId };
}

/**
 * What a certificate's key signs to enrol it (`'enrol'`) or register it as a CA (`'registerCa'`):
 * its fingerprint and the account sending the tx. Without it, anyone who saw a certificate (in a
 * pool, in a TLS handshake) could enrol it first and own its deviceId, or operate its CA.
 */
export function possessionFields(fingerprint: string, account: string) {
  return { certificate: fingerprint, account };
}

// ---- tx payloads ---------------------------------------------------------------------------------

export const iotPayloads = {
  /** Anyone registers a self-signed CA certificate and becomes its operator. */
  'iot.registerCa': z.strictObject({
    name: iotFields.name,
    certificate: iotFields.certificate,
    /** The CA key's signature over `possessionFields` ('registerCa'): the sender holds the key. */
    proof: iotFields.signature,
  }),
  /** The CA's operator revokes it: no device of it starts, bills or enrols again. */
  'iot.revokeCa': z.strictObject({ ca: iotFields.ca }),
  /** The sender enrols (or renews) a device certificate a registered CA issued; it owns it. */
  'iot.enrol': z.strictObject({
    certificate: iotFields.certificate,
    /** The certificate key's signature over `possessionFields` ('enrol'): the sender holds it. */
    proof: iotFields.signature,
  }),
  /** The device's owner or its CA's operator revokes a device certificate. */
  'iot.revoke': z.strictObject({ deviceId: iotFields.deviceId, reason: iotFields.reason }),
  /** The owner of an iot device and a wallet links them: the sender pays under the mandate. */
  'iot.link': z.strictObject({
    iotDevice: iotFields.deviceId,
    wallet: iotFields.deviceId,
    asset: iotFields.asset,
    mandate: mandateSchema,
  }),
  'iot.unlink': z.strictObject({ iotDevice: iotFields.deviceId }),
  /** The service device's owner prices its unit; the provider (default: the sender) is paid. */
  'iot.setTariff': z.strictObject({
    serviceDevice: iotFields.deviceId,
    asset: iotFields.asset,
    unit: iotFields.unit,
    unitPrice: iotFields.unitPrice,
    unitsPer: iotFields.unitsPer,
    maxRatePerHour: iotFields.maxRatePerHour,
    provider: iotFields.address.optional(),
  }),
  /** Relayed by anyone: the service device's signed start with the iot device's authorisation. */
  'iot.startSession': z.strictObject({ start: startRequestSchema, signature: iotFields.signature }),
  /** Relayed by anyone: the service device's signed bill; it pays from the session's hold. */
  'iot.bill': z.strictObject({ bill: billRequestSchema, signature: iotFields.signature }),
  /** Relayed by anyone: the service device's signed end; what is left of the hold returns. */
  'iot.endSession': z.strictObject({ end: endRequestSchema, signature: iotFields.signature }),
};

export type IotPayload<T extends keyof typeof iotPayloads> = z.infer<(typeof iotPayloads)[T]>;

// ---- pricing -------------------------------------------------------------------------------------

/** price(u) = floor(u * unitPrice / unitsPer), in minor units. */
export function priceOf(usage: bigint, unitPrice: bigint, unitsPer: bigint): bigint {
  return (usage * unitPrice) / unitsPer;
}

/**
 * A bill's amount: the price of the session's usage after it less the price before, so the
 * session's bills add up to exactly price(total usage) whatever the rounding.
 */
export function billAmount(
  usageBefore: bigint,
  usage: bigint,
  unitPrice: bigint,
  unitsPer: bigint,
): bigint {
  return (
    priceOf(usageBefore + usage, unitPrice, unitsPer) - priceOf(usageBefore, unitPrice, unitsPer)
  );
}

/** The UTC day of a block time, `YYYY-MM-DD` (a day's reservations key on it). */
export function utcDay(time: number): string {
  const days = Math.floor(time / 86_400_000);
  // Civil from days (H. Hinnant): no Date in handlers.
  const z0 = days + 719_468;
  const era = Math.floor(z0 / 146_097);
  const doe = z0 - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

// ---- records -------------------------------------------------------------------------------------

export const caStatuses = ['active', 'revoked'] as const;
export const deviceStatuses = ['active', 'revoked'] as const;
export const sessionStatuses = ['open', 'capped', 'ended', 'expired'] as const;
export type SessionStatus = (typeof sessionStatuses)[number];
export const billStatuses = ['paid', 'capped'] as const;

/** A registered CA. */
export const caSchema = z.object({
  ca: z.string(),
  name: z.string(),
  operator: z.string(),
  subject: z.string(),
  certificate: z.string(),
  keyType: z.string(),
  validFrom: z.number().int(),
  validTo: z.number().int(),
  status: z.enum(caStatuses),
  registeredAtHeight: z.number().int(),
  registerTx: z.string(),
  revokedAtHeight: z.number().int().optional(),
});
export type CaRecord = z.infer<typeof caSchema>;

/** A device's active (or revoked) certificate, by deviceId. */
export const deviceSchema = z.object({
  deviceId: z.string(),
  role: z.enum(iotRoles),
  owner: z.string(),
  ca: z.string(),
  fingerprint: z.string(),
  subject: z.string(),
  certificate: z.string(),
  keyType: z.string(),
  validFrom: z.number().int(),
  validTo: z.number().int(),
  status: z.enum(deviceStatuses),
  enrolTx: z.string(),
  enrolledAtHeight: z.number().int(),
  /** How many times the owner replaced the certificate. */
  renewals: z.number().int(),
  revoked: z
    .object({ by: z.string(), reason: z.string(), height: z.number().int(), tx: z.string() })
    .optional(),
});
export type DeviceRecord = z.infer<typeof deviceSchema>;

/** An iot device's link to the wallet and the account paying for it. */
export const linkSchema = z.object({
  iotDevice: z.string(),
  wallet: z.string(),
  payer: z.string(),
  asset: z.string(),
  mandate: z.object({
    sessionMax: z.string(),
    dayMax: z.string(),
    sessionBlocks: z.number().int(),
    merchants: z.array(z.string()),
  }),
  linkedAtHeight: z.number().int(),
  linkTx: z.string(),
});
export type LinkRecord = z.infer<typeof linkSchema>;

/** A service device's price and the account it pays. */
export const tariffSchema = z.object({
  serviceDevice: z.string(),
  provider: z.string(),
  asset: z.string(),
  unit: z.string(),
  unitPrice: z.string(),
  unitsPer: z.number().int(),
  maxRatePerHour: z.number().int(),
  setAtHeight: z.number().int(),
});
export type TariffRecord = z.infer<typeof tariffSchema>;

/**
 * A session as stored: the tariff it started under (a tariff set later does not change it), its
 * hold and where its meter and period are. `status` is never stored as `expired`: a reader shows
 * an `open` session past its hold's expiry as `expired` (`sessionView`).
 */
export const sessionSchema = z.object({
  serviceDevice: z.string(),
  iotDevice: z.string(),
  sessionId: z.string(),
  wallet: z.string(),
  payer: z.string(),
  provider: z.string(),
  asset: z.string(),
  tariff: z.object({
    unit: z.string(),
    unitPrice: z.string(),
    unitsPer: z.number().int(),
    maxRatePerHour: z.number().int(),
  }),
  holdId: z.string(),
  /** What the hold took at the start. */
  held: z.string(),
  expiresAtHeight: z.number().int(),
  /** The UTC day whose reservation the hold counts in. */
  day: z.string(),
  meterStart: z.number().int(),
  startedAt: z.number().int(),
  /** The last bill's seq (0: none yet), meter end and period end (the start's before a bill). */
  lastSeq: z.number().int(),
  meter: z.number().int(),
  periodTo: z.number().int(),
  /** Units billed, and the sums of the bills' amounts, captures and unpaid rests. */
  usage: z.string(),
  billed: z.string(),
  captured: z.string(),
  unpaid: z.string(),
  status: z.enum(sessionStatuses),
  startTx: z.string(),
  startedAtHeight: z.number().int(),
  end: z
    .object({
      meterEnd: z.number().int(),
      endedAt: z.number().int(),
      returned: z.string(),
      tx: z.string(),
      height: z.number().int(),
    })
    .optional(),
});
export type SessionRecord = z.infer<typeof sessionSchema>;

/** A bill's result, registered by the bill tx itself (it is both the billing and the payment). */
export const billResultSchema = z.object({
  serviceDevice: z.string(),
  iotDevice: z.string(),
  sessionId: z.string(),
  seq: z.number().int(),
  billTx: z.string(),
  detail: z.object({
    usage: z.number().int(),
    unit: z.string(),
    unitPrice: z.string(),
    meterStart: z.number().int(),
    meterEnd: z.number().int(),
    period: z.object({ from: z.number().int(), to: z.number().int() }),
  }),
  amount: z.string(),
  captured: z.string(),
  unpaid: z.string(),
  status: z.enum(billStatuses),
  /** What is left of the session's hold after this bill. */
  remaining: z.string(),
  payer: z.string(),
  provider: z.string(),
  asset: z.string(),
  height: z.number().int(),
});
export type BillResult = z.infer<typeof billResultSchema>;

// ---- route answers -------------------------------------------------------------------------------

export const caPageSchema = z.object({ cas: z.array(caSchema), next: z.string().nullable() });
export type CaPage = z.infer<typeof caPageSchema>;

export const deviceViewSchema = z.object({
  device: deviceSchema,
  /** Its CA's status (a device of a revoked CA is refused as if revoked). */
  caStatus: z.enum(caStatuses),
  link: linkSchema.optional(),
  tariff: tariffSchema.optional(),
});
export type DeviceView = z.infer<typeof deviceViewSchema>;

export const devicePageSchema = z.object({
  devices: z.array(deviceSchema),
  next: z.string().nullable(),
});
export type DevicePage = z.infer<typeof devicePageSchema>;

/** A session with what is left of its hold (`remaining`, 0 once closed or expired). */
export const sessionViewSchema = sessionSchema.extend({ remaining: z.string() });
export type SessionView = z.infer<typeof sessionViewSchema>;

export const sessionPageSchema = z.object({
  sessions: z.array(sessionViewSchema),
  next: z.string().nullable(),
});
export type SessionPage = z.infer<typeof sessionPageSchema>;

export const sessionDetailSchema = z.object({
  session: sessionViewSchema,
  bills: z.array(billResultSchema),
  /** More bills follow: read them one by one, from `bills/{seq}`. */
  billsNext: z.number().int().nullable(),
});
export type SessionDetail = z.infer<typeof sessionDetailSchema>;

export { fingerprintPattern };
