import { ErrorName } from '../../../contract/workflow-contract.ts';
import { importPKCS8, SignJWT } from 'jose';
import { z } from 'zod';
import { translateAuthError, translateNetworkError } from './errors.ts';

/** How the backup signs in: a token given by hand (the CLI), or a flow from the org's secret. */
export type SalesforceCredentials =
  | { readonly kind: 'access-token'; readonly instanceUrl: string; readonly accessToken: string }
  | {
      readonly kind: 'jwt-bearer';
      readonly loginUrl: string;
      readonly clientId: string;
      readonly username: string;
      readonly privateKey: string;
    }
  | {
      readonly kind: 'client-credentials';
      readonly loginUrl: string;
      readonly clientId: string;
      readonly clientSecret: string;
    };

/** A signed-in session. */
export interface SalesforceSession {
  readonly instanceUrl: string;
  readonly accessToken: string;
}

/** The JSON stored in the org's Secrets Manager secret. */
export const orgSecretSchema = z.union([
  z.object({
    flow: z.literal('jwt-bearer').default('jwt-bearer'),
    loginUrl: z.string().url().optional(),
    clientId: z.string().min(1),
    username: z.string().min(1),
    privateKey: z.string().includes('PRIVATE KEY'),
  }),
  z.object({
    flow: z.literal('client-credentials'),
    loginUrl: z.string().url().optional(),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
  }),
]);

/** The secret did not hold usable credentials. */
export class InvalidOrgSecretError extends Error {
  override readonly name = ErrorName.InvalidOrgSecret;
}

/**
 * Reads the secret's JSON into credentials, naming what is wrong without echoing secret values.
 * The login URL comes from the secret, else from the config (`defaultLoginUrl`).
 */
export function credentialsFromSecret(text: string, defaultLoginUrl?: string): SalesforceCredentials {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidOrgSecretError(
      'The org secret is not JSON. Store {"flow","loginUrl","clientId",...} as documented.',
    );
  }
  const parsed = orgSecretSchema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))];
    throw new InvalidOrgSecretError(
      `The org secret is missing or has bad fields: ${fields.join(', ')}. Use {"flow":"jwt-bearer","loginUrl","clientId","username","privateKey"} or {"flow":"client-credentials","loginUrl","clientId","clientSecret"}.`,
    );
  }
  const secret = parsed.data;
  const loginUrl = secret.loginUrl ?? defaultLoginUrl;
  if (!loginUrl) {
    throw new InvalidOrgSecretError('No login URL: put "loginUrl" in the org secret or the org config.');
  }
  return secret.flow === 'client-credentials'
    ? {
        kind: 'client-credentials',
        loginUrl,
        clientId: secret.clientId,
        clientSecret: secret.clientSecret,
      }
    : {
        kind: 'jwt-bearer',
        loginUrl,
        clientId: secret.clientId,
        username: secret.username,
        privateKey: secret.privateKey,
      };
}

/** Signs in with the credentials (a given token is used as it is). */
export async function authenticate(credentials: SalesforceCredentials): Promise<SalesforceSession> {
  if (credentials.kind === 'access-token') {
    return { instanceUrl: credentials.instanceUrl.replace(/\/+$/, ''), accessToken: credentials.accessToken };
  }
  const form = new URLSearchParams();
  if (credentials.kind === 'jwt-bearer') {
    const key = await importPKCS8(credentials.privateKey, 'RS256');
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(credentials.clientId)
      .setSubject(credentials.username)
      .setAudience(credentials.loginUrl.replace(/\/+$/, ''))
      .setExpirationTime('3m')
      .sign(key);
    form.set('grant_type', 'urn:ietf:params:oauth:grant-type:jwt-bearer');
    form.set('assertion', assertion);
  } else {
    form.set('grant_type', 'client_credentials');
    form.set('client_id', credentials.clientId);
    form.set('client_secret', credentials.clientSecret);
  }
  let response: Response;
  try {
    response = await fetch(`${credentials.loginUrl.replace(/\/+$/, '')}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
  } catch (error) {
    throw translateNetworkError(error, 'OAuth token request');
  }
  const text = await response.text();
  if (!response.ok) throw translateAuthError(response.status, text);
  const body = JSON.parse(text) as { access_token?: string; instance_url?: string };
  if (!body.access_token || !body.instance_url) {
    throw translateAuthError(
      response.status,
      '{"error":"invalid_response","error_description":"no access token"}',
    );
  }
  return { instanceUrl: body.instance_url.replace(/\/+$/, ''), accessToken: body.access_token };
}
