/**
 * "Only the latest answer counts": a sequence number bumped whenever what an answer would be about changes
 * (an edited input, a new request). Work captures a ticket when it starts; its result is shown only if the
 * ticket is still current when it finishes, so a slow answer never lands under newer input.
 */

/** A sequence of tickets; see the module comment. */
export interface Latest {
  /** Invalidates every outstanding ticket and returns a new, current one. */
  next(): number;
  /** True while `ticket` is the newest one. */
  isCurrent(ticket: number): boolean;
}

/** Creates a sequence. */
export function createLatest(): Latest {
  let sequence = 0;
  return {
    next: () => ++sequence,
    isCurrent: (ticket) => ticket === sequence,
  };
}
