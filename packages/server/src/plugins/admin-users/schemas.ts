/** Schemas shared by the admin user routes. */

export const rolesSchema = {
  type: 'array',
  maxItems: 32,
  uniqueItems: true,
  items: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' },
} as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;
