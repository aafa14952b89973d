/*
 * The print server's own records in its data directory (config.ts lists the files):
 *
 * - Registration secrets: `coffer print-server secret create` writes a file named by the SHA-256
 *   of a fresh secret (the secret itself is printed once and never stored). A registration takes
 *   the secret by renaming its file to `<hash>.taken` (a rename is atomic: of two requests with
 *   the same secret exactly one wins), renames it back only after a transient failure (the node
 *   unreachable), counting the attempt in the file (at most `registrationAttemptsMax`), and
 *   deletes it when the registration commits or the chain refuses it. A crash between the two
 *   leaves it taken.
 * - Printers: one JSON file per printer it registered, written before its `printer.register`
 *   (the certificate serial is what a CRL names; the chain knows only the fingerprint).
 * - Watermarks: one JSON line per print, appended and synced before its `print.start`, so a
 *   committed print always has its watermark on disk.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { serverFiles } from './config.js';

// ---- registration secrets ----------------------------------------------------------------------

const secretPattern = /^[0-9a-f]{64}$/;
const hashPattern = /^[0-9a-f]{64}$/;

export const secretHashOf = (secret: string) =>
  crypto.createHash('sha256').update(secret, 'utf8').digest('hex');

export class SecretsFullError extends Error {
  readonly code = 'secrets_full';
}

/**
 * A new one-time registration secret (64 hex): its hash is stored, the secret answered once.
 * At most `secretsMax` wait unused.
 */
export function createRegistrationSecret(dataDir: string, secretsMax = 10_000): string {
  const dir = path.join(dataDir, serverFiles.secrets);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const waiting = fs.readdirSync(dir).filter((name) => hashPattern.test(name)).length;
  if (waiting >= secretsMax) {
    throw new SecretsFullError(
      `${waiting} registration secrets wait unused (at most ${secretsMax}): use or delete some`,
    );
  }
  const secret = crypto.randomBytes(32).toString('hex');
  fs.writeFileSync(path.join(dir, secretHashOf(secret)), `${Date.now()}\n`, {
    flag: 'wx',
    mode: 0o600,
  });
  return secret;
}

/** Registrations attempted with one secret at most (each a certificate and maybe a tx). */
export const registrationAttemptsMax = 3;

export interface TakenSecret {
  /** The registration committed, or the chain refused it: the secret is gone for good. */
  consume(): void;
  /**
   * The registration failed for a transient reason: the secret may be used again, unless this
   * was its last attempt (then it is gone).
   */
  giveBack(): void;
  /** Attempts made with this secret before this one. */
  readonly attempts: number;
}

/** Takes a secret for one registration, or undefined when it is unknown or taken. */
export function takeRegistrationSecret(dataDir: string, secret: string): TakenSecret | undefined {
  if (!secretPattern.test(secret)) return undefined;
  const file = path.join(dataDir, serverFiles.secrets, secretHashOf(secret));
  const taken = `${file}.taken`;
  try {
    fs.renameSync(file, taken);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // The file: its creation time, then the attempts made so far (absent: none).
  const [created = `${Date.now()}`, attemptsText = '0'] = fs
    .readFileSync(taken, 'utf8')
    .split('\n');
  const attempts = Number.parseInt(attemptsText, 10) || 0;
  let settled = false;
  return {
    attempts,
    consume() {
      if (settled) return;
      settled = true;
      fs.rmSync(taken, { force: true });
    },
    giveBack() {
      if (settled) return;
      settled = true;
      if (attempts + 1 >= registrationAttemptsMax) {
        fs.rmSync(taken, { force: true });
        return;
      }
      fs.writeFileSync(taken, `${created}\n${attempts + 1}\n`, { mode: 0o600 });
      fs.renameSync(taken, file);
    },
  };
}

// ---- printers ------------------------------------------------------------------------------------

export interface PrinterFile {
  printerId: string;
  clientId: string;
  hardwareId: string;
  owner: string;
  certFingerprint: string;
  /** The certificate's serial (hex): what the CRL names. */
  serial: string;
  createdAt: number;
  /** 'pending' until its `printer.register` committed. */
  state: 'pending' | 'registered';
  tx?: string;
}

const printerIdFilePattern = /^pr_[0-9a-f]{32}\.json$/;

export class PrinterFiles {
  private readonly dir: string;
  private readonly byFingerprint = new Map<string, PrinterFile>();
  private readonly byId = new Map<string, PrinterFile>();

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, serverFiles.printers);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const name of fs.readdirSync(this.dir)) {
      if (!printerIdFilePattern.test(name)) continue;
      const record = JSON.parse(fs.readFileSync(path.join(this.dir, name), 'utf8')) as PrinterFile;
      this.remember(record);
    }
  }

  private remember(record: PrinterFile) {
    this.byId.set(record.printerId, record);
    this.byFingerprint.set(record.certFingerprint, record);
  }

  write(record: PrinterFile): void {
    const file = path.join(this.dir, `${record.printerId}.json`);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(record), { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
    this.remember(record);
  }

  remove(printerId: string): void {
    const record = this.byId.get(printerId);
    if (!record) return;
    this.byId.delete(printerId);
    this.byFingerprint.delete(record.certFingerprint);
    fs.rmSync(path.join(this.dir, `${printerId}.json`), { force: true });
  }

  byCertFingerprint(fingerprint: string): PrinterFile | undefined {
    return this.byFingerprint.get(fingerprint);
  }

  get(printerId: string): PrinterFile | undefined {
    return this.byId.get(printerId);
  }

  get size(): number {
    return this.byId.size;
  }
}

