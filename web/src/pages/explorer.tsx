import { useEffect, useState } from 'preact/hooks';

import {
  verifyHeader,
  verifyHeaderChain,
  verifyTxInclusion,
  type BlockMessage,
  type SignedHeader,
  type TxResponse,
} from '../../../src/sdk/index.js';
import { isAddress } from '../../../src/crypto/index.js';
import { navigate } from '../router.js';
import { client, producerTrust } from '../node.js';
import {
  ErrorBox,
  Fields,
  HashLink,
  Show,
  Time,
  short,
  unverifiable,
  useLoad,
  Verified,
  type ShownVerdict,
  Scroll,
} from '../ui.js';

/* The explorer: latest blocks live, a block, a tx with its proof checked here, search. */

const latestCount = 15;

type Row = {
  height: number;
  hash: string;
  time: number;
  txCount: number;
  /** Whether this browser checked its header and its link to the one before. */
  checked?: 'ok' | 'failed';
};

/**
 * The latest blocks: a page from the API, then each new one from the websocket. Every block
 * shown is checked here, in order: the first page as a header chain, then each new block's
 * signature, nonce and link to the last block checked (fetched in pages when several arrived).
 */
export function LatestBlocks() {
  const [rows, setRows] = useState<Row[] | undefined>(undefined);
  const [verdict, setVerdict] = useState<ShownVerdict | undefined>(undefined);
  const [failure, setFailure] = useState<{ code: string; message: string } | undefined>();
  const [live, setLive] = useState(false);

  useEffect(() => {
    let stopped = false;
    let head: SignedHeader | undefined;
    let queue: Promise<void> = Promise.resolve();
    const mark = (heights: number[], checked: 'ok' | 'failed') =>
      setRows((current) =>
        current?.map((r) => (heights.includes(r.height) ? { ...r, checked } : r)),
      );
    /** Checks the blocks after `head` up to `height`, a page at a time. */
    const checkUpTo = async (height: number) => {
      const trust = await producerTrust();
      while (!stopped && head && head.header.height < height) {
        const from = Math.max(head.header.height + 1, height - latestCount + 1);
        const page = await client.getBlocks(from, Math.min(height, from + 99));
        if (page.blocks.length === 0) return;
        // A gap past what is shown: check the run alone, anchored where it starts.
        const previous = from === head.header.height + 1 ? head : undefined;
        const result = verifyHeaderChain(page.blocks, { trust, ...(previous ? { previous } : {}) });
        mark(
          page.blocks.map((b) => b.height),
          result.ok ? 'ok' : 'failed',
        );
        if (!result.ok) setVerdict(result);
        head = page.blocks[page.blocks.length - 1]!;
      }
    };
    (async () => {
      const { height } = await client.health();
      const page = await client.getBlocks(Math.max(0, height - latestCount + 1), height);
      if (stopped) return;
      const result = verifyHeaderChain(page.blocks, { trust: await producerTrust() });
      const checked = result.ok ? ('ok' as const) : ('failed' as const);
      const blocks = [...page.blocks].reverse();
      setRows((current) => {
        const seen = (current ?? []).filter((r) => r.height > height);
        const first = blocks.map((b) => ({ ...b, time: b.header.time, checked }));
        return [...seen, ...first].slice(0, latestCount);
      });
      setVerdict(result);
      head = page.blocks[page.blocks.length - 1];
    })().catch((error: unknown) => {
      if (!stopped) setFailure({ code: 'error', message: String(error) });
    });
    const subscription = client.subscribe(
      { types: ['block'] },
      (message) => {
        if (message.kind !== 'block') return;
        const block: BlockMessage = message;
        setRows((current) => {
          if (!current || current.some((r) => r.height === block.height)) return current;
          return [block, ...current].slice(0, latestCount);
        });
        queue = queue
          .then(() => checkUpTo(block.height))
          .catch((error: unknown) => setVerdict(unverifiable(error)));
      },
      { onOpen: () => setLive(true), onError: () => setLive(false) },
    );
    return () => {
      stopped = true;
      subscription.close();
    };
  }, []);

  return (
    <section aria-labelledby="latest-blocks">
      <h2 id="latest-blocks">
        Latest blocks{' '}
        <span class={live ? 'live on' : 'live'} aria-label={live ? 'live' : 'not live'}>
          {live ? '● live' : '○ connecting'}
        </span>
      </h2>
      {failure && <ErrorBox {...failure} />}
      {verdict && (
        <Verified
          verdict={verdict}
          what="each block's hash, producer signature, committed nonce and link to the one before"
        />
      )}
      <Scroll label="Latest blocks">
        <table class="blocks">
          <thead>
            <tr>
              <th scope="col">Height</th>
              <th scope="col">Hash</th>
              <th scope="col">Time</th>
              <th scope="col">Txs</th>
              <th scope="col">Checked here</th>
            </tr>
          </thead>
          <tbody>
            {(rows ?? []).map((row) => (
              <tr key={row.height} data-height={row.height}>
                <td>
                  <HashLink kind="block" value={row.height} />
                </td>
                <td class="mono">{short(row.hash)}</td>
                <td>
                  <Time ms={row.time} />
                </td>
                <td>{row.txCount}</td>
                <td data-checked={row.checked ?? 'pending'}>
                  {row.checked === 'ok' ? (
                    <span class="ok-text">✓ verified</span>
                  ) : row.checked === 'failed' ? (
                    <span class="bad-text">✗ not verified</span>
                  ) : (
                    <span class="muted">checking…</span>
                  )}
                </td>
              </tr>
            ))}
            {rows === undefined &&
              Array.from({ length: 5 }, (_, i) => (
                <tr key={`skeleton-${i}`} aria-hidden="true">
                  <td colSpan={5} class="skeleton">
                    &nbsp;
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      </Scroll>
    </section>
  );
}

export function BlockPage(props: { height: string }) {
  const height = Number(props.height);
  const [result] = useLoad(() => client.getBlock(height), [height]);
  const [verdict, setVerdict] = useState<ShownVerdict | undefined>();
  useEffect(() => {
    setVerdict(undefined);
    if (result.state !== 'ok') return;
    producerTrust().then(
      (trust) => setVerdict(verifyHeader(result.value, trust)),
      (error: unknown) => setVerdict(unverifiable(error)),
    );
  }, [result]);
  return (
    <section>
      <h1>Block {props.height}</h1>
      <Show result={result} what="the block">
        {(block) => (
          <>
            <Verified verdict={verdict} what="hash, producer signature and committed nonce" />
            <Fields
              rows={[
                ['Hash', <span class="mono break">{block.hash}</span>],
                ['Time', <Time ms={block.header.time} />],
                ['Producer', <HashLink kind="account" value={block.header.producer} />],
                [
                  'Previous',
                  block.height > 0 ? <HashLink kind="block" value={block.height - 1} /> : 'genesis',
                ],
                ['Final', block.final ? 'yes' : 'not yet'],
                ['Tx root', <span class="mono break">{block.header.txRoot}</span>],
                ['Receipt root', <span class="mono break">{block.header.receiptRoot}</span>],
                ['State root', <span class="mono break">{block.header.stateRoot}</span>],
              ]}
            />
            <h2>Transactions ({block.txs.length})</h2>
            {block.txs.length === 0 ? (
              <p class="muted">No transactions in this block.</p>
            ) : (
              <ol class="txs">
                {block.txs.map((hash) => (
                  <li key={hash}>
                    <HashLink kind="tx" value={hash} />
                  </li>
                ))}
              </ol>
            )}
            <nav class="pager" aria-label="Neighbouring blocks">
              {block.height > 0 && (
                <a href={`/explorer/block/${block.height - 1}`}>← {block.height - 1}</a>
              )}
              <a href={`/explorer/block/${block.height + 1}`}>{block.height + 1} →</a>
            </nav>
          </>
        )}
      </Show>
    </section>
  );
}

export function TxPage(props: { hash: string }) {
  const [result] = useLoad(() => client.getTx(props.hash), [props.hash]);
  const [verdict, setVerdict] = useState<ShownVerdict | undefined>();
  const committed =
    result.state === 'ok' && 'receipt' in result.value ? (result.value as TxResponse) : undefined;
  useEffect(() => {
    setVerdict(undefined);
    if (!committed) return;
    producerTrust().then(
      (trust) => setVerdict(verifyTxInclusion(committed, trust)),
      (error: unknown) => setVerdict(unverifiable(error)),
    );
  }, [committed]);
  return (
    <section>
      <h1>
        Transaction <span class="mono break">{short(props.hash, 12, 8)}</span>
      </h1>
      <Show result={result} what="the transaction">
        {(lookup) =>
          !('receipt' in lookup) ? (
            <p class="badge pending" role="status">
              Pending: waiting in the node's mempool for a block.
            </p>
          ) : (
            <TxDetails tx={lookup as TxResponse} verdict={verdict} />
          )
        }
      </Show>
    </section>
  );
}

function TxDetails(props: { tx: TxResponse; verdict: ShownVerdict | undefined }) {
  const { tx, verdict } = props;
  const status = tx.receipt.status;
  return (
    <>
      <Verified
        verdict={verdict}
        what="signature, Merkle proof of inclusion and of the receipt, block signature"
      />
      <Fields
        rows={[
          ['Hash', <span class="mono break">{tx.hash}</span>],
          [
            'Status',
            <span class={status === 'ok' ? 'ok-text' : 'bad-text'}>
              {status}
              {verdict?.ok ? '' : ' (as the node says: not verified here)'}
            </span>,
          ],
          ['Type', <code>{tx.tx.type}</code>],
          ['Sender', <HashLink kind="account" value={tx.tx.sender} />],
          ['Nonce', String(tx.tx.nonce)],
          ['Block', <HashLink kind="block" value={tx.height} />],
          ['Index in block', `${tx.index} of ${tx.block.header.txCount}`],
          ...(tx.tx.memo ? ([['Memo', tx.tx.memo]] as [string, string][]) : []),
        ]}
      />
      <h2>Payload</h2>
      <pre class="json">{JSON.stringify(tx.tx.payload, null, 2)}</pre>
      <h2>Events ({tx.receipt.events.length})</h2>
      {tx.receipt.events.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul class="events">
          {tx.receipt.events.map((event, i) => (
            <li key={i}>
              <code>{event.type}</code>
              <pre class="json">{JSON.stringify(event.data, null, 2)}</pre>
            </li>
          ))}
        </ul>
      )}
      <h2>Merkle proof</h2>
      <Fields
        rows={[
          ['Leaf', `${tx.proof.leafIndex} of ${tx.proof.treeSize}`],
          [
            'Path',
            <ol class="mono">
              {tx.proof.path.map((p) => (
                <li key={p}>{short(p, 16, 8)}</li>
              ))}
            </ol>,
          ],
        ]}
      />
    </>
  );
}

export function ExplorerPage() {
  return (
    <section>
      <h1>Blocks</h1>
      <LatestBlocks />
    </section>
  );
}

/** Search by height, tx hash or address. */
export function Search() {
  const [query, setQuery] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const submit = (event: Event) => {
    event.preventDefault();
    const q = query.trim();
    setProblem(undefined);
    if (/^\d{1,15}$/.test(q)) return navigate(`/explorer/block/${Number(q)}`);
    if (/^[0-9a-fA-F]{64}$/.test(q)) return navigate(`/explorer/tx/${q.toLowerCase()}`);
    if (isAddress(q)) return navigate(`/explorer/account/${q}`);
    setProblem('Enter a block height, a 64-digit tx hash or a Coffer address.');
  };
  const id = 'search-query';
  return (
    <form class="search" role="search" onSubmit={submit}>
      <label for={id}>Search</label>
      <input
        id={id}
        value={query}
        onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        placeholder="Height, tx hash or address"
        aria-invalid={problem ? 'true' : undefined}
        aria-describedby={problem ? `${id}-problem` : undefined}
      />
      <button type="submit">Go</button>
      {problem && (
        <p id={`${id}-problem`} class="bad-text" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}
