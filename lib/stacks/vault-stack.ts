import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { type AppConfig, retentionPolicyOf } from '../config.ts';
import { sweeperRoleNameOf } from '../retention-policy.ts';
import { eraseRoleArnOf } from '../erase-workflow.ts';
import { Vault } from '../vault.ts';
import { VaultReplication } from '../vault-replication.ts';
import { replicaNamesOf } from './vault-replica-stack.ts';

/** Props of VaultStack. */
export interface VaultStackProps extends StackProps {
  /** The validated app config. */
  readonly config: AppConfig;
}

/** Names of the CloudFormation exports through which other stacks reach the vault. */
export interface VaultExports {
  /** Export holding the backup bucket's ARN. */
  readonly bucketArn: string;
  /** Export holding the vault key's ARN. */
  readonly keyArn: string;
}

/** The export names of the vault stack called `stackName`; stable, so other stacks can import them. */
export function vaultExportsOf(stackName: string): VaultExports {
  return { bucketArn: `${stackName}-BucketArn`, keyArn: `${stackName}-KeyArn` };
}

/** The vault as other stacks see it. */
export interface VaultRefs {
  /** The bucket that holds the backups. */
  readonly bucket: s3.IBucket;
  /** The key that encrypts the backups. */
  readonly key: kms.IKey;
}

/**
 * Imports the vault into the stack of `scope` through the vault stack's exports, as `VaultKey`
 * and `VaultBucket`; grants on them change only the importing stack.
 */
export function importVault(scope: Construct, exports: VaultExports): VaultRefs {
  const key = kms.Key.fromKeyArn(scope, 'VaultKey', Fn.importValue(exports.keyArn));
  const bucket = s3.Bucket.fromBucketAttributes(scope, 'VaultBucket', {
    bucketArn: Fn.importValue(exports.bucketArn),
    encryptionKey: key,
  });
  return { bucket, key };
}

/**
 * The stateful half of the app: the vault's key and buckets, kept apart from everything that
 * changes often, with termination protection on.
 */
export class VaultStack extends Stack {
  /** The bucket that holds the backups. */
  readonly bucket: s3.IBucket;
  /** The key that encrypts the backups. */
  readonly key: kms.IKey;
  /** The bucket that receives the vault's server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  /** The export names other stacks import the bucket and key by. */
  readonly exports: VaultExports;

  constructor(scope: Construct, id: string, props: VaultStackProps) {
    super(scope, id, { ...props, terminationProtection: true });
    // The construct id is part of every logical id below; renaming it would replace the vault.
    const vault = new Vault(this, 'Vault', {
      retention: props.config.retention,
      breakGlassRoleArn: props.config.breakGlassRoleArn,
      deployRoleArn: props.config.deployRoleArn,
      orgNames: props.config.orgs.map((org) => org.name),
      sweepers: props.config.orgs.flatMap((org) => {
        const policy = retentionPolicyOf(props.config, org);
        return policy
          ? [{ orgName: org.name, roleName: sweeperRoleNameOf(props.config.stackPrefix, org.name), policy }]
          : [];
      }),
      // Named, not referenced: the org stacks that create these roles are deployed after this one.
      eraseRoles: props.config.orgs.map((org) => ({
        orgName: org.name,
        roleArn: eraseRoleArnOf(props.config.stackPrefix, org.name),
      })),
    });
    this.bucket = vault.bucket;
    this.key = vault.key;
    this.accessLogsBucket = vault.accessLogsBucket;
    const replication = props.config.replication;
    if (replication) {
      const replica = replicaNamesOf(props.config.stackPrefix, replication.region);
      new VaultReplication(this, 'Replication', {
        source: vault.bucket,
        sourceKey: vault.key,
        destinationBucketName: replica.bucketName,
        destinationRegion: replication.region,
        destinationKeyAlias: replica.keyAlias,
        replicationTimeControl: replication.replicationTimeControl,
      });
    }

    new CfnOutput(this, 'VaultBucketName', {
      value: vault.bucket.bucketName,
      description: 'S3 bucket holding the Salesforce backups',
    });
    // Named exports instead of automatic cross-stack references: the names stay the same across
    // refactors, and policies in other stacks render them the same in tests and in `cdk synth`.
    this.exports = vaultExportsOf(this.stackName);
    new CfnOutput(this, 'VaultKeyArn', {
      value: vault.key.keyArn,
      description: 'KMS key encrypting the backups',
      exportName: this.exports.keyArn,
    });
    new CfnOutput(this, 'VaultBucketArn', {
      value: vault.bucket.bucketArn,
      description: 'ARN of the S3 bucket holding the Salesforce backups',
      exportName: this.exports.bucketArn,
    });
    new CfnOutput(this, 'AccessLogsBucketName', {
      value: vault.accessLogsBucket.bucketName,
      description: 'S3 bucket receiving the vault bucket server access logs',
    });
  }
}
