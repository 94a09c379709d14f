/**
 * Every target the bench judges has a stable id (`auth.login-vs-argon2`, `core.verify-overhead.HS256`, …). A
 * section judges its targets through `createTargets(facts)`: each judgement becomes a Markdown list item, and a
 * missed one carries the reason it cannot be met, written by the note that bench/target-notes.js registers for its
 * id from the figures measured in the same run (`facts`: the section's, merged with the target's own). A target
 * without a note, or whose note lacks a figure it needs, says so instead of inventing a reason.
 */
import { TARGET_NOTES } from '../target-notes.js';

/** What a missed target says when no note can explain it from this run's figures. */
export const NO_REASON = 'no measured reason yet (add a note for this id to bench/target-notes.js)';

/** The note registered for `id`, else for its nearest family (`a.b.c` → `a.b` → `a`), or undefined. */
export function noteFor(id, notes = TARGET_NOTES) {
  for (let key = id; key !== ''; key = key.includes('.') ? key.slice(0, key.lastIndexOf('.')) : '') {
    if (Object.hasOwn(notes, key)) return notes[key];
  }
  return undefined;
}

/**
 * The reason target `id` was missed, from `facts`; undefined when no note applies or its figures are missing (a
 * note returns undefined then; a sentence showing `NaN`, `undefined` or `Infinity` counts as missing figures too).
 */
export function reasonFor(id, facts, notes = TARGET_NOTES) {
  const note = noteFor(id, notes);
  if (note === undefined) return undefined;
  const text = note(facts, id);
  if (typeof text !== 'string' || text === '' || /\b(NaN|undefined|Infinity)\b/.test(text)) return undefined;
  return text;
}

/** The Markdown list item of one judged target. */
export function formatTarget({ id, ok, text, reason }) {
  if (ok) return `- ${text} ✅ \`${id}\``;
  return `- **${text}** ❌ \`${id}\` — why: ${reason ?? NO_REASON}`;
}

/**
 * A section's judge. `facts` are the section's figures every note may read; `check(id, ok, text, figures)` judges
 * one target (`figures`: its own, added to the section's) and returns its Markdown list item; `missed` lists the
 * missed ones as `{ id, text, reason }`.
 */
export function createTargets(facts = {}) {
  const results = [];
  return {
    results,
    check(id, ok, text, figures = {}) {
      if (results.some((r) => r.id === id)) throw new Error(`target id ${id} judged twice`);
      const result = { id, ok: Boolean(ok), text };
      if (!result.ok) result.reason = reasonFor(id, { ...facts, ...figures });
      results.push(result);
      return formatTarget(result);
    },
    get missed() {
      return results.filter((r) => !r.ok);
    },
  };
}

/** One line per missed target, for the end of a run's log. */
export function missedSummary(missed) {
  if (missed.length === 0) return 'targets: all judged targets met';
  return [
    `targets missed (${missed.length}):`,
    ...missed.map((m) => `  ${m.id}: ${m.text} — why: ${m.reason ?? NO_REASON}`),
  ].join('\n');
}
