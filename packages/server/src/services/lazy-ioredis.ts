/**
 * ioredis, loaded when a Redis connection is first made (`JOT_REDIS_URL` set), not with the server: a deployment
 * without Redis never loads it. Everything else uses its types only.
 */
import type * as IORedis from 'ioredis';

import { lazyImport, type LazyImport } from './lazy-import.js';

/** The ioredis module (`Redis`, `ReplyError`). */
export const ioredis: LazyImport<typeof IORedis> = lazyImport(() => import('ioredis'));
