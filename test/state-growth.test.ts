// No state value grows without bound under user txs (issue 13, "indexes that grow with their
// entries, not their square"): for each module, a loop of its txs drawn at random from funded
// accounts and fresh ones that hold nothing, then the largest value of each kind of key after N and after 4N txs. A kind
// of key bounded by a module limit is declared below with that limit; any other must stay a record
// of fixed fields (see test/support/state-growth.ts for the rule). A failure names the key.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import {
  ledgerModule,
  ModuleRegistry,
  type ChainModule,
  type Genesis,
} from '../src/chain/index.js';
import { encryptHiddenInfo, toHex } from '../src/crypto/index.js';
import { holdsPerAccountMax } from '../src/ledger/index.js';
import {
  campaignIdOf,
  crowdfundModule,
  recipientsPerTrancheMax,
  reportersMax,
  tranchesMax,
} from '../src/modules/crowdfund/index.js';
import { producersModule, type ProducersGenesis } from '../src/modules/producers/index.js';
import {
  coordinatorsMax,
  getTimebank,
  hashUserId,
  lotsPerMemberMax,
  timecreditsModule,
} from '../src/modules/timecredits/index.js';
import { TestBlockSigner } from './support/block-signer.js';
import { ModuleTestHarness, testAccount, type TestAccount } from './support/module-chain.js';
import { Prng } from './support/prng.js';
import {
  Accounts,
  growthProblems,
  largestByShape,
  runUserLoop,
  type DeclaredBound,
  type DrawnTx,
  type UserLoop,
} from './support/state-growth.js';

const chainId = 'coffer-growth';
const harnesses: ModuleTestHarness[] = [];
after(() => {
  for (const harness of harnesses) harness.close();
});

function harnessOf(name: string, modules: ChainModule[]): ModuleTestHarness {
  const harness = new ModuleTestHarness({
    name: `growth-${name}`,
    chainId,
    registry: new ModuleRegistry([ledgerModule, ...modules]),
  });
  harnesses.push(harness);
  return harness;
}

/** N: the first measure; the second is after 4N. */
const txsN = 400;
const blockTxs = 20;

/** An address in a JSON list: 62 characters, its quotes and a comma. */
const listedAddressBytes = 65;
/** A tx hash (a hold id) in a JSON list. */
const listedHashBytes = 67;

/**
 * Kinds of key whose value holds a list bounded by a module limit, with that bound. The fixed
 * part of each record is counted generously as 2 KiB.
 */
const declared: DeclaredBound[] = [
  {
    shape: 'ledger/account/*1',
    bytesMax: holdsPerAccountMax * listedHashBytes + 2_048,
    why: 'an account lists its open holds, at most holdsPerAccountMax',
  },
  {
    shape: 'timecredits/member/*2',
    bytesMax: lotsPerMemberMax * 17 + 2_048,
    why: 'a member lists its lots, at most lotsPerMemberMax',
  },
  {
    shape: 'timecredits/bank/*1',
    bytesMax: coordinatorsMax * listedAddressBytes + 2_048,
    why: 'a bank lists its coordinators, at most coordinatorsMax',
  },
  {
    shape: 'crowdfund/campaign/*1',
    bytesMax: (tranchesMax * recipientsPerTrancheMax + reportersMax) * 140 + 2_048,
    why: 'a campaign holds its rule (tranchesMax x recipientsPerTrancheMax) and reporters',
  },
  {
    shape: 'crowdfund/report/*2',
    bytesMax: tranchesMax * recipientsPerTrancheMax * 160 + tranchesMax * 160 + 2_048,
    why: "a report lists the producer's and fixed accounts' lines and each tranche",
  },
];

interface GrowthCase {
  harness: ModuleTestHarness;
  genesis: Genesis;
  loop: () => UserLoop;
  prefixes: string[];
  blockIntervalMs: number;
}

