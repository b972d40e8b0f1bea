/**
 * The resilience campaign on its own, with larger numbers than the test's:
 *   npm run campaign -- [--backups N] [--restores N] [--pairs N] [--max-fault-rate R]
 *                       [--rows N] [--alternate] [--metadata] [--seed N] [--quiet]
 * Every task of each workflow is killed both ways (stopped, crashed) before and after its work;
 * --alternate alternates them as the test does. Prints one line per run, then the table; exits 1 when any invariant was violated.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_CAMPAIGN, formatReport, runCampaign } from '../test/resilience/campaign.ts';

const USAGE =
  'Usage: npm run campaign -- [--backups N] [--restores N] [--pairs N] [--max-fault-rate R] [--rows N] [--alternate] [--metadata] [--seed N] [--quiet]';

const { values } = parseArgs({
  options: {
    backups: { type: 'string' },
    restores: { type: 'string' },
    pairs: { type: 'string' },
    'max-fault-rate': { type: 'string' },
    rows: { type: 'string' },
    seed: { type: 'string' },
    alternate: { type: 'boolean' },
    metadata: { type: 'boolean' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const problems: string[] = [];
function whole(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    problems.push(`--${name} is "${text}": write a whole number from ${min}`);
  return n;
}
const rate =
  values['max-fault-rate'] === undefined ? DEFAULT_CAMPAIGN.maxFaultRate : Number(values['max-fault-rate']);
if (!(rate >= 0 && rate <= 1))
  problems.push(`--max-fault-rate is "${values['max-fault-rate']}": write a number from 0 to 1`);
const rows = whole('rows', values.rows, 60, 12);
const options = {
  ...DEFAULT_CAMPAIGN,
  generate: DEFAULT_CAMPAIGN.generate.replace(/rows=\d+/, `rows=${rows}`),
  minBackups: whole('backups', values.backups, 200, 1),
  minRestores: whole('restores', values.restores, 60, 1),
  concurrentPairs: whole('pairs', values.pairs, 8, 0),
  maxFaultRate: rate,
  // Every task killed both ways, before and after its work, unless asked to alternate as the test does.
  crashEveryTask: !values.alternate,
  restoreKillsBothPhases: !values.alternate,
  metadata: values.metadata ?? false,
  seed: whole('seed', values.seed, DEFAULT_CAMPAIGN.seed, 0),
  ...(values.quiet ? {} : { log: (line: string) => process.stdout.write(`${line}\n`) }),
};
if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n${USAGE}\n`);
  process.exit(2);
}

const report = await runCampaign(options);
process.stdout.write(`\n${formatReport(report)}`);
for (const v of report.violations)
  process.stdout.write(`${v.invariant} in ${v.run}: ${v.problems.join('; ')}\n`);
process.exit(report.violations.length > 0 ? 1 : 0);
