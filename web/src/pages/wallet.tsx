import QRCode from 'qrcode';
import { useEffect, useState } from 'preact/hooks';

import { parseUnits, type Account, type UnsignedTx } from '../../../src/sdk/index.js';
import { isAddress } from '../../../src/crypto/index.js';
import { client, describeError } from '../node.js';
import { ErrorBox, Field, HashLink, Show, short, useLoad, Scroll } from '../ui.js';
import type { WalletKey } from '../wallet/keystore.js';
import { ConfirmTx, draftTx, keystore, problemOf, type Problem } from '../wallet/session.js';

/* The wallet: keys encrypted in this browser, balances and holds, send with a confirmation of
   exactly what is signed, receive with a QR code, and the history the node's events tell. */

const historyMax = 100;

export function WalletPage() {
  const [, setRound] = useState(0);
  const refresh = () => setRound((r) => r + 1);
  if (!keystore.exists()) return <CreateWallet onDone={refresh} />;
  if (!keystore.isUnlocked) return <UnlockWallet onDone={refresh} />;
  return <OpenWallet onChange={refresh} />;
}

function CreateWallet(props: { onDone: () => void }) {
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const [secret, setSecret] = useState('');
  const [importing, setImporting] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      await keystore.create(passphrase, confirm, importing ? secret : undefined);
      props.onDone();
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <h1>Wallet</h1>
      <p>
        Your keys stay in this browser, encrypted under a passphrase (PBKDF2 and AES-GCM). Nothing
        secret is sent to the node; only signed transactions are.
      </p>
      <form onSubmit={(e) => void submit(e)} aria-labelledby="create-title">
        <h2 id="create-title">{importing ? 'Import a key' : 'Create a wallet'}</h2>
        <Field
          id="passphrase"
          label="Passphrase"
          type="password"
          value={passphrase}
          onInput={setPassphrase}
          autocomplete="new-password"
          hint="At least 10 characters. It cannot be recovered: without it the keys are lost."
        />
        <Field
          id="passphrase-confirm"
          label="Passphrase again"
          type="password"
          value={confirm}
          onInput={setConfirm}
          autocomplete="new-password"
        />
        <div class="field checkbox">
          <input
            id="import-toggle"
            type="checkbox"
            checked={importing}
            onChange={(e) => setImporting((e.target as HTMLInputElement).checked)}
          />
          <label for="import-toggle">Import an existing secret key instead of creating one</label>
        </div>
        {importing && (
          <Field
            id="secret"
            label="Secret key (64 hex digits)"
            type="password"
            value={secret}
            onInput={setSecret}
          />
        )}
        {problem && <ErrorBox {...problem} />}
        <button type="submit" disabled={busy}>
          {busy ? 'Encrypting…' : importing ? 'Import key' : 'Create wallet'}
        </button>
      </form>
    </section>
  );
}

function UnlockWallet(props: { onDone: () => void }) {
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      await keystore.unlock(passphrase);
      props.onDone();
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <h1>Wallet</h1>
      <form onSubmit={(e) => void submit(e)} aria-labelledby="unlock-title">
        <h2 id="unlock-title">Unlock</h2>
        <ul class="plain">
          {keystore.keys().map((k) => (
            <li key={k.address}>
              {k.label}: <span class="mono">{short(k.address)}</span>
            </li>
          ))}
        </ul>
        <Field
          id="unlock-passphrase"
          label="Passphrase"
          type="password"
          value={passphrase}
          onInput={setPassphrase}
          autocomplete="current-password"
        />
        {problem && <ErrorBox {...problem} />}
        <button type="submit" disabled={busy}>
          {busy ? 'Unlocking…' : 'Unlock'}
        </button>
      </form>
    </section>
  );
}

function OpenWallet(props: { onChange: () => void }) {
  const keys = keystore.keys();
  const [selected, setSelected] = useState<string>(keys[0]!.address);
  const [round, setRound] = useState(0);
  const [account] = useLoad(() => client.getAccount(selected), [selected, round]);
  const reload = () => setRound((r) => r + 1);
  const [adding, setAdding] = useState<Problem>();
  const addKey = async () => {
    try {
      const key = await keystore.add();
      setSelected(key.address);
      props.onChange();
    } catch (error) {
      setAdding(problemOf(error));
    }
  };
  return (
    <section>
      <h1>Wallet</h1>
      <div class="toolbar">
        <label for="account-select">Account</label>
        <select
          id="account-select"
          value={selected}
          onChange={(e) => setSelected((e.target as HTMLSelectElement).value)}
        >
          {keys.map((k: WalletKey) => (
            <option key={k.address} value={k.address}>
              {k.label} ({short(k.address)})
            </option>
          ))}
        </select>
        <button type="button" onClick={() => void addKey()}>
          New account
        </button>
        <button
          type="button"
          onClick={() => {
            keystore.lock();
            props.onChange();
          }}
        >
          Lock
        </button>
      </div>
      {adding && <ErrorBox {...adding} />}
      <div class="grid">
        <div>
          <h2>Balances</h2>
          <Show result={account} what="balances">
            {(a) => <Balances account={a} />}
          </Show>
          <Receive address={selected} />
          <Backup address={selected} />
        </div>
        <div>
          <Send
            from={selected}
            account={account.state === 'ok' ? account.value : undefined}
            onSent={reload}
          />
          <History address={selected} onActivity={reload} />
        </div>
      </div>
    </section>
  );
}