/** Runs the loop to N and to 4N txs from `seed` and returns what breaks the bounds. */
function measure(growth: GrowthCase, seed: number): string[] {
  const node = growth.harness.open(growth.genesis);
  const rng = new Prng(seed);
  const loop = growth.loop();
  const options = { blockTxs, blockIntervalMs: growth.blockIntervalMs };
  const first = runUserLoop(node, loop, rng, { ...options, txs: txsN });
  const atN = largestByShape(node.store, growth.prefixes);
  const rest = runUserLoop(node, loop, rng, { ...options, txs: 3 * txsN });
  const at4N = largestByShape(node.store, growth.prefixes);
  // A loop whose txs all fail grows nothing and proves nothing.
  const succeeded = first.succeeded + rest.succeeded;
  assert.ok(succeeded >= txsN, `only ${succeeded} of ${4 * txsN} txs succeeded`);
  return growthProblems(atN, at4N, declared);
}

/**
 * The loop from a fixed seed (a seeded run replays exactly: the message names the seed); the
 * draws are random, the check is deterministic.
 */
function checkGrowth(growth: GrowthCase, seed: number): void {
  const problems = measure(growth, seed);
  assert.deepEqual(problems, [], `seed ${seed}:\n${problems.join('\n')}`);
}

// ---- the ledger ------------------------------------------------------------------------------

const usdIssuer = testAccount(200);

function fundedGenesis(harness: ModuleTestHarness, accounts: Accounts, extra = {}): Genesis {
  return harness.genesis({
    assets: [{ symbol: 'USD', decimals: 2, issuer: usdIssuer.address }],
    balances: accounts.funded.map((a) => ({
      address: a.address,
      asset: 'USD',
      amount: '10000000',
    })),
    ...extra,
  });
}

/** Heights far ahead that many holds share: a per-height list would grow with the txs. */
const farHeights = [1_000_000, 1_000_001, 1_000_002];

function ledgerLoop(accounts: Accounts): UserLoop {
  const assets: { symbol: string; issuer: TestAccount }[] = [{ symbol: 'USD', issuer: usdIssuer }];
  const holds: { id: string; payee: TestAccount }[] = [];
  let symbols = 0;
  return {
    draw(rng, node): DrawnTx {
      const height = node.chain.height();
      const asset = rng.pick(assets);
      switch (rng.int(0, 9)) {
        case 0:
        case 1:
        case 2:
          return {
            sender: accounts.any(rng),
            type: 'ledger.transfer',
            payload: {
              to: accounts.any(rng).address,
              asset: asset.symbol,
              amount: String(rng.int(1, 1_000)),
            },
          };
        case 3:
        case 4: {
          const payee = accounts.any(rng);
          const expiresAtHeight = rng.chance(0.5) ? rng.pick(farHeights) : height + rng.int(2, 40);
          return {
            sender: accounts.any(rng),
            type: 'hold.create',
            payload: {
              to: payee.address,
              asset: 'USD',
              amount: String(rng.int(1, 100)),
              expiresAtHeight,
            },
          };
        }
        case 5: {
          // Half the time: payees settle fewer holds than payers open.
          if (holds.length === 0 || rng.chance(0.5)) break;
          const hold = holds.splice(rng.int(0, holds.length - 1), 1)[0]!;
          return rng.chance(0.5)
            ? { sender: hold.payee, type: 'hold.post', payload: { holdId: hold.id } }
            : { sender: hold.payee, type: 'hold.void', payload: { holdId: hold.id } };
        }
        case 6:
          symbols += 1;
          return {
            sender: accounts.any(rng),
            type: 'asset.create',
            payload: { symbol: `X${symbols}`, decimals: rng.int(0, 6) },
          };
        case 7:
          return {
            sender: asset.issuer,
            type: 'asset.mint',
            payload: {
              symbol: asset.symbol,
              to: accounts.any(rng).address,
              amount: String(rng.int(1, 1_000_000)),
            },
          };
        default:
          return {
            sender: asset.issuer,
            type: rng.chance(0.5) ? 'asset.freeze' : 'asset.unfreeze',
            payload: { symbol: asset.symbol, account: accounts.any(rng).address },
          };
      }
      return {
        sender: accounts.any(rng),
        type: 'ledger.transfer',
        payload: { to: accounts.any(rng).address, asset: 'USD', amount: '1' },
      };
    },
    observe(block, txs) {
      for (const [i, tx] of txs.entries()) {
        if (block.receipts[i]!.status !== 'ok') continue;
        if (tx.type === 'hold.create') {
          const payee = accounts.byAddress(tx.payload.to as string);
          if (payee) holds.push({ id: block.txs[i]!.hash, payee });
        } else if (tx.type === 'asset.create') {
          assets.push({ symbol: tx.payload.symbol as string, issuer: tx.sender });
        }
      }
    },
  };
}

