import { Aws, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Props of VaultReplication. */
export interface VaultReplicationProps {
  /** The vault bucket whose versions are copied. */
  readonly source: s3.Bucket;
  /** The key that encrypts the vault bucket. */
  readonly sourceKey: kms.IKey;
  /** Name of the destination bucket, versioned and with Object Lock on. */
  readonly destinationBucketName: string;
  /** Region of the destination bucket and its key; another region than the source's. */
  readonly destinationRegion: string;
  /** Alias of the customer managed key that encrypts the destination, such as `alias/SfBackup-VaultReplica-vault`. */
  readonly destinationKeyAlias: string;
  /**
   * Replicate under S3 Replication Time Control: 99.99% of objects within 15 minutes, with
   * replication metrics; charged per GB.
   * @default false
   */
  readonly replicationTimeControl?: boolean;
}

/**
 * Copies every new version of the vault bucket to a bucket in another region, re-encrypted there
 * with that region's own key, and every delete marker: an object a retention sweep removes in the
 * vault is removed in the copy too, its versions noncurrent there until the copy's own lifecycle
 * expires them, as in the vault. Deleting a version is never replicated by S3 (an erasure's
 * removals are carried by `sfbackup erase-replica`).
 */
export class VaultReplication extends Construct {
  /** The role S3 replicates as. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: VaultReplicationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (props.destinationRegion === stack.region) {
      throw new Error(
        `VaultReplication ${id}: destinationRegion is "${props.destinationRegion}", the vault's own region; name another region for the second copy.`,
      );
    }
    const destinationArn = `arn:${Aws.PARTITION}:s3:::${props.destinationBucketName}`;
    const destinationKeyAliasArn = `arn:${Aws.PARTITION}:kms:${props.destinationRegion}:${Aws.ACCOUNT_ID}:${props.destinationKeyAlias}`;
    const source = props.source;

    this.role = new iam.Role(this, 'Role', {
      description: 'Replicates the vault bucket to its second copy in another region',
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    // A policy of its own, not inline: the bucket names the role and the policy names the bucket.
    const policy = new iam.Policy(this, 'Policy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadReplicationConfiguration',
          actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
          resources: [source.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadSourceVersions',
          actions: [
            's3:GetObjectVersionForReplication',
            's3:GetObjectVersionAcl',
            's3:GetObjectVersionTagging',
            's3:GetObjectRetention',
            's3:GetObjectLegalHold',
          ],
          resources: [source.arnForObjects('*')],
        }),
        // s3:ReplicateDelete writes delete markers only; no replication removes a version.
        new iam.PolicyStatement({
          sid: 'WriteReplicas',
          actions: ['s3:ReplicateObject', 's3:ReplicateTags', 's3:ReplicateDelete'],
          resources: [`${destinationArn}/*`],
        }),
        new iam.PolicyStatement({
          sid: 'DecryptSourceThroughS3',
          actions: ['kms:Decrypt'],
          resources: [props.sourceKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` },
            StringLike: {
              'kms:EncryptionContext:aws:s3:arn': [source.bucketArn, source.arnForObjects('*')],
            },
          },
        }),
        // The destination key is named by its alias: the vault stack cannot know its id.
        new iam.PolicyStatement({
          sid: 'EncryptReplicasThroughS3',
          actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [`arn:${Aws.PARTITION}:kms:${props.destinationRegion}:${Aws.ACCOUNT_ID}:key/*`],
          conditions: {
            'ForAnyValue:StringEquals': { 'kms:ResourceAliases': [props.destinationKeyAlias] },
            StringEquals: { 'kms:ViaService': `s3.${props.destinationRegion}.amazonaws.com` },
            StringLike: { 'kms:EncryptionContext:aws:s3:arn': [destinationArn, `${destinationArn}/*`] },
          },
        }),
      ],
    });

    const nag = (arn: string) => nagTextOf(stack, arn);
    for (const [resource, reason] of [
      [
        source.arnForObjects('*'),
        'replication reads every version of every object in the vault bucket, since the whole bucket is what is copied',
      ],
      [
        `${destinationArn}/*`,
        'replication writes every replicated version into the replica bucket, named by ARN since it lives in another region',
      ],
      [
        `arn:${Aws.PARTITION}:kms:${props.destinationRegion}:${Aws.ACCOUNT_ID}:key/*`,
        'the replica key is known by its alias only, so the statement names every key of the region and its condition kms:ResourceAliases keeps it to the replica key',
      ],
    ] as const) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nag(resource)}]`,
        reason: `${this.node.path}: ${reason}.`,
      });
    }
    const rtc = props.replicationTimeControl ?? false;
    (source.node.defaultChild as s3.CfnBucket).replicationConfiguration = {
      role: this.role.roleArn,
      rules: [
        {
          id: 'second-copy',
          status: 'Enabled',
          priority: 1,
          filter: { prefix: '' },
          deleteMarkerReplication: { status: 'Enabled' },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
          destination: {
            bucket: destinationArn,
            encryptionConfiguration: { replicaKmsKeyId: destinationKeyAliasArn },
            ...(rtc
              ? {
                  replicationTime: { status: 'Enabled', time: { minutes: 15 } },
                  metrics: { status: 'Enabled', eventThreshold: { minutes: 15 } },
                }
              : {}),
          },
        },
      ],
    };
  }
}

/** How cdk-nag writes a resource in a finding id: `<LogicalId.Arn>` and `<AWS::Pseudo>` for tokens. */
function nagTextOf(stack: Stack, value: string): string {
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const token = part as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, unknown[]] };
    if (token.Ref) return `<${token.Ref}>`;
    if (token['Fn::GetAtt']) return `<${token['Fn::GetAtt'][0]}.${token['Fn::GetAtt'][1]}>`;
    if (token['Fn::Join']) return token['Fn::Join'][1].map(render).join(token['Fn::Join'][0]);
    return JSON.stringify(part);
  };
  return render(stack.resolve(value));
}
