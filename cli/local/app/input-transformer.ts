/**
 * EventBridge input transformation of a rule target (`InputTransformer`: `InputPathsMap` and
 * `InputTemplate`), as the EventBridge user guide ("Amazon EventBridge input transformation")
 * describes it:
 * - each `InputPathsMap` entry is a JSON path into the event (dot notation, array indices); a path
 *   the event lacks creates no variable, and its placeholder is left out of the output;
 * - reserved variables: `aws.events.rule-arn`, `aws.events.rule-name`,
 *   `aws.events.event.ingestion-time`, `aws.events.event` (the event without `detail`) and
 *   `aws.events.event.json` (the whole event);
 * - a placeholder inside a quoted string of the template takes the value as text, not escaped: a
 *   string as it is (its quotes and backslashes land in the output unchanged), an object or array
 *   as JSON with its inner quotes removed;
 * - a placeholder outside quotes takes the value as JSON (a string is quoted).
 * The output is the template with the placeholders replaced, sent to the target as it is: for an
 * SNS target it is the message body, so a template of quoted lines (CDK's `fromMultilineText`)
 * reaches the reader with each line in quotes.
 */

/** A target's input transformer as the template holds it. */
export interface InputTransformerSpec {
  readonly InputPathsMap?: Readonly<Record<string, string>>;
  readonly InputTemplate: string;
}

/** What EventBridge knows about the rule when it transforms an event. */
export interface RuleContext {
  readonly ruleArn: string;
  readonly ruleName: string;
  /** When EventBridge received the event. */
  readonly ingestionTime: Date;
}

/** A transformer EventBridge would refuse; the message says what to write. */
export class InvalidInputTransformerError extends Error {
  override readonly name = 'InvalidInputTransformerError';
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Reads a JSON path (`$`, `$.a.b`, `$.a[0]`) in `value`; undefined when the event lacks it. */
export function readJsonPath(value: unknown, path: string): Json | undefined {
  if (!path.startsWith('$')) {
    throw new InvalidInputTransformerError(
      `The input path "${path}" does not start with $; write a path such as $.detail.status.`,
    );
  }
  let current: unknown = value;
  const steps = path.slice(1).match(/\.[^.[\]]+|\[\d+\]/g) ?? [];
  if (steps.join('') !== path.slice(1)) {
    throw new InvalidInputTransformerError(
      `The input path "${path}" uses syntax EventBridge does not read; write dot notation with array indices, such as $.detail.items[0].id.`,
    );
  }
  for (const step of steps) {
    if (current === null || typeof current !== 'object') return undefined;
    const key = step.startsWith('[') ? Number(step.slice(1, -1)) : step.slice(1);
    current = (current as Record<string | number, unknown>)[key];
    if (current === undefined) return undefined;
  }
  return current as Json;
}

/** The text EventBridge sends to the target for `event`. */
export function transformInput(
  spec: InputTransformerSpec,
  event: Record<string, unknown>,
  rule: RuleContext,
): string {
  const variables = new Map<string, Json>();
  for (const [name, path] of Object.entries(spec.InputPathsMap ?? {})) {
    if (name.toLowerCase().startsWith('aws.')) {
      throw new InvalidInputTransformerError(
        `The input path name "${name}" starts with "aws."; those names are reserved, pick another.`,
      );
    }
    const value = readJsonPath(event, path);
    if (value !== undefined) variables.set(name, value);
  }
  const { detail: _detail, ...withoutDetail } = event;
  const reserved: Record<string, Json> = {
    'aws.events.rule-arn': rule.ruleArn,
    'aws.events.rule-name': rule.ruleName,
    'aws.events.event.ingestion-time': rule.ingestionTime.toISOString(),
    'aws.events.event': withoutDetail as Json,
    'aws.events.event.json': event as Json,
  };
  const template = spec.InputTemplate;
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i] as string;
    if (ch === '\\' && inString) {
      out += ch + (template[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === '"') {
      inString = !inString;
      out += ch;
      continue;
    }
    if (ch === '<') {
      const end = template.indexOf('>', i);
      const name = end > i ? template.slice(i + 1, end) : '';
      if (
        name &&
        /^[A-Za-z0-9_.-]+$/.test(name) &&
        (variables.has(name) || name in reserved || name in (spec.InputPathsMap ?? {}))
      ) {
        const value = variables.has(name) ? variables.get(name) : reserved[name];
        if (value !== undefined) out += inString ? asText(value) : JSON.stringify(value);
        i = end;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

/** A value placed inside a quoted string: strings as they are, objects and arrays without their quotes. */
function asText(value: Json): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') return JSON.stringify(value).replace(/"/g, '');
  return String(value);
}
