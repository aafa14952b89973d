import { z } from 'zod';
import {
  canonicalBytes,
  concatBytes,
  fromHex,
  sha256,
  sha256Hex,
  utf8,
} from '../../crypto/index.js';
import { assetSymbolPattern } from '../../protocol/ledger.js';
import { coded, hexOf, wire } from '../../protocol/schema.js';

/*
 * The printing module's wire contract (issue 23; /work/print-spec.md): tx payloads whose fields
 * carry their rejection codes, the records the routes answer, and the pure helpers a client, the
 * hardware-id authority, the print server and the SBC agent need (ids, the signed messages, the
 * printer profile). Pure (zod, src/crypto, src/protocol), so the SDK and the console load it.
 *
 * Words: a *hardware id* names one single-board computer (SBC) at a printer, issued by a
 * hardware-id *authority* (any account) from the SBC's device key; a *print server* registers a
 * *printer* (the SBC with its printer *profile*) for its *owner*, and holds designers' G-code; a
 * *design* is G-code a *designer* listed through one server; a *print token* is one bought print
 * of a design on one printer, named by its `print.buy` tx hash, its price held in escrow until
 * the print finishes (paid out) or is refunded.
 *
 * Units: lengths in integer micrometres (µm), temperatures in whole °C, percents and basis points
 * as integers; money as decimal strings of minor units. No floats anywhere.
 */

// ---- limits --------------------------------------------------------------------------------------

/** Active printers one owner has at most (the owner's printers page lists all of them). */
export const printersPerOwnerMax = 16;
/** Outstanding ('issued' or 'printing') tokens one buyer holds at most. */
export const tokensPerBuyerMax = 64;
/** How long a token is redeemable after its purchase (and after a re-issue): 7 days. */
export const tokenLifetimeMs = 7 * 24 * 60 * 60 * 1000;
/** A 'printing' token with no progress for this long may be cancelled by its buyer: 24 h. */
export const progressStaleMs = 24 * 60 * 60 * 1000;
/**
 * A 'printing' token started this long ago may be cancelled by its buyer whatever its progress
 * reports say (heartbeats cannot hold the escrow forever): 7 days.
 */
export const printMaxMs = 7 * 24 * 60 * 60 * 1000;
/** Failures after which a token is refunded rather than re-issued (the refund rule). */
export const failuresBeforeRefund = 2;
export const designTitleLengthMax = 120;
export const failReasonLengthMax = 200;
/** A profile's start or end G-code: at most 2048 characters each. */
export const profileGcodeLengthMax = 2048;
/** A design's G-code: at most 64 MiB (the print server's upload limit). */
export const designSizeBytesMax = 64 * 1024 * 1024;
export const printsMaxLimit = 1_000_000;
/** The whole, in basis points. */
export const platformShareWhole = 10_000;
/** The platform's (the print server's) share of a print's price: at most half. */
export const platformShareBpMax = 5000;
/** A bed axis, µm: 10 mm to 2 m. */
export const bedAxisUmMin = 10_000;
export const bedAxisUmMax = 2_000_000;
export const clientIdPattern = /^[a-z0-9-]{1,64}$/;
export const hardwareIdPattern = /^hw_[0-9a-f]{32}$/;
export const printerIdPattern = /^pr_[0-9a-f]{32}$/;
export const designIdPattern = /^[0-9a-f]{32}$/;
export const tokenIdPattern = /^[0-9a-f]{64}$/;
/** 64 lowercase hex: a SHA-256. */
export const sha256HexPattern = /^[0-9a-f]{64}$/;

/**
 * A text a person reads: no control characters, and no bidirectional overrides or isolates (with
 * which a store title could show another title's text reversed).
 */
const textPattern = /^[^\p{Cc}\u200E\u200F\u202A-\u202E\u2066-\u2069]+$/u;
/**
 * A profile's start or end G-code: printable ASCII and newlines, no `*` (the Marlin host protocol
 * puts the checksum after a `*`, so a line holding one could not be framed).
 */
const profileGcodePattern = /^[\n\x20-\x29\x2b-\x7e]*$/;

export const isHardwareId = (value: unknown): value is string =>
  typeof value === 'string' && hardwareIdPattern.test(value);
export const isPrinterId = (value: unknown): value is string =>
  typeof value === 'string' && printerIdPattern.test(value);
