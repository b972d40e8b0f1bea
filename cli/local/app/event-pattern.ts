/**
 * EventBridge event patterns, matched as the EventBridge user guide ("Event patterns",
 * "Comparison operators") documents them:
 * - a pattern is an object whose leaves are arrays of conditions; an event matches when every
 *   field the pattern names matches one of its conditions (the array is an OR), and `$or` lists
 *   alternative patterns;
 * - a nested object in the pattern descends into the event's object of that name;
 * - when the event's value is an array, the field matches if any element matches;
 * - conditions: exact values (strings, numbers compared as numbers, `null`, booleans), `prefix`,
 *   `suffix`, `equals-ignore-case`, `wildcard`, `anything-but` (a value, a list, or a prefix,
 *   suffix, equals-ignore-case or wildcard), `numeric` (up to two comparisons), `exists`, `cidr`.
 * A field the event lacks matches only `{"exists": false}`; `anything-but` needs the field present.
 */

/** A pattern that is not one EventBridge accepts; the message names the field and the fix. */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternError';
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
const ABSENT = Symbol('absent');
type Value = Json | typeof ABSENT;

/** Whether `event` matches `pattern`. Throws InvalidEventPatternError for a malformed pattern. */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  if (!isObject(pattern))
    throw new InvalidEventPatternError('An event pattern is a JSON object; write {"source": [...], ...}.');
  return matchObject(pattern, event as Json, '');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function matchObject(pattern: Record<string, unknown>, event: Json | typeof ABSENT, path: string): boolean {
  for (const [key, condition] of Object.entries(pattern)) {
    const where = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(condition) || condition.length < 2 || !condition.every(isObject)) {
        throw new InvalidEventPatternError(
          `"${where}" lists at least two patterns (objects) to choose from.`,
        );
      }
      if (!condition.some((alternative) => matchObject(alternative, event, path))) return false;
      continue;
    }
    const value: Value = isObject(event) && key in event ? (event[key] as Json) : ABSENT;
    if (isObject(condition)) {
      if (!isObject(value)) return false;
      if (!matchObject(condition, value, where)) return false;
    } else if (Array.isArray(condition)) {
      if (!matchLeaf(condition, value, where)) return false;
    } else {
      throw new InvalidEventPatternError(
        `"${where}" is ${JSON.stringify(condition)}; a pattern field is an object or an array of conditions, such as ["FAILED"].`,
      );
    }
  }
  return true;
}

function matchLeaf(conditions: readonly unknown[], value: Value, where: string): boolean {
  if (conditions.length === 0) {
    throw new InvalidEventPatternError(`"${where}" is an empty array; list at least one value to match.`);
  }
  const values: Value[] = Array.isArray(value) ? (value.length ? value : [ABSENT]) : [value];
  return conditions.some((condition) => values.some((v) => matchCondition(condition, v, value, where)));
}

function matchCondition(condition: unknown, value: Value, whole: Value, where: string): boolean {
  if (!isObject(condition)) return exactMatch(condition, value);
  const entries = Object.entries(condition);
  if (entries.length !== 1) {
    throw new InvalidEventPatternError(
      `"${where}" has ${JSON.stringify(condition)}; a comparison names exactly one operator.`,
    );
  }
  const [operator, operand] = entries[0] as [string, unknown];
  switch (operator) {
    case 'exists':
      if (typeof operand !== 'boolean')
        throw new InvalidEventPatternError(`"${where}": exists takes true or false.`);
      // Exists looks at leaves: an object is not a value that exists.
      return operand ? whole !== ABSENT && !isObject(whole) : whole === ABSENT;
    case 'prefix':
      return stringTest(
        operand,
        value,
        where,
        'prefix',
        (v, o) => v.startsWith(o),
        (v, o) => v.toLowerCase().startsWith(o.toLowerCase()),
      );
    case 'suffix':
      return stringTest(
        operand,
        value,
        where,
        'suffix',
        (v, o) => v.endsWith(o),
        (v, o) => v.toLowerCase().endsWith(o.toLowerCase()),
      );
    case 'equals-ignore-case':
      if (typeof operand !== 'string')
        throw new InvalidEventPatternError(`"${where}": equals-ignore-case takes a string.`);
      return typeof value === 'string' && value.toLowerCase() === operand.toLowerCase();
    case 'wildcard':
      if (typeof operand !== 'string')
        throw new InvalidEventPatternError(`"${where}": wildcard takes a string.`);
      return typeof value === 'string' && wildcardRegExp(operand).test(value);
    case 'anything-but':
      return anythingBut(operand, value, where);
    case 'numeric':
      return numeric(operand, value, where);
    case 'cidr':
      if (typeof operand !== 'string')
        throw new InvalidEventPatternError(`"${where}": cidr takes a string such as "10.0.0.0/24".`);
      return typeof value === 'string' && inCidr(value, operand, where);
    default:
      throw new InvalidEventPatternError(
        `"${where}" uses "${operator}"; write one of prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr.`,
      );
  }
}

