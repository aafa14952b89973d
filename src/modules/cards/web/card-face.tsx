import type { CardRecord } from '../client.js';
import { cardLabel, expiryShort, inkOn } from './words.js';

/*
 * The card as a device's display shows it: the issuer's colour, its name and product, the last
 * four digits, the expiry and the asset it pays in. Drawn as SVG: the page's Content-Security-
 * Policy has no 'unsafe-inline' for styles, and the colour (the issuer's, checked as #rrggbb by
 * the schema) goes in `fill` attributes, which are not styles. The face's `art` names an image of
 * the issuer's own app, which the chain does not hold: it is kept as a data attribute only.
 */

/** ISO/IEC 7810 ID-1, 85.60 × 53.98 mm, in tenths of a millimetre halved: the card's shape. */
const width = 428;
const height = 270;

export function CardFace(props: { card: CardRecord }) {
  const { card } = props;
  const ink = inkOn(card.face.colour);
  return (
    <figure
      class="cards-face"
      data-testid="card-face"
      data-card={card.card}
      data-art={card.face.art}
    >
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={cardLabel(card)}>
        <rect width={width} height={height} rx="18" fill={card.face.colour} />
        <text x="24" y="44" fill={ink} class="cards-face-issuer">
          {card.face.issuerName}
        </text>
        <text x={width - 24} y="44" fill={ink} text-anchor="end" class="cards-face-product">
          {card.face.product}
        </text>
        <rect x="24" y="80" width="56" height="42" rx="7" fill="#d9b650" />
        <text x="24" y="188" fill={ink} class="cards-face-number">
          •••• {card.last4}
        </text>
        <text x="24" y="236" fill={ink} class="cards-face-small">
          Expires {expiryShort(card.expiry)}
        </text>
        <text x={width - 24} y="236" fill={ink} text-anchor="end" class="cards-face-small">
          {card.asset}
        </text>
        {card.status === 'closed' && (
          <text x={width - 24} y="120" fill={ink} text-anchor="end" class="cards-face-product">
            CLOSED
          </text>
        )}
      </svg>
    </figure>
  );
}