export const isDesignId = (value: unknown): value is string =>
  typeof value === 'string' && designIdPattern.test(value);
export const isTokenId = (value: unknown): value is string =>
  typeof value === 'string' && tokenIdPattern.test(value);

// ---- ids -----------------------------------------------------------------------------------------

/**
 * The hardware id an authority issues for a device key: `hw_` + the first 32 hex of
 * SHA-256(utf8(authority address) ‖ the 32 bytes of the key's hash, `deviceKeyHashOf`). One
 * device key has one id per authority. The chain records only the key's hash, and recomputes the
 * id from the sender and that hash (`hwid_mismatch`), so nobody records an id under another
 * authority's name.
 */
export function hardwareIdOf(authority: string, deviceKeyHash: string): string {
  const hash = fromHex(deviceKeyHash, 'deviceKeyHash', 32);
  return `hw_${sha256Hex(concatBytes(utf8(authority), hash)).slice(0, 32)}`;
}

/** The `deviceKeyHash` of a `printing.hwid`: 64 hex, the SHA-256 of the raw public key. */
export function deviceKeyHashOf(deviceKeyHex: string): string {
  return sha256Hex(fromHex(deviceKeyHex, 'deviceKey', 32));
}

/**
 * A design's id: the first 32 hex of SHA-256(utf8(server) ‖ utf8(designer) ‖ the 32 bytes of
 * `contentHash`). One G-code listed by one designer through one server has one id.
 */
export function designIdOf(server: string, designer: string, contentHash: string): string {
  const hash = fromHex(contentHash, 'contentHash', 32);
  return sha256Hex(concatBytes(utf8(server), utf8(designer), hash)).slice(0, 32);
}

/** A client certificate's fingerprint as `printer.register` records it: SHA-256 of its DER. */
export function certificateFingerprintOf(der: Uint8Array): string {
  return sha256Hex(der);
}

// ---- the printer profile -------------------------------------------------------------------------

export const firmwares = ['marlin', 'klipper'] as const;
export const filaments = ['pla', 'petg', 'abs', 'tpu'] as const;
export type Firmware = (typeof firmwares)[number];
export type Filament = (typeof filaments)[number];

const bedAxis = z.number().int().min(bedAxisUmMin).max(bedAxisUmMax);
const profileGcode = z.string().max(profileGcodeLengthMax).regex(profileGcodePattern);

/**
 * The G and M codes a profile's start or end G-code may hold: motion (G0-G3, G10/G11 retraction),
 * dwell (G4), units and positioning modes (G20/G21, G90/G91, G92, M82/M83), homing (G28),
 * levelling (G29, M420), temperatures (M104/M109, M140/M190, M141/M191), fans (M106/M107), feed and
 * flow (M220/M221), motion limits (M201, M203-M205), waiting (M400), messages and progress (M73,
 * M117), steppers off (M18/M84). Everything else is refused, among it the SD-card and file
 * commands (M20-M39, M928), the EEPROM ones (M500-M504), firmware and reset ones (M997, M999):
 * with them a profile could write the whole print to the printer's card and print it again.
 */
export const profileGcodeCommands: ReadonlySet<string> = new Set([
  'G0', 'G1', 'G2', 'G3', 'G4', 'G10', 'G11', 'G20', 'G21', 'G28', 'G29', 'G90', 'G91', 'G92',
  'M18', 'M73', 'M82', 'M83', 'M84', 'M104', 'M106', 'M107', 'M109', 'M117', 'M140', 'M141',
  'M190', 'M191', 'M201', 'M203', 'M204', 'M205', 'M220', 'M221', 'M400', 'M420',
]); // prettier-ignore

/**
 * The Klipper macros a profile may call: start and end macros (PRINT_START, START_PRINT,
 * PRINT_END, END_PRINT and names ending _START / _END), bed-mesh calibration and gantry
 * levelling, heaters off. Not SAVE_CONFIG, RESTART, FIRMWARE_RESTART, SDCARD_* or SAVE_VARIABLE.
 */
const klipperMacroPattern =
  /^(?:PRINT_START|START_PRINT|PRINT_END|END_PRINT|[A-Z][A-Z0-9]*_(?:START|END)|BED_MESH_CALIBRATE|BED_MESH_PROFILE|QUAD_GANTRY_LEVEL|Z_TILT_ADJUST|TURN_OFF_HEATERS)$/;
