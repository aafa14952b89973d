import { useState } from 'preact/hooks';

import type { Campaign, WaterfallRecipient, WaterfallTranche } from '../../../sdk/index.js';
import { client } from '../../../../web/src/node.js';
import { Fields, HashLink, Show, useLoad } from '../../../../web/src/ui.js';
import { YourInvestment } from './invest.js';
import {
  CampaignTabs,
  LiveMark,
  Money,
  Point,
  Scroll,
  StatusBadge,
  basisPointsText,
  loadCampaign,
  percent,
  units,
  useCampaignEvents,
  type CampaignView,
} from './shared.js';

/* A campaign (Wefunder/Republic-like): progress to the target, status, schedule and terms, the
   investors, your position and investing from this browser's wallet. */

/** Investors listed on the page; the rest are counted (a campaign may have 1,000). */
const investorsShownMax = 100;

export function CampaignPage(props: { id: string }) {
  const [round, setRound] = useState(0);
  const reload = () => setRound((r) => r + 1);
  const live = useCampaignEvents(props.id, reload);
  const [view] = useLoad(() => loadCampaign(props.id), [props.id, round]);
  return (
    <section class="campaign">
      <CampaignTabs id={props.id} current="overview" />
      <h1>{view.state === 'ok' ? view.value.campaign.title : `Campaign ${props.id}`}</h1>
      <Show result={view} what="the campaign">
        {(v) => (
          <>
            <Progress view={v} live={live} />
            <div class="grid">
              <YourInvestment view={v} round={round} onChange={reload} />
              <Schedule view={v} />
            </div>
            <Terms view={v} />
            <Investors id={props.id} round={round} count={v.campaign.investorCount} />
          </>
        )}
      </Show>
    </section>
  );
}

/** Raised against the target as a bar with its numbers in words; after success, the principal. */
function Progress(props: { view: CampaignView; live: boolean }) {
  const { campaign: c, decimals } = props.view;
  const raised = c.principal ?? c.raised;
  const share = percent(raised, c.target);
  return (
    <section aria-labelledby="progress-title" class="card campaign-progress-card">
      <h2 id="progress-title">
        <StatusBadge status={c.status} /> <LiveMark live={props.live} />
      </h2>
      <p id="progress-text" data-testid="progress">
        <strong>
          <Money minor={raised} decimals={decimals} asset={c.asset} />
        </strong>{' '}
        raised of <Money minor={c.target} decimals={decimals} asset={c.asset} /> ({share}%) from{' '}
        {c.investorCount} investor{c.investorCount === 1 ? '' : 's'}
      </p>
      <div
        class="campaign-progress"
        role="progressbar"
        aria-labelledby="progress-title"
        aria-describedby="progress-text"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.min(100, share)}
        aria-valuetext={`${share}% of the target`}
      >
        <div class="campaign-progress-fill" style={{ width: `${Math.min(100, share)}%` }} />
      </div>
      <p class="muted">{outcome(c, decimals)}</p>
    </section>
  );
}

function outcome(c: Campaign, decimals: number): string {
  switch (c.status) {
    case 'funding':
      return BigInt(c.raised) >= BigInt(c.target)
        ? 'The target is reached: at the deadline the escrow goes to the producer.'
        : 'All or nothing: if the target is not reached by the deadline, every investor is refunded in full.';
    case 'succeeded':
      return `The target was reached: ${units(c.principal ?? c.raised, decimals)} ${c.asset} went to the producer${
        c.fee && c.fee !== '0' ? ` less a platform fee of ${units(c.fee, decimals)}` : ''
      }; revenue is now paid out through the waterfall.`;
    case 'refunding':
      return 'The target was missed: investors are being refunded.';
    case 'failed':
      return 'The target was missed: every investor has been refunded.';
  }
}

function Schedule(props: { view: CampaignView }) {
  const { campaign: c, height, blockTime } = props.view;
  const at = { height, blockTime };
  const unit = 'height' in c.deadline ? 'blocks' : 'ms';
  return (
    <section aria-labelledby="schedule-title">
      <h2 id="schedule-title">Schedule</h2>
      <Fields
        rows={[
          ['Opens', <Point point={c.opensAt} {...at} />],
          ['Deadline', <Point point={c.deadline} {...at} />],
          [
            'Cancelling',
            c.cancelWindow === 0
              ? 'until the deadline'
              : `until ${c.cancelWindow} ${unit} before the deadline`,
          ],
          ['Early close', c.earlyClose ? 'yes, once the target is reached' : 'no'],
          ['Created at', <HashLink kind="block" value={c.createdAtHeight} />],
          [
            'Closed at',
            c.closedAtHeight === null ? (
              'not yet'
            ) : (
              <HashLink kind="block" value={c.closedAtHeight} />
            ),
          ],
          ['Chain height', `${height} when this page was read`],
        ]}
      />
      {c.reconfirmation && (
        <p class="badge pending" role="note">
          The terms were amended (version {c.reconfirmation.version}): {c.reconfirmation.pending}{' '}
          investor{c.reconfirmation.pending === 1 ? '' : 's'} still to reconfirm by{' '}
          <Point point={c.reconfirmation.by} {...at} />.
        </p>
      )}
    </section>
  );
}

