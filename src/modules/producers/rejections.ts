/** Rejections of the registry, in the precedence the handlers check them. */
export const producerRejections = {
  invalid_public_key:
    'publicKey must be 64 lowercase hex digits of a point in the prime-order subgroup.',
  invalid_hidden_info:
    'hiddenInfo must be lowercase hex of an encrypted identity, within size limits.',
  invalid_commitment: 'commitment must be 64 lowercase hex digits.',
  invalid_nonce_range:
    'nonces must be {fromHeight, count, root} with count at least 1 and a hex root.',
  invalid_producer: 'producer must be a producer id (the address of its accountable key).',
  registry_not_initialized: 'This chain has no producer registry in its genesis.',
  producer_exists: 'A producer with this public key is already registered.',
  too_many_producers: 'The producer registry is full.',
  bond_too_low: 'The bond is below the minimum, or not in the bond asset.',
  producer_not_found: 'No producer has this id.',
  not_producer_operator: 'Only the account that registered the producer may do this.',
  producer_not_active:
    'The producer is not active (pending, jailed, unbonding or unbonded); a pending producer is taken back with producer.withdraw.',
  producer_not_pending:
    'Only a pending producer (registered, not yet approved) can be approved or withdrawn.',
  not_validator_operator:
    'Only the operator of an active producer (a validator) may approve a producer.',
  approval_duplicate: 'This validator operator has already approved this producer.',
  active_set_full: 'The active producer set holds as many producers as the chain allows.',
  producer_not_jailed: 'The producer is not jailed.',
  jailed_for_equivocation:
    'The producer was jailed for equivocating: its bond is slashed and it never returns.',
  jail_not_expired: 'The producer is jailed for downtime until its release height.',
  no_bond_owed: "No refused bond return is owed to this producer's operator.",
  nonce_range_in_past: 'A nonce range must start above the current height.',
  nonce_range_not_contiguous: 'A nonce range must start where the last committed range ends.',
  nonce_range_too_large: 'A nonce range holds more heights than the chain allows.',
  too_many_nonce_ranges: 'The producer has committed as many ranges ahead as the chain allows.',
  invalid_evidence:
    'Evidence must be two headers of one chain, producer and height, with different hashes, each with its {height, R, s} signature.',
  evidence_wrong_chain: 'The evidence headers belong to another chain.',
  evidence_bad_signature: 'A signature in the evidence does not verify for its header.',
  evidence_too_old: 'The evidence is about a height older than the evidence window.',
  evidence_duplicate: 'This producer was already slashed for equivocating at this height.',
  producer_already_jailed:
    'This producer is already jailed for an earlier equivocation; its bond is slashed and its information revealed.',
  evidence_no_secret:
    'The two signatures do not share a nonce, so they reveal nothing (and one of them is not a valid block signature).',
} as const;
