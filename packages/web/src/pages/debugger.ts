/**
 * The token debugger: paste a JWT to see its header and payload (times as dates) and what to worry about, then
 * check its signature against this server's JWKS or a pasted key. Everything happens in this page: the only
 * request it makes is fetching the server's public JWKS. A verification answers for the token and key it started
 * with: editing either (or starting another check) discards an answer still on its way.
 */
import { WELL_KNOWN } from '@jot/contract';

import { field, h, heading, message } from '../lib/dom.js';
import { decodeJwt, DecodeError, type DecodedJwt } from '../lib/jwt-decode.js';
import { verifyWithJwks, verifyWithPasted, type VerifyResult } from '../lib/jwt-verify.js';
import { warningsFor } from '../lib/jwt-warnings.js';
import { createLatest } from '../lib/latest.js';
import { claimsList } from './claims.js';

function verdict(result: VerifyResult): HTMLElement {
  const who = [result.alg, result.kid === undefined ? undefined : `kid ${result.kid}`]
    .filter(Boolean)
    .join(', ');
  const outcome = result.valid
    ? message(`Signature valid (${who}).`, 'ok')
    : message(
        `Signature NOT verified${who ? ` (${who})` : ''}: ${result.reason ?? 'the signature does not match'}.`,
        'error',
      );
  const warnings = result.warnings ?? [];
  if (warnings.length === 0) return outcome;
  return h(
    'div',
    {},
    outcome,
    h(
      'ul',
      { class: 'warnings' },
      ...warnings.map((w) => h('li', { class: 'warn-warning' }, h('strong', {}, 'warning: '), w)),
    ),
  );
}

function decodedView(jwt: DecodedJwt): HTMLElement {
  const warnings = warningsFor(jwt);
  return h(
    'div',
    { class: 'decoded' },
    h(
      'section',
      { 'aria-labelledby': 'findings-h' },
      h('h2', { id: 'findings-h' }, 'Findings'),
      warnings.length === 0
        ? message('Nothing alarming in the header and claims. This says nothing about the signature.', 'ok')
        : h(
            'ul',
            { class: 'warnings' },
            ...warnings.map((w) =>
              h(
                'li',
                { class: `warn-${w.level}`, 'data-warning': w.id },
                h('strong', {}, `${w.level}: `),
                w.text,
              ),
            ),
          ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'header-h' },
      h('h2', { id: 'header-h' }, 'Header'),
      h('pre', { class: 'json', 'data-part': 'header' }, JSON.stringify(jwt.header, null, 2)),
    ),
    h(
      'section',
      { 'aria-labelledby': 'payload-h' },
      h('h2', { id: 'payload-h' }, 'Payload'),
      claimsList(jwt.payload, 'Payload claims'),
      h(
        'details',
        {},
        h('summary', {}, 'Raw JSON'),
        h('pre', { class: 'json', 'data-part': 'payload' }, JSON.stringify(jwt.payload, null, 2)),
      ),
    ),
  );
}

/** Renders the debugger page. */
export function debuggerPage(main: ParentNode): void {
  const token = h('textarea', {
    id: 'jwt-input',
    rows: '5',
    spellcheck: 'false',
    autocomplete: 'off',
    class: 'mono',
  });
  const output = h('div', { 'aria-live': 'polite' });
  const key = h('textarea', {
    id: 'key-input',
    rows: '5',
    spellcheck: 'false',
    autocomplete: 'off',
    class: 'mono',
  });
  const verifyOut = h('div', { 'aria-live': 'polite' });
  const serverButton = h('button', { type: 'button' }, "Verify with this server's keys");
  const keyButton = h('button', { type: 'button', class: 'secondary' }, 'Verify with the pasted key');
  let decoded: DecodedJwt | undefined;
  // Every edit (and every new check) makes answers still on their way stale.
  const latest = createLatest();

  const update = (): void => {
    latest.next();
    decoded = undefined;
    verifyOut.replaceChildren();
    if (token.value.trim() === '') {
      output.replaceChildren();
      return;
    }
    try {
      decoded = decodeJwt(token.value);
      output.replaceChildren(decodedView(decoded));
    } catch (err) {
      output.replaceChildren(
        message(err instanceof DecodeError ? err.message : 'This is not a JWT.', 'error'),
      );
    }
  };
  token.addEventListener('input', update);
  key.addEventListener('input', () => {
    latest.next();
    verifyOut.replaceChildren();
  });

  const needToken = (): DecodedJwt => {
    if (decoded === undefined) throw new Error('Paste a token first.');
    return decoded;
  };
  /** Runs one check; its verdict (or error) is shown only if nothing was edited or started meanwhile. */
  const check = async (button: HTMLButtonElement, run: () => Promise<VerifyResult>): Promise<void> => {
    const ticket = latest.next();
    button.disabled = true;
    verifyOut.replaceChildren();
    let shown: HTMLElement;
    try {
      shown = verdict(await run());
    } catch (err) {
      shown = message(err instanceof Error ? err.message : String(err), 'error');
    } finally {
      button.disabled = false;
    }
    if (latest.isCurrent(ticket)) verifyOut.replaceChildren(shown);
  };
  serverButton.addEventListener('click', () => {
    void check(serverButton, async () => {
      const jwt = needToken();
      const res = await fetch(WELL_KNOWN.jwks, { credentials: 'omit' });
      if (!res.ok) throw new Error(`Could not load the JWKS (${res.status}).`);
      return verifyWithJwks(jwt, (await res.json()) as { keys?: unknown });
    });
  });
  keyButton.addEventListener('click', () => {
    void check(keyButton, async () => {
      const jwt = needToken();
      const text = key.value;
      if (text.trim() === '') throw new Error('Paste a public key (JWK, JWKS or PEM) first.');
      return verifyWithPasted(jwt, text);
    });
  });

  main.append(
    heading('Token debugger'),
    h(
      'p',
      { class: 'muted' },
      'Decoding and verification happen in this page. Nothing you paste is sent anywhere; verifying with the server only downloads its public keys.',
    ),
    field('JSON Web Token', token, 'Paste a token (header.payload.signature).'),
    output,
    h(
      'section',
      { 'aria-labelledby': 'verify-h' },
      h('h2', { id: 'verify-h' }, 'Verify the signature'),
      h('p', {}, serverButton),
      field('Public key', key, 'A JWK, a JWKS ({"keys": [...]}) or a PEM "PUBLIC KEY".'),
      h('p', {}, keyButton),
      verifyOut,
    ),
  );
}
