import { useState } from 'preact/hooks';

import { client } from '../../../../web/src/node.js';
import { Fields, HashLink, Show, useLoad } from '../../../../web/src/ui.js';
import { TxReview, WithWallet } from '../../../../web/src/wallet/session.js';
import { printingTxBuilders, type DesignRecord, type PrinterRecord } from '../client.js';
import { assetsOf } from './shared.js';
import {
  amountText,
  boxText,
  designsShownMax,
  licenceText,
  printerChoices,
  printersPath,
  printPath,
  printsLeftText,
  profileText,
  sizeText,
  type AssetDecimals,
} from './words.js';

/* The design store (`GET /v1/printing/designs?status=listed`, a page at a time in design id
   order): each design with its price, extent, prints left and licence; "Buy" prints it on one of
   this browser's wallet's printers (`print.buy`: the price goes to escrow in the same tx, and the
   tx hash is the print token the printer's agent redeems). Only printers the chain would accept
   are offered: active, registered with the design's print server, with a bed the design fits. */

/** Printers read per wallet address (an owner has at most 16 active ones). */
const printersPerOwnerShown = 100;

interface StoreView {
  designs: DesignRecord[];
  next: string | null;
  assets: Map<string, AssetDecimals>;
}

async function loadStore(after: string | undefined): Promise<StoreView> {
  const page = await client.printing.designs({
    status: 'listed',
    limit: designsShownMax,
    ...(after === undefined ? {} : { after }),
  });
  return { ...page, assets: await assetsOf(page.designs.map((d) => d.price.asset)) };
}

export function StorePage() {
  // The `after` cursor of each page walked past the first; empty on the first page.
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const [store, reload] = useLoad(() => loadStore(after), [after]);
  return (
    <section>
      <h1>Design store</h1>
      <p>
        Each design is G-code a print server holds encrypted; it never leaves the server whole.
        Buying a print holds its price in escrow under a token for one print on one of your
        printers; the server adapts the design to that printer, watermarks it and streams it to the
        printer as it prints. A finished print pays the designer and the server; a failed one is
        re-issued once, then refunded. <a href={printersPath}>Your printers and prints</a>.
      </p>
      <Show result={store} what="the store">
        {({ designs, next, assets }) => (
          <>
            {designs.length === 0 ? (
              <p data-testid="no-designs">No design is listed yet.</p>
            ) : (
              <ul class="cards" aria-label="Designs">
                {designs.map((d) => (
                  <DesignItem
                    key={d.designId}
                    design={d}
                    asset={assets.get(d.price.asset)}
                    onBought={reload}
                  />
                ))}
              </ul>
            )}
            {(cursors.length > 0 || next !== null) && (
              <nav class="toolbar" aria-label="Pages of the store">
                <button
                  type="button"
                  disabled={cursors.length === 0}
                  onClick={() => setCursors(cursors.slice(0, -1))}
                >
                  Previous
                </button>
                <span class="muted" aria-live="polite">
                  Page {cursors.length + 1}
                </span>
                <button
                  type="button"
                  disabled={next === null}
                  onClick={() => next !== null && setCursors([...cursors, next])}
                >
                  Next
                </button>
              </nav>
            )}
          </>
        )}
      </Show>
    </section>
  );
}

function DesignItem(props: {
  design: DesignRecord;
  asset: AssetDecimals | undefined;
  onBought: () => void;
}) {
  const { design: d } = props;
  const priceText = amountText(d.price.amount, d.price.asset, props.asset);
  const soldOut = d.sold >= d.printsMax;
  return (
    <li class="card" data-design={d.designId}>
      <h2>{d.title}</h2>
      <Fields
        rows={[
          ['Price', <strong data-testid="design-price">{priceText}</strong>],
          ['Size', `${boxText(d.bbox)}, ${d.lines} lines, ${sizeText(d.sizeBytes)}`],
          ['Prints', <span data-testid="prints-left">{printsLeftText(d)}</span>],
          ['Licence', licenceText(d.licence)],
          ['Designer', <HashLink kind="account" value={d.designer} />],
          ['Print server', <HashLink kind="account" value={d.server} />],
        ]}
      />
      <WithWallet what="buy a print">
        {(addresses) => (
          <Buy
            design={d}
            priceText={priceText}
            soldOut={soldOut}
            addresses={addresses}
            onBought={props.onBought}
          />
        )}
      </WithWallet>
    </li>
  );
}

/** The wallet's printers, all owners together (each address's first page). */
async function walletPrinters(addresses: string[]): Promise<PrinterRecord[]> {
  const pages = await Promise.all(
    addresses.map((owner) => client.printing.printersOf(owner, { limit: printersPerOwnerShown })),
  );
  return pages.flatMap((p) => p.printers);
}

function Buy(props: {
  design: DesignRecord;
  priceText: string;
  soldOut: boolean;
  addresses: string[];
  onBought: () => void;
}) {
  const { design: d } = props;
  const [printers] = useLoad(() => walletPrinters(props.addresses), [props.addresses.join()]);
  const [chosen, setChosen] = useState<string>();
  const [reviewing, setReviewing] = useState(false);
  const [bought, setBought] = useState<string>();
  const selectId = `printer-for-${d.designId}`;
  if (bought) {
    return (
      <div class="badge ok" role="status" data-testid="bought">
        <p>
          Print bought: token <HashLink kind="tx" value={bought} />.{' '}
          <a href={printPath(bought)}>Follow the print</a>.
        </p>
        <p>
          On the printer&apos;s SBC:{' '}
          <code class="break">coffer print-agent print {bought} --port /dev/ttyUSB0</code>
        </p>
      </div>
    );
  }
  if (props.soldOut) return <p class="muted">Every print of this design is sold.</p>;
  return (
    <Show result={printers} what="your printers">
      {(list) => {
        const { usable, unusable } = printerChoices(d, list);
        if (usable.length === 0) {
          return (
            <p class="muted" data-testid="no-printer">
              None of your printers can print this design
              {unusable.length === 0
                ? ': register one with this print server first.'
                : `: ${unusable.map((u) => `${u.printer.clientId} (${u.reason})`).join('; ')}.`}
            </p>
          );
        }
        const printer = usable.find((p) => p.printerId === chosen) ?? usable[0]!;
        if (reviewing) {
          return (
            <TxReview
              sender={printer.owner}
              tx={printingTxBuilders.buy(d.designId, printer.printerId, d.price)}
              summary={
                <>
                  Buy one print of <strong>{d.title}</strong> for <strong>{props.priceText}</strong>{' '}
                  on your printer <strong>{printer.clientId}</strong>: the price is held in escrow
                  until the print finishes (then it pays the designer and the print server) or is
                  refunded (less the share the server already sent to the printer). The tx names
                  this price: if the designer changed it meanwhile, the buy is refused.
                </>
              }
              onDone={(hash) => {
                setReviewing(false);
                setBought(hash);
                props.onBought();
              }}
              onCancel={() => setReviewing(false)}
            />
          );
        }
        return (
          <div class="printing-buy">
            <div class="field">
              <label for={selectId}>Print on</label>
              <select
                id={selectId}
                value={printer.printerId}
                onChange={(e) => setChosen((e.target as HTMLSelectElement).value)}
              >
                {usable.map((p) => (
                  <option key={p.printerId} value={p.printerId}>
                    {p.clientId}: {profileText(p.profile)}
                  </option>
                ))}
              </select>
            </div>
            <button type="button" onClick={() => setReviewing(true)}>
              Buy a print for {props.priceText}
            </button>
          </div>
        );
      }}
    </Show>
  );
}