const klipperMacroRefused = /^(?:SDCARD|SAVE|RESTART|FIRMWARE)/;
/** A macro's parameters: NAME=VALUE words of letters, digits, `.`, `-`, `_`. */
const klipperParameterPattern = /^[A-Z][A-Z0-9_]*=[A-Za-z0-9._-]+$/;

/**
 * Why one line of a profile's start or end G-code is refused, or undefined when it is allowed:
 * its command (the first word, after the comment is cut at `;`) must be in
 * `profileGcodeCommands`, or, for Klipper, one of the allowed macros with NAME=VALUE parameters.
 */
export function profileGcodeRefusal(line: string, firmware: Firmware): string | undefined {
  const code = line.split(';')[0]!.trim();
  if (code === '') return undefined;
  const [first, ...rest] = code.split(/\s+/);
  const command = first!.toUpperCase();
  const number = /^([GM])0*(\d+)(?:\.\d+)?$/.exec(command);
  if (number) {
    const name = `${number[1]}${number[2]}`;
    return profileGcodeCommands.has(name) ? undefined : `${name} is not allowed in a profile`;
  }
  if (
    firmware === 'klipper' &&
    first === command &&
    klipperMacroPattern.test(command) &&
    !klipperMacroRefused.test(command) &&
    rest.every((word) => klipperParameterPattern.test(word.toUpperCase()))
  ) {
    return undefined;
  }
  return `${first} is not allowed in a profile`;
}

/** The first refused line of a profile's start or end G-code, with its 1-based line number. */
export function profileGcodeRefusalOf(text: string, firmware: Firmware): string | undefined {
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    const why = profileGcodeRefusal(line, firmware);
    if (why !== undefined) return `line ${index + 1}: ${why}`;
  }
  return undefined;
}

/**
 * A printer's profile: what the server adapts a design to. Bed axes in µm (10 mm .. 2 m), the
 * nozzle in µm, temperatures in whole °C, flow in percent; the start and end G-code (printable
 * ASCII and newlines, no `*`, 2048 characters each at most, only allowed commands:
 * `profileGcodeRefusal`).
 */
export const printerProfileSchema = z
  .strictObject({
    firmware: z.enum(firmwares),
    bed: z.strictObject({ x: bedAxis, y: bedAxis, z: bedAxis }),
    nozzleUm: z.number().int().min(100).max(2000),
    filament: z.enum(filaments),
    hotendC: z.number().int().min(150).max(300),
    bedC: z.number().int().min(0).max(120),
    flowPct: z.number().int().min(50).max(150),
    startGcode: profileGcode,
    endGcode: profileGcode,
  })
  .superRefine((profile, ctx) => {
    for (const field of ['startGcode', 'endGcode'] as const) {
      const why = profileGcodeRefusalOf(profile[field], profile.firmware);
      if (why !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: why });
    }
  });
export type PrinterProfile = z.infer<typeof printerProfileSchema>;

/** Why a value is not a printer profile: the field's path and zod's words. */
export class PrinterProfileError extends Error {
  readonly code = 'invalid_profile';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'PrinterProfileError';
  }
}

/** A printer profile from untrusted input (a profile.json); throws PrinterProfileError naming the field. */
export function parsePrinterProfile(value: unknown): PrinterProfile {
  const result = printerProfileSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = ['profile', ...(issue?.path ?? []).map(String)].join('.');
  throw new PrinterProfileError(field, issue?.message ?? 'not a printer profile');
}

/** The SHA-256 (64 hex) of a profile's canonical JSON (RFC 8785): what the owner's proof names. */
export function profileHashOf(profile: PrinterProfile): string {
  return sha256Hex(canonicalBytes(profile));
}

// ---- the signed messages -------------------------------------------------------------------------

/** The domain of an owner's consent to a printer registration: it signs nothing else with it. */
export const printerRegistrationDomain = 'coffer/printing/register/v1';
/** The domain of a device's (the SBC's) consent to its registration as a printer. */
export const printerDeviceDomain = 'coffer/printing/device/v1';
/** The domain of a print server's statement that it holds a design's G-code. */
export const designUploadDomain = 'coffer/printing/design/v1';

