#!/usr/bin/env node
// `npm run bench`: build the node, then run the throughput benchmark against it.
// `npm run bench -- cluster`: the same build, then the 3-validator cluster benchmark instead.
// `npm run bench -- flood`: the same build, then honest throughput under a gap flood (issue 13).
// `npm run bench -- index`: the same build, then per-tx cost of index-heavy txs at 1,000 and 20,000
// index entries (issue 13).
// `npm run bench -- tokens`: the same build, then token provisions and lifecycle events per second
// through the API against transfers in the same run (issue 17).
// `npm run bench -- cards`: the same build, then card authorisations per second through the API and
// their latency at half load, against transfers in the same run (issue 18).
// `npm run bench -- conversion`: the same build, then forwards per second between two Coffer chains
// through the bridge and quote latency, against hold txs and GET /health in the same run (issue 19).
// `npm run bench -- iot`: the same build, then IoT bills per second end to end over MQTT against
// MQTT QoS 1 round trips and committed transfers in the same run (issue 20).
// `npm run bench -- licensing`: the same build, then authorised range requests per second through
// the content gateway against a bare Fastify route over the clear file in the same run (issue 21).
// `npm run bench -- scholarship`: the same build, then questions and answers per second (stamp
// checks included) against transfers in the same run, and the median stamp cost at the default
// difficulty against one stamp check (issue 22).
// `npm run bench -- printing [CASE ...]`: the same build, then the 3D printing cases of issue 23
// (bench/printing.ts): G-code lines per second through the serial streamer to the virtual
// printer, clean and noisy, against raw bytes through the same pty (printing-stream), and the
// print server's concurrent print streams against a bare mTLS server (printing-streams).
// `npm run bench -- restart`: the same build, then the time the node takes to serve /health when it
// resumes a chain of 1,000,000 committed txs, against a fresh chain in the same run (issue 24).
// `npm run bench -- admission`: the same build, then the main thread's own CPU time per tx of
// node.submit (decoding, checks, admission), in process; BENCH_ADMISSION_ROOT=<checkout> measures
// another checkout the same way (issue 24, item 1).
// `npm run bench -- execute`: the same build, then µs per transfer (wall and CPU) of executing
// and committing blocks of 4,000 transfers over 100,000 accounts in process (issue 24, item 3).
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const benches = {
  admission: 'bench/admission.ts',
  cards: 'bench/cards.ts',
  cluster: 'bench/cluster.ts',
  conversion: 'bench/conversion.ts',
  execute: 'bench/execute.ts',
  flood: 'bench/flood.ts',
  index: 'bench/index-growth.ts',
  iot: 'bench/iot.ts',
  licensing: 'bench/licensing.ts',
  printing: 'bench/printing.ts',
  restart: 'bench/restart.ts',
  scholarship: 'bench/scholarship.ts',
  tokens: 'bench/tokens.ts',
};
const [first, ...rest] = process.argv.slice(2);
const script = first !== undefined && Object.hasOwn(benches, first) ? benches[first] : undefined;
execFileSync(
  process.execPath,
  [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  { cwd: root, stdio: 'inherit' },
);
const result = spawnSync(
  process.execPath,
  script
    ? ['--import', 'tsx', script, ...rest]
    : ['--import', 'tsx', 'bench/throughput.ts', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
