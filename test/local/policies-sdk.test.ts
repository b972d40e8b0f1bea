import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { EnvName } from '../../contract/workflow-contract.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { S3Store } from '../../lambdas/adapters/s3-store.ts';
import { ObjectNotFoundError } from '../../lambdas/core/store.ts';
import { AccessDeniedError, AppPolicies, runAsCaller } from '../../cli/local/policies.ts';
import { registerSecrets, withAwsStandIns } from '../../cli/local/stand-ins.ts';
import { type StackTemplate, TemplateResolver } from '../../cli/local/template.ts';

// GIVEN a role that may read and write under orgs/a/ of a bucket encrypted with a key whose
// policy trusts the account, and read one secret.
const stack: StackTemplate = {
  stackName: 'App',
  template: {
    Resources: {
      Key: {
        Type: 'AWS::KMS::Key',
        Properties: {
          KeyPolicy: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: 'arn:aws:iam::000000000000:root' },
                Action: 'kms:*',
                Resource: '*',
              },
            ],
          },
        },
      },
      Vault: {
        Type: 'AWS::S3::Bucket',
        Properties: {
          BucketName: 'vault',
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              {
                ServerSideEncryptionByDefault: {
                  SSEAlgorithm: 'aws:kms',
                  KMSMasterKeyID: { 'Fn::GetAtt': ['Key', 'Arn'] },
                },
              },
            ],
          },
        },
      },
      Secret: { Type: 'AWS::SecretsManager::Secret' },
      Role: { Type: 'AWS::IAM::Role' },
      RolePolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'Role' }],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: ['s3:GetObject', 's3:PutObject'],
                Resource: 'arn:aws:s3:::vault/orgs/a/*',
              },
              {
                Effect: 'Allow',
                Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
                Resource: { 'Fn::GetAtt': ['Key', 'Arn'] },
              },
              { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: 'Secret' } },
            ],
          },
        },
      },
    },
  },
};

function setup() {
  const resolver = new TemplateResolver([stack], 'us-east-1');
  const policies = new AppPolicies([stack], resolver, 'us-east-1');
  const principal = String(resolver.resolve({ 'Fn::GetAtt': ['Role', 'Arn'] }, stack));
  const keyArn = String(resolver.resolve({ 'Fn::GetAtt': ['Key', 'Arn'] }, stack));
  const secretArn = String(resolver.resolve({ Ref: 'Secret' }, stack));
  // Nothing listens here: a request the policies let through fails to connect instead.
  const store = new S3Store({
    bucket: 'vault',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    kmsKeyId: keyArn,
  });
  return { policies, principal, keyArn, secretArn, store };
}

