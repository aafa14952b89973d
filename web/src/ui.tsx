import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import { describeError } from './node.js';

/* Shared pieces: loading and error states, hashes and addresses as links, the verified badge. */

export type Loaded<T> =
  | { state: 'loading' }
  | { state: 'error'; code: string; message: string }
  | { state: 'ok'; value: T };

/** Runs `load` when `key` changes; the previous value stays on screen while the next loads. */
export function useLoad<T>(load: () => Promise<T>, key: unknown[]): [Loaded<T>, () => void] {
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && setResult({ state: 'ok', value }),
      (error: unknown) => live && setResult({ state: 'error', ...describeError(error) }),
    );
    return () => {
      live = false;
    };
  }, [...key, round]);
  return [result, () => setRound((r) => r + 1)];
}

/** What a load shows while it runs or when it fails; `children` once it has a value. */
export function Show<T>(props: {
  result: Loaded<T>;
  what: string;
  children: (value: T) => ComponentChildren;
}) {
  const { result } = props;
  if (result.state === 'loading') {
    return (
      <p class="muted" role="status" aria-live="polite">
        Loading {props.what}…
      </p>
    );
  }
  if (result.state === 'error') return <ErrorBox code={result.code} message={result.message} />;
  return <>{props.children(result.value)}</>;
}

export function ErrorBox(props: { code: string; message: string }) {
  return (
    <div class="error" role="alert">
      <strong>{props.code}</strong>: {props.message}
    </div>
  );
}

export function short(hash: string, head = 10, tail = 6): string {
  return hash.length <= head + tail + 1 ? hash : `${hash.slice(0, head)}…${hash.slice(-tail)}`;
}

export function HashLink(props: { kind: 'block' | 'tx' | 'account'; value: string | number }) {
  const text = String(props.value);
  const href =
    props.kind === 'block'
      ? `/explorer/block/${text}`
      : props.kind === 'tx'
        ? `/explorer/tx/${text}`
        : `/explorer/account/${text}`;
  return (
    <a href={href} class="mono" title={text}>
      {props.kind === 'block' ? text : short(text)}
    </a>
  );
}

export function Time(props: { ms: number }) {
  const date = new Date(props.ms);
  return (
    <time dateTime={date.toISOString()}>{date.toISOString().replace('T', ' ').slice(0, 19)}</time>
  );
}

/** A check that could not run: the producers' keys (what it checks against) did not load. */
export function unverifiable(error: unknown): {
  ok: false;
  failures: { check: string; message: string }[];
} {
  return {
    ok: false,
    failures: [
      {
        check: 'producer_untrusted',
        message: `the producers' keys did not load: ${describeError(error).message}`,
      },
    ],
  };
}

/** The outcome of a check done in this browser: verified, failed with the reasons, or running. */
export type ShownVerdict = { ok: boolean; failures: { check: string; message: string }[] };

export function Verified(props: { verdict: ShownVerdict | undefined; what: string }) {
  const { verdict } = props;
  if (!verdict) {
    return (
      <p class="badge pending" role="status">
        Checking {props.what} in this browser…
      </p>
    );
  }
  if (verdict.ok) {
    return (
      <p class="badge ok" role="status" data-verified="true">
        ✓ Verified in this browser: {props.what}
      </p>
    );
  }
  return (
    <div class="badge bad" role="alert" data-verified="false">
      <p>✗ Not verified: {props.what}</p>
      <ul>
        {props.verdict!.failures.map((f) => (
          <li key={f.check + f.message}>
            <code>{f.check}</code>: {f.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A definition list of label / value rows. */
export function Fields(props: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="fields">
      {props.rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A labelled text input, with an optional hint read by screen readers. */
export function Field(props: {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  type?: string;
  hint?: string;
  autocomplete?: string;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type={props.type ?? 'text'}
        value={props.value}
        autoComplete={props.autocomplete ?? 'off'}
        aria-describedby={props.hint ? `${props.id}-hint` : undefined}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
      />
      {props.hint && (
        <small id={`${props.id}-hint`} class="muted">
          {props.hint}
        </small>
      )}
    </div>
  );
}

/**
 * A table's box that scrolls sideways on a narrow screen rather than widening the page; focusable
 * and named, so a keyboard can scroll it too.
 */
export function Scroll(props: { label: string; children: ComponentChildren }) {
  return (
    <div class="scroll" role="region" aria-label={props.label} tabIndex={0}>
      {props.children}
    </div>
  );
}
