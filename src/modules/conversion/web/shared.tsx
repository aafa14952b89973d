import './conversion.css';

import type { ConversionStatus } from '../client.js';
import { statusText } from './words.js';

/* The conversion pages' shared pieces. */

/**
 * A status in words, coloured by a class (the page's Content-Security-Policy allows no inline
 * style): active in the console's "ok" colour, paused in its "pending" one.
 */
export function StatusText(props: { status: ConversionStatus }) {
  return (
    <span class={`conversion-status ${props.status}`} data-status={props.status}>
      {statusText[props.status]}
    </span>
  );
}
