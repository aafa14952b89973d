/**
 * Rejections of the scholarship module's txs (issue 22), with the sentence a person reads. Codes
 * shared with the ledger (`invalid_amount`, `asset_not_found`, `insufficient_funds`,
 * `account_frozen`) keep the ledger's messages. The pools helper's codes are in pools.ts.
 */
export const scholarshipRejections = {
  invalid_profile_name:
    'name must be 1 to 80 characters without control characters or bidirectional overrides.',
  invalid_profile_roles: 'roles must be 1 to 3 distinct of student, tutor, mentor.',
  invalid_subjects: 'subjects must be at most 8 distinct subject ids of the taxonomy.',
  subject_unknown: 'subject must be a subject id of the taxonomy (GET /v1/scholarship/subjects).',
  invalid_question_title: 'title must be 1 to 200 characters without control characters.',
  invalid_body_hash: "bodyHash must be the 64 lowercase hex digits of the body's SHA-256.",
  invalid_reward: 'reward must be {asset, amount}: an asset symbol and positive minor units.',
  invalid_tip_budget:
    'tipBudget must be positive minor units of the reward asset, with tipUnit, and at most 256 tip units.',
  invalid_tip_unit:
    'tipUnit must be positive minor units, given with tipBudget, at most tipBudget.',
  invalid_deadline: "deadline must be from 1 hour to 30 days after the block's time (Unix ms).",
  invalid_answers_max: 'answersMax must be a whole number from 1 to 20.',
  invalid_auto_award: "autoAward must be 'votes' or 'refund' (the default).",
  invalid_answer_min_accepted: 'answerMinAccepted must be a whole number from 0 to 100.',
  invalid_stamp:
    'stamp must be {nonce: 1 to 32 lowercase hex digits, blockHash: 64 lowercase hex digits}.',
  stamp_too_weak:
    'The stamp has fewer leading zero bits than the admission floor (8): mint it again.',
  stamp_block_unknown:
    'The stamp names a block that is not one of the last 64: mint it on a recent block hash (GET /v1/scholarship/difficulty).',
  stamp_replayed: 'This stamp was used already: mint a new one.',
  stamp_below_difficulty:
    'The stamp has fewer leading zero bits than this sender needs in this subject now (GET /v1/scholarship/difficulty).',
  invalid_question_id: 'A question id is the 64 lowercase hex digits of its question.ask tx hash.',
  invalid_answer_id: 'An answer id is the 64 lowercase hex digits of its question.answer tx hash.',
  invalid_awards: 'awards must be 1 to 20 of {answerId, weight 1..10000} with distinct answer ids.',
  invalid_award_weight: 'weight must be a whole number from 1 to 10000.',
  question_not_found: 'No question has this id.',
  answer_not_found: 'This question has no answer with this id.',
  question_closed: 'The question is awarded or refunded already.',
  question_deadline_passed:
    "The question's deadline has passed: it takes no more answers or dismissals.",
  not_tutor:
    "Only a profile with the tutor role that lists the question's subject (or its field) may do this.",
  own_question: 'The asker cannot answer or vote on its own question.',
  already_answered: 'This tutor has answered this question already (one answer each).',
  answers_full:
    'The question has all the live answers it takes (answersMax): the asker may dismiss one to free its slot.',
  reputation_required:
    'Not enough reputation in the subject: distinct askers must have accepted your answers (2 to vote, answerMinAccepted to answer this question).',
  answer_dismissed: 'The asker dismissed this answer: it cannot be awarded, voted or upvoted.',
  not_asker: 'Only the asker may award a question or dismiss its answers.',
  dismissals_full: 'The asker has dismissed 64 answers of this question: it dismisses no more.',
  grace_over:
    'The grace after the deadline is over: a question that auto-awards by votes is no longer awarded by its asker; anyone closes it (question.close).',
  voting_not_open:
    'Votes are taken after the deadline and before the grace (24 hours) after it is over.',
  already_voted: 'This tutor has voted on this question already (one vote each).',
  votes_full: 'The question has all the votes it takes (64).',
  auto_award_off:
    "The asker chose a refund at close (autoAward 'refund'): this question takes no votes.",
  answer_not_endorsed:
    'Votes go only to answers the asker endorsed (upvoted): the asker has not upvoted this one.',
  own_answer: "An answer's author cannot vote for or upvote its own answer.",
  profile_required:
    'Only the asker or an account with a profile may upvote (scholar.profile first).',
  already_upvoted: 'This profile has upvoted this answer already.',
  upvotes_full: "The answer has all the upvotes it takes (256, besides the asker's).",
  grace_not_over: 'A question closes only once the grace (24 hours) after its deadline is over.',
  nothing_held: 'This question holds nothing for this account.',
} as const;

export type ScholarshipRejection =
  | keyof typeof scholarshipRejections
  | 'asset_not_found'
  | 'invalid_amount'
  | 'insufficient_funds'
  | 'account_frozen';
