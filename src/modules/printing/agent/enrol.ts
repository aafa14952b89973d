import { fromHex, sign, toHex } from '../../../crypto/index.js';
import { hwidRequestMessage } from '../authority/messages.js';
import {
  deviceKeyHashOf,
  hardwareIdOf,
  parsePrinterProfile,
  printerDeviceMessage,
  profileHashOf,
  printerRegistrationMessage,
  type PrinterProfile,
} from '../schema.js';
import { registrationRequestMessage } from '../server/messages.js';
import { AgentError, type AgentDataDir, type AgentIdentity } from './data-dir.js';
import { requestJson, type TlsOptions } from './http.js';

/*
 * The SBC's two enrolment steps (docs/printing.md, "The SBC"):
 * 1. `init`: the device key asks the hardware-id authority for an id (a signed, timestamped
 *    request); the authority records it on chain. The agent checks the id is the one the key and
 *    the authority give (`hardwareIdOf`), so an authority cannot hand it another board's id.
 * 2. `register`: with the owner's consent (the owner's signature over the chain id, the hardware
 *    id, the server and the profile's hash: `ownerProof`), a one-time secret from the server's
 *    operator, the device key's consent (`deviceProof`, relayed to the chain, which checks it) and
 *    its signature over the whole request, the print server registers the printer on chain and answers the printer's client certificate and key (mTLS from then on).
 */

/** What `GET /v1/printing/server` answers (the print server's public listener). */
export interface PrintServerInfo {
  server: string;
  caCertificate: string;
  printsUrl: string;
  platformShareBp: number;
  chainId?: string;
}

const trimUrl = (url: string) => url.replace(/\/+$/, '');

/** Asks `authorityUrl` for this board's hardware id and keeps it; answers the identity. */
export async function requestHardwareId(
  dir: AgentDataDir,
  options: { authorityUrl: string; tls?: TlsOptions; now?: () => number },
): Promise<AgentIdentity> {
  const authorityUrl = trimUrl(options.authorityUrl);
  const device = dir.deviceKey();
  const tls = options.tls ?? {};
  const { authority } = await requestJson<{ authority: string }>(`${authorityUrl}/v1/authority`, {
    method: 'GET',
    tls,
  });
  const timestamp = (options.now ?? Date.now)();
  const signature = toHex(
    sign(
      hwidRequestMessage({ authority, deviceKey: device.publicKey, timestamp }),
      fromHex(device.secretKey, 'secretKey', 32),
    ),
  );
  const answer = await requestJson<{ hardwareId: string; txHash: string; authority: string }>(
    `${authorityUrl}/v1/hwids`,
    { method: 'POST', body: { deviceKey: device.publicKey, timestamp, signature }, tls },
  );
  if (answer.authority !== authority) {
    throw new AgentError(
      'unexpected_answer',
      `the authority answered for ${answer.authority}, not ${authority}`,
    );
  }
  const expected = hardwareIdOf(authority, deviceKeyHashOf(device.publicKey));
  if (answer.hardwareId !== expected) {
    throw new AgentError(
      'unexpected_answer',
      `the authority answered hardware id ${answer.hardwareId}; this key's is ${expected}`,
    );
  }
  const identity: AgentIdentity = {
    hardwareId: answer.hardwareId,
    authority,
    authorityUrl,
    txHash: answer.txHash,
  };
  dir.writeIdentity(identity);
  return identity;
}

/** The print server's public facts, over TLS checked against `ca` (its own CA). */
export function printServerInfo(serverUrl: string, ca: string): Promise<PrintServerInfo> {
  return requestJson<PrintServerInfo>(`${trimUrl(serverUrl)}/v1/printing/server`, {
    method: 'GET',
    tls: { ca },
  });
}

/** The owner's consent to bind this board to its account on `server` with `profile`. */
export function ownerProofOf(input: {
  chainId: string;
  hardwareId: string;
  server: string;
  profile: PrinterProfile;
  ownerSecretKey: string;
}): string {
  return toHex(
    sign(
      printerRegistrationMessage(
        input.chainId,
        input.hardwareId,
        input.server,
        profileHashOf(input.profile),
      ),
      fromHex(input.ownerSecretKey, 'ownerSecretKey', 32),
    ),
  );
}