/**
 * What the owner signs (`ownerProof`) so that `server` may register the SBC `hardwareId` with this
 * profile as the owner's printer on chain `chainId`: the domain ‖ SHA-256(canonical {chainId,
 * hardwareId, profileHash, server}). No server binds a printer to an account that did not ask.
 */
export function printerRegistrationMessage(
  chainId: string,
  hardwareId: string,
  server: string,
  profileHash: string,
): Uint8Array {
  return concatBytes(
    utf8(printerRegistrationDomain),
    sha256(canonicalBytes({ chainId, hardwareId, server, profileHash })),
  );
}

/**
 * What the SBC's device key signs (`deviceProof`) so that `server` may register it (`hardwareId`)
 * as `owner`'s printer with this profile on chain `chainId`: the domain ‖ SHA-256(canonical
 * {chainId, hardwareId, owner, profileHash, server}). Only the holder of the device key can have
 * its hardware id registered, so nobody squats an id.
 */
export function printerDeviceMessage(
  chainId: string,
  hardwareId: string,
  server: string,
  owner: string,
  profileHash: string,
): Uint8Array {
  return concatBytes(
    utf8(printerDeviceDomain),
    sha256(canonicalBytes({ chainId, hardwareId, server, owner, profileHash })),
  );
}

/** A design's extent: the largest X, Y and Z its toolpath reaches, µm from the origin. */
export interface DesignBox {
  x: number;
  y: number;
  z: number;
}

/**
 * What the print server signs (`serverProof`) for a designer after an upload: it holds the G-code
 * of `contentHash` (this many lines and bytes, this extent) and agreed the platform's share.
 * The domain ‖ SHA-256(canonical {bbox, chainId, contentHash, designId, designer, lines,
 * platformShareBp, sizeBytes}).
 */
export function designUploadMessage(
  chainId: string,
  designId: string,
  designer: string,
  contentHash: string,
  lines: number,
  sizeBytes: number,
  bbox: DesignBox,
  platformShareBp: number,
): Uint8Array {
  return concatBytes(
    utf8(designUploadDomain),
    sha256(
      canonicalBytes({
        chainId,
        designId,
        designer,
        contentHash,
        lines,
        sizeBytes,
        bbox: { x: bbox.x, y: bbox.y, z: bbox.z },
        platformShareBp,
      }),
    ),
  );
}

/** Whether a design of extent `bbox` fits the bed of `profile` (each axis at most the bed's). */
export function designFits(bbox: DesignBox, profile: PrinterProfile): boolean {
  return bbox.x <= profile.bed.x && bbox.y <= profile.bed.y && bbox.z <= profile.bed.z;
}

// ---- field schemas -------------------------------------------------------------------------------

const positiveMinorUnits = wire.minorUnitsText.refine((text) => BigInt(text) > 0n, 'not above 0');
const boxAxis = z.number().int().min(0).max(bedAxisUmMax);