// ---- timecredits -----------------------------------------------------------------------------

function timecreditsLoop(accounts: Accounts): UserLoop {
  const coordinators = accounts.funded.slice(0, 2);
  interface Bank {
    id: string;
    salt: string;
    coordinators: TestAccount[];
    members: TestAccount[];
    pending: TestAccount[];
  }
  const banks: Bank[] = [];
  const exchanges: { bank: Bank; number: number; provider: TestAccount; recipient: TestAccount }[] =
    [];
  let requests = 0;
  let users = 0;
  let setupStep = 0;
  const member = (rng: Prng, bank: Bank) =>
    bank.members.length > 0 ? rng.pick(bank.members) : bank.coordinators[0]!;
  return {
    draw(rng): DrawnTx {
      // First the two banks; then each coordinator applies to its own (and approves itself later).
      if (setupStep >= 2 && setupStep < 4 && banks.length === 2) {
        const bank = banks[setupStep - 2]!;
        setupStep += 1;
        users += 1;
        const coordinator = bank.coordinators[0]!;
        return {
          sender: coordinator,
          type: 'timebank.addMember',
          payload: { bankId: bank.id, userIdHash: hashUserId(bank.salt, `user-${users}`) },
        };
      }
      if (setupStep < 2) {
        const coordinator = coordinators[setupStep]!;
        setupStep += 1;
        return {
          sender: coordinator,
          type: 'timebank.create',
          payload: {
            name: `Bank ${setupStep}`,
            coordinators: [coordinator.address],
            policy:
              setupStep === 1
                ? { kind: 'expiry', expiryDays: 2, noticeDays: 1 }
                : { kind: 'demurrage', ratePerPeriodBasisPoints: 500, periodDays: 1 },
            creditLimitMinutes: '600',
          },
        };
      }
      if (banks.length < 2)
        return {
          sender: accounts.any(rng),
          type: 'ledger.transfer',
          payload: { to: accounts.any(rng).address, asset: 'USD', amount: '1' },
        };
      const bank = rng.pick(banks);
      const coordinator = rng.pick(bank.coordinators);
      const other = banks.find((b) => b !== bank)!;
      switch (rng.int(0, 14)) {
        case 0:
        case 1: {
          users += 1;
          const account = accounts.any(rng, 0.5);
          const byCoordinator = rng.chance(0.6);
          return {
            sender: byCoordinator ? coordinator : account,
            type: 'timebank.addMember',
            payload: {
              bankId: bank.id,
              account: account.address,
              userIdHash: hashUserId(bank.salt, `user-${users}`),
            },
          };
        }
        case 2: {
          const applicant = bank.pending.pop();
          if (!applicant) break;
          return {
            sender: coordinator,
            type: rng.chance(0.8) ? 'timebank.approveMember' : 'timebank.rejectMember',
            payload: { bankId: bank.id, account: applicant.address },
          };
        }
        case 3:
        case 4:
          requests += 1;
          return {
            sender: coordinator,
            type: 'timecredits.issue',
            payload: {
              bankId: bank.id,
              account: member(rng, bank).address,
              minutes: String(rng.int(1, 600)),
              requestId: `r-${requests}`,
            },
          };
        case 5:
        case 6: {
          const provider = member(rng, bank);
          return {
            sender: provider,
            type: 'timecredits.recordExchange',
            payload: {
              bankId: bank.id,
              recipient: member(rng, bank).address,
              minutes: String(rng.int(1, 240)),
            },
          };
        }
        case 7:
        case 8: {
          if (exchanges.length === 0) break;
          const exchange = exchanges.splice(rng.int(0, exchanges.length - 1), 1)[0]!;
          return {
            sender: rng.chance(0.9) ? exchange.recipient : exchange.provider,
            type: 'timecredits.confirmExchange',
            payload: { bankId: exchange.bank.id, exchange: exchange.number },
          };
        }
        case 9: {
          const payees = [
            ...new Set(Array.from({ length: rng.int(1, 4) }, () => member(rng, bank))),
          ].filter((m) => m !== coordinator);
          if (payees.length === 0) break;
          return {
            sender: coordinator,
            type: 'timecredits.payMany',
            payload: {
              bankId: bank.id,
              payments: payees.map((p) => ({
                account: p.address,
                minutes: String(rng.int(1, 60)),
              })),
            },
          };
        }
        case 10:
          return {
            sender: member(rng, bank),
            type: rng.chance(0.7) ? 'timecredits.postListing' : 'timecredits.closeListing',
            payload: rng.chance(0.7)
              ? { bankId: bank.id, kind: 'offer', title: 'Help', category: 'garden', minutes: '60' }
              : { bankId: bank.id, listing: rng.int(0, 20) },
          };
        case 11: {
          const type = rng.pick([
            'timebank.proposeAlliance',
            'timebank.acceptAlliance',
            'timebank.endAlliance',
          ]);
          return {
            sender: coordinator,
            type,
            payload: { bankId: bank.id, partnerBankId: other.id },
          };
        }
        case 12:
          return {
            sender: member(rng, bank),
            type: 'timecredits.transferAcross',
            payload: {
              bankId: bank.id,
              toBankId: other.id,
              to: member(rng, other).address,
              minutes: String(rng.int(1, 60)),
            },
          };
        case 13:
          return {
            sender: coordinator,
            type: rng.chance(0.7) ? 'timebank.addCoordinator' : 'timebank.removeCoordinator',
            payload: { bankId: bank.id, account: accounts.any(rng, 0.5).address },
          };
        default:
          return {
            sender: coordinator,
            type: 'timebank.setPolicy',
            payload: {
              bankId: bank.id,
              policy: { kind: 'expiry', expiryDays: rng.int(1, 3), noticeDays: rng.int(0, 1) },
            },
          };
      }
      requests += 1;
      return {
        sender: coordinator,
        type: 'timecredits.issue',
        payload: {
          bankId: bank.id,
          account: member(rng, bank).address,
          minutes: '30',
          requestId: `r-${requests}`,
        },
      };
    },
    observe(block, txs, node) {
      for (const [i, tx] of txs.entries()) {
        if (block.receipts[i]!.status !== 'ok') continue;
        const payload = tx.payload as { bankId: string; account?: string; recipient?: string };
        const bank = banks.find((b) => b.id === payload.bankId);
        if (tx.type === 'timebank.create') {
          const id = block.txs[i]!.hash.slice(0, 16);
          banks.push({
            id,
            salt: getTimebank(node.store, id)!.salt,
            coordinators: [tx.sender],
            members: [],
            pending: [],
          });
          continue;
        }
        if (!bank) continue;
        if (tx.type === 'timebank.addMember') {
          const added =
            payload.account === undefined ? tx.sender : accounts.byAddress(payload.account);
          const approved = block.receipts[i]!.events.some((e) => e.data.status === 'approved');
          if (added && approved) bank.members.push(added);
          else if (added) bank.pending.push(added);
        } else if (tx.type === 'timebank.approveMember') {
          const approved = accounts.byAddress(payload.account!);
          if (approved) bank.members.push(approved);
        } else if (tx.type === 'timecredits.recordExchange') {
          const recipient = bank.members.find((m) => m.address === payload.recipient);
          const number = block.receipts[i]!.events[0]!.data.exchange as number;
          if (recipient) exchanges.push({ bank, number, provider: tx.sender, recipient });
        } else if (tx.type === 'timebank.addCoordinator') {
          const added = accounts.byAddress(payload.account!);
          if (added) bank.coordinators.push(added);
        }
      }
    },
  };
}

