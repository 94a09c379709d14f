/**
 * The token debugger: paste a JWT to see its header and payload (times as dates) and what to worry about, then
 * check its signature against this server's JWKS or a pasted key. Everything happens in this page: the only
 * request it makes is fetching the server's public JWKS. A verification answers for the token and key it started
 * with: editing either (or starting another check) discards an answer still on its way.
 */
import { WELL_KNOWN } from '@jot/contract';

import { failure, field, h, heading, message, outcome } from '../lib/dom.js';
import { decodeJwt, DecodeError, type DecodedJwt } from '../lib/jwt-decode.js';
import { verifyWithJwks, verifyWithPasted, type VerifyResult } from '../lib/jwt-verify.js';
import { warningsFor } from '../lib/jwt-warnings.js';
import { createLatest, type Latest } from '../lib/latest.js';
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

/** A monospace text area for pasted tokens and keys. */
function pasteArea(id: string): HTMLTextAreaElement {
  return h('textarea', { id, rows: '5', spellcheck: 'false', autocomplete: 'off', class: 'mono' });
}

/** Decodes `text` into `output`: the decoded view, or why it is not a JWT (nothing for empty input). */
function showDecoded(text: string, output: HTMLElement): DecodedJwt | undefined {
  if (text.trim() === '') {
    output.replaceChildren();
    return undefined;
  }
  try {
    const decoded = decodeJwt(text);
    output.replaceChildren(decodedView(decoded));
    return decoded;
  } catch (err) {
    output.replaceChildren(message(err instanceof DecodeError ? err.message : 'This is not a JWT.', 'error'));
    return undefined;
  }
}

/** This server's public keys (the only request the page makes). */
async function serverJwks(): Promise<{ keys?: unknown }> {
  const res = await fetch(WELL_KNOWN.jwks, { credentials: 'omit' });
  if (!res.ok) throw new Error(`Could not load the JWKS (${res.status}).`);
  return (await res.json()) as { keys?: unknown };
}

/**
 * A button that runs one check; its verdict (or error) goes to `out` only if nothing was edited or started
 * meanwhile (`latest`).
 */
function checkButton(
  label: string,
  props: { class?: string },
  out: HTMLElement,
  latest: Latest,
  run: () => Promise<VerifyResult>,
): HTMLButtonElement {
  const button = h('button', { type: 'button', ...props }, label);
  button.addEventListener('click', () => {
    void (async () => {
      const ticket = latest.next();
      button.disabled = true;
      out.replaceChildren();
      let shown: HTMLElement;
      try {
        shown = verdict(await run());
      } catch (err) {
        shown = failure(err);
      } finally {
        button.disabled = false;
      }
      if (latest.isCurrent(ticket)) out.replaceChildren(shown);
    })();
  });
  return button;
}

/** Renders the debugger page. */
export function debuggerPage(main: ParentNode): void {
  const token = pasteArea('jwt-input');
  const key = pasteArea('key-input');
  const output = outcome();
  const verifyOut = outcome();
  let decoded: DecodedJwt | undefined;
  // Every edit (and every new check) makes answers still on their way stale.
  const latest = createLatest();
  const edited = (): void => {
    latest.next();
    verifyOut.replaceChildren();
  };
  token.addEventListener('input', () => {
    edited();
    decoded = showDecoded(token.value, output);
  });
  key.addEventListener('input', edited);
  const needToken = (): DecodedJwt => {
    if (decoded === undefined) throw new Error('Paste a token first.');
    return decoded;
  };
  const serverButton = checkButton("Verify with this server's keys", {}, verifyOut, latest, async () => {
    const jwt = needToken();
    return verifyWithJwks(jwt, await serverJwks());
  });
  const keyButton = checkButton(
    'Verify with the pasted key',
    { class: 'secondary' },
    verifyOut,
    latest,
    async () => {
      const jwt = needToken();
      if (key.value.trim() === '') throw new Error('Paste a public key (JWK, JWKS or PEM) first.');
      return verifyWithPasted(jwt, key.value);
    },
  );
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