function Terms(props: { view: CampaignView }) {
  const { campaign: c, decimals } = props.view;
  const money = (minor: string) => <Money minor={minor} decimals={decimals} asset={c.asset} />;
  return (
    <section aria-labelledby="terms-title">
      <h2 id="terms-title">Terms</h2>
      <Fields
        rows={[
          ['Producer', <HashLink kind="account" value={c.producer} />],
          ['Asset', c.asset],
          ['Target', money(c.target)],
          [
            'Per investor',
            <>
              {money(c.minInvestment)} to {money(c.maxInvestment)}
            </>,
          ],
          [
            'Platform fee',
            c.platformFee ? (
              <>
                {basisPointsText(c.platformFee.basisPoints)} of the principal to{' '}
                <HashLink kind="account" value={c.platformFee.to} />
              </>
            ) : (
              'none'
            ),
          ],
          [
            'Revenue reporters',
            <ul class="plain inline">
              {c.reporters.map((r) => (
                <li key={r}>
                  <HashLink kind="account" value={r} />
                </li>
              ))}
            </ul>,
          ],
          ['Escrow', <HashLink kind="account" value={c.escrow} />],
          ['Terms version', String(c.termsVersion)],
        ]}
      />
      <h3 id="distribution-title">Distribution of revenue</h3>
      <p class="muted">
        Over cumulative revenue, tranche by tranche: each takes its share of what remains, up to its
        cap; the last takes all that is left.
      </p>
      <Scroll label="Distribution of revenue">
        <table aria-labelledby="distribution-title">
          <thead>
            <tr>
              <th scope="col">Tranche</th>
              <th scope="col" class="num">
                Share of what remains
              </th>
              <th scope="col">Cap</th>
              <th scope="col">Paid to</th>
            </tr>
          </thead>
          <tbody>
            {c.distribution.tranches.map((t, i) => (
              <tr key={i} data-tranche={i}>
                <td>{t.name}</td>
                <td class="num">{basisPointsText(t.shareBasisPoints)}</td>
                <td>{capText(t, decimals, c.asset)}</td>
                <td>{t.recipients.map(recipientText).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
    </section>
  );
}

function capText(t: WaterfallTranche, decimals: number, asset: string): string {
  if (!t.cap) return 'none';
  if ('amount' in t.cap) return `${units(t.cap.amount, decimals)} ${asset}`;
  return `${basisPointsText(t.cap.principalBasisPoints)} of the principal`;
}

function recipientText(r: WaterfallRecipient): string {
  const who =
    r.kind === 'investors'
      ? 'investors (pro rata)'
      : r.kind === 'producer'
        ? 'the producer'
        : `account ${r.address.slice(0, 10)}…`;
  return r.weightBasisPoints === 10_000 ? who : `${who} ${basisPointsText(r.weightBasisPoints)}`;
}

function Investors(props: { id: string; round: number; count: number }) {
  const [investors] = useLoad(() => client.campaigns.investors(props.id), [props.id, props.round]);
  return (
    <section aria-labelledby="investors-title">
      <h2 id="investors-title">Investors ({props.count})</h2>
      <Show result={investors} what="the investors">
        {({ investors: list }) =>
          list.length === 0 ? (
            <p class="muted">Nobody has invested yet.</p>
          ) : (
            <>
              <Scroll label="Investors">
                <table aria-labelledby="investors-title">
                  <thead>
                    <tr>
                      <th scope="col">#</th>
                      <th scope="col">Address</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.slice(0, investorsShownMax).map((address, i) => (
                      <tr key={address} data-investor={address}>
                        <td>{i + 1}</td>
                        <td>
                          <HashLink kind="account" value={address} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </Scroll>
              {list.length > investorsShownMax && (
                <p class="muted">and {list.length - investorsShownMax} more.</p>
              )}
            </>
          )
        }
      </Show>
    </section>
  );
}