export const printingFields = {
  address: coded(wire.address, 'invalid_address'),
  hardwareId: coded(
    z.string().regex(hardwareIdPattern).meta({
      description: 'A hardware id: hw_ and 32 hex (hardwareIdOf(authority, deviceKeyHash))',
    }),
    'invalid_hardware_id',
  ),
  deviceKeyHash: coded(
    hexOf(32).meta({ description: "SHA-256 (64 hex) of the device's ed25519 public key" }),
    'invalid_device_key_hash',
  ),
  printerId: coded(
    z
      .string()
      .regex(printerIdPattern)
      .meta({ description: 'A printer id: pr_ and 32 hex, drawn by the print server' }),
    'invalid_printer_id',
  ),
  clientId: coded(
    z
      .string()
      .regex(clientIdPattern)
      .meta({ description: "The printer's client id at its server: 1 to 64 of a-z, 0-9, -" }),
    'invalid_client_id',
  ),
  deviceKey: coded(
    hexOf(32).meta({ description: "The device's ed25519 public key (64 hex)" }),
    'invalid_device_key',
  ),
  certFingerprint: coded(
    hexOf(32).meta({ description: "SHA-256 (64 hex) of the client certificate's DER" }),
    'invalid_cert_fingerprint',
  ),
  profile: coded(printerProfileSchema, 'invalid_profile'),
  signature: (code: string, description: string) =>
    coded(
      z
        .string()
        .regex(/^[0-9a-f]{128}$/)
        .meta({ description }),
      code,
    ),
  designId: coded(
    z.string().regex(designIdPattern).meta({ description: 'A design id: 32 hex (designIdOf)' }),
    'invalid_design_id',
  ),
  title: coded(
    z.string().min(1).max(designTitleLengthMax).regex(textPattern).meta({
      description: 'A title: 1 to 120 characters, no control or bidirectional control characters',
    }),
    'invalid_design_title',
  ),
  contentHash: coded(
    hexOf(32).meta({ description: "SHA-256 (64 hex) of the design's G-code bytes" }),
    'invalid_content_hash',
  ),
  sizeBytes: coded(
    z.number().int().min(1).max(designSizeBytesMax).meta({ description: 'Bytes: 1 to 64 MiB' }),
    'invalid_design_size',
  ),
  lines: coded(
    z
      .number()
      .int()
      .min(1)
      .max(designSizeBytesMax)
      .meta({ description: 'G-code lines: 1 to 2^26' }),
    'invalid_lines',
  ),
  bbox: coded(
    z.strictObject({ x: boxAxis, y: boxAxis, z: boxAxis }).meta({
      description: 'The largest X, Y, Z the toolpath reaches, µm from the origin (0 to 2 m)',
    }),
    'invalid_bbox',
  ),
  price: coded(
    z
      .strictObject({ asset: z.string().regex(assetSymbolPattern), amount: positiveMinorUnits })
      .meta({ description: 'The price of one print: an asset symbol and positive minor units' }),
    'invalid_design_price',
  ),
  printsMax: coded(
    z
      .number()
      .int()
      .min(1)
      .max(printsMaxLimit)
      .meta({ description: 'Prints sold at most: 1 to 1,000,000' }),
    'invalid_prints_max',
  ),
  platformShareBp: coded(
    z
      .number()
      .int()
      .min(0)
      .max(platformShareBpMax)
      .meta({ description: "The server's share of each price, basis points: 0 to 5000" }),
    'invalid_platform_share',
  ),
  licence: coded(
    z
      .strictObject({ commercial: z.boolean(), remix: z.boolean() })
      .meta({ description: 'Licence terms: commercial use, remixing' }),
    'invalid_licence',
  ),
  designStatus: coded(z.enum(['listed', 'unlisted']), 'invalid_design_status'),
  tokenId: coded(
    hexOf(32).meta({ description: 'A print token id: the hash of its print.buy tx' }),
    'invalid_token_id',
  ),
  watermarkCommitment: coded(
    hexOf(32).meta({ description: "SHA-256 (64 hex) of the print's watermark id and a salt" }),
    'invalid_watermark_commitment',
  ),
  percent: coded(
    z.number().int().min(0).max(100).meta({ description: 'Percent printed: 0 to 100' }),
    'invalid_percent',
  ),
  delivered: coded(
    z.number().int().min(0).max(100).meta({
      description:
        "Percent of the adapted lines the server wrote to the printer's stream: 0 to 100",
    }),
    'invalid_delivered',
  ),
  reason: coded(
    z
      .string()
      .min(1)
      .max(failReasonLengthMax)
      .regex(textPattern)
      .meta({ description: 'Why: 1 to 200 characters, no control characters' }),
    'invalid_fail_reason',
  ),
};

// ---- tx payloads ---------------------------------------------------------------------------------

