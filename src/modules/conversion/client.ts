import type { ClientCore } from '../../sdk/client.js';
import type { ConversionPayload, EngineConfiguration, EnginePage, PairSide } from './schema.js';

export * from './schema.js';

/*
 * The conversion registry from a client's side: builders of the txs an engine's operator signs
 * (each acts on the signer's own engine) and the reads of the registry. Pure (the schema and the
 * SDK core), so it runs in browsers.
 */

/** The registry's txs as `{type, payload}` for `signTx`; the sender is the engine's operator. */
export const conversionTxBuilders = {
  engineSet: (payload: ConversionPayload<'conversion.setEngine'>) => ({
    type: 'conversion.setEngine',
    payload,
  }),
  ecosystemSet: (payload: ConversionPayload<'conversion.setEcosystem'>) => ({
    type: 'conversion.setEcosystem',
    payload,
  }),
  ecosystemRemove: (ecosystem: string) => ({
    type: 'conversion.removeEcosystem',
    payload: { ecosystem },
  }),
  assetSet: (payload: ConversionPayload<'conversion.setAsset'>) => ({
    type: 'conversion.setAsset',
    payload,
  }),
  assetRemove: (ecosystem: string, asset: string) => ({
    type: 'conversion.removeAsset',
    payload: { ecosystem, asset },
  }),
  pairSet: (payload: ConversionPayload<'conversion.setPair'>) => ({
    type: 'conversion.setPair',
    payload,
  }),
  pairRemove: (from: PairSide, to: PairSide) => ({
    type: 'conversion.removePair',
    payload: { from, to },
  }),
};

/** The conversion namespace of a client: the registry's reads and its tx builders. */
export function conversionClient(core: ClientCore) {
  const { request, segment, search } = core;
  return {
    conversion: {
      /** An engine's whole configuration: settings, ecosystems, assets, pairs. */
      engine: (address: string) =>
        request<EngineConfiguration>('GET', `/v1/conversion/engines/${segment(address)}`),
      /** Engines in address order, a page at a time (pass the answer's `next` as `after`). */
      engines: (query: { after?: string; limit?: number } = {}) =>
        request<EnginePage>('GET', `/v1/conversion/engines${search(query)}`),
      ...conversionTxBuilders,
    },
  };
}
