import { useEffect, useState } from 'preact/hooks';

import { client } from './node.js';

/* A page that follows a record while it is open: events about it reload what the page shows. */

/** How long events settle before one reload: a block's events reload the page once. */
const settleMs = 250;

/**
 * Calls `onChange` when a committed block carries an event of `types` (exact, or a prefix ending in
 * a dot) whose data names `id` in `field` (a bank's `bankId`, a campaign's `campaignId`), at most
 * once per 250 ms; returns whether the event stream is connected.
 */
export function useEventsAbout(
  types: string[],
  field: string,
  id: string,
  onChange: () => void,
): boolean {
  const [live, setLive] = useState(false);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const subscription = client.subscribe(
      { types },
      (message) => {
        if (message.kind !== 'event' || message.data[field] !== id) return;
        timer ??= setTimeout(() => {
          timer = undefined;
          onChange();
        }, settleMs);
      },
      { onOpen: () => setLive(true), onError: () => setLive(false) },
    );
    return () => {
      if (timer !== undefined) clearTimeout(timer);
      subscription.close();
    };
  }, [types.join(' '), field, id]);
  return live;
}
