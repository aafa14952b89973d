import { defineTxOf, type TxContext, type TxDefinition } from '../../chain/index.js';
import { escrowAddress } from '../../ledger/index.js';
import type { StateReader } from '../../state/index.js';
import { verifyIotRequest } from './crypto.js';
import type { IotRejection } from './rejections.js';
import {
  authoriseFields,
  billAmount,
  casPerOperatorMax,
  deviceClockSkewMs,
  hourMs,
  iotPayloads,
  possessionFields,
  sessionStartLagMaxMs,
  utcDay,
  type BillResult,
  type DeviceRecord,
  type IotRole,
  type SessionRecord,
} from './schema.js';
import {
  deleteLink,
  fingerprintEnrolled,
  iotKeys,
  iotModuleName,
  readCa,
  readCaBySubject,
  readDayReserved,
  readDevice,
  readLink,
  readSession,
  readTariff,
  serialEnrolled,
  writeBill,
  writeCa,
  writeCaBySubject,
  writeDayReserved,
  writeDevice,
  writeLink,
  writeSerial,
  writeSession,
  writeTariff,
} from './state.js';
import {
  isPartyCertificate,
  isSelfSignedCa,
  issuedBy,
  parseCertificate,
  partyIdentity,
  type ParsedCertificate,
} from './x509.js';

export { iotRejections, type IotRejection } from './rejections.js';

/*
 * The iot module's handlers (issue 20). Deterministic: time is the block's (`ctx.time`), X.509
 * parsing and signature checks are pure. Checks run in a fixed precedence: the records named,
 * then authority (the sender, or the devices' signatures), then state (sequence, meter, period,
 * amounts), then the ledger's own checks when money moves.
 *
 * A session's hold is placed with the module's escrow address as its arbiter: no key controls
 * it, so only this module's handlers capture it (bill by bill) or void it (at the end); neither
 * the payer nor the provider can post it by a core `hold.post`, and the payer cannot void it.
 */

/** The arbiter of every session hold: an address no key controls (`escrowAddress`). */
export const iotArbiter = escrowAddress(iotModuleName, 'sessions');

/** A session's status as a reader sees it: an open session past its hold's expiry is `expired`. */
export function sessionStatusAt(session: SessionRecord, height: number): SessionRecord['status'] {
  return session.status === 'open' && height > session.expiresAtHeight ? 'expired' : session.status;
}

/**
 * Why a device may not take part in a session now, or undefined: it is enrolled in `role`, its
 * certificate unrevoked and valid at `time`, its CA active and valid.
 */
export function deviceRefusal(
  state: StateReader,
  time: number,
  deviceId: string,
  role: IotRole,
): { code: IotRejection } | { device: DeviceRecord } {
  const device = readDevice(state, deviceId);
  if (!device) return { code: 'iot_device_not_found' };
  if (device.role !== role) return { code: 'device_role_mismatch' };
  if (device.status === 'revoked') return { code: 'device_revoked' };
  const ca = readCa(state, device.ca);
  if (!ca || ca.status === 'revoked') return { code: 'ca_revoked' };
  if (time < ca.validFrom || time > ca.validTo) return { code: 'ca_expired' };
  if (time < device.validFrom) return { code: 'certificate_not_yet_valid' };
  if (time > device.validTo) return { code: 'certificate_expired' };
  return { device };
}

/** A device the sender owns, in `role`, not revoked. */
function ownedDevice(
  ctx: TxContext,
  deviceId: string,
  role: IotRole,
): { code: IotRejection } | { device: DeviceRecord } {
  const device = readDevice(ctx.state, deviceId);
  if (!device) return { code: 'iot_device_not_found' };
  if (device.owner !== ctx.sender) return { code: 'not_device_owner' };
  if (device.role !== role) return { code: 'device_role_mismatch' };
  if (device.status === 'revoked') return { code: 'device_revoked' };
  return { device };
}

