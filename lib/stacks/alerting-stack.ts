import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { Alerting } from '../alerting.ts';
import type { AppConfig } from '../config.ts';
import { logsKeyOf } from '../logs-key.ts';
import { TamperAlerts } from '../tamper-alerts.ts';
import { importVault, type VaultExports, type VaultRefs } from './vault-stack.ts';

/** Names of the CloudFormation exports through which the org stacks reach the shared alerting. */
export interface AlertingExports {
  /** Export holding the alert topic's ARN. */
  readonly topicArn: string;
  /** Export holding the ARN of the key that encrypts the alert topic. */
  readonly topicKeyArn: string;
  /** Export holding the ARN of the key that encrypts every org stack's log groups. */
  readonly logsKeyArn: string;
}

/** The export names of the alerting stack called `stackName`; stable, so org stacks can import them. */
export function alertingExportsOf(stackName: string): AlertingExports {
  return {
    topicArn: `${stackName}-TopicArn`,
    topicKeyArn: `${stackName}-TopicKeyArn`,
    logsKeyArn: `${stackName}-LogsKeyArn`,
  };
}

/** Props of AlertingStack. */
export interface AlertingStackProps extends StackProps {
  /** The validated app config. */
  readonly config: AppConfig;
  /** The exports of the vault stack, whose key and bucket the tamper alerts watch. */
  readonly vaultExports: VaultExports;
}

/**
 * What every org shares and nothing else: the alert topic with its key and subscriptions, the
 * alerts on attempts to get around the vault, and the key that encrypts the org stacks' log
 * groups. Adding or removing an org does not change this stack.
 */
export class AlertingStack extends Stack {
  /** The alert topic and its key; its dead-letter queue keeps the tamper alerts the topic refused. */
  readonly alerting: Alerting;
  /** The key that encrypts the log groups of every org stack. */
  readonly logsKey: kms.IKey;
  /** The vault as this stack imports it. */
  readonly vault: VaultRefs;
  /** The export names the org stacks import the topic and keys by. */
  readonly exports: AlertingExports;

  constructor(scope: Construct, id: string, props: AlertingStackProps) {
    super(scope, id, props);
    this.vault = importVault(this, props.vaultExports);
    this.alerting = new Alerting(this, 'Alerting', { emails: props.config.alertEmails });
    new TamperAlerts(this, 'TamperAlerts', { ...this.vault, alerting: this.alerting });
    // One logs key for the whole app rather than one per org stack: each key costs a monthly fee,
    // and its policy already admits only this account's log groups in this region (docs/deploy.md).
    this.logsKey = logsKeyOf(
      this,
      `Encrypts the log groups of the org stacks of ${props.config.stackPrefix}`,
    );

    this.exports = alertingExportsOf(this.stackName);
    new CfnOutput(this, 'AlertTopicArn', {
      value: this.alerting.topic.topicArn,
      description: 'SNS topic receiving backup and restore alerts',
      exportName: this.exports.topicArn,
    });
    new CfnOutput(this, 'AlertTopicKeyArn', {
      value: this.alerting.key.keyArn,
      description: 'KMS key encrypting the alert topic',
      exportName: this.exports.topicKeyArn,
    });
    new CfnOutput(this, 'LogsKeyArn', {
      value: this.logsKey.keyArn,
      description: 'KMS key encrypting the log groups of every org stack',
      exportName: this.exports.logsKeyArn,
    });
  }
}
