/*
 * The conversion graph: asset nodes (an asset on an ecosystem, with its decimals) and directed
 * pairs between them, each with its spread, fees and input limits. A route is a path of pairs.
 */
import { amountMax, decimalsMax } from '../../../ledger/amount.js';
import type { AssetNode } from './rates.js';

export type { AssetNode } from './rates.js';

/** A node with the decimals of its asset: 1 unit is 10^decimals minor units. */
export interface AssetInfo extends AssetNode {
  readonly decimals: number;
}

/** A directed pair: the engine converts `from` into `to` at the mid rate less its spread, less fees. */
export interface Pair {
  readonly from: AssetNode;
  readonly to: AssetNode;
  /** Taken off the mid rate: the hop's rate is mid × (10000 − spreadBps) / 10000. 0 to 9999. */
  readonly spreadBps: number;
  /** Of the hop's converted (gross) output, rounded up. 0 to 9999. */
  readonly feeBps: number;
  /** Minor units of the OUTPUT asset, added to the basis-point fee. */
  readonly feeFixed: bigint;
  /** The least input the pair converts, minor units of the input asset. */
  readonly min: bigint;
  /** The most input the pair converts, minor units of the input asset. */
  readonly max: bigint;
  readonly enabled: boolean;
}

export interface Graph {
  readonly nodes: readonly AssetInfo[];
  readonly pairs: readonly Pair[];
}

/** A path through the graph: `nodes[i]` to `nodes[i + 1]` by `pairs[i]`. */
export interface Route {
  readonly nodes: readonly AssetInfo[];
  readonly pairs: readonly Pair[];
}

/**
 * Bounds that keep a route search cheap: at most 256 pairs and 4 hops. A search prices every
 * simple path; with no two pairs between the same nodes that is at most a few thousand paths.
 */
export const graphPairsMax = 256;
export const graphNodesMax = 256;
/** Basis points are below 10000: a 100% spread or fee leaves nothing to convert. */
export const bpsMax = 9999;

const ecosystemPattern = /^[a-z0-9][a-z0-9-]{0,31}$/;
const assetPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

/** "ecosystem:asset", the node's identity (neither part holds a colon). */
export function nodeKey(node: AssetNode): string {
  return `${node.ecosystem}:${node.asset}`;
}

export function sameNode(a: AssetNode, b: AssetNode): boolean {
  return a.ecosystem === b.ecosystem && a.asset === b.asset;
}

export const graphRefusals = {
  graph_too_large: `A graph has at most ${graphNodesMax} nodes and ${graphPairsMax} pairs.`,
  node_invalid:
    'A node is {ecosystem: lowercase letters, digits and "-", asset: letters, digits, ".", "_" and "-", decimals: 0 to 18}.',
  node_duplicate: 'A node is listed once.',
  pair_invalid:
    'A pair has spreadBps and feeBps from 0 to 9999, feeFixed from 0, and 0 <= min <= max within the amount limit.',
  pair_node_unknown: "A pair's from and to are listed nodes, and differ.",
  pair_duplicate: 'The graph has one pair per direction between two nodes.',
} as const;

export type GraphRefusal = keyof typeof graphRefusals;

export type GraphCheck =
  { ok: true } | { ok: false; code: GraphRefusal; message: string; field: string };

function refuseGraph(code: GraphRefusal, field: string): GraphCheck {
  return { ok: false, code, message: graphRefusals[code], field };
}

function isBps(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= bpsMax;
}

function isAmount(value: unknown): value is bigint {
  return typeof value === 'bigint' && value >= 0n && value <= amountMax;
}

/** Checks a graph's nodes and pairs; `field` names the first bad one ("nodes[2]", "pairs[0]"). */
export function checkGraph(graph: Graph): GraphCheck {
  if (graph.nodes.length > graphNodesMax || graph.pairs.length > graphPairsMax) {
    return refuseGraph('graph_too_large', graph.nodes.length > graphNodesMax ? 'nodes' : 'pairs');
  }
  const keys = new Set<string>();
  for (const [index, node] of graph.nodes.entries()) {
    if (
      !ecosystemPattern.test(node.ecosystem) ||
      !assetPattern.test(node.asset) ||
      !Number.isInteger(node.decimals) ||
      node.decimals < 0 ||
      node.decimals > decimalsMax
    ) {
      return refuseGraph('node_invalid', `nodes[${index}]`);
    }
    if (keys.has(nodeKey(node))) return refuseGraph('node_duplicate', `nodes[${index}]`);
    keys.add(nodeKey(node));
  }
  const edges = new Set<string>();
  for (const [index, pair] of graph.pairs.entries()) {
    if (
      !isBps(pair.spreadBps) ||
      !isBps(pair.feeBps) ||
      !isAmount(pair.feeFixed) ||
      !isAmount(pair.min) ||
      !isAmount(pair.max) ||
      pair.min > pair.max ||
      typeof pair.enabled !== 'boolean'
    ) {
      return refuseGraph('pair_invalid', `pairs[${index}]`);
    }
    const from = nodeKey(pair.from);
    const to = nodeKey(pair.to);
    if (!keys.has(from) || !keys.has(to) || from === to) {
      return refuseGraph('pair_node_unknown', `pairs[${index}]`);
    }
    const edge = `${from}>${to}`;
    if (edges.has(edge)) return refuseGraph('pair_duplicate', `pairs[${index}]`);
    edges.add(edge);
  }
  return { ok: true };
}
