/**
 * Theft signals beyond refresh-token reuse, each recorded as a security event and answered as configured
 * (`JOT_THEFT_RESPONSES`: `record`, `step_up` — the session must authenticate afresh, with a second factor when the
 * user has one, before any sensitive action — or `revoke`):
 * - `session_network_changed` / `session_agent_changed`: a session refreshed from another IP network (/24, /48) or
 *   another browser (user agent without version numbers) within `JOT_THEFT_WINDOW` of its last use;
 * - `refresh_anomaly`: more rotations of one session within one access-token lifetime than `JOT_REFRESH_ANOMALY_LIMIT`
 *   (a client that honours `expires_in` needs one or two);
 * - `failure_burst`: `JOT_FAILURE_BURST` failed sign-ins or second-factor attempts on one account (its sessions).
 * And a sign-in from a device or network the account never used — or not since the owner's last clean-up (the device
 * cut-off: a password change or reset, signing out everywhere, an admin ending the sessions; not a `failure_burst`)
 * — is recorded and mailed to the user.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';

import type { FastifyBaseLogger } from 'fastify';

import type { Config, TheftSignal } from '../config/index.js';
import type { Clock } from '../clock.js';
import type { Session, Store, User } from '../store/index.js';
import type { Mailer } from './mail/mailer.js';
import type { RevocationService } from './revocation.js';
import type { SecurityEvents } from './security-events.js';
import type { ClientInfo, RefreshSignals, SessionService } from './sessions.js';
import { DomainError } from './errors.js';

/** The network an address belongs to: /24 for IPv4, /48 for IPv6 (what one household or office gets). */
export function networkOf(ip: string | null | undefined): string {
  if (ip === null || ip === undefined || ip === '') return 'unknown';
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+)\.\d+$/i.exec(ip);
  if (v4 !== null) return `${v4[1]}.0/24`;
  if (isIP(ip) === 6) {
    const head = ip.split('::')[0]!.split(':');
    return `${[...head, '0', '0', '0'].slice(0, 3).join(':')}::/48`;
  }
  return ip;
}

