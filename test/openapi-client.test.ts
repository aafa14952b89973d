// A client generated from the node's /openapi.json by a standard generator (openapi-typescript)
// gets typed records: campaigns, statements, receipts, accounts. The generated types are compiled
// against code that uses them: right uses compile, wrong ones (a string read as a number, a
// field that does not exist) must not, so a schema that says only "object" fails this test.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { startTestNode, type TestNode } from './support/test-node.js';

/** Type errors of `files` (name to source) compiled strictly together, as `file: message`. */
function typeErrors(dir: string, files: Record<string, string>): string[] {
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const program = ts.createProgram(
    Object.keys(files).map((name) => path.join(dir, name)),
    { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: [] },
  );
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where = diagnostic.file ? path.basename(diagnostic.file.fileName) : '';
    return `${where}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
  });
}

/** The response type of GET `route` (status 200) in the generated `paths`. */
const answer = (route: string) =>
  `paths['${route}']['get']['responses'][200]['content']['application/json']`;

describe('a client generated from /openapi.json', { timeout: 120_000 }, () => {
  let test: TestNode;
  let dir: string;
  let generated: string;

  before(async () => {
    test = await startTestNode('openapi-client');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-openapi-client-'));
    const document = await test.client.openApi();
    generated = astToString(
      await openapiTS(document as unknown as Parameters<typeof openapiTS>[0]),
    );
  });
  after(async () => {
    await test.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('types campaigns, statements, receipts and accounts field by field', () => {
    const uses = `import type { paths } from './api';
type Campaign = ${answer('/v1/campaigns/{id}')};
type CampaignStatement = ${answer('/v1/campaigns/{id}/statement')};
type MemberStatement = ${answer('/v1/timebanks/{id}/members/{account}/statement')};
type Tx = ${answer('/v1/txs/{hash}')};
type Account = ${answer('/v1/accounts/{address}')};
type Health = ${answer('/health')};
export function read(
  campaign: Campaign,
  statement: CampaignStatement,
  member: MemberStatement,
  tx: Tx,
  account: Account,
  health: Health,
) {
  const escrow: string = campaign.escrow;
  const target: string = campaign.target;
  const reports: number = statement.reports.length;
  const lots: number = member.lots.length;
  const status: string = tx.receipt.status;
  const events: { type: string }[] = tx.receipt.events;
  const root: string = tx.block.header.stateRoot;
  const leaf: number = tx.proof.leafIndex;
  const balance: string = account.balances[0]!.balance;
  const state: 'ok' | 'degraded' | 'halted' = health.status;
  return { escrow, target, reports, lots, status, events, root, leaf, balance, state };
}
`;
    assert.deepEqual(typeErrors(dir, { 'api.ts': generated, 'uses.ts': uses }), []);
  });

  it('every route answers a declared schema: no answer is an object of anything', async () => {
    type Operation = {
      responses: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
    };
    type JsonSchema = {
      type?: string;
      properties?: object;
      items?: unknown;
      additionalProperties?: unknown;
      anyOf?: unknown;
    };
    const document = (await test.client.openApi()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    // Not JSON records: the Prometheus text, the websocket, and the genesis document (sent as
    // stored so that a verifier hashes exactly what was committed).
    const untyped = new Set(['/metrics', '/v1/events', '/v1/genesis']);
    const loose: string[] = [];
    let checked = 0;
    for (const [route, operations] of Object.entries(document.paths)) {
      if (untyped.has(route)) continue;
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (!status.startsWith('2')) continue;
          const schema = response.content?.['application/json']?.schema;
          checked += 1;
          const typed =
            schema !== undefined &&
            (schema.properties !== undefined || schema.anyOf !== undefined) &&
            schema.additionalProperties !== true;
          if (!typed) loose.push(`${method.toUpperCase()} ${route} ${status}`);
        }
      }
    }
    assert.ok(checked > 30, `only ${checked} answers checked`);
    assert.deepEqual(loose, []);
  });

  it('refuses wrong uses: the types are not any', () => {
    const wrong = `import type { paths } from './api';
type Tx = ${answer('/v1/txs/{hash}')};
type Account = ${answer('/v1/accounts/{address}')};
type Campaign = ${answer('/v1/campaigns/{id}')};
export function read(tx: Tx, account: Account, campaign: Campaign) {
  const status: number = tx.receipt.status;
  const nonce: string = account.nonce;
  const nothing = campaign.noSuchField;
  return { status, nonce, nothing };
}
`;
    const errors = typeErrors(dir, { 'api.ts': generated, 'wrong.ts': wrong });
    assert.equal(errors.length, 3, errors.join('\n'));
    assert.ok(errors.every((error) => error.startsWith('wrong.ts: ')));
  });
});