export const printingPayloads = {
  /** A hardware-id authority (the sender) records a hardware id it issued. Once per id. */
  'printing.hwid': z.strictObject({
    hardwareId: printingFields.hardwareId,
    deviceKeyHash: printingFields.deviceKeyHash,
  }),
  /** A print server (the sender) registers an SBC as the owner's printer, with its consent. */
  'printer.register': z.strictObject({
    printerId: printingFields.printerId,
    hardwareId: printingFields.hardwareId,
    owner: printingFields.address,
    clientId: printingFields.clientId,
    certFingerprint: printingFields.certFingerprint,
    profile: printingFields.profile,
    ownerProof: printingFields.signature(
      'invalid_owner_proof',
      "The owner's ed25519 signature (128 hex) of printerRegistrationMessage(chainId, hardwareId, server, profileHash)",
    ),
    deviceKey: printingFields.deviceKey,
    deviceProof: printingFields.signature(
      'invalid_device_proof',
      "The device key's ed25519 signature (128 hex) of printerDeviceMessage(chainId, hardwareId, server, owner, profileHash)",
    ),
  }),
  /** The printer's server or owner revokes it (final). */
  'printer.revoke': z.strictObject({ printerId: printingFields.printerId }),
  /** A designer (the sender) lists a design its server holds. Once per designId. */
  'design.list': z.strictObject({
    designId: printingFields.designId,
    server: printingFields.address,
    title: printingFields.title,
    contentHash: printingFields.contentHash,
    sizeBytes: printingFields.sizeBytes,
    lines: printingFields.lines,
    bbox: printingFields.bbox,
    price: printingFields.price,
    printsMax: printingFields.printsMax,
    platformShareBp: printingFields.platformShareBp,
    licence: printingFields.licence,
    serverProof: printingFields.signature(
      'invalid_server_proof',
      "The server's ed25519 signature (128 hex) of designUploadMessage(chainId, designId, designer, contentHash, lines, sizeBytes, bbox, platformShareBp)",
    ),
  }),
  /** The designer changes a design's price or lists / unlists it. */
  'design.update': z.strictObject({
    designId: printingFields.designId,
    price: printingFields.price.optional(),
    status: printingFields.designStatus.optional(),
  }),
  /**
   * A printer's owner buys one print of a design on that printer at the price it saw (refused
   * with `price_changed` unless it is the design's current price); the price goes to escrow.
   */
  'print.buy': z.strictObject({
    designId: printingFields.designId,
    printerId: printingFields.printerId,
    price: printingFields.price,
  }),
  /** The token's server starts the print (the printer redeemed the token). */
  'print.start': z.strictObject({
    tokenId: printingFields.tokenId,
    watermarkCommitment: printingFields.watermarkCommitment,
  }),
  /** The token's server reports progress: the printer's percent and the share it delivered. */
  'print.progress': z.strictObject({
    tokenId: printingFields.tokenId,
    percent: printingFields.percent,
    delivered: printingFields.delivered,
  }),
  /** The token's server reports the print done: the escrow pays the server and the designer. */
  'print.finish': z.strictObject({ tokenId: printingFields.tokenId }),
  /**
   * The token's server reports a failed print: re-issued the first time, refunded the second
   * (pro rata to what was not delivered).
   */
  'print.fail': z.strictObject({
    tokenId: printingFields.tokenId,
    percent: printingFields.percent,
    reason: printingFields.reason,
    delivered: printingFields.delivered,
  }),
  /** The buyer takes back an expired token's price, or a stalled print's. */
  'print.cancel': z.strictObject({ tokenId: printingFields.tokenId }),
};

export type PrintingPayload<T extends keyof typeof printingPayloads> = z.input<
  (typeof printingPayloads)[T]
>;

// ---- records -------------------------------------------------------------------------------------

export const printerStatuses = ['active', 'revoked'] as const;
export const designStatuses = ['listed', 'unlisted'] as const;
export const printTokenStatuses = ['issued', 'printing', 'finished', 'refunded'] as const;
export type PrinterStatus = (typeof printerStatuses)[number];
export type DesignStatus = (typeof designStatuses)[number];
export type PrintTokenStatus = (typeof printTokenStatuses)[number];

const boxSchema = z.object({ x: z.number().int(), y: z.number().int(), z: z.number().int() });
const priceSchema = z.object({ asset: z.string(), amount: z.string() });
export type Price = z.infer<typeof priceSchema>;

export const hwidSchema = z.object({
  hardwareId: z.string(),
  authority: z.string(),
  deviceKeyHash: z.string(),
  issuedAt: z.number().int(),
  height: z.number().int(),
  tx: z.string(),
  /** (The route's answer, not the stored record.) The active printer of this id, if any. */
  printerId: z.string().optional(),
});
export type HwidRecord = z.infer<typeof hwidSchema>;

export const printerSchema = z.object({
  printerId: z.string(),
  hardwareId: z.string(),
  owner: z.string(),
  /** The print server that registered it (its account). */
  server: z.string(),
  clientId: z.string(),
  certFingerprint: z.string(),
  profile: printerProfileSchema,
  profileHash: z.string(),
  status: z.enum(printerStatuses),
  registeredAt: z.number().int(),
  revokedAt: z.number().int().optional(),
  revokedBy: z.string().optional(),
  height: z.number().int(),
  tx: z.string(),
});
export type PrinterRecord = z.infer<typeof printerSchema>;