export interface RegisterInput {
  serverUrl: string;
  /** The server's CA (PEM), obtained from its operator: the only CA the agent trusts for it. */
  ca: string;
  /** The registration secret from `coffer print-server secret create`. */
  secret: string;
  /** The profile as JSON (checked by `parsePrinterProfile`). */
  profile: unknown;
  /** The owner: its key here signs the consent, or its address and a consent signed elsewhere. */
  owner: { address: string; secretKey: string } | { address: string; ownerProof: string };
  /** The chain id, when the server does not say it (`GET /v1/printing/server`'s `chainId`). */
  chainId?: string;
  now?: () => number;
}

/** Registers the printer with the print server; keeps its certificate and key (0600). */
export async function registerPrinter(
  dir: AgentDataDir,
  input: RegisterInput,
): Promise<{ printerId: string; clientId: string; server: string; printsUrl: string }> {
  if (dir.has('registration')) {
    throw new AgentError('already_registered', `${dir.dir} holds a registration already`);
  }
  const serverUrl = trimUrl(input.serverUrl);
  const identity = dir.identity();
  const device = dir.deviceKey();
  let profile: PrinterProfile;
  try {
    profile = parsePrinterProfile(input.profile);
  } catch (error) {
    throw new AgentError(
      'invalid_profile',
      `the profile is not valid: ${(error as Error).message}`,
    );
  }
  const info = await printServerInfo(serverUrl, input.ca);
  const chainId = info.chainId ?? input.chainId;
  if (chainId === undefined) {
    throw new AgentError(
      'chain_id_unknown',
      'the print server does not say its chain id: give it (--chain-id, or --node to ask the node)',
    );
  }
  const ownerProof =
    'ownerProof' in input.owner
      ? input.owner.ownerProof
      : ownerProofOf({
          chainId,
          hardwareId: identity.hardwareId,
          server: info.server,
          profile,
          ownerSecretKey: input.owner.secretKey,
        });
  const timestamp = (input.now ?? Date.now)();
  // The device's own consent, relayed to the chain: only this board's key lets a server register
  // its hardware id, for this owner and profile.
  const deviceProof = toHex(
    sign(
      printerDeviceMessage(
        chainId,
        identity.hardwareId,
        info.server,
        input.owner.address,
        profileHashOf(profile),
      ),
      fromHex(device.secretKey, 'secretKey', 32),
    ),
  );
  const fields = {
    server: info.server,
    hardwareId: identity.hardwareId,
    deviceKey: device.publicKey,
    owner: input.owner.address,
    ownerProof,
    deviceProof,
    profile,
    timestamp,
  };
  const signature = toHex(
    sign(registrationRequestMessage(fields), fromHex(device.secretKey, 'secretKey', 32)),
  );
  const { server: _server, ...body } = fields;
  const answer = await requestJson<{
    printerId: string;
    clientId: string;
    certificate: string;
    key: string;
    caCertificate: string;
    printsUrl: string;
  }>(`${serverUrl}/v1/printing/registrations`, {
    method: 'POST',
    body: { ...body, signature, secret: input.secret },
    tls: { ca: input.ca },
  });
  dir.writeRegistration({
    registration: {
      printerId: answer.printerId,
      clientId: answer.clientId,
      serverUrl,
      printsUrl: trimUrl(answer.printsUrl),
      server: info.server,
      owner: input.owner.address,
      profileHash: profileHashOf(profile),
    },
    profile,
    certificatePem: answer.certificate,
    keyPem: answer.key,
    // The CA the operator handed over is the one trusted from now on, not one the server sends.
    caCertificatePem: input.ca,
  });
  return {
    printerId: answer.printerId,
    clientId: answer.clientId,
    server: info.server,
    printsUrl: answer.printsUrl,
  };
}
