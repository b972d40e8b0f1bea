import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app.ts';
import { InvalidConfigError, parseConfig } from '../lib/config.ts';

// The only place that reads CDK context or files: everything below works on the typed config.
const app = new App();
const configFile = String(app.node.tryGetContext('configFile') ?? 'config/example.json');
const configPath = path.resolve(configFile);

let json: unknown;
try {
  json = JSON.parse(readFileSync(configPath, 'utf8'));
} catch (error) {
  const reason = error instanceof Error ? error.message : String(error);
  console.error(
    `Cannot read the config ${configFile} (${reason}). Pass a JSON file with "cdk synth -c configFile=path/to/config.json" (see docs/config.md).`,
  );
  process.exit(1);
}

try {
  buildApp(parseConfig(json, configFile), app);
} catch (error) {
  if (error instanceof InvalidConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
app.synth();