/** A user agent without its version numbers: the same browser on the same system after an update stays equal. */
export function agentFamily(userAgent: string | null | undefined): string {
  if (!userAgent) return 'unknown';
  return userAgent
    .replace(/\d+([._]\d+)*/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
}

/** What the signals need. */
export interface TheftDeps {
  store: Store;
  revocations: RevocationService;
  events: SecurityEvents;
  config: Config;
  clock: Clock;
  logger: FastifyBaseLogger;
  mailer?: Mailer;
}

/** Applies the configured response to one session. */
async function respond(
  deps: TheftDeps,
  signal: TheftSignal,
  session: Session,
): Promise<'revoked' | undefined> {
  const response = deps.config.theftResponses[signal];
  if (response === 'revoke') {
    await deps.revocations.revokeSession(session.id, signal);
    return 'revoked';
  }
  if (response === 'step_up') {
    await deps.store.setSessionAuthentication(session.id, { authTime: 0, amr: ['pwd'], acr: 'aal1' });
  }
  return undefined;
}

async function raise(
  deps: TheftDeps,
  signal: TheftSignal,
  session: Session,
  client: ClientInfo,
  detail: Record<string, unknown>,
): Promise<'revoked' | undefined> {
  const response = deps.config.theftResponses[signal];
  await deps.events.record(signal, {
    userId: session.userId,
    sessionId: session.id,
    ip: client.ip,
    detail: { ...detail, response },
  });
  return respond(deps, signal, session);
}

/**
 * The signals of one refresh: where the session is used from, and how often it rotates. The previous sighting and
 * the rotation count came with the refresh's own read (`signals`), and the new sighting was written with the rotation
 * — here only when it was not (a repeat within the grace window of a token already rotated when read).
 */
async function checkRefresh(
  deps: TheftDeps,
  session: Session,
  signals: RefreshSignals,
  client: ClientInfo,
): Promise<void> {
  const { store, config, clock } = deps;
  const now = clock();
  const network = networkOf(client.ip);
  const agent = agentFamily(client.userAgent);
  if (!signals.sighted) await store.mfa.recordSighting(session.id, { network, userAgent: agent });
  // A session not refreshed before was last seen where it signed in: its own row's address and user agent (stored cut
  // to 512 characters, so this refresh's is cut alike for the comparison).
  const before = signals.sighting ?? {
    network: networkOf(session.ip),
    userAgent: agentFamily(session.userAgent),
    seenAt: session.createdAt,
  };
  const agentNow = signals.sighting === undefined ? agentFamily(client.userAgent?.slice(0, 512)) : agent;
  const outcomes: ('revoked' | undefined)[] = [];
  if (now - before.seenAt <= config.theftWindowMs) {
    if (before.network !== network) {
      outcomes.push(
        await raise(deps, 'session_network_changed', session, client, { from: before.network, to: network }),
      );
    }
    if (before.userAgent !== agentNow) {
      outcomes.push(
        await raise(deps, 'session_agent_changed', session, client, { from: before.userAgent, to: agentNow }),
      );
    }
  }
  const { rotations } = signals;
  // Exactly at the threshold: one event per burst, not one per further refresh.
  if (rotations === config.refreshAnomalyLimit + 1) {
    outcomes.push(await raise(deps, 'refresh_anomaly', session, client, { rotations }));
  }
  if (outcomes.includes('revoked')) {
    throw new DomainError('grant', 'ERR_SESSION_ENDED', 'the session has ended for safety; sign in again');
  }
}

/**
 * A sign-in: remembers the device, and tells the user when it is new (not for the very first one) — also when it was
 * known only from before the account's device cut-off, so a thief's device is told of again after the owner's
 * clean-up (the devices of before still count, so that is never "the very first one"). The session is
 * new, so it has no earlier sighting to read (its first is its own row's address and user agent: checkRefresh). The
 * account's devices are counted only when this one was not known (counted after it was added, so "the very first
 * one" is a count of one), which keeps the usual sign-in, from a known device, to one statement here.
 */
async function noteSignIn(
  deps: TheftDeps,
  user: User,
  signedIn: { session: Session; checkedAt: number },
  client: ClientInfo,
): Promise<void> {
  const { store, clock } = deps;
  const { session } = signedIn;
  const network = networkOf(client.ip);
  const agent = agentFamily(client.userAgent);
  const device = createHash('sha256').update(`${agent}|${network}`).digest('base64url');
  // Claimed when the sign-in last found the account unchanged: a clean-up racing it makes the device new again.
  if (!(await store.mfa.rememberDevice(user.id, device, signedIn.checkedAt))) return;
  // The device is remembered now, so this is the only sign-in that can tell of it: a count that fails is taken as
  // "not the first device" (a notice too many beats a new device never told).
  const devices = await store.mfa.countDevices(user.id).catch((err: unknown) => {
    deps.logger.warn({ err }, 'theft signals: counting devices failed; telling of the new device anyway');
    return Number.POSITIVE_INFINITY;
  });
  if (devices <= 1) return;
  await deps.events.record('new_device_sign_in', {
    userId: user.id,
    sessionId: session.id,
    ip: client.ip,
    detail: { network, userAgent: client.userAgent?.slice(0, 200) ?? null },
  });
  await deps.mailer?.send({
    to: user.email,
    userId: user.id,
    template: 'new-device',
    values: {
      time: new Date(clock()).toUTCString(),
      userAgent: client.userAgent?.slice(0, 200) ?? 'unknown',
      ip: client.ip ?? 'unknown',
      link: deps.mailer.link('/account'),
    },
    idempotencyKey: `new-device:${session.id}`,
  });
}

/** The session service with the session signals and the new-device notice. Detection failures are logged only. */
export function watchSessions(sessions: SessionService, deps: TheftDeps): SessionService {
  const quietly = async (what: string, work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (err) {
      if (err instanceof DomainError) throw err;
      deps.logger.warn({ err }, `theft signals: ${what} failed`);
    }
  };
  return {
    ...sessions,
    async start(user, client, options) {
      // Where the sign-in comes from is the session row's own address and user agent: the first refresh compares
      // with those (checkRefresh), so no sighting is written here (one statement fewer per sign-in).
      const pair = await sessions.start(user, client, options);
      await quietly('new-device check', () => noteSignIn(deps, user, pair, client));
      return pair;
    },
    async refresh(token, client, fromCookie, options) {
      // Every argument passes through: the options carry the client binding, scope narrowing and the DPoP check.
      // `signals` asks the refresh to read the signals' facts with its token (no read of its own here).
      // The signal fires at exactly limit + 1 rotations (this one included), so counting past limit + 2 tells nothing.
      // Where the refresh comes from is recorded with its rotation (one statement and commit fewer).
      const pair = await sessions.refresh(token, client, fromCookie, {
        ...options,
        signals: true,
        rotationCountCap: deps.config.refreshAnomalyLimit + 2,
        sighting: { network: networkOf(client.ip), userAgent: agentFamily(client.userAgent) },
      });
      const { signals, ...answer } = pair;
      if (signals !== undefined) {
        await quietly('refresh check', () => checkRefresh(deps, pair.session, signals, client));
      }
      return answer;
    },
  };
}

const FAILURES = ['login_failed', 'mfa_failed'] as const;

/** Security events with the failure-burst signal: the account's sessions get the configured response. */
export function watchFailures(events: SecurityEvents, deps: Omit<TheftDeps, 'events'>): SecurityEvents {
  const { store, config, clock, revocations } = deps;
  return {
    // Failures are recorded one by one (`record`); nothing recorded once per session counts towards a burst.
    recordOncePerSession: (type, facts) => events.recordOncePerSession(type, facts),
    recordAboutUser: (type, facts, within) => events.recordAboutUser(type, facts, within),
    async record(type, facts) {
      await events.record(type, facts);
      if (!(FAILURES as readonly string[]).includes(type) || !facts.userId) return;
      const userId = facts.userId;
      try {
        const count = await store.mfa.countUserEventsSince(
          userId,
          FAILURES,
          clock() - config.failureBurst.windowMs,
        );
        if (count !== config.failureBurst.max) return;
        const response = config.theftResponses.failure_burst;
        await events.record('failure_burst', { userId, ip: facts.ip, detail: { failures: count, response } });
        // Sessions and tokens end; the device cut-off stays: these are others' failures, and the owner's device
        // credential is what lets the owner past the lock they set (services/login-devices.ts).
        if (response === 'revoke') {
          await revocations.revokeAllForUser(userId, 'failure_burst', { keepDevices: true });
        }
        if (response === 'step_up') {
          for (const session of await store.listSessionsForUser(userId)) {
            await store.setSessionAuthentication(session.id, { authTime: 0, amr: ['pwd'], acr: 'aal1' });
          }
        }
      } catch (err) {
        deps.logger.warn({ err }, 'theft signals: failure-burst check failed');
      }
    },
  };
}