// ---- crowdfund -------------------------------------------------------------------------------

function crowdfundLoop(accounts: Accounts): UserLoop {
  const campaigns: { id: string; producer: TestAccount; investors: TestAccount[] }[] = [];
  let reports = 0;
  const rule = (producer: TestAccount) => ({
    tranches: [
      {
        name: 'recoup',
        shareBasisPoints: 10_000,
        cap: { principalBasisPoints: 10_000 },
        recipients: [{ kind: 'investors', weightBasisPoints: 10_000 }],
      },
      {
        name: 'split',
        shareBasisPoints: 10_000,
        recipients: [
          { kind: 'investors', weightBasisPoints: 5_000 },
          { kind: 'producer', weightBasisPoints: 4_000 },
          {
            kind: 'account',
            address:
              producer.address === accounts.funded[0]!.address
                ? accounts.funded[1]!.address
                : accounts.funded[0]!.address,
            weightBasisPoints: 1_000,
          },
        ],
      },
    ],
  });
  return {
    draw(rng, node): DrawnTx {
      const height = node.chain.height();
      // Deadlines near each other (one bucket of the old index) or at a few far points.
      const deadline = () => ({
        height: rng.chance(0.5) ? height + rng.int(20, 80) : 500_000 + rng.int(0, 3),
      });
      const campaign = campaigns.length > 0 ? rng.pick(campaigns) : undefined;
      const roll = rng.int(0, 19);
      if (!campaign || roll < 2) {
        const producer = accounts.any(rng);
        return {
          sender: producer,
          type: 'campaign.create',
          payload: {
            title: 'Loop',
            asset: 'USD',
            target: String(rng.int(1_000, 40_000)),
            minInvestment: '10',
            maxInvestment: '5000',
            opensAt: { height: 1 },
            deadline: deadline(),
            cancelWindow: 2,
            earlyClose: rng.chance(0.3),
            platformFee: rng.chance(0.3)
              ? { basisPoints: 250, to: accounts.funded[2]!.address }
              : null,
            reporters: [producer.address],
            distribution: rule(producer),
          },
        };
      }
      const id = campaign.id;
      const investor = () =>
        campaign.investors.length > 0 && rng.chance(0.8)
          ? rng.pick(campaign.investors)
          : accounts.any(rng);
      if (roll < 9) {
        return {
          sender: accounts.any(rng, 0.9),
          type: 'campaign.invest',
          payload: { campaignId: id, amount: String(rng.int(10, 3_000)) },
        };
      }
      if (roll < 10)
        return {
          sender: investor(),
          type: 'campaign.cancelInvestment',
          payload: { campaignId: id },
        };
      if (roll < 13) {
        const withInvestors = campaign.investors.length > 0;
        return {
          sender: rng.chance(0.9) ? campaign.producer : accounts.any(rng),
          type: 'campaign.amend',
          payload: {
            campaignId: id,
            terms: rng.chance(0.8)
              ? { deadline: deadline() }
              : { target: String(rng.int(1_000, 40_000)) },
            ...(withInvestors ? { reconfirmBy: { height: height + rng.int(2, 15) } } : {}),
          },
        };
      }
      if (roll < 15)
        return { sender: investor(), type: 'campaign.reconfirm', payload: { campaignId: id } };
      if (roll < 17) {
        reports += 1;
        return {
          sender: rng.chance(0.9) ? campaign.producer : accounts.any(rng),
          type: 'campaign.reportRevenue',
          payload: {
            campaignId: id,
            reportId: `rep-${reports}`,
            periodStart: 0,
            periodEnd: 1,
            grossRevenue: String(rng.int(1, 50_000)),
          },
        };
      }
      if (roll < 18)
        return { sender: investor(), type: 'campaign.claim', payload: { campaignId: id } };
      return {
        sender: usdIssuer,
        type: rng.chance(0.5) ? 'asset.freeze' : 'asset.unfreeze',
        payload: {
          symbol: 'USD',
          account: rng.chance(0.3) ? campaign.producer.address : investor().address,
        },
      };
    },
    observe(block, txs) {
      for (const [i, tx] of txs.entries()) {
        if (block.receipts[i]!.status !== 'ok') continue;
        if (tx.type === 'campaign.create') {
          campaigns.push({
            id: campaignIdOf(block.txs[i]!.hash),
            producer: tx.sender,
            investors: [],
          });
        } else if (tx.type === 'campaign.invest') {
          const campaign = campaigns.find((c) => c.id === tx.payload.campaignId);
          if (campaign && !campaign.investors.includes(tx.sender))
            campaign.investors.push(tx.sender);
        }
      }
    },
  };
}

