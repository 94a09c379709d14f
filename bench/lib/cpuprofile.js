/** Reading V8 `.cpuprofile` files (from `node --cpu-prof`): where the CPU time went. */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOP = 15;

/** Where a profile node's code lives, short: a repo path, `node_modules/<pkg>`, `node:…`, or the V8 marker. */
function place(url, line) {
  if (url === '') return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = path.slice(modules + 13).split('/');
    return `${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const short = path.startsWith(ROOT) ? relative(ROOT, path) : path;
  return `${short}:${line + 1}`;
}

/**
 * Self time per function (name + place) over the profile's last `seconds` (the load; start-up and seeding come
 * before it), as a share of the non-idle samples; the top `TOP`.
 */
export function topSelfTime(profile, seconds) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const from = profile.endTime - seconds * 1e6;
  const counts = new Map();
  let at = profile.startTime;
  let total = 0;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i];
    if (at < from) return;
    counts.set(id, (counts.get(id) ?? 0) + 1);
    total++;
  });
  const self = new Map();
  for (const [id, n] of counts) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const key = `${functionName || '(anonymous)'}\u0000${place(url, lineNumber)}`;
    self.set(key, (self.get(key) ?? 0) + n);
  }
  const idle = [...self].filter(([key]) => key.startsWith('(idle)')).reduce((s, [, n]) => s + n, 0);
  const busy = total - idle;
  const rows = [...self]
    .filter(([key]) => !key.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .map(([key, n]) => {
      const [name, where] = key.split('\u0000');
      return { name, where, share: n / busy };
    });
  const groups = new Map();
  for (const [key, n] of self) {
    if (key.startsWith('(idle)')) continue;
    const [name, where] = key.split('\u0000');
    const group = where === '' ? name : where.replace(/:\d+$/, '');
    groups.set(group, (groups.get(group) ?? 0) + n);
  }
  const byFile = [...groups]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .map(([where, n]) => ({ where, share: n / busy }));
  return { rows, byFile, busyShare: busy / total, samples: busy };
}
