/**
 * The key a per-address limit counts a client under: an IPv4 address as it is (an IPv4-mapped IPv6 address as its
 * IPv4 form), an IPv6 address as its /64 — the smallest network one subscriber is given, so rotating the interface
 * half of an address gains nothing, and however the address was spelled (leading zeros, `::`, upper case), as the
 * route limits of `@fastify/rate-limit` group it.
 */
import { isIP } from 'node:net';

/** The 8 groups of an IPv6 address text (zone removed, an embedded IPv4 tail as two groups), or undefined. */
function ipv6Groups(text: string): number[] | undefined {
  let address = text.replace(/%.*$/, '');
  if (isIP(address) !== 6) return undefined;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    address = `${address.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const [head = '', rest] = address.split('::') as [string, string | undefined];
  if (rest === undefined) return parse(head);
  const front = parse(head);
  const back = parse(rest);
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** `ip` as the key its limits count under (see the file header); text that is no address stays as it is. */
export function addressKey(ip: string): string {
  const groups = ipv6Groups(ip);
  if (groups === undefined || groups.length !== 8) return ip;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
