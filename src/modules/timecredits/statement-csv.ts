import { formatMinutes, type MemberStatement } from './schema.js';

/*
 * A member statement as CSV: pure, so the node (`GET .../statement?format=csv`, routes.ts) and the
 * console (a download made in the browser, web/member.tsx) write the same file.
 */

/** A field as RFC 4180 wants it: quoted (quotes doubled) when it holds `"`, `,`, CR or LF. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function isoTime(ms: number): string {
  // Formats a given instant; reads no clock.
  // eslint-disable-next-line no-restricted-globals
  return new Date(ms).toISOString();
}

/** The columns of `statementCsv`. */
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

/**
 * A member statement as RFC 4180 CSV (CRLF line ends, a header row): one row per lot (times in
 * ISO-8601 UTC, `hours` the effective minutes as H:MM, `expired` true/false), then one summary
 * row each for balance, debt, net, given, received, sent and got, whose `lot` column is empty, the
 * `origin` column names the line and `minutes`/`effectiveMinutes`/`hours` give the amount (the
 * balance's effective minutes after demurrage; the net is effective balance less debt).
 */
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
  const summary = (label: string, minutes: string, effective = minutes) =>
    rows.push(['', label, '', '', '', minutes, effective, formatMinutes(effective), '']);
  summary('balance', statement.balanceMinutes, statement.effectiveBalanceMinutes);
  summary('debt', statement.debtMinutes);
  summary('net', statement.netMinutes);
  summary('given', statement.givenMinutes);
  summary('received', statement.receivedMinutes);
  summary('sent', statement.sentMinutes);
  summary('got', statement.gotMinutes);
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** The statement's file name, as the node's `content-disposition` gives it. */
export const statementFileName = (s: MemberStatement): string =>
  `statement-${s.bankId}-${s.account}-${s.asOf}.csv`;
