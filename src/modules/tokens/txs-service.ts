import type { StateReader } from '../../state/index.js';
import { readValidatorSet } from '../producers/index.js';

/**
 * True when the sender is a validator operator: the token service provider (the consortium). Any
 * one operator configures the service and registers participants; only an operator's node relays
 * provisions, PAN updates and detokenisations.
 */
export function isTokenService(ctx: { state: StateReader; sender: string }): boolean {
  return readValidatorSet(ctx.state).operators.has(ctx.sender);
}
