import { useState } from 'preact/hooks';

import type { ModulePages } from '../../../../web/src/module-pages.js';
import { navigate } from '../../../../web/src/router.js';
import { ErrorBox, Field } from '../../../../web/src/ui.js';
import { isCardId } from '../client.js';
import { cardsRejections } from '../rejections.js';
import { CardPage } from './card-page.js';
import { DevicePage } from './device-page.js';

/*
 * Cards in the console (issue 18): open a card by its id (the chain lists no cards: an issuer
 * gives the id to its cardholder); a card (card-page.tsx: its face, status, terms, devices, and
 * what the cardholder or the issuer does from the wallet); a device's screen (device-page.tsx:
 * what the device shows for the card, and its recent payments).
 */

function CardsPage() {
  const [id, setId] = useState('');
  const [problem, setProblem] = useState<{ code: string; message: string }>();
  const open = (event: Event) => {
    event.preventDefault();
    const card = id.trim();
    if (!isCardId(card)) {
      setProblem({ code: 'invalid_card_id', message: cardsRejections.invalid_card_id });
      return;
    }
    setProblem(undefined);
    navigate(`/cards/${encodeURIComponent(card)}`);
  };
  return (
    <section>
      <h1>Cards</h1>
      <p>
        An issuer links a payment card to a cardholder's account and asset; the cardholder accepts
        it, and the issuer puts it on payment devices (a phone, a watch). Each device holds card
        tokens: one-use keys, each good for one payment before it expires. A merchant's acquirer
        sends the device's answer to the chain, which checks it, uses the token and holds the amount
        in the same transaction.
      </p>
      <p class="muted">The chain does not list cards: open one with the id its issuer gave you.</p>
      <form aria-labelledby="open-title" onSubmit={open}>
        <h2 id="open-title">Open a card</h2>
        <Field
          id="card-id"
          label="Card id"
          value={id}
          onInput={setId}
          hint='3 to 64 characters: A-Z, a-z, 0-9, "-" and "_".'
        />
        {problem && <ErrorBox {...problem} />}
        <button type="submit">Open the card</button>
      </form>
    </section>
  );
}

export const pages: ModulePages = {
  section: { href: '/cards', label: 'Cards' },
  routes: [
    ['/cards', () => <CardsPage />],
    ['/cards/:card', (p) => <CardPage card={p.card!} />],
    ['/cards/:card/devices/:device', (p) => <DevicePage card={p.card!} device={p.device!} />],
  ],
};
