/**
 * Benchmark "sweep": what a retention sweep holds of the newest backup's names while it plans
 * which file bodies to remove, as a set of keys and as its filter, each in a process of its own.
 */
import type { BenchOptions } from './options.ts';
import { runScriptJson } from './proc.ts';
import type { Report } from './report.ts';

interface Held {
  readonly names: number;
  readonly heldBytes: number;
  readonly addSeconds: number;
  readonly lookupSeconds: number;
  readonly wrong: number;
}

const MB = 1024 * 1024;

/** Runs benchmark "sweep". */
export async function benchSweep(report: Report, o: BenchOptions): Promise<void> {
  const keys = await runScriptJson<Held>('./sweep-child.ts', ['keys', String(o.sweepNames)]);
  const filter = await runScriptJson<Held>('./sweep-child.ts', ['filter', String(o.sweepNames)]);
  const none = await runScriptJson<Held>('./sweep-child.ts', ['none', String(o.sweepNames)]);
  const beyond = (h: Held) => h.addSeconds + h.lookupSeconds - (none.addSeconds + none.lookupSeconds);
  const add = report.section(
    `Sweep planning: ${o.sweepNames.toLocaleString('en-US')} names of the newest backup`,
  );
  add('sweep.keys_held_mb', 'held as keys (heap after collection)', keys.heldBytes / MB, 'MB');
  add('sweep.filter_held_mb', 'held in the filter (heap after collection)', filter.heldBytes / MB, 'MB');
  add('sweep.keys_bytes_per_name', 'bytes a name, as keys', keys.heldBytes / keys.names, 'bytes');
  add('sweep.filter_bytes_per_name', 'bytes a name, in the filter', filter.heldBytes / filter.names, 'bytes');
  add(
    'sweep.make_seconds',
    'make every name and body key alone (a SHA-256 each)',
    none.addSeconds + none.lookupSeconds,
    's',
  );
  add(
    'sweep.keys_seconds',
    'add every name and look up every body, as keys, beyond making them',
    beyond(keys),
    's',
  );
  add(
    'sweep.filter_seconds',
    'add every name and look up every body, in the filter, beyond making them',
    beyond(filter),
    's',
  );
  const wrongRate = filter.wrong / filter.names;
  add('sweep.filter_wrong_rate', 'unnamed bodies the filter takes for named (kept)', wrongRate, 'ratio', [
    '<= 0.001',
    wrongRate <= 0.001,
  ]);
  const ratio = filter.heldBytes / keys.heldBytes;
  add('sweep.ratio.filter_to_keys', 'memory held: filter / keys', ratio, 'ratio', ['<= 0.05', ratio <= 0.05]);
}