// ---- producers -------------------------------------------------------------------------------

const genesisOperator = testAccount(201);
let producerSeeds = 0;

function producersGenesis(harness: ModuleTestHarness, accounts: Accounts): Genesis {
  const signer = harness.signer;
  const hidden = encryptHiddenInfo(signer.key.secretScalar, { name: 'genesis producer' });
  const section: ProducersGenesis = {
    params: {
      bondAsset: 'USD',
      bondMin: '1000',
      unbondingPeriodHeights: 10,
      evidenceWindowHeights: 5,
      slashBurnBasisPoints: 2_500,
      nonceRangeHeightsMax: 64,
      nonceRangesAheadMax: 2,
    },
    producers: [
      {
        operator: genesisOperator.address,
        publicKey: toHex(signer.key.publicKey),
        hiddenInfo: hidden.hiddenInfo,
        commitment: hidden.commitment,
        bond: '0',
        nonces: signer.range(0),
      },
    ],
  };
  return fundedGenesis(harness, accounts, { modules: { producers: section } });
}

/** Heights per nonce range: short, since each costs a scalar multiplication per height. */
const rangeHeights = 2;

function producersLoop(accounts: Accounts): UserLoop {
  const producers: { signer: TestBlockSigner; operator: TestAccount; next: number }[] = [];
  return {
    draw(rng, node): DrawnTx {
      const height = node.chain.height();
      const known = producers.length > 0 ? rng.pick(producers) : undefined;
      const roll = rng.int(0, 9);
      if (!known || roll < 3) {
        producerSeeds += 1;
        const seed = new Uint8Array(32).fill(0x77);
        new DataView(seed.buffer).setUint32(0, producerSeeds);
        const signer = new TestBlockSigner(seed, chainId, rangeHeights);
        const hidden = encryptHiddenInfo(signer.key.secretScalar, {
          name: `producer ${producerSeeds}`,
        });
        const from = height + 2;
        const { root } = signer.commitment(from, rangeHeights);
        const operator = accounts.any(rng);
        producers.push({ signer, operator, next: from + rangeHeights });
        return {
          sender: operator,
          type: 'producer.register',
          payload: {
            publicKey: toHex(signer.key.publicKey),
            hiddenInfo: hidden.hiddenInfo,
            commitment: hidden.commitment,
            bond: String(rng.int(1_000, 3_000)),
            nonces: { fromHeight: from, count: rangeHeights, root },
          },
        };
      }
      const producer = known.signer.producer;
      if (roll < 5)
        return { sender: genesisOperator, type: 'producer.approve', payload: { producer } };
      if (roll < 7) {
        const fromHeight = Math.max(known.next, height + 2);
        known.next = fromHeight + rangeHeights;
        const { root } = known.signer.commitment(fromHeight, rangeHeights);
        return {
          sender: known.operator,
          type: 'producer.commitNonces',
          payload: { producer, fromHeight, count: rangeHeights, root },
        };
      }
      const type = rng.pick(['producer.unbond', 'producer.withdraw', 'producer.claimBond']);
      return {
        sender: rng.chance(0.9) ? known.operator : accounts.any(rng),
        type,
        payload: { producer },
      };
    },
  };
}

