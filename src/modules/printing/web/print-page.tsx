import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';

import { client } from '../../../../web/src/node.js';
import { Fields, HashLink, Show, useLoad } from '../../../../web/src/ui.js';
import { TxButton, walletAddresses } from '../../../../web/src/wallet/session.js';
import {
  printingTxBuilders,
  type DesignRecord,
  type PrinterRecord,
  type PrintTokenRecord,
} from '../client.js';
import { assetsOf, TokenState } from './shared.js';
import {
  amountText,
  canCancel,
  isLive,
  refundToBuyer,
  printersPath,
  printPollMs,
  storePath,
  timeText,
  type AssetDecimals,
} from './words.js';

/* One print (`GET /v1/printing/tokens/{id}`): the design, the printer, the token's state and the
   percent printed, read again every second while the token can still change (issued or
   printing); the share of the print the server delivered to the printer; the payment when it
   finished (or the refund's parts), the failure's reason when one failed. The buyer may cancel an
   expired token, a print silent for 24 hours or started 7 days ago (`print.cancel`: the escrow
   returns, less the delivered share, which pays the designer and the server). */

interface PrintView {
  token: PrintTokenRecord;
  design: DesignRecord;
  printer: PrinterRecord;
  asset: AssetDecimals | undefined;
}

async function loadPrint(tokenId: string): Promise<PrintView> {
  const token = await client.printing.token(tokenId);
  const [design, printer, assets] = await Promise.all([
    client.printing.design(token.designId),
    client.printing.printer(token.printerId),
    assetsOf([token.price.asset]),
  ]);
  return { token, design, printer, asset: assets.get(token.price.asset) };
}

export function PrintPage(props: { tokenId: string }) {
  const [loaded, reload] = useLoad(() => loadPrint(props.tokenId), [props.tokenId]);
  const live = loaded.state === 'ok' && isLive(loaded.value.token);
  useEffect(() => {
    if (!live) return undefined;
    const timer = setInterval(reload, printPollMs);
    return () => clearInterval(timer);
  }, [live]);
  return (
    <section>
      <p>
        <a href={storePath}>The design store</a> · <a href={printersPath}>Your printers</a>
      </p>
      <Show result={loaded} what="the print">
        {(view) => <Print view={view} onChange={reload} />}
      </Show>
    </section>
  );
}

function Print(props: { view: PrintView; onChange: () => void }) {
  const { token: t, design, printer, asset } = props.view;
  const money = (minor: string) => amountText(minor, t.price.asset, asset);
  const buyer = walletAddresses().includes(t.buyer);
  const cancellable = canCancel(t, Date.now(), printer.status === 'revoked');
  return (
    <>
      <h1 data-testid="design-title">Print of {design.title}</h1>
      <div class="printing-progress">
        <label for="print-progress">
          Printed: <strong data-testid="percent">{t.percent} %</strong>
        </label>{' '}
        <progress id="print-progress" max={100} value={t.percent}>
          {t.percent} %
        </progress>
      </div>
      <p role="status" aria-live="polite">
        <TokenState token={t} />
      </p>
      <Fields
        rows={[
          ['Token', <span class="mono break">{t.tokenId}</span>],
          ['Printer', `${printer.clientId} (${printer.status})`],
          ['Price', money(t.price.amount)],
          [
            'Bought',
            <span>
              {timeText(t.boughtAt)} by <HashLink kind="account" value={t.buyer} />
            </span>,
          ],
          ['Attempts', `${t.attempts} started, ${t.failures} failed`],
          ['Delivered', <span data-testid="delivered">{t.delivered} % sent to the printer</span>],
          ...(t.failReason === undefined
            ? []
            : ([
                [
                  'Last failure',
                  <span data-testid="fail-reason">
                    at {t.failPercent ?? 0} %: {t.failReason}
                  </span>,
                ],
              ] as [string, ComponentChildren][])),
          ...(t.paid === undefined
            ? []
            : ([
                [
                  'Paid',
                  <span data-testid="paid">
                    {money(t.paid.designer)} to the designer, {money(t.paid.platform)} to the print
                    server
                  </span>,
                ],
              ] as [string, ComponentChildren][])),
          ...(t.refund === undefined
            ? []
            : ([
                [
                  'Refunded',
                  <span data-testid="refund">
                    {money(t.refund.buyer)} to you, {money(t.refund.designer)} to the designer,{' '}
                    {money(t.refund.platform)} to the print server
                  </span>,
                ],
              ] as [string, ComponentChildren][])),
          ...(t.endedAt === undefined
            ? []
            : ([['Ended', timeText(t.endedAt)]] as [string, string][])),
        ]}
      />
      {t.status === 'issued' && !cancellable && (
        <p>
          On the printer&apos;s SBC:{' '}
          <code class="break">coffer print-agent print {t.tokenId} --port /dev/ttyUSB0</code>
        </p>
      )}
      {buyer && cancellable && (
        <TxButton
          label="Cancel for a refund"
          sender={t.buyer}
          tx={() => printingTxBuilders.cancel(t.tokenId)}
          summary={
            <>
              Cancel this print: {money(refundToBuyer(t))} returns from the escrow to you
              {t.delivered > 0 ? ` (${t.delivered} % was already sent to the printer)` : ''}.
            </>
          }
          onDone={props.onChange}
        />
      )}
    </>
  );
}
