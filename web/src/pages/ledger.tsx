import { client } from '../node.js';
import { Fields, HashLink, Show, useLoad, Scroll } from '../ui.js';

/* Accounts, assets, producers and the node's finality: what the ledger holds. */

export function AccountPage(props: { address: string }) {
  const [result] = useLoad(() => client.getAccount(props.address), [props.address]);
  return (
    <section>
      <h1>
        Account <span class="mono break">{props.address}</span>
      </h1>
      <Show result={result} what="the account">
        {(account) => (
          <>
            <Fields
              rows={[
                ['Nonce', String(account.nonce)],
                ['Frozen for', account.frozen.length ? account.frozen.join(', ') : 'nothing'],
              ]}
            />
            <h2>Balances</h2>
            <p class="muted">
              As the node reports them: the chain keeps no proof of one account&apos;s state, so
              this page cannot check them as it checks blocks and transactions.
            </p>
            {account.balances.length === 0 ? (
              <p class="muted">No balance yet.</p>
            ) : (
              <Scroll label="Balances">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Asset</th>
                      <th scope="col" class="num">
                        Balance
                      </th>
                      <th scope="col" class="num">
                        Held
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {account.balances.map((b) => (
                      <tr key={b.asset} data-asset={b.asset}>
                        <td>
                          {b.asset}
                          {b.frozen ? ' (frozen)' : ''}
                        </td>
                        <td class="num">{b.formatted.balance}</td>
                        <td class="num">{b.formatted.held}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </Scroll>
            )}
            <h2>Holds ({account.holds.length})</h2>
            {account.holds.length > 0 && (
              <Scroll label="Holds">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Id</th>
                      <th scope="col">Payee</th>
                      <th scope="col" class="num">
                        Amount (minor units)
                      </th>
                      <th scope="col">Expires at</th>
                    </tr>
                  </thead>
                  <tbody>
                    {account.holds.map((h) => (
                      <tr key={h.id}>
                        <td class="mono">{h.id}</td>
                        <td>
                          <HashLink kind="account" value={h.payee} />
                        </td>
                        <td class="num">
                          {h.amount} {h.asset}
                        </td>
                        <td>
                          <HashLink kind="block" value={h.expiresAtHeight} />
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
    </section>
  );
}

export function AssetsPage() {
  const [result] = useLoad(() => client.getAssets(), []);
  return (
    <section>
      <h1>Assets</h1>
      <Show result={result} what="the assets">
        {({ assets }) => (
          <Scroll label="Assets">
            <table>
              <thead>
                <tr>
                  <th scope="col">Symbol</th>
                  <th scope="col">Decimals</th>
                  <th scope="col" class="num">
                    Supply (minor units)
                  </th>
                  <th scope="col">Max supply</th>
                  <th scope="col">Issuer</th>
                </tr>
              </thead>
              <tbody>
                {assets.map((a) => (
                  <tr key={a.symbol}>
                    <td>{a.symbol}</td>
                    <td>{a.decimals}</td>
                    <td class="num">{a.supply}</td>
                    <td>{a.maxSupply ?? 'unlimited'}</td>
                    <td>
                      <HashLink kind="account" value={a.issuer} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        )}
      </Show>
    </section>
  );
}

export function ProducersPage() {
  const [producers] = useLoad(() => client.listProducers(), []);
  const [finality] = useLoad(() => client.finality(), []);
  return (
    <section>
      <h1>Producers</h1>
      <Show result={finality} what="finality">
        {(f) => (
          <Fields
            rows={[
              ['Consensus', f.consensus],
              ['Height', String(f.height)],
              ['Final up to', String(f.finalizedHeight)],
              ['Validators', String(f.validators.length)],
              ['Quorum', `${f.quorum} attestations`],
            ]}
          />
        )}
      </Show>
      <h2>Validators</h2>
      <Show result={finality} what="the validators">
        {(f) => (
          <Scroll label="Validators">
            <table>
              <thead>
                <tr>
                  <th scope="col">Producer</th>
                  <th scope="col">Operator</th>
                </tr>
              </thead>
              <tbody>
                {f.validators.map((v) => (
                  <tr key={v.producer}>
                    <td class="mono">{v.producer}</td>
                    <td>
                      <HashLink kind="account" value={v.operator} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        )}
      </Show>
      <Show result={producers} what="the producers">
        {({ producers: list }) => (
          <ul class="cards">
            {list.map((p) => (
              <li key={p.id} class="card" data-producer={p.id}>
                <h2 class="mono break">{p.id}</h2>
                <Fields
                  rows={[
                    ['Status', <span class={`status ${p.status}`}>{p.status}</span>],
                    ['Operator', <HashLink kind="account" value={p.operator} />],
                    ['Bond', p.bond],
                    ['Registered at', <HashLink kind="block" value={p.registeredAtHeight} />],
                    ...(p.lastSeenHeight === undefined
                      ? []
                      : ([['Last seen', String(p.lastSeenHeight)]] as [string, string][])),
                    [
                      'Committed nonces',
                      <ul>
                        {p.nonceRanges.map((r) => (
                          <li key={r.fromHeight}>
                            heights {r.fromHeight}–{r.fromHeight + r.count - 1}
                          </li>
                        ))}
                      </ul>,
                    ],
                  ]}
                />
                {p.equivocation && (
                  <div class="badge bad" role="note">
                    <p>
                      Signed two blocks at height {p.equivocation.height}: identity{' '}
                      {p.equivocation.infoRevealed ? 'revealed' : 'could not be opened'}.
                    </p>
                    {p.equivocation.infoRevealed && (
                      <pre class="json">{JSON.stringify(p.equivocation.info, null, 2)}</pre>
                    )}
                    <p>
                      Slashed {p.equivocation.slashed} (burned {p.equivocation.burned}, reporter{' '}
                      {p.equivocation.reward}).
                    </p>
                  </div>
                )}
              </li>
            ))}
          </ul>
        )}
      </Show>
    </section>
  );
}
