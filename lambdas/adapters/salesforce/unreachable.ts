/**
 * What to tell a person when an org cannot be reached at all: fetch only says "fetch failed", and
 * the reason (nothing listening, a name that does not resolve, a certificate refused, no answer in
 * time) sits in its chain of causes as a code. Each reason comes with what to check.
 */

/** Why a request never got an HTTP answer. */
export type UnreachableReason = 'refused' | 'dns' | 'tls' | 'timeout' | 'reset' | 'other';

const TLS_CODE = /CERT|SSL|TLS|EPROTO|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH|ERR_TLS/i;

interface CauseLink {
  readonly code?: string;
  readonly name?: string;
  readonly message?: string;
}

/** Every error in `error`'s chain of causes (fetch's TypeError, undici's error, the socket's). */
function chain(error: unknown): CauseLink[] {
  const links: CauseLink[] = [];
  let current: unknown = error;
  while (current && typeof current === 'object' && links.length < 8) {
    const e = current as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    links.push({
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
      ...(typeof e.name === 'string' ? { name: e.name } : {}),
      ...(typeof e.message === 'string' ? { message: e.message } : {}),
    });
    current = e.cause;
  }
  return links;
}

/** Classifies a failure below HTTP, or undefined when `error` carries an answer or is not a network failure. */
export function unreachableReason(error: unknown): { reason: UnreachableReason; detail: string } | undefined {
  const links = chain(error);
  const network = links.some(
    (l) =>
      l.code !== undefined ||
      l.name === 'TimeoutError' ||
      (l.name === 'TypeError' && l.message === 'fetch failed'),
  );
  if (!network) return undefined;
  const codes = links.map((l) => l.code).filter((c): c is string => c !== undefined);
  const detail = links.at(-1)?.message ?? codes.join(', ');
  const has = (test: (code: string) => boolean) => codes.some(test);
  if (has((c) => c === 'ECONNREFUSED')) return { reason: 'refused', detail };
  if (has((c) => c === 'ENOTFOUND' || c === 'EAI_AGAIN' || c === 'EAI_NONAME'))
    return { reason: 'dns', detail };
  if (
    links.some((l) => l.name === 'TimeoutError') ||
    has((c) => c === 'ETIMEDOUT' || (c.startsWith('UND_ERR_') && c.endsWith('_TIMEOUT')))
  ) {
    return { reason: 'timeout', detail };
  }
  if (has((c) => TLS_CODE.test(c)) || links.some((l) => /ssl|tls|certificate/i.test(l.message ?? ''))) {
    return { reason: 'tls', detail };
  }
  if (has((c) => c === 'ECONNRESET' || c === 'UND_ERR_SOCKET' || c === 'EPIPE'))
    return { reason: 'reset', detail };
  return { reason: 'other', detail };
}

/** The host and port of `url` as a person would check them, e.g. `127.0.0.1:8080`. */
function hostOf(url: string): { host: string; origin: string; https: boolean } {
  try {
    const parsed = new URL(url);
    const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
    return { host: `${parsed.hostname}:${port}`, origin: parsed.origin, https: parsed.protocol === 'https:' };
  } catch {
    return { host: url, origin: url, https: false };
  }
}

/**
 * A message naming the URL, why it could not be reached and what to check, or undefined when
 * `error` is not a failure to reach it. `timeoutMs` is the limit the caller set, to name it.
 */
export function describeUnreachable(url: string, error: unknown, timeoutMs?: number): string | undefined {
  const found = unreachableReason(error);
  if (!found) return undefined;
  const { host, origin, https } = hostOf(url);
  const lead = `Could not reach the org at ${origin}`;
  switch (found.reason) {
    case 'refused':
      return (
        `${lead}: connection refused (nothing listens at ${host}). ` +
        'Check that the org or the emulator is running ("npx sfbackup emulator" prints its URL) and that the URL and port are the ones it listens on.'
      );
    case 'dns':
      return (
        `${lead}: DNS name not found (${host.replace(/:\d+$/, '')} does not resolve). ` +
        'Check the spelling of --instance-url (e.g. https://acme.my.salesforce.com), and your network, DNS, proxy or VPN.'
      );
    case 'tls':
      return (
        `${lead}: TLS/certificate problem (${found.detail}). ` +
        (https
          ? 'Check that the server speaks https at that port (use http:// for a local emulator without TLS), ' +
            'and that its certificate is trusted (for a self-signed one set NODE_EXTRA_CA_CERTS to its CA file); a proxy that intercepts TLS causes this too.'
          : 'Check the URL and whether a proxy intercepts the connection.')
      );
    case 'timeout':
      return (
        `${lead}: no answer${timeoutMs !== undefined ? ` within ${(timeoutMs / 1000).toFixed(timeoutMs < 1000 ? 1 : 0)} s` : ' in time'} (timeout). ` +
        'Check that the org or the emulator is up and not stuck, and whether a firewall, proxy or VPN drops the connection.'
      );
    case 'reset':
      return (
        `${lead}: the connection was closed before an answer (${found.detail}). ` +
        'Check that the URL points at the org (not another service on that port), and whether a proxy or VPN cuts connections.'
      );
    default:
      return (
        `${lead}: ${found.detail}. ` +
        'Check that the org or the emulator is running, the URL is spelled right, and your proxy or VPN settings.'
      );
  }
}