function exactMatch(condition: unknown, value: Value): boolean {
  if (value === ABSENT) return false;
  if (typeof condition === 'number' && typeof value === 'number') return condition === value;
  return condition === value;
}

function stringTest(
  operand: unknown,
  value: Value,
  where: string,
  operator: string,
  test: (v: string, o: string) => boolean,
  ignoreCase: (v: string, o: string) => boolean,
): boolean {
  if (typeof operand === 'string') return typeof value === 'string' && test(value, operand);
  if (
    isObject(operand) &&
    typeof operand['equals-ignore-case'] === 'string' &&
    Object.keys(operand).length === 1
  ) {
    return typeof value === 'string' && ignoreCase(value, operand['equals-ignore-case']);
  }
  throw new InvalidEventPatternError(
    `"${where}": ${operator} takes a string, or {"equals-ignore-case": string}.`,
  );
}

function wildcardRegExp(pattern: string): RegExp {
  const escaped = pattern
    .split(/(\\\*|\*)/)
    .map((part) =>
      part === '*' ? '.*' : part === '\\*' ? '\\*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${escaped}$`, 's');
}

function anythingBut(operand: unknown, value: Value, where: string): boolean {
  if (value === ABSENT) return false;
  if (Array.isArray(operand)) return !operand.some((o) => exactMatch(o, value));
  if (isObject(operand)) {
    const [operator, inner] = (Object.entries(operand)[0] ?? []) as [string, unknown];
    if (
      Object.keys(operand).length !== 1 ||
      !['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(operator)
    ) {
      throw new InvalidEventPatternError(
        `"${where}": anything-but takes a value, a list, or one of prefix, suffix, equals-ignore-case, wildcard.`,
      );
    }
    if (typeof value !== 'string') return true;
    const list = Array.isArray(inner) ? inner : [inner];
    if (!list.every((i) => typeof i === 'string')) {
      throw new InvalidEventPatternError(
        `"${where}": anything-but ${operator} takes a string or a list of strings.`,
      );
    }
    return !list.some((i) =>
      operator === 'prefix'
        ? value.startsWith(i as string)
        : operator === 'suffix'
          ? value.endsWith(i as string)
          : operator === 'wildcard'
            ? wildcardRegExp(i as string).test(value)
            : value.toLowerCase() === (i as string).toLowerCase(),
    );
  }
  return !exactMatch(operand, value);
}

const NUMERIC_OPERATORS: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function numeric(operand: unknown, value: Value, where: string): boolean {
  if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0 || operand.length > 4) {
    throw new InvalidEventPatternError(
      `"${where}": numeric takes one or two comparisons, such as [">", 0, "<=", 5].`,
    );
  }
  if (typeof value !== 'number') return false;
  for (let i = 0; i < operand.length; i += 2) {
    const test = NUMERIC_OPERATORS[operand[i] as string];
    const bound = operand[i + 1];
    if (!test || typeof bound !== 'number') {
      throw new InvalidEventPatternError(
        `"${where}": numeric comparisons are =, <, <=, > or >= followed by a number.`,
      );
    }
    if (!test(value, bound)) return false;
  }
  return true;
}

function inCidr(address: string, cidr: string, where: string): boolean {
  const [network = '', bitsText = ''] = cidr.split('/');
  const toNumber = (ip: string) => {
    const parts = ip.split('.').map(Number);
    return parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255)
      ? parts.reduce((acc, p) => acc * 256 + p, 0)
      : undefined;
  };
  const net = toNumber(network);
  const bits = Number(bitsText);
  if (net === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) {
    throw new InvalidEventPatternError(
      `"${where}": cidr "${cidr}" is not an IPv4 block such as "10.0.0.0/24".`,
    );
  }
  const ip = toNumber(address);
  if (ip === undefined) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(ip / size) === Math.floor(net / size);
}
