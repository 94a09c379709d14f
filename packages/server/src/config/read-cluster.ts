/** Running several instances: Redis, how often an instance polls for the others' changes, the feed's secret. */
import { redisNamespaceProblem } from '@jot/contract';

import * as p from './parsers.js';
import type { SettingsReader } from './reader.js';
import type { Config } from './types.js';

/** The multi-instance settings. */
export type ClusterSettings = Pick<
  Config,
  'redisUrl' | 'redisTimeoutMs' | 'redisNamespace' | 'clusterPollIntervalMs' | 'revocationSecret'
>;

/** Reads the multi-instance settings. */
export function readClusterSettings({ read, get }: SettingsReader): ClusterSettings {
  return {
    redisUrl: read('redisUrl', p.redisUrl),
    redisTimeoutMs: get('redisTimeout', (v) => p.durationMsFine(v, 10, p.TIMER_MAX_MS)),
    redisNamespace: get('redisNamespace', (v) => {
      const problem = redisNamespaceProblem(v);
      if (problem !== undefined) throw new p.Invalid(problem);
      return v as string;
    }),
    clusterPollIntervalMs: get('clusterPollInterval', (v) => p.durationMsFine(v, 100, p.TIMER_MAX_MS)),
    revocationSecret: read('revocationSecret', (v) => {
      const s = typeof v === 'string' ? v : '';
      if (s.length < 32) throw new p.Invalid('expected a secret of at least 32 characters');
      return s;
    }),
  };
}
