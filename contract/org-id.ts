/**
 * Salesforce org ids as people type them: 15 characters (case-sensitive) or 18 (the 15 plus a
 * 3-character checksum of their casing, so that the id survives case-insensitive systems), in any
 * case. The vault files an org under its 18-character id, lower-cased; this module turns every
 * accepted spelling into that key, and back into the id as Salesforce prints it.
 */

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const ORG_ID_15 = /^00d[a-z0-9]{12}$/i;
const ORG_ID_18 = /^00d[a-z0-9]{12}[a-z0-5]{3}$/i;

/**
 * The 3-character suffix Salesforce appends to a 15-character id (an org's or a record's): per
 * block of 5 characters, a bit per upper-case letter, least significant first, picks one of A-Z0-5.
 */
export function suffixOf(id15: string): string {
  let suffix = '';
  for (let block = 0; block < 3; block++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charAt(block * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET.charAt(bits);
  }
  return suffix;
}

/** The 15 characters of an 18-character id in Salesforce's casing, recovered from its suffix. */
export function recase(id18: string): string {
  const suffix = id18.slice(15).toUpperCase();
  let id = '';
  for (let block = 0; block < 3; block++) {
    const bits = SUFFIX_ALPHABET.indexOf(suffix.charAt(block));
    for (let i = 0; i < 5; i++) {
      const c = id18.charAt(block * 5 + i);
      id += bits >= 0 && bits & (1 << i) ? c.toUpperCase() : c.toLowerCase();
    }
  }
  return id;
}

/**
 * The 18-character org id with Salesforce's casing (e.g. `00D5g000004ExAmEAK`), or undefined when
 * `text` is not an org id. A 15-character id keeps the casing it is given, since that casing is
 * the id; an 18-character id in any case is re-cased from its suffix.
 */
export function canonicalOrgId(text: string): string | undefined {
  const trimmed = text.trim();
  if (ORG_ID_18.test(trimmed)) {
    const id15 = recase(trimmed);
    return `${id15}${suffixOf(id15)}`;
  }
  if (ORG_ID_15.test(trimmed)) {
    // The prefix "00D" is always written so; only the 12 characters after it carry the casing.
    const id15 = `00D${trimmed.slice(3)}`;
    return `${id15}${suffixOf(id15)}`;
  }
  return undefined;
}

/** The vault key of an org id (its 18-character form, lower-cased), or undefined when `text` is not an org id. */
export function orgKeyOfId(text: string): string | undefined {
  return canonicalOrgId(text)?.toLowerCase();
}

/**
 * Whether two spellings of org ids name the same org. A 15-character id typed in another case
 * than Salesforce's is still taken for the org whose first 15 characters match, case aside: two
 * orgs whose ids differ only in case are not a mistake a person makes by typing.
 */
export function sameOrgId(a: string, b: string): boolean {
  const ka = orgKeyOfId(a);
  const kb = orgKeyOfId(b);
  if (ka === undefined || kb === undefined) return false;
  return a.trim().length === 18 && b.trim().length === 18 ? ka === kb : ka.slice(0, 15) === kb.slice(0, 15);
}

/** How the CLI prints an org's vault key: the org id in Salesforce's casing, or the name as it is. */
export function displayOrg(key: string): string {
  return canonicalOrgId(key) ?? key;
}
