import { formatMinutes, type MemberStatement } from '../client.js';

/*
 * A statement as RFC 4180 CSV, made in the browser from the JSON statement: the columns and lines
 * of the node's `?format=csv` (queries.ts `statementCsv`, which loads node code and so is not
 * imported here): one line per lot, then the totals.
 */

export const statementCsvHeader = [
  'lot',
  'origin',
  'baseTime',
  'ageDays',
  'expiresAt',
  'minutes',
  'effectiveMinutes',
  'hours',
  'expired',
] as const;

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

// Formats a given instant (the statement's times); reads no clock.
// eslint-disable-next-line no-restricted-globals
const isoTime = (ms: number) => new Date(ms).toISOString();

export function statementCsv(statement: MemberStatement): string {
  const rows: string[][] = [[...statementCsvHeader]];
  for (const lot of statement.lots) {
    rows.push([
      String(lot.lot),
      lot.origin,
      isoTime(lot.baseTime),
      String(lot.ageDays),
      lot.expiresAt === null ? '' : isoTime(lot.expiresAt),
      lot.minutes,
      lot.effectiveMinutes,
      formatMinutes(lot.effectiveMinutes),
      String(lot.expired),
    ]);
  }
  const total = (label: string, minutes: string, effective = minutes) =>
    rows.push(['', label, '', '', '', minutes, effective, formatMinutes(effective), '']);
  total('balance', statement.balanceMinutes, statement.effectiveBalanceMinutes);
  total('debt', statement.debtMinutes);
  total('net', statement.netMinutes);
  total('given', statement.givenMinutes);
  total('received', statement.receivedMinutes);
  total('sent', statement.sentMinutes);
  total('got', statement.gotMinutes);
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** The node's file name for the same statement. */
export const statementFileName = (s: MemberStatement) =>
  `statement-${s.bankId}-${s.account}-${s.asOf}.csv`;
