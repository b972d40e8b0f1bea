/**
 * What every request to the ui server must pass before it is served. The server holds customer
 * data on a port any local process, and any web page the user visits, can reach:
 * - a page from another site may not read it: its fetches carry a foreign Origin;
 * - a DNS-rebinding page (a foreign name re-pointed at 127.0.0.1) reaches it with a foreign Host;
 * - another local user or program lacks the per-launch token the CLI printed.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The header that carries the launch token on API calls (a custom header also forces a CORS preflight). */
export const TOKEN_HEADER = 'x-sfbackup-token';

/** A new per-launch token: 32 random bytes, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Why a request is refused, or undefined when it may be served. */
export interface Refusal {
  readonly status: 403;
  readonly message: string;
}

/** The hosts the server answers to: itself by address and by the loopback name, on its own port. */
export function ownHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
}

/** Refuses a request whose Host or Origin is not the server's own. */
export function checkOrigin(request: IncomingMessage, port: number): Refusal | undefined {
  const hosts = ownHosts(port);
  const host = request.headers.host ?? '';
  if (!hosts.has(host.toLowerCase())) {
    return {
      status: 403,
      message: `This server answers only to http://127.0.0.1:${port}; the request was addressed to another host. Open the URL sfbackup ui printed.`,
    };
  }
  const origin = request.headers.origin;
  if (origin !== undefined && ![...hosts].some((h) => origin.toLowerCase() === `http://${h}`)) {
    return {
      status: 403,
      message: `Requests from another site are refused: open the URL sfbackup ui printed (http://127.0.0.1:${port}/).`,
    };
  }
  return undefined;
}

/** Refuses an API call without the launch token (compared in constant time). */
export function checkToken(request: IncomingMessage, token: string): Refusal | undefined {
  const given = request.headers[TOKEN_HEADER];
  const expected = Buffer.from(token);
  const actual = Buffer.from(typeof given === 'string' ? given : '');
  if (actual.length === expected.length && timingSafeEqual(actual, expected)) return undefined;
  return {
    status: 403,
    message:
      'The launch token is missing or wrong: open the whole URL sfbackup ui printed (with its #token=...), or start it again for a new one.',
  };
}
