/**
 * Every way the module refuses a tx, with the sentence a person reads, in the precedence the
 * handlers check them: payload (stateless, at admission and again at execution), then existence,
 * then authority, then the campaign's state, then the ledger's own codes (`insufficient_funds`,
 * `account_frozen`) for the money that moves.
 */
export const crowdfundRejections = {
  invalid_campaign_id: 'campaignId must be the 16 lowercase hex digits of a campaign id.',
  invalid_title: 'title must be 1 to 120 bytes of text.',
  invalid_schedule_point:
    'A schedule point is {height} (a whole number from 1) or {time} (Unix milliseconds, block time).',
  invalid_cancel_window:
    'cancelWindow is a whole number from 0, in the unit of the deadline (blocks or milliseconds).',
  invalid_early_close: 'earlyClose must be true or false.',
  invalid_platform_fee:
    'platformFee must be null or {basisPoints (1 to 10000), to (a Coffer address)}.',
  invalid_reporters: 'reporters must be 1 to 10 distinct Coffer addresses.',
  invalid_distribution:
    'distribution must be {tranches: [{name, shareBasisPoints, cap?, recipients}]}, with names of 1 to 40 bytes and no other fields.',
  invalid_tranche_count: 'A distribution has 1 to 8 tranches.',
  invalid_tranche_share: 'A tranche takes 1 to 10000 basis points of what remains.',
  invalid_tranche_cap:
    'A cap is {principalBasisPoints} (1 to 1000000, a share of total principal) or {amount} (a positive amount of minor units).',
  invalid_tranche_recipients:
    'A tranche has 1 to 8 recipients: {kind: "investors"}, {kind: "producer"} or {kind: "account", address}, each at most once.',
  invalid_tranche_weights:
    "Each recipient's weightBasisPoints is 1 to 10000 and a tranche's weights sum to 10000.",
  distribution_leaves_remainder:
    'The last tranche must take all that remains (shareBasisPoints 10000, no cap), so no revenue is unassigned.',
  unreachable_tranche:
    'A tranche that takes all that remains, uncapped, must be the last: the tranches after it would never receive anything.',
  invalid_amendment:
    'terms must name at least one of the amendable terms, each valid as at creation.',
  invalid_report_id: 'reportId must be 1 to 64 characters: A-Z, a-z, 0-9, "-" and "_".',
  invalid_period:
    'periodStart and periodEnd are Unix milliseconds with periodStart before periodEnd.',
  invalid_investment_limits: 'minInvestment must not exceed maxInvestment.',
  invalid_schedule:
    'opensAt and deadline must be on the same clock, with opensAt before the deadline, the deadline not yet reached and at most 10,000,000 blocks or 3,650 days ahead, and cancelWindow no longer than the campaign.',
  invalid_reconfirm_by:
    'reconfirmBy is required once anyone has invested: a point on the deadline clock, not yet reached, before the deadline.',
  invalid_recipient: 'The escrow of the campaign cannot receive a fee or a tranche.',
  campaign_exists: 'A campaign with this id already exists.',
  campaign_not_found: 'No campaign has this id.',
  not_producer: 'Only the producer of the campaign may do this.',
  not_reporter: 'Only an authorised reporter of the campaign may report its revenue.',
  campaign_not_funding: 'The campaign is no longer taking investments or amendments.',
  campaign_not_open: 'The campaign opens to investments later.',
  deadline_passed: 'The deadline has been reached; the campaign is being closed.',
  reconfirmation_open: 'Investors are still reconfirming an earlier amendment.',
  investment_below_minimum: "The investor's total would be below the minimum investment.",
  investment_above_maximum: "The investor's total would be above the maximum investment.",
  too_many_investors: 'The campaign has as many investors as a campaign may have (1,000).',
  position_not_found: 'This account has no investment in the campaign.',
  cancel_window_closed: 'Investments can no longer be cancelled: the deadline is too close.',
  nothing_to_reconfirm: 'This investor has no amendment to reconfirm.',
  reconfirmation_closed:
    'The reconfirmation deadline has been reached; investors who did not reconfirm are refunded.',
  position_outside_terms:
    "The investor's total is outside the amended minimum and maximum; invest to reach the minimum, or cancel.",
  campaign_not_closed:
    'The campaign has reached its target but has not closed: its deadline has not passed, and revenue is reported only after it.',
  campaign_not_succeeded: 'Revenue is reported only for a campaign that reached its target.',
  duplicate_report: 'A report with this reportId was already applied to the campaign.',
  too_many_reports: 'The campaign has as many revenue reports as a campaign may have (1,000).',
  revenue_too_large: 'The cumulative revenue would exceed the largest amount Coffer carries.',
  no_investors: 'The campaign has no investors to split revenue among.',
  nothing_to_claim: 'The campaign owes this account nothing that a block could not pay.',
} as const;

export type CrowdfundRejection = keyof typeof crowdfundRejections;
