/** Amazon States Language shapes the local runner reads, and the validation it applies. */
import { createRequire } from 'node:module';

/** A JSON value as state machines pass them between states. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A state of a definition; only the fields the runner reads are typed. */
export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Json;
  Next?: string;
  End?: boolean;
  Retry?: AslRetrier[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string | null }[];
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  Seconds?: number;
  Branches?: AslDefinition[];
  ItemProcessor?: AslDefinition & { ProcessorConfig?: { Mode?: string; ExecutionType?: string } };
  Iterator?: AslDefinition;
  [field: string]: unknown;
}

/** One retrier of a `Retry` field. */
export interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}

/** A state machine definition (or a Map's item processor, or a Parallel branch). */
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  Comment?: string;
  TimeoutSeconds?: number;
  QueryLanguage?: string;
  [field: string]: unknown;
}

/** A definition the local runner cannot execute as written. */
export class InvalidDefinitionError extends Error {
  override readonly name = 'InvalidDefinitionError';
  constructor(
    message: string,
    readonly problems: readonly string[],
  ) {
    super(`${message}\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type AslValidator = (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errors: { 'Error code'?: string; Message?: string }[] | null };

const validator = createRequire(import.meta.url)('asl-validator') as AslValidator;

/**
 * Checks a definition with asl-validator and with the runner's own limits (JSONPath only).
 * Throws an `InvalidDefinitionError` that lists every problem found.
 */
export function validateDefinition(definition: AslDefinition, name = 'The state machine definition'): void {
  const problems: string[] = [];
  // The validator writes defaults into the object it checks, so it gets a copy.
  const { isValid, errors } = validator(structuredClone(definition), { checkPaths: true, checkArn: true });
  if (!isValid) {
    for (const error of errors ?? []) {
      problems.push(`${error['Error code'] ?? 'INVALID'}: ${error.Message ?? 'the definition is invalid'}`);
    }
  }
  if (definition.QueryLanguage === 'JSONata') {
    problems.push('QueryLanguage is JSONata; the local runner executes JSONPath definitions only.');
  }
  forEachState(definition, (stateName, state) => {
    if (state.QueryLanguage === 'JSONata') {
      problems.push(`State "${stateName}" uses JSONata; the local runner executes JSONPath states only.`);
    }
    if ('Assign' in state) {
      problems.push(`State "${stateName}" assigns variables, which the local runner does not support.`);
    }
  });
  if (problems.length > 0) {
    throw new InvalidDefinitionError(
      `${name} is not a valid state machine the local runner can run:`,
      problems,
    );
  }
}

/** Calls `visit` for every state of a definition, nested Map and Parallel states included. */
export function forEachState(
  definition: AslDefinition,
  visit: (stateName: string, state: AslState, scope: AslDefinition) => void,
): void {
  for (const [stateName, state] of Object.entries(definition.States ?? {})) {
    visit(stateName, state, definition);
    for (const branch of state.Branches ?? []) forEachState(branch, visit);
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) forEachState(processor, visit);
  }
}

/** Whether a Map state runs its items as child executions (a Distributed Map). */
export function isDistributedMap(state: AslState): boolean {
  return state.Type === 'Map' && state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED';
}