export const designSchema = z.object({
  designId: z.string(),
  designer: z.string(),
  server: z.string(),
  title: z.string(),
  contentHash: z.string(),
  sizeBytes: z.number().int(),
  lines: z.number().int(),
  bbox: boxSchema,
  price: priceSchema,
  printsMax: z.number().int(),
  /** Prints bought and not refunded (a refund gives the print back to the edition). */
  sold: z.number().int(),
  platformShareBp: z.number().int(),
  licence: z.object({ commercial: z.boolean(), remix: z.boolean() }),
  status: z.enum(designStatuses),
  listedAt: z.number().int(),
  updatedAt: z.number().int().optional(),
  height: z.number().int(),
  tx: z.string(),
});
export type DesignRecord = z.infer<typeof designSchema>;

export const printTokenSchema = z.object({
  /** The hash of the print.buy tx; its escrow is `escrowAddress('printing', tokenId)`. */
  tokenId: z.string(),
  designId: z.string(),
  printerId: z.string(),
  buyer: z.string(),
  server: z.string(),
  designer: z.string(),
  /** The price paid, held in escrow until the token is finished or refunded. */
  price: priceSchema,
  /** The platform's share, basis points, as the design had it at the purchase. */
  platformShareBp: z.number().int(),
  boughtAt: z.number().int(),
  expiresAt: z.number().int(),
  status: z.enum(printTokenStatuses),
  /** Prints started with it (1 on the first start; 2 after a re-issue). */
  attempts: z.number().int(),
  /** Failed prints (the second refunds). */
  failures: z.number().int(),
  percent: z.number().int(),
  /**
   * The largest share (percent) of the adapted lines the server reported writing to the printer's
   * stream, over all attempts: a refund pays the buyer only the rest of the price.
   */
  delivered: z.number().int(),
  /** The share delivered in the current (or last) attempt: never decreases within it. */
  attemptDelivered: z.number().int(),
  startedAt: z.number().int().optional(),
  /** The last start or progress report: a print silent for 24 h may be cancelled. */
  progressAt: z.number().int().optional(),
  endedAt: z.number().int().optional(),
  watermarkCommitment: z.string().optional(),
  /** The last failure's reason and percent. */
  failReason: z.string().optional(),
  failPercent: z.number().int().optional(),
  /** On 'finished': what the escrow paid. */
  paid: z.object({ platform: z.string(), designer: z.string() }).optional(),
  /** On 'refunded': what the escrow paid back to the buyer and to the designer and platform. */
  refund: z.object({ buyer: z.string(), designer: z.string(), platform: z.string() }).optional(),
  height: z.number().int(),
  tx: z.string(),
});
export type PrintTokenRecord = z.infer<typeof printTokenSchema>;

/** A revoked printer as the server's CRL needs it, in revocation order (`seq` from 1). */
export const revocationSchema = z.object({
  seq: z.number().int(),
  printerId: z.string(),
  clientId: z.string(),
  certFingerprint: z.string(),
  revokedAt: z.number().int(),
});
export type RevocationRecord = z.infer<typeof revocationSchema>;

// ---- route answers -------------------------------------------------------------------------------

export const printerPageSchema = z.object({
  printers: z.array(printerSchema),
  next: z.string().nullable(),
});
export type PrinterPage = z.infer<typeof printerPageSchema>;

export const designPageSchema = z.object({
  designs: z.array(designSchema),
  next: z.string().nullable(),
});
export type DesignPage = z.infer<typeof designPageSchema>;

export const printTokenPageSchema = z.object({
  tokens: z.array(printTokenSchema),
  next: z.string().nullable(),
});
export type PrintTokenPage = z.infer<typeof printTokenPageSchema>;

export const revocationPageSchema = z.object({
  revocations: z.array(revocationSchema),
  /** The `seq` to pass as `after` for the next page, or null at the end for now. */
  next: z.string().nullable(),
});
export type RevocationPage = z.infer<typeof revocationPageSchema>;

// ---- events --------------------------------------------------------------------------------------

export const printingEvents = [
  'printing.hwidIssued',
  'printer.registered',
  'printer.revoked',
  'design.listed',
  'design.updated',
  'print.bought',
  'print.started',
  'print.progress',
  'print.finished',
  'print.failed',
  'print.refunded',
] as const;
