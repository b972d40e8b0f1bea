import { App, type Environment, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { AppConfig } from './config.ts';
import { AlertingStack } from './stacks/alerting-stack.ts';
import { OrgStack, orgStackNameOf } from './stacks/org-stack.ts';
import { VaultReplicaStack } from './stacks/vault-replica-stack.ts';
import { VaultStack } from './stacks/vault-stack.ts';

/** The stacks of one deployment. */
export interface BuiltApp {
  readonly app: App;
  readonly vaultStack: VaultStack;
  /** The alert topic, the tamper alerts and the logs key every org stack shares. */
  readonly alertingStack: AlertingStack;
  /** One stack per org of the config, in its order. */
  readonly orgStacks: readonly OrgStack[];
  /** The second copy of the vault in another region, when the config asks for one. */
  readonly replicaStack?: VaultReplicaStack;
}

/** Options of buildApp. */
export interface BuildAppOptions {
  /**
   * Register cdk-nag's AwsSolutions checks so that synthesis reports every unacknowledged finding.
   * @default true
   */
  readonly nag?: boolean;
}

/**
 * Builds the stacks for a validated config into `app` (a new App by default). Reads no files,
 * context or environment, so tests and the local runner can call it in-process.
 */
export function buildApp(config: AppConfig, app: App = new App(), options: BuildAppOptions = {}): BuiltApp {
  const env: Environment | undefined =
    config.env.account || config.env.region
      ? { account: config.env.account, region: config.env.region }
      : undefined;
  const vaultStack = new VaultStack(app, `${config.stackPrefix}-Vault`, {
    config,
    env,
    description: 'Salesforce backup vault: KMS key, versioned backup bucket and its access logs',
  });
  const alertingStack = new AlertingStack(app, `${config.stackPrefix}-Alerting`, {
    config,
    env,
    vaultExports: vaultStack.exports,
    description: 'Salesforce backup alerting: alert topic, vault tamper alerts and the log encryption key',
  });
  alertingStack.addStackDependency(vaultStack, 'the tamper alerts watch the vault key and bucket');
  const orgStacks = config.orgs.map((org) => {
    const stack = new OrgStack(app, orgStackNameOf(config.stackPrefix, org), {
      config,
      org,
      env,
      vaultExports: vaultStack.exports,
      alertingExports: alertingStack.exports,
      description: `Salesforce backup and restore workflows, schedules and alarms of org ${org.name}`,
    });
    stack.addStackDependency(vaultStack, 'the workflows read and write the vault');
    stack.addStackDependency(alertingStack, 'the workflows report to the alert topic and log with its key');
    return stack;
  });
  const replicaStack = config.replication
    ? new VaultReplicaStack(app, `${config.stackPrefix}-VaultReplica`, {
        config,
        env: { account: config.env.account, region: config.replication.region },
        description: 'Second copy of the Salesforce backup vault: its own KMS key, bucket and access logs',
      })
    : undefined;
  if (replicaStack) {
    vaultStack.addStackDependency(
      replicaStack,
      'the vault replicates into the replica bucket, which must exist first',
    );
  }
  Tags.of(app).add('app', 'salesforce-backup');
  for (const [key, value] of Object.entries(config.tags)) Tags.of(app).add(key, value);
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, vaultStack, alertingStack, orgStacks, ...(replicaStack ? { replicaStack } : {}) };
}
