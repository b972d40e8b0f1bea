import { createPublicKey, createHmac } from 'node:crypto';
import { errors as joseErrors, importSPKI, importX509, jwtVerify, type CryptoKey } from 'jose';
import type { EmulatorContext, Handler, Reply } from './context.ts';
import { ApiError } from './errors.ts';

const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

function oauthError(code: string, description: string, status = 400): ApiError {
  return new ApiError(status, code, description);
}

/** The identity URL of the org's user (also the `id` of token responses). */
export function identityUrl(ctx: EmulatorContext): string {
  return `${ctx.instanceUrl}/id/${ctx.org.info.orgId}/${ctx.org.user.id}`;
}

function tokenReply(ctx: EmulatorContext, extra: Record<string, string> = {}): Reply {
  const issuedAt = ctx.org.now().getTime();
  const session = ctx.sessions.issue(issuedAt);
  const id = identityUrl(ctx);
  const signature = createHmac('sha256', ctx.org.info.orgId).update(`${id}${issuedAt}`).digest('base64');
  return {
    status: 200,
    body: {
      access_token: session.token,
      ...extra,
      signature,
      scope: 'api',
      instance_url: ctx.instanceUrl,
      id,
      token_type: 'Bearer',
      issued_at: String(issuedAt),
    },
  };
}

let cachedKey: { pem: string; key: CryptoKey | Uint8Array } | undefined;

async function verificationKey(pem: string): Promise<CryptoKey | Uint8Array> {
  if (cachedKey?.pem === pem) return cachedKey.key;
  const key = pem.includes('BEGIN CERTIFICATE')
    ? await importX509(pem, 'RS256')
    : pem.includes('BEGIN PUBLIC KEY')
      ? await importSPKI(pem, 'RS256')
      : await importSPKI(createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString(), 'RS256');
  cachedKey = { pem, key };
  return key;
}

async function jwtBearer(ctx: EmulatorContext, params: URLSearchParams): Promise<Reply> {
  const assertion = params.get('assertion');
  if (!assertion)
    throw oauthError('invalid_request', 'assertion parameter is required for the JWT bearer grant');
  const app = ctx.oauth.jwt;
  if (!app)
    throw oauthError('invalid_client_id', 'client identifier invalid (no JWT connected app is configured)');
  let payload: Record<string, unknown>;
  try {
    const result = await jwtVerify(assertion, await verificationKey(app.certificate), {
      algorithms: ['RS256'],
      requiredClaims: ['iss', 'sub', 'aud', 'exp'],
      currentDate: ctx.org.now(),
    });
    payload = result.payload as Record<string, unknown>;
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired)
      throw oauthError('invalid_grant', 'expired authorization code');
    if (error instanceof joseErrors.JWSSignatureVerificationFailed)
      throw oauthError('invalid_grant', 'invalid assertion');
    throw oauthError('invalid_grant', `invalid assertion: ${(error as Error).message}`);
  }
  if (payload.iss !== app.clientId) throw oauthError('invalid_client_id', 'client identifier invalid');
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audiences.some((a) => typeof a === 'string' && ctx.oauth.audiences.includes(a.replace(/\/$/, '')))) {
    throw oauthError('invalid_grant', 'audience is invalid');
  }
  if (typeof payload.sub !== 'string' || payload.sub.toLowerCase() !== ctx.org.user.username.toLowerCase()) {
    throw oauthError('invalid_grant', "user hasn't approved this consumer");
  }
  return tokenReply(ctx);
}

function basicCredentials(header: string | undefined): [string, string] | undefined {
  const match = header ? /^Basic\s+(.+)$/i.exec(header) : null;
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0
    ? undefined
    : [decodeURIComponent(decoded.slice(0, colon)), decodeURIComponent(decoded.slice(colon + 1))];
}

