/**
 * Fault injection: a parsed `--faults` spec and the seeded dice that decide, per request,
 * whether a fault fires. The grammar is documented in docs/emulator.md.
 */
import { Prng } from '../generate/prng.ts';

/** Endpoint names a fault pattern can match (also the keys of the request counts). */
export const ENDPOINTS = [
  'oauth',
  'identity',
  'userinfo',
  'versions',
  'resources',
  'limits',
  'describe-global',
  'describe',
  'sobject',
  'blob',
  'query',
  'composite',
  'collections',
  'tree',
  'soap',
  'metadata',
  'tooling',
  'bulk-query',
  'bulk-results',
  'bulk-result-pages',
  'bulk-ingest',
] as const;

/** One of the endpoint names above. */
export type EndpointName = (typeof ENDPOINTS)[number];

/** What a fault does when it fires. */
export type FaultKind =
  | 'rate-limit'
  | '500'
  | '503'
  | 'cut'
  | 'latency'
  | 'expired-session'
  | 'bulk-fail'
  | 'row-time';

/** One parsed fault rule. */
export interface FaultRule {
  /** The endpoint pattern as written (`*` matches any run of characters). */
  readonly pattern: string;
  readonly kind: FaultKind;
  /** Bytes before the cut (`cut`), milliseconds (`latency`) or milliseconds per row written (`row-time`). */
  readonly amount: number;
  /** Probability in [0, 1] that the rule fires on a matching request. */
  readonly probability: number;
  /** How many more times the rule may fire (Infinity when unlimited). */
  remaining: number;
}

/** A parsed spec: the rules and the seed of their dice. */
export interface FaultSpec {
  readonly seed: number;
  readonly rules: FaultRule[];
}

/** Thrown for a `--faults` spec that cannot be parsed; the message says which entry and why. */
export class InvalidFaultSpecError extends Error {
  override name = 'InvalidFaultSpecError';
}

const KINDS: readonly FaultKind[] = [
  'rate-limit',
  '500',
  '503',
  'cut',
  'latency',
  'expired-session',
  'bulk-fail',
  'row-time',
];
const DEFAULT_CUT_BYTES = 16_384;

