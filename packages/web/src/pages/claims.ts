/** A readable view of JWT claims: one row per claim, times as local dates with their distance from now. */
import { h } from '../lib/dom.js';
import { formatClaim } from '../lib/format.js';

const NAMES: Readonly<Record<string, string>> = {
  iss: 'Issuer',
  sub: 'Subject (user id)',
  aud: 'Audience',
  exp: 'Expires',
  nbf: 'Not before',
  iat: 'Issued at',
  jti: 'Token id',
  sid: 'Session id',
  auth_time: 'Signed in at',
  roles: 'Roles',
  typ: 'Type',
  ver: 'Token version',
  client_id: 'Client',
  cth: 'CSRF token hash',
};

/** A description list of `claims`. */
export function claimsList(claims: Record<string, unknown>, label: string): HTMLDListElement {
  const list = h('dl', { class: 'claims', 'aria-label': label });
  for (const [name, value] of Object.entries(claims)) {
    const title = NAMES[name];
    list.append(
      h(
        'dt',
        {},
        h('code', {}, name),
        title === undefined ? null : h('span', { class: 'muted' }, ` ${title}`),
      ),
      h('dd', {}, formatClaim(name, value)),
    );
  }
  return list;
}