/** POST /services/oauth2/token: JWT bearer, client credentials and refresh token grants. */
export const token: Handler = async (ctx, req) => {
  const params = new URLSearchParams((await req.body()).toString('utf8'));
  const grant = params.get('grant_type');
  if (grant === JWT_GRANT) return jwtBearer(ctx, params);
  if (grant === 'client_credentials') {
    const [clientId, secret] = basicCredentials(req.raw.headers.authorization) ?? [
      params.get('client_id') ?? '',
      params.get('client_secret') ?? '',
    ];
    const app = ctx.oauth.clientCredentials;
    if (!app || clientId !== app.clientId) throw oauthError('invalid_client_id', 'client identifier invalid');
    if (secret !== app.clientSecret) {
      throw oauthError('invalid_client', 'invalid client credentials');
    }
    return tokenReply(ctx);
  }
  if (grant === 'refresh_token') {
    const refresh = params.get('refresh_token') ?? '';
    if (!ctx.sessions.isRefreshToken(refresh))
      throw oauthError('invalid_grant', 'expired access/refresh token');
    return tokenReply(ctx);
  }
  throw oauthError('unsupported_grant_type', `grant type not supported: ${grant ?? '(none)'}`);
};

/** GET /services/oauth2/userinfo: the OpenID Connect view of the user. */
export const userinfo: Handler = async (ctx) => {
  const { org } = ctx;
  const [given, ...family] = org.user.name.split(' ');
  return {
    status: 200,
    body: {
      sub: identityUrl(ctx),
      user_id: org.user.id,
      organization_id: org.info.orgId,
      preferred_username: org.user.username,
      nickname: org.user.username.split('@')[0],
      name: org.user.name,
      email: org.user.email,
      email_verified: true,
      given_name: given ?? '',
      family_name: family.join(' '),
      zoneinfo: 'America/Los_Angeles',
      photos: {},
      profile: `${ctx.instanceUrl}/${org.user.id}`,
      picture: '',
      address: {},
      is_salesforce_integration_user: false,
      urls: identityUrls(ctx),
      active: true,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_US',
      utcOffset: -28800000,
      updated_at: org
        .now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
      is_app_installed: true,
    },
  };
};

function identityUrls(ctx: EmulatorContext): Record<string, string> {
  const v = ctx.versions[ctx.versions.length - 1]!;
  const base = ctx.instanceUrl;
  const orgId = ctx.org.info.orgId;
  return {
    enterprise: `${base}/services/Soap/c/${v}/${orgId}`,
    metadata: `${base}/services/Soap/m/${v}/${orgId}`,
    partner: `${base}/services/Soap/u/${v}/${orgId}`,
    rest: `${base}/services/data/v${v}/`,
    sobjects: `${base}/services/data/v${v}/sobjects/`,
    search: `${base}/services/data/v${v}/search/`,
    query: `${base}/services/data/v${v}/query/`,
    recent: `${base}/services/data/v${v}/recent/`,
    tooling_soap: `${base}/services/Soap/T/${v}/${orgId}`,
    tooling_rest: `${base}/services/data/v${v}/tooling/`,
    profile: `${base}/${ctx.org.user.id}`,
    custom_domain: base,
  };
}

/** GET /id/{orgId}/{userId}: the identity service. */
export const identity: Handler = async (ctx, req) => {
  const { org } = ctx;
  if (req.params[0] !== org.info.orgId || req.params[1] !== org.user.id) {
    throw new ApiError(404, 'NOT_FOUND', 'The requested identity does not exist in this org.');
  }
  return {
    status: 200,
    body: {
      id: identityUrl(ctx),
      asserted_user: true,
      user_id: org.user.id,
      organization_id: org.info.orgId,
      username: org.user.username,
      nick_name: org.user.username.split('@')[0],
      display_name: org.user.name,
      email: org.user.email,
      email_verified: true,
      first_name: org.user.name.split(' ')[0] ?? '',
      last_name: org.user.name.split(' ').slice(1).join(' '),
      timezone: 'America/Los_Angeles',
      photos: {},
      addr_street: null,
      addr_city: null,
      addr_state: null,
      addr_country: null,
      addr_zip: null,
      mobile_phone: null,
      mobile_phone_verified: false,
      is_lightning_login_user: false,
      status: { created_date: null, body: null },
      urls: identityUrls(ctx),
      active: true,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_US',
      utcOffset: -28800000,
      last_modified_date: org.now().toISOString().replace(/Z$/, '+0000'),
      is_app_installed: true,
    },
  };
};
