import { ErrorName } from '../../../contract/workflow-contract.ts';
import { importPKCS8, SignJWT } from 'jose';
import { z } from 'zod';
import { OAuth2 } from 'jsforce/lib/oauth2.js';
import { translateAuthError, translateJsforceAuthError } from './errors.ts';
import { FetchTransport } from './transport.ts';

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

/** Signs in with the credentials through jsforce's OAuth2 token request (a given token is used as it is). */
export async function authenticate(credentials: SalesforceCredentials): Promise<SalesforceSession> {
  if (credentials.kind === 'access-token') {
    return { instanceUrl: credentials.instanceUrl.replace(/\/+$/, ''), accessToken: credentials.accessToken };
  }
  const loginUrl = credentials.loginUrl.replace(/\/+$/, '');
  const oauth2 =
    credentials.kind === 'jwt-bearer'
      ? new OAuth2({ loginUrl })
      : new OAuth2({ loginUrl, clientId: credentials.clientId, clientSecret: credentials.clientSecret });
  // Token requests are not API calls; the transport only records the status jsforce's error lacks.
  const transport = new FetchTransport();
  oauth2._transport = transport;
  // jsforce takes a JWT assertion but does not sign one.
  const params: { grant_type: string; [name: string]: string } =
    credentials.kind === 'jwt-bearer'
      ? {
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion: await new SignJWT({})
            .setProtectedHeader({ alg: 'RS256' })
            .setIssuer(credentials.clientId)
            .setSubject(credentials.username)
            .setAudience(loginUrl)
            .setExpirationTime('3m')
            .sign(await importPKCS8(credentials.privateKey, 'RS256')),
        }
      : { grant_type: 'client_credentials' };
  let token: { access_token?: string; instance_url?: string };
  try {
    token = await oauth2.requestToken(params);
  } catch (error) {
    throw translateJsforceAuthError(error, transport.status);
  }
  if (!token?.access_token || !token.instance_url) {
    throw translateAuthError(200, '{"error":"invalid_response","error_description":"no access token"}');
  }
  return { instanceUrl: token.instance_url.replace(/\/+$/, ''), accessToken: token.access_token };
}