/** The sender proved it holds the certificate's key (`possessionFields`, signed as `kind`). */
function holdsKey(
  kind: 'enrol' | 'registerCa',
  ctx: TxContext,
  parsed: ParsedCertificate,
  proof: string,
): boolean {
  const fields = possessionFields(parsed.fingerprint, ctx.sender);
  return verifyIotRequest(kind, ctx.chainId, fields, proof, parsed.cert);
}

const registryTxs: Record<string, TxDefinition<never>> = {
  'iot.registerCa': defineTxOf(iotPayloads['iot.registerCa'], {
    execute: (ctx, p): IotRejection | undefined => {
      const parsed = parseCertificate(p.certificate);
      if (typeof parsed === 'string') return parsed;
      if (!isSelfSignedCa(parsed)) return 'certificate_not_ca';
      if (ctx.time < parsed.validFrom) return 'certificate_not_yet_valid';
      if (ctx.time > parsed.validTo) return 'certificate_expired';
      if (!holdsKey('registerCa', ctx, parsed, p.proof)) return 'proof_invalid';
      if (readCa(ctx.state, parsed.fingerprint)) return 'ca_exists';
      // Subjects are first-come among active CAs, so a device certificate's issuer names one CA.
      const holder = readCaBySubject(ctx.state, parsed.subject);
      if (holder !== undefined && readCa(ctx.state, holder)?.status === 'active') {
        return 'ca_subject_taken';
      }
      const active = ctx.state.range(iotKeys.caActivePrefix(ctx.sender), casPerOperatorMax);
      if (active.length >= casPerOperatorMax) return 'ca_limit_reached';
      writeCa(ctx.state, {
        ca: parsed.fingerprint,
        name: p.name,
        operator: ctx.sender,
        subject: parsed.subject,
        certificate: parsed.pem,
        keyType: parsed.keyType,
        validFrom: parsed.validFrom,
        validTo: parsed.validTo,
        status: 'active',
        registeredAtHeight: ctx.height,
        registerTx: ctx.txHash,
      });
      writeCaBySubject(ctx.state, parsed.subject, parsed.fingerprint);
      ctx.state.set(iotKeys.caActive(ctx.sender, parsed.fingerprint), '1');
      ctx.emit('iot.caRegistered', {
        ca: parsed.fingerprint,
        name: p.name,
        operator: ctx.sender,
        subject: parsed.subject,
      });
      return undefined;
    },
  }),
  'iot.revokeCa': defineTxOf(iotPayloads['iot.revokeCa'], {
    execute: (ctx, p): IotRejection | undefined => {
      const ca = readCa(ctx.state, p.ca);
      if (!ca) return 'ca_not_found';
      if (ca.operator !== ctx.sender) return 'not_ca_operator';
      if (ca.status === 'revoked') return 'ca_revoked';
      writeCa(ctx.state, { ...ca, status: 'revoked', revokedAtHeight: ctx.height });
      ctx.state.delete(iotKeys.caActive(ca.operator, ca.ca));
      ctx.emit('iot.caRevoked', { ca: ca.ca, operator: ca.operator });
      return undefined;
    },
  }),
  'iot.enrol': defineTxOf(iotPayloads['iot.enrol'], {
    execute: (ctx, p): IotRejection | undefined => {
      const parsed = parseCertificate(p.certificate);
      if (typeof parsed === 'string') return parsed;
      if (!isPartyCertificate(parsed)) return 'certificate_not_party';
      const identity = partyIdentity(parsed);
      if (!identity) return 'invalid_certificate_subject';
      if (!holdsKey('enrol', ctx, parsed, p.proof)) return 'proof_invalid';
      const caId = readCaBySubject(ctx.state, parsed.issuer);
      const ca = caId === undefined ? undefined : readCa(ctx.state, caId);
      if (!ca) return 'ca_not_found';
      if (!issuedBy(parsed, ca.certificate)) return 'certificate_not_issued';
      if (ca.status === 'revoked') return 'ca_revoked';
      if (ctx.time < ca.validFrom || ctx.time > ca.validTo) return 'ca_expired';
      if (ctx.time < parsed.validFrom) return 'certificate_not_yet_valid';
      if (ctx.time > parsed.validTo) return 'certificate_expired';
      if (
        fingerprintEnrolled(ctx.state, parsed.fingerprint) ||
        serialEnrolled(ctx.state, ca.ca, parsed.serial)
      ) {
        return 'certificate_exists';
      }
      const existing = readDevice(ctx.state, identity.deviceId);
      if (existing && existing.owner !== ctx.sender) return 'device_id_taken';
      if (existing && existing.role !== identity.role) return 'device_role_mismatch';
      // A renewal replaces the certificate (and lifts a revocation: the old certificate never
      // enrols again, its fingerprint is kept).
      writeDevice(ctx.state, {
        deviceId: identity.deviceId,
        role: identity.role,
        owner: ctx.sender,
        ca: ca.ca,
        fingerprint: parsed.fingerprint,
        subject: parsed.subject,
        certificate: parsed.pem,
        keyType: parsed.keyType,
        validFrom: parsed.validFrom,
        validTo: parsed.validTo,
        status: 'active',
        enrolTx: ctx.txHash,
        enrolledAtHeight: ctx.height,
        renewals: existing ? existing.renewals + 1 : 0,
      });
      writeSerial(ctx.state, ca.ca, parsed.serial, identity.deviceId);
      ctx.emit('iot.deviceEnrolled', {
        deviceId: identity.deviceId,
        role: identity.role,
        owner: ctx.sender,
        ca: ca.ca,
        fingerprint: parsed.fingerprint,
        renewal: existing !== undefined,
      });
      return undefined;
    },
  }),
  'iot.revoke': defineTxOf(iotPayloads['iot.revoke'], {
    execute: (ctx, p): IotRejection | undefined => {
      const device = readDevice(ctx.state, p.deviceId);
      if (!device) return 'iot_device_not_found';
      const operator = readCa(ctx.state, device.ca)?.operator;
      if (ctx.sender !== device.owner && ctx.sender !== operator) {
        return 'not_device_owner_or_ca_operator';
      }
      if (device.status === 'revoked') return 'device_revoked';
      writeDevice(ctx.state, {
        ...device,
        status: 'revoked',
        revoked: { by: ctx.sender, reason: p.reason, height: ctx.height, tx: ctx.txHash },
      });
      ctx.emit('iot.deviceRevoked', {
        deviceId: p.deviceId,
        owner: device.owner,
        by: ctx.sender,
        reason: p.reason,
        fingerprint: device.fingerprint,
      });
      return undefined;
    },
  }),
  'iot.link': defineTxOf(iotPayloads['iot.link'], {
    execute: (ctx, p): IotRejection | undefined => {
      const iot = ownedDevice(ctx, p.iotDevice, 'iot-device');
      if ('code' in iot) return iot.code;
      const wallet = ownedDevice(ctx, p.wallet, 'wallet');
      if ('code' in wallet) return wallet.code;
      if (!ctx.ledger.asset(p.asset)) return 'asset_not_found';
      writeLink(ctx.state, {
        iotDevice: p.iotDevice,
        wallet: p.wallet,
        payer: ctx.sender,
        asset: p.asset,
        mandate: p.mandate,
        linkedAtHeight: ctx.height,
        linkTx: ctx.txHash,
      });
      ctx.emit('iot.linked', {
        iotDevice: p.iotDevice,
        wallet: p.wallet,
        payer: ctx.sender,
        asset: p.asset,
        sessionMax: p.mandate.sessionMax,
        dayMax: p.mandate.dayMax,
        merchants: p.mandate.merchants,
      });
      return undefined;
    },
  }),
  'iot.unlink': defineTxOf(iotPayloads['iot.unlink'], {
    execute: (ctx, p): IotRejection | undefined => {
      const link = readLink(ctx.state, p.iotDevice);
      if (!link) return 'link_not_found';
      if (link.payer !== ctx.sender) return 'not_device_owner';
      deleteLink(ctx.state, p.iotDevice);
      ctx.emit('iot.unlinked', { iotDevice: p.iotDevice, wallet: link.wallet, payer: link.payer });
      return undefined;
    },
  }),
  'iot.setTariff': defineTxOf(iotPayloads['iot.setTariff'], {
    execute: (ctx, p): IotRejection | undefined => {
      const service = ownedDevice(ctx, p.serviceDevice, 'service-device');
      if ('code' in service) return service.code;
      if (!ctx.ledger.asset(p.asset)) return 'asset_not_found';
      const provider = p.provider ?? ctx.sender;
      writeTariff(ctx.state, {
        serviceDevice: p.serviceDevice,
        provider,
        asset: p.asset,
        unit: p.unit,
        unitPrice: p.unitPrice,
        unitsPer: p.unitsPer,
        maxRatePerHour: p.maxRatePerHour,
        setAtHeight: ctx.height,
      });
      ctx.emit('iot.tariffSet', {
        serviceDevice: p.serviceDevice,
        provider,
        asset: p.asset,
        unit: p.unit,
        unitPrice: p.unitPrice,
        unitsPer: p.unitsPer,
        maxRatePerHour: p.maxRatePerHour,
      });
      return undefined;
    },
  }),
};

