/*
 * Test support for the authority's and the print server's tests and the printing e2e (not shipped
 * behaviour): signed requests, a sample design and profile, and an HTTPS client that can present
 * a client certificate (fetch cannot).
 */
import crypto from 'node:crypto';
import { keyPairFromSecret, publicKeyFromAddress, toHex } from '../../../crypto/index.js';
import type { SigningKey } from '../../../sdk/keys.js';
import {
  printerDeviceMessage,
  printerRegistrationMessage,
  profileHashOf,
  type PrinterProfile,
} from '../schema.js';
import { hwidRequestMessage, signMessageHex } from '../authority/messages.js';
import { designUploadAuthorisationMessage, registrationRequestMessage } from './messages.js';

/** A device (an SBC's) ed25519 key: the secret as hex and the raw public key as hex. */
export interface DeviceKey {
  secretKey: string;
  publicKey: string;
}

export function deviceKey(): DeviceKey {
  const pair = keyPairFromSecret(crypto.randomBytes(32));
  return { secretKey: toHex(pair.secretKey), publicKey: toHex(pair.publicKey) };
}

export function hwidRequest(device: DeviceKey, authority: string, timestamp = Date.now()) {
  return {
    deviceKey: device.publicKey,
    timestamp,
    signature: signMessageHex(
      hwidRequestMessage({ authority, deviceKey: device.publicKey, timestamp }),
      device.secretKey,
    ),
  };
}

/** The owner's consent (`ownerProof`) to `server` registering `hardwareId` with `profile`. */
export function ownerProof(
  owner: SigningKey,
  input: { chainId: string; hardwareId: string; server: string; profile: PrinterProfile },
): string {
  return signMessageHex(
    printerRegistrationMessage(
      input.chainId,
      input.hardwareId,
      input.server,
      profileHashOf(input.profile),
    ),
    owner.secretKey,
  );
}

/** The body of `POST /v1/printing/registrations`. */
export function registrationRequest(input: {
  device: DeviceKey;
  hardwareId: string;
  owner: SigningKey;
  server: string;
  chainId: string;
  profile: PrinterProfile;
  secret: string;
  timestamp?: number;
  /** Another proof than the owner's own (a forged one, in tests). */
  ownerProof?: string;
  /** Another proof than the device's own (a forged one, in tests). */
  deviceProof?: string;
}) {
  const timestamp = input.timestamp ?? Date.now();
  const proof = input.ownerProof ?? ownerProof(input.owner, input);
  const deviceProof =
    input.deviceProof ??
    signMessageHex(
      printerDeviceMessage(
        input.chainId,
        input.hardwareId,
        input.server,
        input.owner.address,
        profileHashOf(input.profile),
      ),
      input.device.secretKey,
    );
  const fields = {
    server: input.server,
    hardwareId: input.hardwareId,
    deviceKey: input.device.publicKey,
    owner: input.owner.address,
    ownerProof: proof,
    deviceProof,
    profile: input.profile,
    timestamp,
  };
  return {
    hardwareId: fields.hardwareId,
    deviceKey: fields.deviceKey,
    owner: fields.owner,
    ownerProof: proof,
    deviceProof,
    profile: fields.profile,
    timestamp,
    signature: signMessageHex(registrationRequestMessage(fields), input.device.secretKey),
    secret: input.secret,
  };
}

/** The headers of `POST /v1/printing/designs` for `body`, signed by the designer. */
export function designUploadHeaders(
  designer: SigningKey,
  body: Buffer,
  server: string,
  timestamp = Date.now(),
): Record<string, string> {
  const contentHash = crypto.createHash('sha256').update(body).digest('hex');
  return {
    'content-type': 'text/x-gcode',
    'content-length': String(body.length),
    'x-coffer-designer': designer.address,
    'x-coffer-time': String(timestamp),
    'x-coffer-content-hash': contentHash,
    'x-coffer-upload-authorisation': signMessageHex(
      designUploadAuthorisationMessage({
        server,
        designer: designer.address,
        contentHash,
        sizeBytes: body.length,
        timestamp,
      }),
      designer.secretKey,
    ),
  };
}

/** A Marlin printer with a 220 × 220 × 250 mm bed and PLA. */
export const sampleProfile: PrinterProfile = {
  firmware: 'marlin',
  bed: { x: 220_000, y: 220_000, z: 250_000 },
  nozzleUm: 400,
  filament: 'pla',
  hotendC: 205,
  bedC: 60,
  flowPct: 100,
  startGcode: 'G28\nG1 Z5 F3000',
  endGcode: 'M104 S0\nM140 S0\nM84',
};

/**
 * A sliced design as a slicer writes one: a designer's start block, then `layers` square layers
 * (travel to each corner, extrude along the side), then an end block; `size` mm squares centred
 * at (100, 100). Enough travel moves for a watermark from 20 layers on.
 */
export function sampleDesign(
  options: { layers?: number; size?: number; comment?: string; perimeters?: number } = {},
) {
  const layers = options.layers ?? 40;
  const perimeters = options.perimeters ?? 1;
  const half = (options.size ?? 20) / 2;
  const lines = [
    `; ${options.comment ?? 'sample design'}`,
    'M140 S70 ; the designer bed',
    'M104 S215',
    'G28',
    'G92 E0',
    '; coffer:start',
    'G90',
    'M82',
  ];
  let e = 0;
  for (let layer = 1; layer <= layers; layer++) {
    const z = (layer * 0.2).toFixed(3);
    lines.push(`;LAYER:${layer}`, `G0 Z${z} F600`);
    const corners = [
      [100 - half, 100 - half],
      [100 + half, 100 - half],
      [100 + half, 100 + half],
      [100 - half, 100 + half],
    ];
    lines.push(`G0 X${corners[0]![0]!.toFixed(3)} Y${corners[0]![1]!.toFixed(3)} F6000`);
    for (let side = 1; side <= 4 * perimeters; side++) {
      const [x, y] = corners[side % 4]!;
      e += 0.8;
      lines.push(`G1 X${x!.toFixed(3)} Y${y!.toFixed(3)} E${e.toFixed(4)} F1800`);
      // a travel to the next corner's inner point and back (slicers retract and travel often)
      lines.push(`G0 X${(x! - 0.5).toFixed(3)} Y${y!.toFixed(3)} F6000`);
      lines.push(`G0 X${x!.toFixed(3)} Y${y!.toFixed(3)} F6000`);
    }
  }
  lines.push('; coffer:end', 'M104 S0', 'M140 S0', 'G28 X0', 'M84');
  return `${lines.join('\n')}\n`;
}

export { httpsRequest, type HttpsAnswer, type TlsIdentity } from './https-client.js';

/** The address's raw public key as hex (what an owner's or designer's signature verifies with). */
export const publicKeyHexOf = (address: string) => toHex(publicKeyFromAddress(address));
