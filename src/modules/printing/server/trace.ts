/*
 * `coffer print-server trace FILE`: names the print a leaked G-code file came from. The server
 * wrote a watermark id into each print (gcode/watermark.ts) and kept id -> token in its data
 * directory (records.ts); here the watermark is read back from the file against each design the
 * server printed (the original G-code, decrypted from its store as it streams) and looked up.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openContentStore } from '../../licensing/gateway/storage.js';
import { linesOf } from '../gcode/parse.js';
import { recoverWatermark, WatermarkError } from '../gcode/watermark.js';
import { serverFiles } from './config.js';
import { readWatermarks, type WatermarkRecord } from './records.js';

export interface TraceResult {
  /** The watermark read from the file (16 hex). */
  watermark: string;
  designId: string;
  /** Travel moves of the design matched in the file, and votes against their bit's majority. */
  moves: number;
  dissent: number;
  /** The print whose watermark it is, when the server made one with it. */
  print?: WatermarkRecord;
}

/**
 * Reads the watermark of `file` against every design the server printed (or `designId`'s) and
 * answers the best reading: a print it names, else the one with the fewest dissenting votes.
 * Undefined when no design's travel moves are found in the file.
 */
export async function traceLeak(
  dataDir: string,
  file: string,
  options: { designId?: string } = {},
): Promise<TraceResult | undefined> {
  const records = readWatermarks(dataDir);
  const store = openContentStore(path.join(dataDir, serverFiles.designs));
  const designs = new Map<string, string>();
  for (const record of records) {
    if (options.designId === undefined || record.designId === options.designId) {
      designs.set(record.designId, record.contentHash);
    }
  }
  const byWatermark = new Map(records.map((record) => [record.watermark, record]));
  let best: TraceResult | undefined;
  for (const [designId, contentHash] of designs) {
    const meta = store.meta(contentHash);
    if (!meta) continue;
    let read;
    try {
      read = await recoverWatermark(
        linesOf(store.readRange(contentHash, 0, meta.size - 1)),
        linesOf(fs.createReadStream(file)),
      );
    } catch (error) {
      if (error instanceof WatermarkError) continue;
      throw error;
    }
    const watermark = Buffer.from(read.watermark).toString('hex');
    const print = byWatermark.get(watermark);
    const result: TraceResult = {
      watermark,
      designId,
      moves: read.moves,
      dissent: read.dissent,
      ...(print && print.designId === designId ? { print } : {}),
    };
    if (result.print) return result;
    if (!best || result.dissent < best.dissent) best = result;
  }
  return best;
}
