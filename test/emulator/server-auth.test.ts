import { generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, importPKCS8 } from 'jose';
import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { API_VERSION, connect, failure, raw, start } from './server-support.ts';

const CLIENT_ID = '3MVG9test.consumer.key';

/** A key pair and a self-signed certificate made with the machine's openssl, as a connected app has. */
function certificatePair(): { key: string; certificate: string } {
  const dir = mkdtempSync(join(tmpdir(), 'jwt-cert-'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  writeFileSync(join(dir, 'key.pem'), key);
  execFileSync(
    'openssl',
    ['req', '-x509', '-key', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=app'],
    {
      cwd: dir,
      stdio: 'ignore',
    },
  );
  return { key, certificate: readFileSync(join(dir, 'cert.pem'), 'utf8') };
}

async function assertion(
  key: string,
  claims: { iss?: string; sub?: string; aud?: string; expiresIn?: string | number },
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(claims.iss ?? CLIENT_ID)
    .setSubject(claims.sub ?? 'admin@emulated.org')
    .setAudience(claims.aud ?? 'https://login.salesforce.com')
    .setExpirationTime(claims.expiresIn ?? '3m')
    .sign(await importPKCS8(key, 'RS256'));
}

describe('the emulator authenticates clients as Salesforce does', () => {
  let emulator: RunningEmulator;
  let app: { key: string; certificate: string };

  beforeAll(async () => {
    app = certificatePair();
    emulator = await start({
      jwt: { clientId: CLIENT_ID, certificate: app.certificate },
      clientCredentials: { clientId: 'cc-client', clientSecret: 'cc-secret' },
      password: 'secret-and-token',
    });
  });
  afterAll(async () => emulator.stop());

  function oauthConnection(): jsforce.Connection {
    return new jsforce.Connection({
      loginUrl: emulator.instanceUrl,
      version: API_VERSION,
      oauth2: { loginUrl: emulator.instanceUrl, clientId: CLIENT_ID },
    });
  }

  it('issues a working token for a JWT signed with the connected app certificate', async () => {
    const conn = oauthConnection();
    const user = await conn.authorize({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: await assertion(app.key, {}),
    });
    expect(user.organizationId).toBe(emulator.orgId);
    expect(conn.instanceUrl).toBe(emulator.instanceUrl);
    expect(conn.accessToken).toMatch(/^00D[A-Za-z0-9]{15}!/);
    const result = await conn.query('SELECT Id, Username FROM User');
    expect(result.records[0]?.Username).toBe('admin@emulated.org');
  });

  it('accepts the instance URL as the JWT audience', async () => {
    const conn = oauthConnection();
    await conn.authorize({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: await assertion(app.key, { aud: emulator.instanceUrl }),
    });
    expect(conn.accessToken).toBeTruthy();
  });

  it('refuses a JWT signed with another key as invalid_grant', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const error = await failure(
      oauthConnection().authorize({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: await assertion(other.toString(), {}),
      }),
    );
    expect(error.name).toBe('invalid_grant');
  });

  it('refuses an expired JWT, a wrong issuer, a wrong audience and an unknown user', async () => {
    const grant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
    const expired = await failure(
      oauthConnection().authorize({
        grant_type: grant,
        assertion: await assertion(app.key, { expiresIn: Math.floor(Date.now() / 1000) - 600 }),
      }),
    );
    expect(expired.name).toBe('invalid_grant');
    const issuer = await failure(
      oauthConnection().authorize({
        grant_type: grant,
        assertion: await assertion(app.key, { iss: 'someone-else' }),
      }),
    );
    expect(issuer.name).toBe('invalid_client_id');
    const audience = await failure(
      oauthConnection().authorize({
        grant_type: grant,
        assertion: await assertion(app.key, { aud: 'https://example.com' }),
      }),
    );
    expect(audience.message).toBe('audience is invalid');
    const user = await failure(
      oauthConnection().authorize({
        grant_type: grant,
        assertion: await assertion(app.key, { sub: 'nobody@x.org' }),
      }),
    );
    expect(user.name).toBe('invalid_grant');
  });

  it('issues tokens for the client credentials flow and refuses a wrong secret', async () => {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'cc-client',
      client_secret: 'cc-secret',
    });
    const ok = await raw(emulator, '/services/oauth2/token', {
      method: 'POST',
      token: null,
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(ok.status).toBe(200);
    const token = ok.json() as Record<string, string>;
    expect(token.instance_url).toBe(emulator.instanceUrl);
    expect(token.id).toBe(`${emulator.instanceUrl}/id/${emulator.orgId}/${emulator.org.user.id}`);
    expect((await raw(emulator, '/services/data/v62.0/limits', { token: token.access_token })).status).toBe(
      200,
    );

    body.set('client_secret', 'wrong');
    const bad = await raw(emulator, '/services/oauth2/token', {
      method: 'POST',
      token: null,
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ error: 'invalid_client', error_description: 'invalid client credentials' });
  });

  it('refreshes an expired session through the refresh token grant, as jsforce does on 401', async () => {
    const conn = new jsforce.Connection({
      instanceUrl: emulator.instanceUrl,
      accessToken: 'expired-token',
      refreshToken: emulator.refreshToken,
      version: API_VERSION,
      oauth2: { loginUrl: emulator.instanceUrl, clientId: CLIENT_ID },
    });
    let refreshed = '';
    conn.on('refresh', (token: string) => {
      refreshed = token;
    });
    const result = await conn.query('SELECT Id FROM Organization');
    expect(result.totalSize).toBe(1);
    expect(refreshed).toMatch(/^00D/);
    const bad = await raw(emulator, '/services/oauth2/token', {
      method: 'POST',
      token: null,
      body: 'grant_type=refresh_token&refresh_token=nope',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(bad.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('logs in with username and password through the SOAP partner API', async () => {
    const conn = new jsforce.Connection({ loginUrl: emulator.instanceUrl, version: API_VERSION });
    const user = await conn.loginBySoap(emulator.username, 'secret-and-token');
    expect(user).toMatchObject({ id: emulator.org.user.id, organizationId: emulator.orgId });
    expect(conn.instanceUrl).toBe(emulator.instanceUrl);
    expect((await conn.query('SELECT Id FROM Organization')).totalSize).toBe(1);
    const wrong = new jsforce.Connection({ loginUrl: emulator.instanceUrl, version: API_VERSION });
    const error = await failure(wrong.loginBySoap(emulator.username, 'nope'));
    expect(error.message).toMatch(/^INVALID_LOGIN: /);
  });

  it('refuses an unknown grant type', async () => {
    const response = await raw(emulator, '/services/oauth2/token', {
      method: 'POST',
      token: null,
      body: 'grant_type=password&username=a&password=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });

  it('answers userinfo and the identity URL for the org user', async () => {
    const conn = connect(emulator);
    const info = (await conn.request('/services/oauth2/userinfo')) as Record<string, unknown>;
    expect(info.user_id).toBe(emulator.org.user.id);
    expect(info.organization_id).toBe(emulator.orgId);
    expect(info.preferred_username).toBe(emulator.username);
    const identity = (await conn.request(
      `${emulator.instanceUrl}/id/${emulator.orgId}/${emulator.org.user.id}`,
    )) as Record<string, unknown>;
    expect(identity.username).toBe(emulator.username);
    expect((identity.urls as Record<string, string>).rest).toBe(
      `${emulator.instanceUrl}/services/data/v62.0/`,
    );
  });

  it('answers 401 INVALID_SESSION_ID without a valid token', async () => {
    const none = await raw(emulator, '/services/data/v62.0/sobjects', { token: null });
    expect(none.status).toBe(401);
    expect(none.json()).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    const conn = new jsforce.Connection({
      instanceUrl: emulator.instanceUrl,
      accessToken: 'bogus',
      version: API_VERSION,
    });
    const error = await failure(conn.query('SELECT Id FROM Account'));
    expect(error.name).toBe('INVALID_SESSION_ID');
  });

  it('lists versions and resources, collapsing double slashes in paths', async () => {
    const versions = (await raw(emulator, '//services/data', { token: null })).json() as {
      version: string;
      label: string;
    }[];
    expect(versions.at(-1)).toEqual({ label: "Winter '25", url: '/services/data/v62.0', version: '62.0' });
    expect(versions.map((v) => v.version)).toContain('51.0');
    const resources = (await raw(emulator, '/services/data//v62.0/')).json() as Record<string, string>;
    expect(resources.sobjects).toBe('/services/data/v62.0/sobjects');
    expect(resources.jobs).toBe('/services/data/v62.0/jobs');
    expect((await raw(emulator, '/services/data/v99.0/sobjects')).status).toBe(404);
    const missing = await raw(emulator, '/services/data/v62.0/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual([
      { message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' },
    ]);
  });
});

describe('the emulator counts every API request against the daily allowance', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await start({ dailyApiRequests: 5 });
  });
  afterAll(async () => emulator.stop());

  it('reports DailyApiRequests in /limits and refuses requests once it is spent', async () => {
    const conn = connect(emulator);
    const limits = (await conn.request('/services/data/v62.0/limits')) as Record<
      string,
      { Max: number; Remaining: number }
    >;
    expect(limits.DailyApiRequests).toEqual({ Max: 5, Remaining: 4 });
    expect(limits.DailyBulkV2QueryJobs?.Max).toBe(10000);
    expect(limits.DailyBulkV2QueryFileStorageMB?.Max).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) await conn.query('SELECT Id FROM Organization');
    expect(conn.limitInfo.apiUsage).toEqual({ used: 5, limit: 5 });
    const error = await failure(conn.query('SELECT Id FROM Organization'));
    expect(error.name).toBe('REQUEST_LIMIT_EXCEEDED');
    const refused = await raw(emulator, '/services/data/v62.0/limits');
    expect(refused.status).toBe(403);
    expect(refused.json()).toEqual([
      { message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' },
    ]);
    const counts = (await raw(emulator, '/__emulator/counts', { token: null })).json() as {
      apiRequests: { used: number };
      byEndpoint: Record<string, number>;
    };
    expect(counts.apiRequests.used).toBe(5);
    expect(counts.byEndpoint.query).toBe(5);
    await raw(emulator, '/__emulator/reset-counters', { method: 'POST', token: null });
    expect((await conn.query('SELECT Id FROM Organization')).totalSize).toBe(1);
    for (let i = 0; i < 4; i++) await conn.query('SELECT Id FROM Organization');
    expect((await failure(conn.query('SELECT Id FROM Organization'))).name).toBe('REQUEST_LIMIT_EXCEEDED');
    await raw(emulator, '/__emulator/settings', {
      method: 'POST',
      token: null,
      body: JSON.stringify({ clockOffsetMs: 24 * 60 * 60 * 1000 }),
    });
    expect((await conn.query('SELECT Id FROM Organization')).totalSize).toBe(1);
  });
});
