import type { ComponentChildren } from 'preact';

import { WithWallet } from '../../../../web/src/wallet/session.js';
import { poolPath, sectionPath } from './words.js';

/* The scholarship pages' frame: the way back, a wallet form's page, what a done form says and the
   manager-only note. */

/** The way back: to the questions, and to the pool when the page is one of its forms. */
export function Back(props: { poolId?: string }) {
  return (
    <p>
      <a href={sectionPath}>Questions</a>
      {props.poolId !== undefined && (
        <>
          {' · '}
          <a href={poolPath(props.poolId)}>Pool {props.poolId}</a>
        </>
      )}
    </p>
  );
}

/** A page whose form signs with the wallet: the way back, its title and intro, then the form. */
export function WalletPage(props: {
  title: string;
  intro: ComponentChildren;
  /** What the wallet is needed for: `ask a question`. */
  what: string;
  children: (addresses: string[]) => ComponentChildren;
}) {
  return (
    <section>
      <Back />
      <h1>{props.title}</h1>
      <p>{props.intro}</p>
      <WithWallet what={props.what}>{props.children}</WithWallet>
    </section>
  );
}

/** What a form says once its tx is done. */
export function Done(props: { testId: string; children: ComponentChildren }) {
  return (
    <p class="badge ok" role="status" data-testid={props.testId}>
      {props.children}
    </p>
  );
}

/** The form, for the pool's manager; anyone else is told who may (`Only the pool's manager ...`). */
export function ManagerOnly(props: {
  addresses: string[];
  manager: string;
  /** What the manager does: `invites members`. */
  does: string;
  children: () => ComponentChildren;
}) {
  if (props.addresses.includes(props.manager)) return <>{props.children()}</>;
  return (
    <p class="badge pending" role="note" data-testid="not-manager">
      {`Only the pool's manager ${props.does}.`}
    </p>
  );
}
