import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

import { hashTx, signTx, type UnsignedTx } from '../../../src/sdk/index.js';
import { client, describeError } from '../node.js';
import { ErrorBox, short } from '../ui.js';
import { Keystore, WalletError } from './keystore.js';

/*
 * The page's one wallet, shared by the wallet page and the modules' pages: a tx is drafted
 * (chain id and the sender's next nonce from the node), shown whole, and signed only when the
 * person presses "Sign and send".
 */

export const keystore = new Keystore();

export type Problem = { code: string; message: string } | undefined;

export const problemOf = (error: unknown): Problem =>
  error instanceof WalletError
    ? { code: error.code, message: error.message }
    : describeError(error);

/** The tx `sender` would sign for `type` and `payload`, with the chain id and its next nonce. */
export async function draftTx(
  sender: string,
  tx: { type: string; payload: Record<string, unknown>; memo?: string },
): Promise<UnsignedTx> {
  const [{ chainId }, { nonce }] = await Promise.all([client.health(), client.getAccount(sender)]);
  return { chainId, sender, nonce, ...tx };
}

/**
 * The confirmation screen: what the tx does in words, exactly what the key signs, then sign and
 * submit (waiting for its block). `onSent` gets the tx hash; a refusal is shown with its code.
 */
export function ConfirmTx(props: {
  tx: UnsignedTx;
  summary: ComponentChildren;
  onSent: (hash: string) => void;
  onCancel: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const box = useRef<HTMLElement>(null);
  // It replaces the form that drafted it: the keyboard and screen readers go to it.
  useEffect(() => box.current?.focus(), []);
  const confirm = async () => {
    setBusy(true);
    setProblem(undefined);
    try {
      const signed = signTx(props.tx, keystore.signer(props.tx.sender));
      const result = await client.submit(signed, { wait: 'commit' });
      props.onSent(result.hash);
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="confirm-title" class="confirm" ref={box} tabIndex={-1}>
      <h2 id="confirm-title">Confirm and sign</h2>
      <p>{props.summary}</p>
      <p>This is exactly what your key signs (its hash {short(hashTx(props.tx), 12, 8)}):</p>
      <pre class="json" data-testid="to-sign">
        {JSON.stringify(props.tx, null, 2)}
      </pre>
      {problem && <ErrorBox {...problem} />}
      <div class="toolbar">
        <button type="button" onClick={() => void confirm()} disabled={busy}>
          {busy ? 'Signing and sending…' : 'Sign and send'}
        </button>
        <button type="button" class="secondary" onClick={props.onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </section>
  );
}

/** Its children with the wallet's first unlocked address; otherwise a way to the wallet. */
export function WithWallet(props: {
  what: string;
  children: (addresses: string[]) => ComponentChildren;
}) {
  if (!keystore.exists() || !keystore.isUnlocked) {
    return (
      <p class="badge pending" role="note">
        To {props.what}, <a href="/wallet">{keystore.exists() ? 'unlock' : 'create'} your wallet</a>{' '}
        first.
      </p>
    );
  }
  return <>{props.children(keystore.keys().map((k) => k.address))}</>;
}

/** The wallet's unlocked addresses (none when it is locked or absent). */
export function walletAddresses(): string[] {
  return keystore.exists() && keystore.isUnlocked ? keystore.keys().map((k) => k.address) : [];
}

/**
 * A button that drafts a tx from `sender` and shows what it signs; once it is in a block,
 * `onDone` (the page reloads what it shows). A refusal stays on screen with its code.
 */
export function TxButton(props: {
  label: string;
  sender: string;
  tx: () => { type: string; payload: Record<string, unknown> } | Problem;
  summary: ComponentChildren;
  onDone: (hash: string) => void;
  secondary?: boolean;
}) {
  const [draft, setDraft] = useState<UnsignedTx>();
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const review = async () => {
    setProblem(undefined);
    const built = props.tx();
    if (!built || !('type' in built)) {
      setProblem(built);
      return;
    }
    setBusy(true);
    try {
      setDraft(await draftTx(props.sender, built));
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  };
  if (draft) {
    return (
      <ConfirmTx
        tx={draft}
        summary={props.summary}
        onSent={(hash) => {
          setDraft(undefined);
          props.onDone(hash);
        }}
        onCancel={() => setDraft(undefined)}
      />
    );
  }
  return (
    <>
      <button
        type="button"
        class={props.secondary ? 'secondary' : undefined}
        onClick={() => void review()}
        disabled={busy}
      >
        {busy ? 'Preparing…' : props.label}
      </button>
      {problem && <ErrorBox {...problem} />}
    </>
  );
}

/**
 * The confirmation of a tx chosen elsewhere (a row's button): drafts it at once, then shows what
 * the key signs; the keyboard focus moves to it. Cancel or a sent tx closes it.
 */
export function TxReview(props: {
  sender: string;
  tx: { type: string; payload: Record<string, unknown> };
  summary: ComponentChildren;
  onDone: (hash: string) => void;
  onCancel: () => void;
}) {
  const [draft, setDraft] = useState<UnsignedTx>();
  const [problem, setProblem] = useState<Problem>();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let live = true;
    draftTx(props.sender, props.tx).then(
      (tx) => live && setDraft(tx),
      (error: unknown) => live && setProblem(problemOf(error)),
    );
    return () => {
      live = false;
    };
  }, []);
  useEffect(() => box.current?.focus(), [draft, problem]);
  return (
    <div ref={box} tabIndex={-1}>
      {problem ? (
        <>
          <ErrorBox {...problem} />
          <button type="button" class="secondary" onClick={props.onCancel}>
            Close
          </button>
        </>
      ) : draft ? (
        <ConfirmTx
          tx={draft}
          summary={props.summary}
          onSent={props.onDone}
          onCancel={props.onCancel}
        />
      ) : (
        <p class="muted" role="status">
          Preparing the transaction…
        </p>
      )}
    </div>
  );
}