describe("a handler's SDK calls in a policy-enforced run", () => {
  it('refuses an S3 read outside the grant before it is sent, naming role, action and object', async () => {
    const { policies, principal, store } = setup();
    const error = await withAwsStandIns(() =>
      runAsCaller({ principal, session: 'App-Fn', policies }, () => store.get('orgs/b/manifest.json')),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as Error).name).toBe('AccessDenied');
    expect((error as Error).message).toBe(
      'User: arn:aws:sts::000000000000:assumed-role/App-Role/App-Fn is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::vault/orgs/b/manifest.json because no identity-based policy allows the s3:GetObject action',
    );
  });

  it('lets a granted read through to S3, and checks nothing outside an invocation', async () => {
    const { policies, principal, store } = setup();
    const inside = await withAwsStandIns(() =>
      runAsCaller({ principal, session: 'App-Fn', policies }, () => store.get('orgs/a/manifest.json')),
    ).catch((e: unknown) => e);
    expect(inside).not.toBeInstanceOf(AccessDeniedError);
    const outside = await withAwsStandIns(() => store.get('orgs/b/manifest.json')).catch((e: unknown) => e);
    expect(outside).not.toBeInstanceOf(AccessDeniedError);
  });

  it("refuses an SSE-KMS write the role may make when it may not use the key's data key", async () => {
    const { principal, keyArn, store } = setup();
    const withoutKey = structuredClone(stack);
    const document = withoutKey.template.Resources?.RolePolicy?.Properties?.PolicyDocument as {
      Statement: unknown[];
    };
    document.Statement.splice(1, 1);
    const policies = new AppPolicies(
      [withoutKey],
      new TemplateResolver([withoutKey], 'us-east-1'),
      'us-east-1',
    );
    const error = await withAwsStandIns(() =>
      runAsCaller({ principal, session: 'App-Fn', policies }, () =>
        store.putPointer('orgs/a/latest-complete.json', '{}'),
      ),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as Error).message).toContain(`kms:GenerateDataKey on resource: ${keyArn}`);
  });

  it('refuses the key to a role whose identity policy allows it when the key policy trusts neither the account nor the role', async () => {
    const { principal, keyArn, store } = setup();
    const narrowKey = structuredClone(stack);
    const keyPolicy = narrowKey.template.Resources?.Key?.Properties?.KeyPolicy as {
      Statement: { Principal: unknown }[];
    };
    for (const statement of keyPolicy.Statement) {
      statement.Principal = { AWS: 'arn:aws:iam::000000000000:role/KeyAdmin' };
    }
    const policies = new AppPolicies(
      [narrowKey],
      new TemplateResolver([narrowKey], 'us-east-1'),
      'us-east-1',
    );
    const error = await withAwsStandIns(() =>
      runAsCaller({ principal, session: 'App-Fn', policies }, () => store.get('orgs/a/manifest.json')),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as Error).message).toContain(
      `kms:Decrypt on resource: ${keyArn} because the key policy does not allow the kms:Decrypt action`,
    );
  });

  it('refuses a secret under a customer key when the role may read the secret but not decrypt with its key', async () => {
    const encrypted = structuredClone(stack);
    const resources = encrypted.template.Resources ?? {};
    resources.SecretKey = {
      Type: 'AWS::KMS::Key',
      Properties: { KeyPolicy: resources.Key?.Properties?.KeyPolicy },
    };
    resources.Secret = {
      Type: 'AWS::SecretsManager::Secret',
      Properties: { KmsKeyId: { 'Fn::GetAtt': ['SecretKey', 'Arn'] } },
    };
    const resolver = new TemplateResolver([encrypted], 'us-east-1');
    const policies = new AppPolicies([encrypted], resolver, 'us-east-1');
    const principal = String(resolver.resolve({ 'Fn::GetAtt': ['Role', 'Arn'] }, encrypted));
    const secretArn = String(resolver.resolve({ Ref: 'Secret' }, encrypted));
    const secretKey = String(resolver.resolve({ 'Fn::GetAtt': ['SecretKey', 'Arn'] }, encrypted));
    registerSecrets(policies, new Map([[secretArn, '{}']]));
    const client = new SecretsManagerClient({ region: 'us-east-1' });
    await expect(
      withAwsStandIns(() =>
        runAsCaller({ principal, session: 'App-Fn', policies }, () =>
          client.send(new GetSecretValueCommand({ SecretId: secretArn })),
        ),
      ),
    ).rejects.toThrow(
      `is not authorized to perform: kms:Decrypt on resource: ${secretKey} because no identity-based policy allows the kms:Decrypt action`,
    );
  });

  it('answers GetSecretValue from the run after the check, and refuses a secret the role may not read', async () => {
    const { policies, principal, secretArn } = setup();
    registerSecrets(policies, new Map([[secretArn, '{"flow":"client-credentials"}']]));
    const client = new SecretsManagerClient({ region: 'us-east-1' });
    const read = (secretId: string) =>
      withAwsStandIns(() =>
        runAsCaller({ principal, session: 'App-Fn', policies }, () =>
          client.send(new GetSecretValueCommand({ SecretId: secretId })),
        ),
      );
    expect((await read(secretArn)).SecretString).toBe('{"flow":"client-credentials"}');
    await expect(read('arn:aws:secretsmanager:us-east-1:000000000000:secret:other')).rejects.toThrow(
      /is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:other-000000/,
    );
  });
});