// ---- the checks ------------------------------------------------------------------------------

describe('no state value grows without bound under a loop of user txs', () => {
  // The hold expiry index is one key per hold (`ledger/hold-expiry/<height>/<id>`), not one list
  // per height rewritten by each hold.create (issue 13, item 4, ledger).
  it('ledger: transfers, holds, assets, mints and freezes', () => {
    const accounts = new Accounts(0x11, 64);
    const harness = harnessOf('ledger', []);
    checkGrowth(
      {
        harness,
        genesis: fundedGenesis(harness, accounts),
        loop: () => ledgerLoop(accounts),
        prefixes: ['ledger/'],
        blockIntervalMs: 1_000,
      },
      1,
    );
  });

  it('timecredits: members, issues, exchanges, payments, listings, alliances, policies', () => {
    const accounts = new Accounts(0x12, 64);
    const harness = harnessOf('timecredits', [timecreditsModule]);
    checkGrowth(
      {
        harness,
        genesis: fundedGenesis(harness, accounts),
        loop: () => timecreditsLoop(accounts),
        prefixes: ['ledger/', 'timecredits/'],
        // Half an hour a block: the lots of the 2-day policy lapse (and get notices) in the loop.
        blockIntervalMs: 1_800_000,
      },
      2,
    );
  });

  it('crowdfund: campaigns, investments, amendments, reconfirmations, reports, claims, freezes', () => {
    const accounts = new Accounts(0x13, 256);
    const harness = harnessOf('crowdfund', [crowdfundModule]);
    checkGrowth(
      {
        harness,
        genesis: fundedGenesis(harness, accounts),
        loop: () => crowdfundLoop(accounts),
        prefixes: ['ledger/', 'crowdfund/'],
        blockIntervalMs: 1_000,
      },
      3,
    );
  });

  // The registry lists producers by a range over their records and counts them in
  // `producers/count`, not in one list of every producer ever registered (issue 13, item 4).
  it('producers: registrations, approvals, nonce commitments, unbonding', () => {
    const accounts = new Accounts(0x14, 64);
    const harness = harnessOf('producers', [producersModule]);
    checkGrowth(
      {
        harness,
        genesis: producersGenesis(harness, accounts),
        loop: () => producersLoop(accounts),
        prefixes: ['ledger/', 'producers/'],
        blockIntervalMs: 1_000,
      },
      4,
    );
  });
});

// The shape rule itself: a list grown by txs is caught, a record gaining digits is not.
describe('growthProblems', () => {
  it('flags a value that grows with the txs and one over its declared bound, not digits', () => {
    const at = (entries: [string, string, number][]) =>
      new Map(entries.map(([shape, key, bytes]) => [shape, { key, bytes }]));
    const atN = at([
      ['a/list/*1', 'a/list/x', 500],
      ['a/record/*1', 'a/record/x', 300],
      ['ledger/account/*1', 'ledger/account/y', 900],
    ]);
    const at4N = at([
      ['a/list/*1', 'a/list/x', 2_000],
      ['a/record/*1', 'a/record/x', 320],
      ['ledger/account/*1', 'ledger/account/y', 3_000],
    ]);
    assert.deepEqual(
      growthProblems(atN, at4N, [{ shape: 'ledger/account/*1', bytesMax: 2_500, why: 'test' }]).map(
        (p) => p.split(':')[0],
      ),
      ['a/list/*1', 'ledger/account/*1'],
    );
  });
});
