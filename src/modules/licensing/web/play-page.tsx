import { useEffect, useRef, useState } from 'preact/hooks';

import { publicKeyFromAddress, toHex } from '../../../crypto/index.js';
import { client } from '../../../../web/src/node.js';
import { ErrorBox, Field, Fields, HashLink, Show, useLoad } from '../../../../web/src/ui.js';
import { keystore, walletAddresses } from '../../../../web/src/wallet/session.js';
import type { AgreementView, ContentView } from '../client.js';
import { signHex, tokenRequestMessage, urlPopMessage } from '../gateway/messages.js';
import { AgreementState } from './shared.js';
import {
  contentPath,
  gatewayOrigin,
  gatewayStorageKey,
  permissionLines,
  permits,
  usesLeft,
} from './words.js';

/* Plays a licensed video in the browser: the licensee's wallet signs a token request for the
   agreement (`POST /v1/gateway/tokens` on the content's gateway), the gateway checks the
   agreement against the chain and answers a short-lived token bound to the licensee's key; the
   page signs the URL-mode proof of possession (the path and the token id) and hands the URL to a
   `<video>` element, which streams from the gateway with range requests. Each token counts one
   play. The gateway's address is the page's `?gateway=` or the one this browser kept; the node's
   CSP lets the page reach only the origins in COFFER_CONSOLE_MEDIA_ORIGINS, so a `?gateway=` the
   operator did not name fails in the browser. */

/** Where this browser keeps the device id it names in token requests (a deviceCount licence). */
const deviceStorageKey = 'coffer.licensing.device';

function deviceId(): string {
  let id = localStorage.getItem(deviceStorageKey);
  if (!id) {
    id = `browser-${crypto.randomUUID()}`;
    localStorage.setItem(deviceStorageKey, id);
  }
  return id;
}

function initialGateway(): string {
  const given = new URLSearchParams(location.search).get('gateway');
  const origin = given === null ? undefined : gatewayOrigin(given);
  if (origin) {
    localStorage.setItem(gatewayStorageKey, origin);
    return origin;
  }
  return localStorage.getItem(gatewayStorageKey) ?? '';
}

interface PlayView {
  agreement: AgreementView;
  content: ContentView;
}

async function loadPlay(agreementId: string): Promise<PlayView> {
  const agreement = await client.licensing.agreement(agreementId);
  const content = await client.licensing.content(agreement.agreement.contentId);
  return { agreement, content };
}

export function PlayPage(props: { agreementId: string }) {
  const [loaded] = useLoad(() => loadPlay(props.agreementId), [props.agreementId]);
  return (
    <section>
      <Show result={loaded} what="the licence">
        {({ agreement, content }) => (
          <>
            <h1>{content.content.title}</h1>
            <p>
              <a href={contentPath(content.content.contentId)}>The content and its offers</a>
            </p>
            <Fields
              rows={[
                ['Licence', <span class="mono break">{agreement.agreement.agreementId}</span>],
                ['State', <AgreementState agreement={agreement.agreement} />],
                ['Licensee', <HashLink kind="account" value={agreement.agreement.licensee} />],
                ['Permits', permissionLines(agreement.agreement.policy).join('; ')],
                [
                  'Plays left',
                  <span data-testid="plays-left">
                    {usesLeft(agreement.agreement, 'play') ?? 'No limit'}
                  </span>,
                ],
              ]}
            />
            {permits(agreement.agreement.policy, 'play') ? (
              <Player view={{ agreement, content }} />
            ) : (
              <p class="badge bad">This licence does not permit playing.</p>
            )}
          </>
        )}
      </Show>
    </section>
  );
}

interface TokenAnswer {
  token: string;
  jti: string;
  url: string;
  expiresAt: number;
  remaining: number | null;
}

type PlayerState =
  | { state: 'idle' }
  | { state: 'asking' }
  | { state: 'refused'; code: string; message: string }
  | { state: 'playing'; src: string; remaining: number | null }
  | { state: 'ended'; src: string; remaining: number | null }
  | { state: 'failed'; message: string };

