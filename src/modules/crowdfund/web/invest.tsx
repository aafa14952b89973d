import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

import { parseUnits, type CampaignPosition, type UnsignedTx } from '../../../sdk/index.js';
import { client, describeError } from '../../../../web/src/node.js';
import { ErrorBox, Field, Fields, HashLink, Show, short, useLoad } from '../../../../web/src/ui.js';
import {
  ConfirmTx,
  WithWallet,
  draftTx,
  type Problem,
} from '../../../../web/src/wallet/session.js';
import { Money, Scroll, isCode, units, type CampaignView } from './shared.js';

/* Your part in a campaign, from this browser's wallet: the position of the chosen account and
   investing (or cancelling) through the wallet's confirmation screen. */

export function YourInvestment(props: { view: CampaignView; round: number; onChange: () => void }) {
  return (
    <section aria-labelledby="you-title">
      <h2 id="you-title">Your investment</h2>
      <WithWallet what="invest or see your position">
        {(addresses) => <WalletPart {...props} addresses={addresses} />}
      </WithWallet>
    </section>
  );
}

/** What the chosen account holds: its position (undefined: none yet) and its balance. */
interface Holding {
  position: CampaignPosition | undefined;
  balance: string;
}

function WalletPart(props: {
  view: CampaignView;
  round: number;
  onChange: () => void;
  addresses: string[];
}) {
  const { campaign: c } = props.view;
  const [address, setAddress] = useState(props.addresses[0]!);
  const [mine] = useLoad(async (): Promise<Holding> => {
    const [position, account] = await Promise.all([
      client.campaigns.position(c.id, address).catch((error: unknown) => {
        if (isCode(error, 'position_not_found')) return undefined;
        throw error;
      }),
      client.getAccount(address),
    ]);
    const balance = account.balances.find((b) => b.asset === c.asset)?.balance ?? '0';
    return { position, balance };
  }, [c.id, address, props.round]);
  return (
    <>
      {props.addresses.length > 1 && (
        <div class="field">
          <label for="invest-account">Account</label>
          <select
            id="invest-account"
            value={address}
            onChange={(e) => setAddress((e.target as HTMLSelectElement).value)}
          >
            {props.addresses.map((a) => (
              <option key={a} value={a}>
                {short(a)}
              </option>
            ))}
          </select>
        </div>
      )}
      <Show result={mine} what="your position">
        {(holding) => (
          <>
            <Position view={props.view} address={address} holding={holding} />
            <Actions
              view={props.view}
              address={address}
              holding={holding}
              onChange={props.onChange}
            />
          </>
        )}
      </Show>
    </>
  );
}

