import { GetObjectRetentionCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3Store } from '../../lambdas/adapters/s3-store.ts';

type Answer = Record<string, unknown> | S3ServiceException;

const refusal = (name: string, status: number, message: string) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });

/** A store whose client answers each lock request as S3 would, without a network. */
function storeAnswering(retention: Answer, legalHold: Answer): S3Store {
  const client = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  client.middlewareStack.add(
    (_next, context) => async () => {
      const answer = context.commandName === GetObjectRetentionCommand.name ? retention : legalHold;
      if (answer instanceof S3ServiceException) throw answer;
      return { output: { $metadata: {}, ...answer }, response: {} };
    },
    { step: 'initialize', name: 'answerLockRequests' },
  );
  return new S3Store({ bucket: 'vault', client });
}

describe("the S3 store's reading of a version's Object Lock", () => {
  it('reports the retention and the legal hold S3 answers', async () => {
    const until = new Date('2027-01-01T00:00:00Z');
    const store = storeAnswering(
      { Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until } },
      { LegalHold: { Status: 'ON' } },
    );
    expect(await store.versionLock('orgs/a/x.json', 'v1')).toEqual({
      mode: 'GOVERNANCE',
      retainUntil: until,
      legalHold: true,
    });
  });

  it.each([
    ['no retention or hold on the version', refusal('NoSuchObjectLockConfiguration', 404, 'none')],
    ['the version gone', refusal('NoSuchVersion', 404, 'The specified version does not exist.')],
    [
      'a bucket without Object Lock',
      refusal('InvalidRequest', 400, 'Bucket is missing Object Lock Configuration'),
    ],
  ])('takes %s for no lock', async (_what, answer) => {
    expect(await storeAnswering(answer, answer).versionLock('orgs/a/x.json', 'v1')).toEqual({
      legalHold: false,
    });
  });

  it.each([
    ['a refusal of the retention', refusal('AccessDenied', 403, 'Access Denied'), {}],
    ['a refusal of the legal hold', {}, refusal('AccessDenied', 403, 'Access Denied')],
    ['another bad request', refusal('InvalidRequest', 400, 'Invalid version id specified'), {}],
  ])('never takes %s for no lock', async (_what, retention, legalHold) => {
    await expect(storeAnswering(retention, legalHold).versionLock('orgs/a/x.json', 'v1')).rejects.toThrow(
      S3ServiceException,
    );
  });
});
