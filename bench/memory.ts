/**
 * Benchmark "memory": the export's peak memory at 1x and 4x the object's rows, each export in a
 * process of its own (the emulator in another), read from resourceUsage().maxRSS.
 */
import { type ChildMeasure, measureInChild, startOneObjectOrg } from './object-export.ts';
import type { BenchOptions } from './options.ts';
import type { Report } from './report.ts';

const MB = 1024 * 1024;

async function exportOf(rows: number, pageSize: number): Promise<ChildMeasure> {
  const emu = await startOneObjectOrg(rows, pageSize);
  try {
    return await measureInChild('export', emu, pageSize);
  } finally {
    await emu.stop();
  }
}

/** Runs benchmark "memory"; reuses the object benchmark's export when it was exactly 4x. */
export async function benchMemory(report: Report, o: BenchOptions, object?: ChildMeasure): Promise<void> {
  const section = 'Export memory';
  // Pages smaller than the 1x object, so both sizes stream several pages through one process.
  const pageSize = Math.min(o.pageSize, Math.max(1, Math.floor(o.memoryRows / 2)));
  const one = await exportOf(o.memoryRows, pageSize);
  const four =
    object && object.rows === 4 * o.memoryRows && pageSize === o.pageSize
      ? object
      : await exportOf(4 * o.memoryRows, pageSize);
  const add = report.section(section);
  add('memory.rows_1x', 'rows at 1x', one.rows, 'rows');
  add('memory.page_rows', 'rows per Bulk page', pageSize, 'rows');
  add('memory.rss_1x_mb', 'peak RSS at 1x', one.maxRssBytes / MB, 'MB');
  add('memory.rss_4x_mb', 'peak RSS at 4x', four.maxRssBytes / MB, 'MB');
  add('memory.heap_1x_mb', 'peak heap used at 1x (sampled)', one.heapPeakBytes / MB, 'MB');
  add('memory.heap_4x_mb', 'peak heap used at 4x (sampled)', four.heapPeakBytes / MB, 'MB');
  const ratio = four.maxRssBytes / one.maxRssBytes;
  add('memory.ratio.rss_4x_to_1x', 'peak RSS 4x / 1x', ratio, 'ratio', ['<= 1.1', ratio <= 1.1]);
}
