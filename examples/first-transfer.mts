// Your first transfer with the SDK (README, "Your first transfer"). From the repository root,
// while a node runs: npx tsx examples/first-transfer.mts [NODE_URL] [DATA_DIR]
// (defaults http://127.0.0.1:7420 and .coffer, where `npm start` keeps the dev account's key).
import fs from 'node:fs';
import path from 'node:path';
import { createClient, generateKey, importKey, txs } from '../src/sdk/index.js';

const [nodeUrl = 'http://127.0.0.1:7420', dataDir = '.coffer'] = process.argv.slice(2);
const client = createClient(nodeUrl);
const devAccount = fs.readFileSync(path.join(dataDir, 'dev-account.json'), 'utf8');
const dev = importKey((JSON.parse(devAccount) as { secretKey: string }).secretKey);
const alice = generateKey();

// Amounts are strings of minor units: 7450 is 74.50 USD.
const receipt = await client.send(
  dev,
  txs.transfer({ to: alice.address, asset: 'USD', amount: '7450' }),
);
console.log(receipt); // { hash, status: 'ok', height, index }
console.log(await client.getAccount(alice.address)); // balance "7450", formatted "74.50"
console.log(await client.getTx(receipt.hash)); // tx, receipt, block header and Merkle proof
