import { randomBytes } from 'node:crypto';

/** An issued access token. */
export interface Session {
  readonly token: string;
  readonly issuedAt: number;
}

/** Access and refresh tokens the emulator has issued; every token is the org's single user. */
export class Sessions {
  private readonly tokens = new Map<string, Session>();
  private readonly refreshTokens = new Set<string>();

  constructor(private readonly orgId: string) {}

  /** Issues a new access token shaped like Salesforce's (`00D...!...`). */
  issue(now: number): Session {
    const token = `${this.orgId}!${randomBytes(48).toString('base64url')}`;
    const session = { token, issuedAt: now };
    this.tokens.set(token, session);
    return session;
  }

  /** Issues a refresh token. */
  issueRefresh(): string {
    const token = `5Aep${randomBytes(40).toString('base64url')}`;
    this.refreshTokens.add(token);
    return token;
  }

  /** Looks up the session of an access token. */
  find(token: string): Session | undefined {
    return this.tokens.get(token);
  }

  /** Whether a refresh token was issued here. */
  isRefreshToken(token: string): boolean {
    return this.refreshTokens.has(token);
  }

  /** Revokes an access token. */
  revoke(token: string): void {
    this.tokens.delete(token);
  }
}
