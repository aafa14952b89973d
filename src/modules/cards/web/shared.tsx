import './cards.css';

/* The cards pages' one shared component; what they say is in words.ts. */

/** Whether the page follows the card's events. */
export function LiveNote(props: { live: boolean }) {
  return (
    <span class={props.live ? 'live on' : 'live'}>{props.live ? '● live' : '○ connecting'}</span>
  );
}
