/**
 * The key a per-address limit counts a client under: an IPv4 address as it is (without a port a proxy may have
 * added), an IPv6 address as its /64 — the
 * smallest network one subscriber is given, so rotating the interface half of an address gains nothing, and however
 * the address was spelled (leading zeros, `::`, upper case), as the route limits of `@fastify/rate-limit` group it.
 *
 * An IPv6 address that carries the IPv4 address of the one client behind it counts as that IPv4 address, so a
 * client's budget is the same whichever way its packets came, and one relay's users do not share one /64:
 * - IPv4-mapped (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2): a dual-stack socket's IPv4 peer;
 * - NAT64's well-known prefix (`64:ff9b::a.b.c.d`, RFC 6052 §2.1): an IPv4 host reached through a translator
 *   (a /64 here would be every IPv4 host behind that translator);
 * - 6to4 (`2002:AABB:CCDD::/48`, RFC 3056 §2): the site's IPv4 address is bits 16–47, and the site owns the whole
 *   /48 — keying its /64s would hand it 65,536 budgets;
 * - Teredo (`2001:0::/32`, RFC 4380 §4): the client's public IPv4 address, inverted, is the last 32 bits; the /64
 *   holds only the Teredo server's address, which every client of that server shares.
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

/** Two 16-bit groups as dotted IPv4 text. */
function ipv4Text(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/** The two groups of the IPv4 address of the one client an IPv6 address stands for (see the file header), if any. */
function embeddedIpv4(groups: readonly number[]): [number, number] | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, , , g5 = 0, g6 = 0, g7 = 0] = groups;
  const zeroFrom = (from: number, to: number): boolean => groups.slice(from, to).every((g) => g === 0);
  if (zeroFrom(0, 5) && g5 === 0xffff) return [g6, g7];
  if (g0 === 0x64 && g1 === 0xff9b && zeroFrom(2, 6)) return [g6, g7];
  if (g0 === 0x2002) return [g1, g2];
  if (g0 === 0x2001 && g1 === 0) return [g6 ^ 0xffff, g7 ^ 0xffff];
  return undefined;
}

/**
 * The address without a port some proxies append in `X-Forwarded-For` (`203.0.113.7:51234`, `[2001:db8::1]:443`):
 * kept, the port — a new one per connection — would give every connection a budget of its own.
 */
function withoutPort(ip: string): string {
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(ip);
  if (v4 !== null && isIP(v4[1] ?? '') === 4) return v4[1] ?? ip;
  const v6 = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(ip);
  if (v6 !== null && isIP((v6[1] ?? '').replace(/%.*$/, '')) === 6) return v6[1] ?? ip;
  return ip;
}

/** `ip` as the key its limits count under (see the file header); text that is no address stays as it is. */
export function addressKey(ip: string): string {
  const address = withoutPort(ip);
  if (isIP(address) === 4) return address;
  const groups = ipv6Groups(address);
  if (groups === undefined || groups.length !== 8) return address;
  const embedded = embeddedIpv4(groups);
  if (embedded !== undefined) return ipv4Text(embedded[0], embedded[1]);
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
