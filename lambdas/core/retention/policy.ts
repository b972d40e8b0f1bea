import { z } from 'zod';
import { ErrorName, RETENTION_TIERS, type RetentionPolicy } from '../../../contract/workflow-contract.ts';

/** The retention policy a sweeper was given cannot be used. */
export class InvalidRetentionPolicyError extends Error {
  override readonly name = ErrorName.InvalidRetentionPolicy;
}

const policySchema = z
  .object(
    Object.fromEntries(RETENTION_TIERS.map((tier) => [tier, z.number().int().nonnegative()])) as Record<
      (typeof RETENTION_TIERS)[number],
      z.ZodNumber
    >,
  )
  .strict()
  .refine((p) => RETENTION_TIERS.some((t) => p[t] > 0), { message: 'the policy keeps no snapshot' });

/** Parses a policy as the function's environment carries it (JSON), refusing one that keeps nothing. */
export function parseRetentionPolicy(text: string | undefined): RetentionPolicy {
  if (!text) throw new InvalidRetentionPolicyError('No retention policy was given to the sweeper.');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidRetentionPolicyError('The retention policy is not JSON.');
  }
  const result = policySchema.safeParse(json);
  if (!result.success) {
    throw new InvalidRetentionPolicyError(
      `The retention policy is not usable: ${result.error.issues.map((i) => `${i.path.join('.') || '(policy)'}: ${i.message}`).join('; ')}.`,
    );
  }
  return result.data;
}