const sessionTxs: Record<string, TxDefinition<never>> = {
  'iot.startSession': defineTxOf(iotPayloads['iot.startSession'], {
    execute: (ctx, { start, signature }): string | undefined => {
      if (readSession(ctx.state, start.serviceDevice, start.sessionId)) return 'session_exists';
      const service = deviceRefusal(ctx.state, ctx.time, start.serviceDevice, 'service-device');
      if ('code' in service) return service.code;
      const iot = deviceRefusal(ctx.state, ctx.time, start.iotDevice, 'iot-device');
      if ('code' in iot) return iot.code;
      if (!verifyIotRequest('start', ctx.chainId, start, signature, service.device.certificate)) {
        return 'signature_invalid';
      }
      const authorised = verifyIotRequest(
        'authorise',
        ctx.chainId,
        authoriseFields(start),
        start.authorisation,
        iot.device.certificate,
      );
      if (!authorised) return 'authorisation_invalid';
      if (start.startedAt > ctx.time + deviceClockSkewMs) return 'time_in_future';
      if (start.startedAt < ctx.time - sessionStartLagMaxMs) return 'time_in_past';
      const link = readLink(ctx.state, start.iotDevice);
      if (!link) return 'link_not_found';
      const wallet = deviceRefusal(ctx.state, ctx.time, link.wallet, 'wallet');
      if ('code' in wallet) return wallet.code;
      if (!link.mandate.merchants.includes(start.serviceDevice)) return 'merchant_not_allowed';
      const tariff = readTariff(ctx.state, start.serviceDevice);
      if (!tariff) return 'tariff_not_found';
      if (tariff.asset !== link.asset) return 'tariff_asset_mismatch';
      const day = utcDay(ctx.time);
      const reserved = readDayReserved(ctx.state, link.wallet, link.iotDevice, day);
      const dayLeft = BigInt(link.mandate.dayMax) - reserved;
      const sessionMax = BigInt(link.mandate.sessionMax);
      const held = sessionMax < dayLeft ? sessionMax : dayLeft;
      if (held <= 0n) return 'day_cap_reached';
      const expiresAtHeight = ctx.height + link.mandate.sessionBlocks;
      const holdRefusal = ctx.ledger.createHold(
        {
          id: ctx.txHash,
          payer: link.payer,
          payee: tariff.provider,
          asset: link.asset,
          amount: held,
          expiresAtHeight,
          arbiter: iotArbiter,
        },
        ctx.height,
      );
      if (holdRefusal) return holdRefusal;
      writeDayReserved(ctx.state, link.wallet, link.iotDevice, day, reserved + held);
      const session: SessionRecord = {
        serviceDevice: start.serviceDevice,
        iotDevice: start.iotDevice,
        sessionId: start.sessionId,
        wallet: link.wallet,
        payer: link.payer,
        provider: tariff.provider,
        asset: link.asset,
        tariff: {
          unit: tariff.unit,
          unitPrice: tariff.unitPrice,
          unitsPer: tariff.unitsPer,
          maxRatePerHour: tariff.maxRatePerHour,
        },
        holdId: ctx.txHash,
        held: held.toString(),
        expiresAtHeight,
        day,
        meterStart: start.meterStart,
        startedAt: start.startedAt,
        lastSeq: 0,
        meter: start.meterStart,
        periodTo: start.startedAt,
        usage: '0',
        billed: '0',
        captured: '0',
        unpaid: '0',
        status: 'open',
        startTx: ctx.txHash,
        startedAtHeight: ctx.height,
      };
      writeSession(ctx.state, session);
      ctx.emit('iot.sessionStarted', {
        serviceDevice: start.serviceDevice,
        iotDevice: start.iotDevice,
        sessionId: start.sessionId,
        wallet: link.wallet,
        payer: link.payer,
        provider: tariff.provider,
        asset: link.asset,
        holdId: ctx.txHash,
        held: held.toString(),
        expiresAtHeight,
      });
      return undefined;
    },
  }),
  'iot.bill': defineTxOf(iotPayloads['iot.bill'], {
    execute: (ctx, { bill, signature }): string | undefined => {
      const session = readSession(ctx.state, bill.serviceDevice, bill.sessionId);
      if (!session) return 'session_not_found';
      if (bill.iotDevice !== session.iotDevice) return 'session_device_mismatch';
      const service = deviceRefusal(ctx.state, ctx.time, bill.serviceDevice, 'service-device');
      if ('code' in service) return service.code;
      if (!verifyIotRequest('bill', ctx.chainId, bill, signature, service.device.certificate)) {
        return 'signature_invalid';
      }
      // Neither certificate may be revoked (or expired) when a bill is paid: the IoT device's
      // owner revoking a stolen car's certificate stops its open sessions' bills too.
      const iot = deviceRefusal(ctx.state, ctx.time, bill.iotDevice, 'iot-device');
      if ('code' in iot) return iot.code;
      if (bill.seq <= session.lastSeq) return 'bill_duplicate';
      if (bill.seq !== session.lastSeq + 1) return 'bill_out_of_order';
      const status = sessionStatusAt(session, ctx.height);
      if (status === 'expired') return 'session_expired';
      if (status !== 'open') return 'session_closed';
      const { detail } = bill;
      const { tariff } = session;
      if (detail.unit !== tariff.unit || detail.unitPrice !== tariff.unitPrice) {
        return 'tariff_mismatch';
      }
      if (detail.meterEnd < detail.meterStart) return 'meter_negative';
      if (detail.usage !== detail.meterEnd - detail.meterStart || detail.usage === 0) {
        return 'usage_mismatch';
      }
      if (detail.meterStart < session.meter) return 'meter_reset';
      if (detail.meterStart > session.meter) return 'meter_gap';
      const { from, to } = detail.period;
      if (from < session.periodTo) return 'period_overlap';
      if (from >= to) return 'period_invalid';
      if (to > ctx.time + deviceClockSkewMs) return 'time_in_future';
      // usage / (to - from) ms <= maxRatePerHour / 1 h, in integers.
      if (
        BigInt(detail.usage) * BigInt(hourMs) >
        BigInt(tariff.maxRatePerHour) * BigInt(to - from)
      ) {
        return 'meter_rate_impossible';
      }
      const usageBefore = BigInt(session.usage);
      const amount = billAmount(
        usageBefore,
        BigInt(detail.usage),
        BigInt(tariff.unitPrice),
        BigInt(tariff.unitsPer),
      );
      if (BigInt(bill.amount) !== amount) return 'amount_mismatch';

      // The payment: a partial capture of the session's hold, the hold kept open with the rest.
      const hold = ctx.ledger.hold(session.holdId);
      const open = hold === undefined ? 0n : BigInt(hold.amount);
      const captured = amount < open ? amount : open;
      if (captured > 0n) {
        const refusal = ctx.ledger.captureHold(iotArbiter, session.holdId, captured);
        if (refusal) return refusal;
      }
      const unpaid = amount - captured;
      const remaining = open - captured;
      const billStatus = unpaid > 0n ? 'capped' : 'paid';
      const result: BillResult = {
        serviceDevice: bill.serviceDevice,
        iotDevice: bill.iotDevice,
        sessionId: bill.sessionId,
        seq: bill.seq,
        billTx: ctx.txHash,
        detail,
        amount: amount.toString(),
        captured: captured.toString(),
        unpaid: unpaid.toString(),
        status: billStatus,
        remaining: remaining.toString(),
        payer: session.payer,
        provider: session.provider,
        asset: session.asset,
        height: ctx.height,
      };
      writeBill(ctx.state, result);
      writeSession(ctx.state, {
        ...session,
        lastSeq: bill.seq,
        meter: detail.meterEnd,
        periodTo: to,
        usage: (usageBefore + BigInt(detail.usage)).toString(),
        billed: (BigInt(session.billed) + amount).toString(),
        captured: (BigInt(session.captured) + captured).toString(),
        unpaid: (BigInt(session.unpaid) + unpaid).toString(),
        // A capped session is closed: the payer's mandate allows no more.
        status: billStatus === 'capped' ? 'capped' : 'open',
      });
      ctx.emit('iot.billPaid', {
        serviceDevice: bill.serviceDevice,
        iotDevice: bill.iotDevice,
        sessionId: bill.sessionId,
        seq: bill.seq,
        status: billStatus,
        amount: result.amount,
        captured: result.captured,
        unpaid: result.unpaid,
        remaining: result.remaining,
        payer: session.payer,
        provider: session.provider,
        asset: session.asset,
      });
      return undefined;
    },
  }),
  'iot.endSession': defineTxOf(iotPayloads['iot.endSession'], {
    execute: (ctx, { end, signature }): string | undefined => {
      const session = readSession(ctx.state, end.serviceDevice, end.sessionId);
      if (!session) return 'session_not_found';
      // A revoked or expired service device may still end its session: an end only returns
      // what is left of the hold to the payer. Its signature is checked all the same.
      const service = readDevice(ctx.state, end.serviceDevice)!;
      if (!verifyIotRequest('end', ctx.chainId, end, signature, service.certificate)) {
        return 'signature_invalid';
      }
      const status = sessionStatusAt(session, ctx.height);
      if (status === 'expired') return 'session_expired';
      if (status !== 'open') return 'session_closed';
      if (end.meterEnd < session.meter) return 'meter_reset';
      if (end.endedAt < session.periodTo) return 'period_overlap';
      if (end.endedAt > ctx.time + deviceClockSkewMs) return 'time_in_future';
      const hold = ctx.ledger.hold(session.holdId);
      const returned = hold === undefined ? 0n : BigInt(hold.amount);
      if (hold !== undefined) {
        const refusal = ctx.ledger.voidHold(iotArbiter, session.holdId);
        if (refusal) return refusal;
      }
      // What returns no longer counts against the day it was reserved in.
      const reserved = readDayReserved(ctx.state, session.wallet, session.iotDevice, session.day);
      const released = reserved < returned ? reserved : returned;
      writeDayReserved(
        ctx.state,
        session.wallet,
        session.iotDevice,
        session.day,
        reserved - released,
      );
      writeSession(ctx.state, {
        ...session,
        status: 'ended',
        end: {
          meterEnd: end.meterEnd,
          endedAt: end.endedAt,
          returned: returned.toString(),
          tx: ctx.txHash,
          height: ctx.height,
        },
      });
      ctx.emit('iot.sessionEnded', {
        serviceDevice: end.serviceDevice,
        iotDevice: session.iotDevice,
        sessionId: end.sessionId,
        status: 'ended',
        captured: session.captured,
        returned: returned.toString(),
        unbilledUsage: end.meterEnd - session.meter,
        payer: session.payer,
        provider: session.provider,
        asset: session.asset,
      });
      return undefined;
    },
  }),
};

/** The module's tx types, in the order of the payload schemas. */
export const iotTxs: Record<string, TxDefinition<never>> = Object.fromEntries(
  Object.keys(iotPayloads).map((type) => {
    const definition = registryTxs[type] ?? sessionTxs[type];
    if (definition === undefined) throw new Error(`iot: no handler for ${type}`);
    return [type, definition];
  }),
);
