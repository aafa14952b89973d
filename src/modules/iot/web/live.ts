import { useEffect, useRef, useState } from 'preact/hooks';

import { client } from '../../../../web/src/node.js';

/* The iot pages follow the chain while they are open: any `iot.` event that `matches` reloads what
   the page shows, settled as web/src/live.ts does (a block's events reload the page once). The
   list matches every iot event (a session it does not show yet may start), a session page its own
   session's, a device page those that name the device. */

/** How long events settle before one reload. */
const settleMs = 250;
const iotEventTypes = ['iot.'];

/**
 * Calls `onChange` when a committed block carries an `iot.` event whose data `matches`, at most once
 * per 250 ms, while `enabled`; returns whether the event stream is connected. `key` names what
 * `matches` tests: the subscription restarts when it changes.
 */
export function useIotEvents(
  key: string,
  matches: (data: Record<string, unknown>) => boolean,
  onChange: () => void,
  enabled = true,
): boolean {
  const [live, setLive] = useState(false);
  // The latest callbacks, so a render does not resubscribe.
  const latest = useRef({ matches, onChange });
  latest.current = { matches, onChange };
  useEffect(() => {
    if (!enabled) {
      setLive(false);
      return undefined;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const subscription = client.subscribe(
      { types: iotEventTypes },
      (message) => {
        if (message.kind !== 'event' || !latest.current.matches(message.data)) return;
        timer ??= setTimeout(() => {
          timer = undefined;
          latest.current.onChange();
        }, settleMs);
      },
      { onOpen: () => setLive(true), onError: () => setLive(false) },
    );
    return () => {
      if (timer !== undefined) clearTimeout(timer);
      subscription.close();
    };
  }, [key, enabled]);
  return live;
}
