import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type SalesforceCredentials, credentialsFromSecret } from './auth.ts';
import { DEFAULT_API_VERSION, HttpSalesforceSource } from './source.ts';

/** Where the credentials are not configured. */
export class MissingSalesforceCredentialsError extends Error {
  override readonly name = 'MissingSalesforceCredentialsError';
}

let secrets: SecretsManagerClient | undefined;

/**
 * Builds the org connection from the environment: `ORG_SECRET_ARN` (the deployed functions), or
 * `SFBACKUP_INSTANCE_URL` + `SFBACKUP_ACCESS_TOKEN` (the local CLI). Tokens never travel in workflow state.
 */
export async function salesforceSourceFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Promise<HttpSalesforceSource> {
  const apiVersion = env.SALESFORCE_API_VERSION || DEFAULT_API_VERSION;
  let credentials: SalesforceCredentials;
  if (env.SFBACKUP_INSTANCE_URL && env.SFBACKUP_ACCESS_TOKEN) {
    credentials = {
      kind: 'access-token',
      instanceUrl: env.SFBACKUP_INSTANCE_URL,
      accessToken: env.SFBACKUP_ACCESS_TOKEN,
    };
  } else if (env.ORG_SECRET_ARN) {
    secrets ??= new SecretsManagerClient({});
    const answer = await secrets.send(new GetSecretValueCommand({ SecretId: env.ORG_SECRET_ARN }));
    if (!answer.SecretString) {
      throw new MissingSalesforceCredentialsError(
        `The org secret ${env.ORG_SECRET_ARN} has no string value.`,
      );
    }
    credentials = credentialsFromSecret(answer.SecretString, env.SALESFORCE_LOGIN_URL);
  } else {
    throw new MissingSalesforceCredentialsError(
      'No Salesforce credentials: set ORG_SECRET_ARN, or SFBACKUP_INSTANCE_URL and SFBACKUP_ACCESS_TOKEN.',
    );
  }
  return new HttpSalesforceSource(credentials, apiVersion);
}