describe('a read of a key that does not exist, in a policy-enforced run', () => {
  /** The example role, and the same role also allowed to list orgs/a/. */
  function roles() {
    const listing = structuredClone(stack);
    const document = listing.template.Resources?.RolePolicy?.Properties?.PolicyDocument as {
      Statement: unknown[];
    };
    document.Statement.push({
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: 'arn:aws:s3:::vault',
      Condition: { StringLike: { 's3:prefix': 'orgs/a/*' } },
    });
    const { principal } = setup();
    const policiesOf = (s: StackTemplate) =>
      new AppPolicies([s], new TemplateResolver([s], 'us-east-1'), 'us-east-1');
    return { principal, reader: policiesOf(stack), lister: policiesOf(listing) };
  }

  /** An S3 endpoint that knows no key: NoSuchKey to a GET, a bare 404 to a HEAD. */
  async function emptyBucket(): Promise<{ endpoint: string; close: () => Promise<void> }> {
    const server = createServer((request, response) => {
      response.writeHead(404, { 'content-type': 'application/xml' });
      response.end(
        request.method === 'HEAD'
          ? undefined
          : '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      endpoint: `http://127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  it('is refused through the SDK, as S3 does, to a role that may read the key but not list it, and answered not found to one that may', async () => {
    const { principal, reader, lister } = roles();
    const bucket = await emptyBucket();
    try {
      const store = new S3Store({
        bucket: 'vault',
        endpoint: bucket.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      const as = <T>(policies: AppPolicies, body: () => Promise<T>) =>
        withAwsStandIns(() => runAsCaller({ principal, session: 'App-Fn', policies }, body));
      const refusal =
        'is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::vault because no identity-based policy allows the s3:ListBucket action';
      await expect(as(reader, () => store.head('orgs/a/missing.json'))).rejects.toThrow(refusal);
      await expect(as(reader, () => store.get('orgs/a/missing.json'))).rejects.toThrow(refusal);
      expect(await as(lister, () => store.head('orgs/a/missing.json'))).toBeUndefined();
      await expect(as(lister, () => store.get('orgs/a/missing.json'))).rejects.toBeInstanceOf(
        ObjectNotFoundError,
      );
    } finally {
      await bucket.close();
    }
  });

  it("is refused in the directory store that stands in for the vault, a new write's check included", async () => {
    const { principal, reader, lister } = roles();
    const root = await mkdtemp(join(tmpdir(), 'missing-key-'));
    const bucketBefore = process.env[EnvName.VaultBucket];
    process.env[EnvName.VaultBucket] = 'vault';
    try {
      const store = new LocalDirectoryStore(root);
      const as = <T>(policies: AppPolicies, body: () => Promise<T>) =>
        withAwsStandIns(() => runAsCaller({ principal, session: 'App-Fn', policies }, body));
      for (const read of [
        (): Promise<unknown> => store.head('orgs/a/missing.json'),
        () => store.get('orgs/a/missing.json'),
        () => store.put('orgs/a/new.json', '{}'),
      ]) {
        await expect(as(reader, read)).rejects.toThrow('s3:ListBucket on resource: arn:aws:s3:::vault');
      }
      expect(await store.head('orgs/a/new.json')).toBeUndefined();
      expect(await as(lister, () => store.head('orgs/a/missing.json'))).toBeUndefined();
      await expect(as(lister, () => store.get('orgs/a/missing.json'))).rejects.toBeInstanceOf(
        ObjectNotFoundError,
      );
      await as(lister, () => store.put('orgs/a/new.json', '{}'));
      // A key that exists is read with s3:GetObject alone.
      const read = await as(reader, () => store.get('orgs/a/new.json'));
      expect(new TextDecoder().decode(read)).toBe('{}');
    } finally {
      if (bucketBefore === undefined) delete process.env[EnvName.VaultBucket];
      else process.env[EnvName.VaultBucket] = bucketBefore;
      await rm(root, { recursive: true, force: true });
    }
  });
});