function patternRegex(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** Whether `pattern` matches the endpoint `name`. */
export function patternMatches(pattern: string, name: string): boolean {
  return patternRegex(pattern).test(name);
}

function parseEntry(entry: string): FaultRule {
  const fail = (why: string): never => {
    throw new InvalidFaultSpecError(
      `Invalid fault "${entry}": ${why}. Expected ENDPOINT:KIND[=AMOUNT][@PROBABILITY][#TIMES], for example "bulk-results:cut@0.3" or "*:latency=50ms".`,
    );
  };
  const colon = entry.indexOf(':');
  if (colon <= 0) fail('missing "ENDPOINT:" before the fault kind');
  const pattern = entry.slice(0, colon).trim();
  const re = patternRegex(pattern);
  if (!ENDPOINTS.some((e) => re.test(e))) {
    fail(`endpoint pattern "${pattern}" matches no endpoint (known: ${ENDPOINTS.join(', ')})`);
  }
  const match = /^([a-z0-9-]+)(?:=([0-9.]+)(ms|s)?)?(?:@([0-9.]+))?(?:#([0-9]+))?$/.exec(
    entry.slice(colon + 1).trim(),
  );
  if (!match) return fail('cannot read the part after ":"');
  const [, kindText, amountText, unit, probText, timesText] = match as unknown as (string | undefined)[];
  const kind = KINDS.find((k) => k === kindText);
  if (!kind) return fail(`unknown fault kind "${kindText}" (known: ${KINDS.join(', ')})`);
  let amount = 0;
  if (kind === 'latency' || kind === 'row-time') {
    if (amountText === undefined)
      fail(`${kind} needs a duration, for example ${kind}=${kind === 'latency' ? '50ms' : '0.5ms'}`);
    amount = Number(amountText) * (unit === 's' ? 1000 : 1);
  } else if (kind === 'cut') {
    if (unit !== undefined) fail('cut takes a byte count, for example cut=1000');
    amount = amountText === undefined ? DEFAULT_CUT_BYTES : Number(amountText);
  } else if (amountText !== undefined) {
    fail(`fault kind "${kind}" takes no "=AMOUNT"`);
  }
  if (!Number.isFinite(amount) || amount < 0) fail('the amount must be a non-negative number');
  const probability = probText === undefined ? 1 : Number(probText);
  if (!Number.isFinite(probability) || probability < 0 || probability > 1) {
    fail(`probability "${probText}" must be a number from 0 to 1`);
  }
  const remaining = timesText === undefined ? Number.POSITIVE_INFINITY : Number(timesText);
  return { pattern, kind, amount, probability, remaining };
}

/** Parses a spec such as `seed=7,bulk-results:cut@0.3,query:503@0.1#2,*:latency=50ms`. */
export function parseFaultSpec(spec: string): FaultSpec {
  let seed = 1;
  const rules: FaultRule[] = [];
  for (const raw of spec.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (entry.startsWith('seed=')) {
      seed = Number(entry.slice(5));
      if (!Number.isInteger(seed)) {
        throw new InvalidFaultSpecError(
          `Invalid fault seed "${entry}": the seed must be an integer, for example seed=42.`,
        );
      }
      continue;
    }
    rules.push(parseEntry(entry));
  }
  return { seed, rules };
}

/** What fired for one request. */
export interface FaultDecision {
  latencyMs: number;
  /** A fault that answers instead of the endpoint, if any. */
  answer?: 'rate-limit' | '500' | '503' | 'expired-session';
  /** Bytes of body to send before destroying the socket, if a cut fired. */
  cutAfter?: number;
}

/** Holds the active rules and rolls them for each request. */
export class FaultInjector {
  private rules: FaultRule[] = [];
  // Seeded so a fault run can be repeated exactly.
  private dice = new Prng(1);

  /** Replaces the active rules (an empty spec clears them). */
  set(spec: FaultSpec): void {
    this.rules = spec.rules;
    this.dice = new Prng(spec.seed);
  }

  /** The active rules, for the control surface. */
  list(): readonly FaultRule[] {
    return this.rules;
  }

  /** Rolls every rule matching `endpoint`. */
  decide(endpoint: string): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0 };
    for (const rule of this.rules) {
      if (rule.kind === 'bulk-fail' || rule.kind === 'row-time') continue;
      if (rule.remaining <= 0 || !patternMatches(rule.pattern, endpoint)) continue;
      if (this.dice.next() >= rule.probability) continue;
      if (rule.kind === 'latency') {
        decision.latencyMs += rule.amount;
      } else if (rule.kind === 'cut') {
        if (decision.cutAfter !== undefined) continue;
        decision.cutAfter = rule.amount;
      } else {
        if (decision.answer !== undefined) continue;
        decision.answer = rule.kind;
      }
      rule.remaining -= 1;
    }
    return decision;
  }

  /**
   * Milliseconds the org spends per row a request to `endpoint` writes: the sum of the matching
   * `row-time` rules (no dice, no count: a cost of the org, not a fault that fires).
   */
  rowTimeMs(endpoint: string): number {
    let ms = 0;
    for (const rule of this.rules)
      if (rule.kind === 'row-time' && patternMatches(rule.pattern, endpoint)) ms += rule.amount;
    return ms;
  }

  /** Rolls the `bulk-fail` rules matching `endpoint`; called once when a Bulk job is created. */
  rollBulkFail(endpoint: string): boolean {
    for (const rule of this.rules) {
      if (rule.kind !== 'bulk-fail' || rule.remaining <= 0 || !patternMatches(rule.pattern, endpoint))
        continue;
      if (this.dice.next() >= rule.probability) continue;
      rule.remaining -= 1;
      return true;
    }
    return false;
  }
}