/** Asks the gateway for a token signed with the licensee's key; answers the gateway's code. */
async function requestToken(
  gateway: string,
  agreementId: string,
  licensee: string,
): Promise<TokenAnswer> {
  const key = keystore.signer(licensee);
  const publicKey = toHex(publicKeyFromAddress(licensee, 'licensee'));
  const request = {
    agreementId,
    action: 'play' as const,
    device: deviceId(),
    time: Date.now(),
    publicKey,
  };
  const signature = signHex(tokenRequestMessage(request), key.secretKey);
  const response = await fetch(`${gateway}/v1/gateway/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...request, signature }),
  });
  const body = (await response.json().catch(() => ({}))) as {
    error?: { code?: string; message?: string };
  } & Partial<TokenAnswer>;
  if (!response.ok || typeof body.token !== 'string') {
    throw Object.assign(
      new Error(body.error?.message ?? `the gateway answered ${response.status}`),
      {
        code: body.error?.code ?? `http_${response.status}`,
      },
    );
  }
  return body as TokenAnswer;
}

function Player(props: { view: PlayView }) {
  const { agreement: a } = props.view.agreement;
  const [gateway, setGateway] = useState(initialGateway);
  const [state, setState] = useState<PlayerState>({ state: 'idle' });
  const video = useRef<HTMLVideoElement>(null);
  const src = state.state === 'playing' || state.state === 'ended' ? state.src : undefined;
  // Started once the element has its source: the click on Play was the gesture the browser asks
  // for before a page plays with sound.
  useEffect(() => {
    if (src !== undefined) void video.current?.play().catch(() => undefined);
  }, [src]);
  const mine = walletAddresses().includes(a.licensee);
  if (!keystore.exists() || !keystore.isUnlocked || !mine) {
    return (
      <p class="badge pending" role="note" data-testid="need-wallet">
        To play, <a href="/wallet">unlock the wallet</a> that holds the licensee&apos;s key.
      </p>
    );
  }
  const play = async (event: Event) => {
    event.preventDefault();
    const origin = gatewayOrigin(gateway);
    if (!origin) {
      setState({
        state: 'failed',
        message: 'Write the gateway’s address, such as https://gateway.example.',
      });
      return;
    }
    localStorage.setItem(gatewayStorageKey, origin);
    setState({ state: 'asking' });
    try {
      const answer = await requestToken(origin, a.agreementId, a.licensee);
      const key = keystore.signer(a.licensee);
      const path = `/content/${a.contentId}`;
      const pop = signHex(urlPopMessage(path, answer.jti), key.secretKey);
      const src = `${origin}${answer.url}&pop=${pop}`;
      setState({ state: 'playing', src, remaining: answer.remaining });
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'error';
      setState({ state: 'refused', code, message: (error as Error).message });
    }
  };
  return (
    <section aria-labelledby="player-title" class="licensing-player">
      <h2 id="player-title">Play</h2>
      <form onSubmit={(e) => void play(e)}>
        <Field
          id="gateway"
          label="Content gateway"
          value={gateway}
          onInput={setGateway}
          hint="The gateway that stores this content and issues its access tokens."
        />
        <div class="toolbar">
          <button type="submit" disabled={state.state === 'asking'}>
            {state.state === 'asking' ? 'Asking the gateway…' : 'Play'}
          </button>
        </div>
      </form>
      {state.state === 'refused' && <ErrorBox code={state.code} message={state.message} />}
      {state.state === 'failed' && <ErrorBox code="error" message={state.message} />}
      {(state.state === 'playing' || state.state === 'ended') && state.remaining !== null && (
        <p class="muted" data-testid="token-remaining">
          Plays left after this one: {state.remaining}
        </p>
      )}
      {src !== undefined && (
        <video
          ref={video}
          src={src}
          controls
          playsInline
          data-testid="player"
          aria-label={`${props.view.content.content.title}, licensed video`}
          onEnded={() => setState((s) => (s.state === 'playing' ? { ...s, state: 'ended' } : s))}
          onError={() =>
            setState({
              state: 'failed',
              message: 'The gateway refused the stream or the video cannot be decoded.',
            })
          }
        />
      )}
      {state.state === 'ended' && (
        <p class="badge ok" role="status" data-testid="playback-ended">
          Played to the end.
        </p>
      )}
    </section>
  );
}
