/**
 * The person's identifying values: the e-mail addresses, phone numbers and full names her own rows
 * held in any version. Other records may have copied them (a case's supplied e-mail, a task's
 * subject, a note's text); erasure finds those copies, blanks them, and its last scan looks for them.
 *
 * A plan never holds a value: it holds an HMAC-SHA256 of each, under a key made for that execution
 * and kept in the plan only until the last scan has run.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** The kinds of value looked for, each compared in its own normal form. */
export type ValueKind = 'email' | 'phone' | 'name';

/** What a plan carries to find the values again: digests and their key, never a value. */
export interface ValueDigests {
  /** Base64 HMAC key, made for one execution. */
  readonly key: string;
  /** Hex HMAC-SHA256 of `<kind>:<normal form>`, sorted. */
  readonly digests: readonly string[];
  /** How many words the names have (a name is matched as that many words in a row). */
  readonly nameWords: readonly number[];
  /** How many digits the phone numbers have (a copy may carry a country code in front). */
  readonly phoneDigits?: readonly number[];
}

const EMAIL_CELL = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/;
// An apostrophe may be inside an address (o'brien@...), not around it ('jane@x.com').
const EMAIL_IN_TEXT = /[A-Za-z0-9_][A-Za-z0-9._%+'-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const PHONE_IN_TEXT = /\+?\(?\d[\d\s().-]{5,}\d/g;
// A word starts with a letter: an opening quote ('Jane Doe') is not part of it.
const WORD = /[\p{L}\p{M}][\p{L}\p{M}'’-]*/gu;
/** A possessive or closing apostrophe after a name: "Mary Smith's office". */
const POSSESSIVE = /['’]s?$/;
/** Fields of her phone numbers and e-mail addresses, in a row or a change event. */
const PHONE_FIELD = /(Phone|Fax|Mobile)/i;
/** Fields that name another person's number or address on her row: her assistant's, her manager's. */
const SOMEONE_ELSES = /(Assistant|Manager|Owner|Supervisor|Reply|Partner|Company|Account)/i;
/** A country code written in front of a number: `+44 20 ...`, `0044 20 ...`. */
const COUNTRY_CODE = /^\s*(?:\+|00)(\d{1,3})[\s.-]/;
/** A phone number has at least this many digits; shorter digit runs are too common to stand for her. */
const MIN_PHONE_DIGITS = 7;
/** Digits a copy of a phone number may carry in front of it: a country code. */
const MAX_COUNTRY_CODE = 3;
/** A name is looked for when it has two to four words of at least this many letters in all. */
const MIN_NAME_LETTERS = 5;

const digits = (text: string): string => text.replace(/\D/g, '');
const nameForm = (text: string): string[] => (text.toLowerCase().match(WORD) ?? []).filter(Boolean);

/**
 * Collects the values of the person's rows and events as digests, under one key: `digests()`
 * answers what a plan stores, and a collector made again from them goes on collecting, so a plan
 * made over several invocations keeps no value between them.
 */
export class ValueCollector {
  private readonly key: Buffer;
  private readonly collected: Set<string>;
  private readonly nameWords: Set<number>;
  private readonly phoneDigits: Set<number>;

  /** A new collector under a new key, or one going on from the digests an earlier one answered. */
  constructor(from?: ValueDigests) {
    this.key = from ? Buffer.from(from.key, 'base64') : randomBytes(32);
    this.collected = new Set(from?.digests ?? []);
    this.nameWords = new Set(from?.nameWords ?? []);
    this.phoneDigits = new Set(from?.phoneDigits ?? []);
  }

  /** A row (or event) of the person's: field name to value. */
  addRecord(fields: Readonly<Record<string, unknown>>): void {
    for (const [field, value] of Object.entries(fields)) {
      if (typeof value === 'string') this.addField(field, value);
      else if (field === 'Name' && value !== null && typeof value === 'object') {
        // A change event's compound name: { FirstName, LastName, ... }.
        const name = value as Record<string, unknown>;
        this.addName([name.FirstName, name.MiddleName, name.LastName]);
      }
    }
    this.addName([fields.FirstName, fields.MiddleName, fields.LastName]);
  }

  private addField(field: string, value: string): void {
    const text = value.trim();
    if (!text) return;
    if (field === 'Name') this.addName([text]);
    if (SOMEONE_ELSES.test(field)) return;
    if (EMAIL_CELL.test(text)) this.add('email', text.toLowerCase());
    else if (PHONE_FIELD.test(field)) this.addPhone(text);
  }

  /**
   * A phone number by its digits; written with a country code set apart (`+44 20 7946 0958`),
   * also without it, since a copy may leave it out. Digits are never dropped otherwise: a number
   * without its first digits is another number.
   */
  private addPhone(text: string): void {
    const number = digits(text);
    if (number.length < MIN_PHONE_DIGITS) return;
    this.add('phone', number);
    const code = COUNTRY_CODE.exec(text);
    const national = code ? number.slice(code[0].replace(/\D/g, '').length) : '';
    if (national.length >= MIN_PHONE_DIGITS) this.add('phone', national);
  }

  private addName(parts: readonly unknown[]): void {
    const words = parts.filter((p): p is string => typeof p === 'string').flatMap(nameForm);
    if (words.length < 2 || words.length > 4 || words.join('').length < MIN_NAME_LETTERS) return;
    this.add('name', words.join(' '));
  }

  private add(kind: ValueKind, form: string): void {
    this.collected.add(createHmac('sha256', this.key).update(`${kind}:${form}`).digest('hex'));
    if (kind === 'name') this.nameWords.add(form.split(' ').length);
    if (kind === 'phone') this.phoneDigits.add(form.length);
  }

  get size(): number {
    return this.collected.size;
  }

  /** The digests of what was collected, and their key. */
  digests(): ValueDigests {
    const sorted = (numbers: ReadonlySet<number>) => [...numbers].sort((a, b) => a - b);
    return {
      key: this.key.toString('base64'),
      digests: [...this.collected].sort(),
      nameWords: sorted(this.nameWords),
      phoneDigits: sorted(this.phoneDigits),
    };
  }
}

/** One stretch of text that is one of the person's values. */
export interface ValueHit {
  readonly kind: ValueKind;
  readonly start: number;
  readonly end: number;
}

/** Finds the person's values in text, by their digests. */
export class ValueMatcher {
  private readonly key: Buffer;
  private readonly digests: ReadonlySet<string>;
  private readonly nameWords: readonly number[];
  private readonly phoneDigits: readonly number[];

  constructor(values: ValueDigests) {
    this.key = Buffer.from(values.key, 'base64');
    this.digests = new Set(values.digests);
    this.nameWords = values.nameWords;
    this.phoneDigits = values.phoneDigits ?? [];
  }

  /** Whether a run of digits is one of the phone numbers, or one with a country code in front. */
  private isPhone(number: string): boolean {
    if (number.length < MIN_PHONE_DIGITS) return false;
    if (this.is('phone', number)) return true;
    return this.phoneDigits.some(
      (n) => number.length > n && number.length - n <= MAX_COUNTRY_CODE && this.is('phone', number.slice(-n)),
    );
  }

  get empty(): boolean {
    return this.digests.size === 0;
  }

  private is(kind: ValueKind, form: string): boolean {
    return this.digests.has(createHmac('sha256', this.key).update(`${kind}:${form}`).digest('hex'));
  }

  /** Every stretch of `text` that is one of the values, in order, not overlapping. */
  find(text: string): ValueHit[] {
    if (this.empty || !text) return [];
    const hits: ValueHit[] = [];
    for (const m of text.matchAll(EMAIL_IN_TEXT)) {
      const length = this.emailIn(m[0]);
      if (length > 0) hits.push({ kind: 'email', start: m.index, end: m.index + length });
    }
    for (const m of text.matchAll(PHONE_IN_TEXT)) {
      const hit = this.phoneIn(m[0]);
      if (hit) hits.push({ kind: 'phone', start: m.index + hit.start, end: m.index + hit.end });
    }
    if (this.nameWords.length > 0) {
      const words = [...text.matchAll(WORD)];
      for (let i = 0; i < words.length; i++) {
        for (const n of this.nameWords) {
          const last = words[i + n - 1];
          if (!last) continue;
          const span = words.slice(i, i + n);
          // The words of a name follow one another, with only spaces between them.
          const apart = span
            .slice(1)
            .some((w, j) => !/^\s+$/.test(text.slice(span[j]!.index + span[j]![0].length, w.index)));
          if (apart) continue;
          const form = span.map((w) => w[0].toLowerCase());
          const end = last.index + last[0].length;
          if (this.is('name', form.join(' '))) {
            hits.push({ kind: 'name', start: words[i]!.index, end });
            continue;
          }
          // "Mary Smith's office": the name without its possessive.
          const possessive = POSSESSIVE.exec(form[n - 1]!);
          if (
            possessive &&
            this.is('name', [...form.slice(0, -1), form[n - 1]!.slice(0, possessive.index)].join(' '))
          )
            hits.push({ kind: 'name', start: words[i]!.index, end: end - possessive[0].length });
        }
      }
    }
    hits.sort((a, b) => a.start - b.start || b.end - a.end);
    const apart: ValueHit[] = [];
    for (const hit of hits) if (!apart.length || hit.start >= apart[apart.length - 1]!.end) apart.push(hit);
    return apart;
  }

  /**
   * How much of an address-like run is one of the addresses: the whole run, or the run without a
   * capitalized word after its last dot, which starts the next sentence (`jane@x.com.Thanks`); a
   * lower-case ending is part of the domain (`john@company.co.uk` is not `john@company.co`).
   * Answers 0 when none.
   */
  private emailIn(run: string): number {
    if (this.is('email', run.toLowerCase())) return run.length;
    const sentence = /\.[A-Z][a-z]*$/.exec(run);
    if (sentence && this.is('email', run.slice(0, sentence.index).toLowerCase())) return sentence.index;
    return 0;
  }

  /**
   * The longest run of whole space-separated pieces of a digit run that is one of the phone
   * numbers: "call 617-555-0199 2024" holds the number without the year.
   */
  private phoneIn(run: string): { start: number; end: number } | undefined {
    const pieces = [...run.matchAll(/\S+/g)];
    for (let length = pieces.length; length > 0; length--) {
      for (let i = 0; i + length <= pieces.length; i++) {
        const first = pieces[i]!;
        const last = pieces[i + length - 1]!;
        const end = last.index + last[0].replace(/[(.-]+$/, '').length;
        const number = digits(run.slice(first.index, end));
        if (this.isPhone(number)) return { start: first.index, end };
      }
    }
    return undefined;
  }

  /**
   * The text without the values: a text that is only e-mail addresses or phone numbers becomes
   * empty (a blank field), and any other value becomes `[erased]`, so that a required field that
   * was only her name (an Account's or an Opportunity's) still holds a value and restores.
   * Answers undefined when nothing was found.
   */
  scrub(text: string): string | undefined {
    const hits = this.find(text);
    if (hits.length === 0) return undefined;
    let out = '';
    let at = 0;
    for (const hit of hits) {
      out += `${text.slice(at, hit.start)}[erased]`;
      at = hit.end;
    }
    out += text.slice(at);
    const onlyValues = out.replace(/\[erased\]/g, '').trim() === '';
    return onlyValues && hits.every((h) => h.kind !== 'name') ? '' : out;
  }
}

/** `Object.Field` as the request's `keepCopiesIn` names a field. */
export const fieldName = (object: string, field: string): string => `${object}.${field}`;