function Position(props: { view: CampaignView; address: string; holding: Holding }) {
  const { campaign: c, decimals } = props.view;
  const { position, balance } = props.holding;
  const money = (minor: string) => <Money minor={minor} decimals={decimals} asset={c.asset} />;
  const rows: [string, ComponentChildren][] = [
    ['Account', <HashLink kind="account" value={props.address} />],
    ['Available', money(balance)],
  ];
  if (position) {
    rows.push(
      ['In the campaign', money(position.principal)],
      ['Invested in all', money(position.invested)],
      ['Refunded', money(position.refunded)],
    );
    if (position.owed !== '0') rows.push(['Refund owed (claim it)', money(position.owed)]);
    if (position.reconfirmation !== 'none') {
      rows.push(['Reconfirmation', position.reconfirmation]);
    }
    rows.push(['Paid out', money(position.paidOut)]);
    if (position.payoutOwed !== '0') rows.push(['Payouts owed', money(position.payoutOwed)]);
    if (c.status === 'succeeded') {
      rows.push([
        'Net',
        `${position.net.startsWith('-') ? '-' : ''}${units(position.net.replace('-', ''), decimals)} ${c.asset}`,
      ]);
    }
  }
  return (
    <div data-testid="position">
      <Fields rows={rows} />
      {!position && <p class="muted">This account has not invested in this campaign.</p>}
      {position && position.paidOutByTranche.some((t) => t.amount !== '0') && (
        <Scroll label="Your payouts by tranche">
          <table>
            <caption>Your payouts by tranche</caption>
            <thead>
              <tr>
                <th scope="col">Tranche</th>
                <th scope="col" class="num">
                  Paid ({c.asset})
                </th>
              </tr>
            </thead>
            <tbody>
              {position.paidOutByTranche.map((t) => (
                <tr key={t.tranche}>
                  <td>{t.name}</td>
                  <td class="num">
                    <Money minor={t.amount} decimals={decimals} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </div>
  );
}

/** A tx being confirmed: what it is, in words. */
interface Draft {
  tx: UnsignedTx;
  summary: ComponentChildren;
}

function Actions(props: {
  view: CampaignView;
  address: string;
  holding: Holding;
  onChange: () => void;
}) {
  const { campaign: c, decimals } = props.view;
  const [amount, setAmount] = useState('');
  const [draft, setDraft] = useState<Draft | undefined>();
  const [problem, setProblem] = useState<Problem>();
  const [sent, setSent] = useState<{ hash: string; what: string } | undefined>();

  if (draft) {
    return (
      <ConfirmTx
        tx={draft.tx}
        summary={draft.summary}
        onSent={(hash) => {
          setSent({
            hash,
            what:
              draft.tx.type === 'campaign.invest'
                ? 'Invested'
                : draft.tx.type === 'campaign.claim'
                  ? 'Claimed'
                  : 'Investment cancelled',
          });
          setDraft(undefined);
          setAmount('');
          props.onChange();
        }}
        onCancel={() => setDraft(undefined)}
      />
    );
  }

  const prepare = async (
    type: string,
    payload: Record<string, unknown>,
    summary: ComponentChildren,
  ) => {
    try {
      setDraft({ tx: await draftTx(props.address, { type, payload }), summary });
    } catch (error) {
      setProblem(describeError(error));
    }
  };

  const review = async (event: Event) => {
    event.preventDefault();
    setProblem(undefined);
    setSent(undefined);
    const minor = parseUnits(amount.trim(), decimals);
    if (minor === undefined || minor <= 0n) {
      return setProblem({
        code: 'invalid_amount',
        message: `Write a positive amount with at most ${decimals} decimals, such as ${units(
          c.minInvestment,
          decimals,
        )}.`,
      });
    }
    // The campaign's limits are the node's to apply: a total outside them is refused with its
    // code on the confirmation screen (investment_below_minimum, investment_above_maximum).
    const display = `${units(minor, decimals)} ${c.asset}`;
    await prepare(
      'campaign.invest',
      { campaignId: c.id, amount: minor.toString() },
      <>
        Invest <strong>{display}</strong> in <em>{c.title}</em> from{' '}
        <span class="mono break">{props.address}</span>. It waits in the campaign&apos;s escrow
        until the deadline, and comes back in full if the target is missed.
      </>,
    );
  };

  const cancel = () =>
    prepare(
      'campaign.cancelInvestment',
      { campaignId: c.id },
      <>
        Cancel your investment of{' '}
        <strong>
          {units(props.holding.position?.principal ?? '0', decimals)} {c.asset}
        </strong>{' '}
        in <em>{c.title}</em>: it comes back to <span class="mono break">{props.address}</span>.
      </>,
    );

  const claim = () =>
    prepare(
      'campaign.claim',
      { campaignId: c.id },
      <>
        Claim what the campaign <em>{c.title}</em> holds for{' '}
        <span class="mono break">{props.address}</span>: a refund or payouts that could not reach it
        while it was frozen.
      </>,
    );

  const funding = c.status === 'funding';
  const position = props.holding.position;
  const invested = position && position.principal !== '0';
  // Owed on the position; a payout owed as the producer or a fixed account is claimed the same
  // way but is not on an investor's position (the statement lists it).
  const owed = position && (position.owed !== '0' || position.payoutOwed !== '0');
  return (
    <>
      {sent && (
        <p class="badge ok" role="status">
          {sent.what}: <HashLink kind="tx" value={sent.hash} /> is in a block.
        </p>
      )}
      {funding ? (
        <form onSubmit={(e) => void review(e)} aria-labelledby="invest-title">
          <h3 id="invest-title">Invest</h3>
          <Field
            id="invest-amount"
            label={`Amount (${c.asset}, up to ${decimals} decimals)`}
            value={amount}
            onInput={setAmount}
            hint={`Each investor holds ${units(c.minInvestment, decimals)} to ${units(
              c.maxInvestment,
              decimals,
            )} ${c.asset} in all.`}
          />
          {problem && <ErrorBox {...problem} />}
          <div class="toolbar">
            <button type="submit">Review investment</button>
            {invested && (
              <button type="button" class="secondary" onClick={() => void cancel()}>
                Cancel my investment
              </button>
            )}
          </div>
        </form>
      ) : (
        <>
          <p class="muted">This campaign is no longer taking investments.</p>
          {problem && <ErrorBox {...problem} />}
        </>
      )}
      {owed && (
        <button type="button" class="secondary" onClick={() => void claim()}>
          Claim what is owed
        </button>
      )}
    </>
  );
}
