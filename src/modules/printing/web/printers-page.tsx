import { useState } from 'preact/hooks';

import { client } from '../../../../web/src/node.js';
import { Field, HashLink, Scroll, Show, short, useLoad } from '../../../../web/src/ui.js';
import { TxButton, walletAddresses } from '../../../../web/src/wallet/session.js';
import { printingTxBuilders, type PrinterRecord, type PrintTokenRecord } from '../client.js';
import { assetsOf, TokenState } from './shared.js';
import {
  amountText,
  printPath,
  profileText,
  storePath,
  timeText,
  type AssetDecimals,
} from './words.js';

/* An owner's printers (`GET /v1/printing/printers?owner=`) with their profiles and status, and the
   prints it bought (`GET /v1/printing/tokens?buyer=`), each linked to its progress. The account is
   the page's `?owner=`, or this browser's wallet's first. The owner may revoke a printer (a lost
   SBC, a printer sold): its print server then refuses its certificate at the TLS handshake. */

/** Printers and prints shown (one page each; an owner has at most 16 active printers). */
const printersShownMax = 100;
const tokensShownMax = 100;

interface OwnerView {
  printers: PrinterRecord[];
  tokens: PrintTokenRecord[];
  moreTokens: boolean;
  titles: Map<string, string>;
  assets: Map<string, AssetDecimals>;
}

async function loadOwner(owner: string): Promise<OwnerView> {
  const [printers, tokens] = await Promise.all([
    client.printing.printersOf(owner, { limit: printersShownMax }),
    client.printing.tokensOf(owner, { limit: tokensShownMax }),
  ]);
  // Each design's title, read once however many of its prints are listed.
  const designIds = [...new Set(tokens.tokens.map((t) => t.designId))];
  const designs = await Promise.all(designIds.map((id) => client.printing.design(id)));
  return {
    printers: printers.printers,
    tokens: tokens.tokens,
    moreTokens: tokens.next !== null,
    titles: new Map(designs.map((d) => [d.designId, d.title])),
    assets: await assetsOf(tokens.tokens.map((t) => t.price.asset)),
  };
}

export function PrintersPage() {
  const given = new URLSearchParams(location.search).get('owner');
  const [owner, setOwner] = useState(given ?? walletAddresses()[0] ?? '');
  const [shown, setShown] = useState(owner);
  return (
    <section>
      <h1>Printers and prints</h1>
      <p>
        <a href={storePath}>The design store</a>
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setShown(owner.trim());
        }}
      >
        <Field id="printers-owner" label="Owner" value={owner} onInput={setOwner} />
        <div class="toolbar">
          <button type="submit">Show</button>
        </div>
      </form>
      {shown === '' ? (
        <p class="muted">Name an account, or unlock your wallet.</p>
      ) : (
        <Owner owner={shown} />
      )}
    </section>
  );
}

function Owner(props: { owner: string }) {
  const [loaded, reload] = useLoad(() => loadOwner(props.owner), [props.owner]);
  const mine = walletAddresses().includes(props.owner);
  return (
    <Show result={loaded} what="the printers">
      {(view) => (
        <>
          <h2>Printers</h2>
          {view.printers.length === 0 ? (
            <p data-testid="no-printers">
              No printer is registered to this account. On the printer&apos;s SBC:{' '}
              <code>coffer print-agent init</code>, then <code>coffer print-agent register</code>.
            </p>
          ) : (
            <ul class="cards" aria-label="Printers">
              {view.printers.map((p) => (
                <li key={p.printerId} class="card" data-printer={p.printerId}>
                  <h3>
                    {p.clientId}{' '}
                    <span
                      class={`status ${p.status === 'active' ? 'active' : 'halted'}`}
                      data-testid="printer-status"
                    >
                      ({p.status})
                    </span>
                  </h3>
                  <dl class="fields">
                    <div>
                      <dt>Printer id</dt>
                      <dd class="mono break">{p.printerId}</dd>
                    </div>
                    <div>
                      <dt>Profile</dt>
                      <dd>{profileText(p.profile)}</dd>
                    </div>
                    <div>
                      <dt>Print server</dt>
                      <dd>
                        <HashLink kind="account" value={p.server} />
                      </dd>
                    </div>
                    <div>
                      <dt>Registered</dt>
                      <dd>
                        {timeText(p.registeredAt)} by <HashLink kind="tx" value={p.tx} />
                      </dd>
                    </div>
                  </dl>
                  {mine && p.status === 'active' && (
                    <TxButton
                      label="Revoke"
                      secondary
                      sender={props.owner}
                      tx={() => printingTxBuilders.revokePrinter(p.printerId)}
                      summary={
                        <>
                          Revoke the printer <strong>{p.clientId}</strong> for good: its print
                          server refuses its certificate from the next revocation it reads, and its
                          prints not started can be cancelled once they expire.
                        </>
                      }
                      onDone={reload}
                    />
                  )}
                </li>
              ))}
            </ul>
          )}
          <h2>Prints bought</h2>
          {view.tokens.length === 0 ? (
            <p data-testid="no-prints">No print bought yet.</p>
          ) : (
            <Scroll label="Prints bought">
              <table>
                <caption>
                  Prints{view.moreTokens ? ` (the first ${view.tokens.length})` : ''}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Token</th>
                    <th scope="col">Design</th>
                    <th scope="col">State</th>
                    <th scope="col" class="num">
                      Price
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {view.tokens.map((t) => (
                    <tr key={t.tokenId} data-token={t.tokenId}>
                      <td>
                        <a href={printPath(t.tokenId)} class="mono" title={t.tokenId}>
                          {short(t.tokenId)}
                        </a>
                      </td>
                      <td>{view.titles.get(t.designId) ?? t.designId}</td>
                      <td>
                        <TokenState token={t} />
                      </td>
                      <td class="num">
                        {amountText(t.price.amount, t.price.asset, view.assets.get(t.price.asset))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Scroll>
          )}
        </>
      )}
    </Show>
  );
}
