/** The WebAuthn credential as the passkey routes take it (checked by the WebAuthn library, not here). */
export const credentialSchema = {
  type: 'object',
  required: ['id', 'response'],
  additionalProperties: true,
} as const;
