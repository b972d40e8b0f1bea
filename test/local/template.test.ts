import { describe, expect, it } from 'vitest';
import { type StackTemplate, TemplateResolver, UnresolvableTokenError } from '../../cli/local/template.ts';

const data: StackTemplate = {
  stackName: 'Data',
  template: {
    Resources: {
      Named: {
        Type: 'AWS::S3::Bucket',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
        Properties: { BucketName: { 'Fn::Sub': 'vault-${AWS::AccountId}' } },
      },
      Unnamed: { Type: 'AWS::S3::Bucket' },
    },
    Outputs: { Export: { Value: { Ref: 'Unnamed' }, Export: { Name: 'Data:Unnamed' } } },
  },
};
const flow: StackTemplate = {
  stackName: 'Flow',
  template: {
    Parameters: { Stage: { Default: 'prod' }, Required: {} },
    Resources: {
      Fn: { Type: 'AWS::Lambda::Function' },
      Topic: { Type: 'AWS::SNS::Topic' },
      Secret: { Type: 'AWS::SecretsManager::Secret' },
    },
  },
};

describe('resolving template tokens to local names', () => {
  const resolver = new TemplateResolver([data, flow], 'eu-west-1', {});

  it('names functions, topics and buckets so that a lookup finds the resource again', () => {
    const arn = resolver.resolve({ 'Fn::GetAtt': ['Fn', 'Arn'] }, flow);
    expect(arn).toBe('arn:aws:lambda:eu-west-1:000000000000:function:Flow-Fn');
    expect(resolver.lookup(String(arn))).toMatchObject({
      kind: 'function',
      logicalId: 'Fn',
      stackName: 'Flow',
    });
    const topic = resolver.resolve({ Ref: 'Topic' }, flow);
    expect(resolver.lookup(String(topic))?.kind).toBe('topic');
    const imported = resolver.resolve({ 'Fn::ImportValue': 'Data:Unnamed' }, flow);
    expect(imported).toBe('data-unnamed');
    expect(resolver.lookup('data-unnamed')).toMatchObject({ kind: 'bucket', stackName: 'Data' });
  });

  it('keeps a bucket name the template declares, and evaluates Sub, Join, Select, Split and parameter defaults', () => {
    expect(resolver.resolve({ Ref: 'Named' }, data)).toBe('vault-000000000000');
    expect(
      resolver.resolve(
        {
          'Fn::Join': [
            '/',
            [
              // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
              { 'Fn::Sub': ['${Name}-${Stage}', { Name: 'backup' }] },
              { 'Fn::Select': [1, { 'Fn::Split': [':', 'a:b:c'] }] },
              { Ref: 'AWS::Region' },
            ],
          ],
        },
        flow,
      ),
    ).toBe('backup-prod/b/eu-west-1');
  });

  it('says what cannot be resolved and how to make it resolvable', () => {
    expect(() => resolver.resolve({ 'Fn::ImportValue': 'Other:Thing' }, flow)).toThrow(
      /No stack of the app exports "Other:Thing"; build every stack/,
    );
    expect(() => resolver.resolve({ Ref: 'Required' }, flow)).toThrow(UnresolvableTokenError);
    expect(() => resolver.resolve({ Ref: 'Missing' }, flow)).toThrow(
      /Stack Flow has no resource or parameter "Missing"/,
    );
  });
});