// ---- watermarks ----------------------------------------------------------------------------------

export interface WatermarkRecord {
  /** 16 hex: the 64-bit id in the printed G-code. */
  watermark: string;
  /** 32 hex: the salt of the commitment on chain. */
  salt: string;
  /** SHA-256(watermark ‖ salt), 64 hex: the `print.start`'s watermarkCommitment. */
  commitment: string;
  tokenId: string;
  printerId: string;
  designId: string;
  contentHash: string;
  buyer: string;
  at: number;
}

/** The commitment a `print.start` records: SHA-256 of the watermark's 8 bytes and the salt's 16. */
export function watermarkCommitmentOf(watermarkHex: string, saltHex: string): string {
  return crypto
    .createHash('sha256')
    .update(Buffer.from(watermarkHex, 'hex'))
    .update(Buffer.from(saltHex, 'hex'))
    .digest('hex');
}

/** Appends one record and syncs it to disk. */
export function appendWatermark(dataDir: string, record: WatermarkRecord): void {
  const fd = fs.openSync(path.join(dataDir, serverFiles.watermarks), 'a', 0o600);
  try {
    fs.writeSync(fd, `${JSON.stringify(record)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Every watermark record, oldest first (a line cut short by a crash is skipped). */
export function readWatermarks(dataDir: string): WatermarkRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dataDir, serverFiles.watermarks), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const records: WatermarkRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as WatermarkRecord);
    } catch {
      // a last line cut short by a crash
    }
  }
  return records;
}

// ---- design measures -----------------------------------------------------------------------------

/** What an upload's measure says of a design (gcode/measure.ts), kept beside its sealed bytes. */
export interface DesignMeasure {
  lines: number;
  bodyCommands: number;
  travelMoves: number;
  bbox: { x: number; y: number; z: number };
  min: { x: number; y: number; z: number };
}

const measureFile = (dataDir: string, contentHash: string) =>
  path.join(dataDir, serverFiles.measures, `${contentHash}.json`);

export function writeMeasure(dataDir: string, contentHash: string, measure: DesignMeasure): void {
  fs.mkdirSync(path.join(dataDir, serverFiles.measures), { recursive: true, mode: 0o700 });
  const file = measureFile(dataDir, contentHash);
  const { lines, bodyCommands, travelMoves, bbox, min } = measure;
  fs.writeFileSync(`${file}.tmp`, JSON.stringify({ lines, bodyCommands, travelMoves, bbox, min }), {
    mode: 0o600,
  });
  fs.renameSync(`${file}.tmp`, file);
}

export function readMeasure(dataDir: string, contentHash: string): DesignMeasure | undefined {
  if (!hashPattern.test(contentHash)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(measureFile(dataDir, contentHash), 'utf8')) as DesignMeasure;
  } catch {
    return undefined;
  }
}

export function removeMeasure(dataDir: string, contentHash: string): void {
  if (hashPattern.test(contentHash)) fs.rmSync(measureFile(dataDir, contentHash), { force: true });
}