function Balances(props: { account: Account }) {
  const { balances, holds } = props.account;
  if (balances.length === 0)
    return <p class="muted">Nothing yet: receive funds at the address below.</p>;
  return (
    <>
      <Scroll label="Balances">
        <table>
          <thead>
            <tr>
              <th scope="col">Asset</th>
              <th scope="col" class="num">
                Available
              </th>
              <th scope="col" class="num">
                Held
              </th>
            </tr>
          </thead>
          <tbody>
            {balances.map((b) => (
              <tr key={b.asset} data-asset={b.asset}>
                <td>{b.asset}</td>
                <td class="num" data-balance={b.balance}>
                  {b.formatted.balance}
                </td>
                <td class="num">{b.formatted.held}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      {holds.length > 0 && (
        <>
          <h3>Holds</h3>
          <ul class="plain">
            {holds.map((h) => (
              <li key={h.id}>
                {h.amount} {h.asset} (minor units) to <HashLink kind="account" value={h.payee} />,
                until height {h.expiresAtHeight}
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

/** Shows the selected key's secret, after the passphrase is typed again, to write it down. */
function Backup(props: { address: string }) {
  const [passphrase, setPassphrase] = useState('');
  const [secret, setSecret] = useState<string | undefined>();
  const [problem, setProblem] = useState<Problem>();
  useEffect(() => setSecret(undefined), [props.address]);
  const reveal = async (event: Event) => {
    event.preventDefault();
    setProblem(undefined);
    try {
      setSecret(await keystore.reveal(props.address, passphrase));
      setPassphrase('');
    } catch (error) {
      setProblem(problemOf(error));
    }
  };
  return (
    <details class="backup">
      <summary>Back up this key</summary>
      <p>
        Anyone with this secret controls the account. Write it down and keep it offline; this
        browser's storage is the only other copy.
      </p>
      {secret ? (
        <>
          <p class="mono break" data-testid="secret">
            {secret}
          </p>
          <button type="button" class="secondary" onClick={() => setSecret(undefined)}>
            Hide
          </button>
        </>
      ) : (
        <form onSubmit={(e) => void reveal(e)}>
          <Field
            id="backup-passphrase"
            label="Passphrase (asked again)"
            type="password"
            value={passphrase}
            onInput={setPassphrase}
            autocomplete="current-password"
          />
          {problem && <ErrorBox {...problem} />}
          <button type="submit">Show the secret key</button>
        </form>
      )}
    </details>
  );
}

function Receive(props: { address: string }) {
  const [svg, setSvg] = useState('');
  useEffect(() => {
    QRCode.toString(props.address, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' }).then(
      setSvg,
      () => setSvg(''),
    );
  }, [props.address]);
  return (
    <section aria-labelledby="receive-title">
      <h2 id="receive-title">Receive</h2>
      <p class="mono break" data-testid="address">
        {props.address}
      </p>
      <button type="button" onClick={() => void navigator.clipboard?.writeText(props.address)}>
        Copy address
      </button>
      <div
        class="qr"
        role="img"
        aria-label={`QR code of the address ${props.address}`}
        // The SVG is generated here from the address by the qrcode library.
        dangerouslySetInnerHTML={{ __html: svg }}
      />
    </section>
  );
}

function Send(props: { from: string; account: Account | undefined; onSent: () => void }) {
  const assets = props.account?.balances ?? [];
  const [to, setTo] = useState('');
  const [asset, setAsset] = useState('');
  const [amount, setAmount] = useState('');
  const [memo, setMemo] = useState('');
  const [draft, setDraft] = useState<{ tx: UnsignedTx; display: string } | undefined>();
  const [problem, setProblem] = useState<Problem>();
  const [sent, setSent] = useState<string | undefined>();
  const chosen = assets.find((b) => b.asset === (asset || assets[0]?.asset));

  const review = async (event: Event) => {
    event.preventDefault();
    setProblem(undefined);
    setSent(undefined);
    if (!isAddress(to.trim()))
      return setProblem({
        code: 'invalid_address',
        message: 'The recipient is not a Coffer address.',
      });
    if (!chosen)
      return setProblem({ code: 'asset_not_found', message: 'This account holds no asset yet.' });
    const minor = parseUnits(amount.trim(), chosen.decimals);
    if (minor === undefined) {
      return setProblem({
        code: 'invalid_amount',
        message: `Write the amount as a number with at most ${chosen.decimals} decimals, such as 12.50.`,
      });
    }
    if (minor <= 0n) return setProblem({ code: 'invalid_amount', message: 'Send more than zero.' });
    if (minor > BigInt(chosen.balance)) {
      return setProblem({
        code: 'insufficient_funds',
        message: `Only ${chosen.formatted.balance} ${chosen.asset} is available.`,
      });
    }
    try {
      const tx = await draftTx(props.from, {
        type: 'ledger.transfer',
        payload: { to: to.trim(), asset: chosen.asset, amount: minor.toString() },
        ...(memo.trim() ? { memo: memo.trim() } : {}),
      });
      setDraft({ tx, display: `${amount.trim()} ${chosen.asset}` });
    } catch (error) {
      setProblem(describeError(error));
    }
  };

  if (draft) {
    return (
      <ConfirmTx
        tx={draft.tx}
        summary={
          <>
            Send <strong>{draft.display}</strong> to{' '}
            <span class="mono break">{String(draft.tx.payload.to)}</span>.
          </>
        }
        onSent={(hash) => {
          setSent(hash);
          setDraft(undefined);
          setAmount('');
          props.onSent();
        }}
        onCancel={() => setDraft(undefined)}
      />
    );
  }

  return (
    <section aria-labelledby="send-title">
      <h2 id="send-title">Send</h2>
      <form onSubmit={(e) => void review(e)}>
        <Field id="send-to" label="To (address)" value={to} onInput={setTo} />
        <div class="field">
          <label for="send-asset">Asset</label>
          <select
            id="send-asset"
            value={chosen?.asset ?? ''}
            onChange={(e) => setAsset((e.target as HTMLSelectElement).value)}
          >
            {assets.map((b) => (
              <option key={b.asset} value={b.asset}>
                {b.asset} ({b.formatted.balance} available)
              </option>
            ))}
          </select>
        </div>
        <Field
          id="send-amount"
          label={`Amount${chosen ? ` (${chosen.asset}, up to ${chosen.decimals} decimals)` : ''}`}
          value={amount}
          onInput={setAmount}
        />
        <Field id="send-memo" label="Memo (optional, public)" value={memo} onInput={setMemo} />
        {problem && <ErrorBox {...problem} />}
        <button type="submit">Review</button>
      </form>
      {sent && (
        <p class="badge ok" role="status">
          Sent: <HashLink kind="tx" value={sent} /> is in a block.
        </p>
      )}
    </section>
  );
}

type Entry = { height: number; tx: string; type: string; status: string; sender: string };

/** Receipts involving the address, from the node's event stream, kept in this browser. */
function History(props: { address: string; onActivity: () => void }) {
  const storageKey = `coffer.history.${props.address}`;
  const load = (): Entry[] => {
    try {
      return JSON.parse(localStorage.getItem(storageKey) ?? '[]') as Entry[];
    } catch {
      return [];
    }
  };
  const [entries, setEntries] = useState<Entry[]>(load);
  useEffect(() => {
    setEntries(load());
    const subscription = client.subscribe({ address: props.address }, (message) => {
      if (message.kind === 'event') {
        props.onActivity();
        return;
      }
      if (message.kind !== 'receipt') return;
      const entry: Entry = {
        height: message.height,
        tx: message.tx,
        type: message.type,
        status: message.status,
        sender: message.sender,
      };
      setEntries((current) => {
        if (current.some((e) => e.tx === entry.tx)) return current;
        const next = [entry, ...current].slice(0, historyMax);
        localStorage.setItem(storageKey, JSON.stringify(next));
        return next;
      });
      props.onActivity();
    });
    return () => subscription.close();
  }, [props.address]);
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      {entries.length === 0 ? (
        <p class="muted">No transactions seen since this wallet was opened here.</p>
      ) : (
        <ul class="plain history">
          {entries.map((e) => (
            <li key={e.tx}>
              <code>{e.type}</code> <HashLink kind="tx" value={e.tx} /> at{' '}
              <HashLink kind="block" value={e.height} />{' '}
              <span class={e.status === 'ok' ? 'ok-text' : 'bad-text'}>{e.status}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
