import { Aws, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { type AppConfig, replicaBucketNameOf } from '../config.ts';
import { Vault } from '../vault.ts';

/** The names the vault stack gives its replication rule before the replica stack exists. */
export interface ReplicaNames {
  /** The replica stack's name. */
  readonly stackName: string;
  /** The replica bucket's name; holds the account as a token. */
  readonly bucketName: string;
  /** The alias of the replica's key. */
  readonly keyAlias: string;
}

/** The names of the replica of the vault of `stackPrefix`, in `region`. */
export function replicaNamesOf(stackPrefix: string, region: string): ReplicaNames {
  const stackName = `${stackPrefix}-VaultReplica`;
  return {
    stackName,
    bucketName: replicaBucketNameOf(stackPrefix, Aws.ACCOUNT_ID, region),
    // The alias Vault gives its key in a stack of this name.
    keyAlias: `alias/${stackName}-vault`,
  };
}

/** Props of VaultReplicaStack. */
export interface VaultReplicaStackProps extends StackProps {
  /** The validated app config; its `replication` names the region, as does `env.region` of these props. */
  readonly config: AppConfig;
}

/**
 * The second copy of the vault, in another region: a vault of its own (key, versioned and locked
 * bucket, access logs, the same denials), into which the vault bucket replicates.
 */
export class VaultReplicaStack extends Stack {
  /** The replica bucket. */
  readonly bucket: s3.IBucket;
  /** The key that encrypts the replicas. */
  readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: VaultReplicaStackProps) {
    super(scope, id, { ...props, terminationProtection: true });
    const replication = props.config.replication;
    if (!replication || replication.region !== props.env?.region) {
      throw new Error(
        `VaultReplicaStack ${id}: env.region is ${JSON.stringify(props.env?.region)} but config.replication.region is ${JSON.stringify(replication?.region)}; build the replica stack in the replication region.`,
      );
    }
    const names = replicaNamesOf(props.config.stackPrefix, replication.region);
    const vault = new Vault(this, 'Vault', {
      retention: props.config.retention,
      breakGlassRoleArn: props.config.breakGlassRoleArn,
      deployRoleArn: props.config.deployRoleArn,
      bucketName: names.bucketName,
      // Records the vault's lifecycle removes reach the copy, but a lifecycle's delete markers
      // are not replicated: the copy removes them by the same rules.
      orgNames: props.config.orgs.map((org) => org.name),
    });
    this.bucket = vault.bucket;
    this.key = vault.key;
    new CfnOutput(this, 'ReplicaBucketName', {
      value: vault.bucket.bucketName,
      description: 'S3 bucket holding the second copy of the Salesforce backups',
    });
    new CfnOutput(this, 'ReplicaKeyArn', {
      value: vault.key.keyArn,
      description: 'KMS key encrypting the second copy',
    });
  }
}
