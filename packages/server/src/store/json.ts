/** JSON-in-TEXT columns: encode on the way in, decode defensively on the way out. */

/** A JSON object as stored in the `data` / `detail` / `public_jwk` columns. */
export type JsonObject = Record<string, unknown>;

/** Decodes a JSON object column; anything else (corrupt or hand-edited data) reads as `{}`. */
export function parseJsonObject(text: string): JsonObject {
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

/** Decodes a JSON array-of-strings column (roles); non-string entries are dropped. */
export function parseStringArray(text: string): string[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
