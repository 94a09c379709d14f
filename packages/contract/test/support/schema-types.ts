/**
 * Type-level readers of a JSON schema, for the tests that pin the server's schemas to the contract's types: which
 * members a schema lists, which it requires, and which members a type requires.
 */

/** The members a JSON schema lists (Fastify's serialiser drops any other; `additionalProperties: false` refuses it). */
export type SchemaMembers<S> = S extends { readonly properties: infer P } ? keyof P : never;

/** The members a JSON schema requires. */
export type SchemaRequired<S> = S extends { readonly required: readonly (infer R)[] } ? R : never;

/** The members a type requires (not optional). */
export type RequiredKeys<T> = {
  [K in keyof T]-?: Record<never, never> extends Pick<T, K> ? never : K;
}[keyof T];

/** What a body schema accepts, for one comparison with {@link BodyKeys}: the members it lists and those it requires. */
export interface SchemaKeys<S> {
  members: SchemaMembers<S>;
  required: SchemaRequired<S>;
}

/** What a body type declares: its members and its required ones. */
export interface BodyKeys<T> {
  members: keyof T;
  required: RequiredKeys<T>;
}
