import type { ClientCore } from '../../sdk/client.js';
import type {
  EquivocationEvidence,
  EvidenceResult,
  NonceRangeHistory,
  Producer,
  ProducerList,
} from '../../sdk/producers.js';

/** The producer registry's reads and evidence reports, on the client's top level. */
export function producersClient(core: ClientCore) {
  const { request, segment } = core;
  return {
    /** Every registered producer, sorted by id. */
    listProducers: () => request<ProducerList>('GET', '/v1/producers'),
    /** One producer; with `equivocation` (and the revealed info) once it was jailed. */
    getProducer: (id: string) => request<Producer>('GET', `/v1/producers/${segment(id)}`),
    /**
     * A producer's committed nonce ranges from height `from` on (all of them, pruned or not), with
     * the tx and height that committed each; at most 1,000 a call (`more` says there are others).
     */
    getNonceRanges: (id: string, from = 0) =>
      request<NonceRangeHistory>(
        'GET',
        `/v1/producers/${segment(id)}/nonce-ranges?from=${segment(from)}`,
      ),
    /**
     * Reports two headers one producer signed at one height. The node checks them, reveals the
     * producer's identity information and commits an `evidence.equivocation` tx signed by its own
     * account; it answers once that tx is in a block, or throws the rejection
     * (`evidence_duplicate`, `invalid_evidence`, `evidence_too_old`, ...).
     */
    submitEvidence: (evidence: EquivocationEvidence) =>
      request<EvidenceResult>('POST', '/v1/evidence', evidence),
  };
}

/** What the SDK publishes of this module (src/sdk/index.ts exports it through ../clients.ts). */
export * from '../../sdk/producers.js';
