import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One measured figure. Names are stable from run to run so results can be compared. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}

/** A figure with the words that explain it in the Markdown table. */
export interface Row extends Figure {
  readonly section: string;
  readonly label: string;
  /** A target this figure is held against, e.g. ">= 0.8". */
  readonly target?: string;
  readonly met?: boolean;
}

/** Figure names: lower-case words joined by dots, so results can be compared by name across runs. */
const FIGURE_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;

/** Collects figures section by section and writes `latest.md` and `latest.json`. */
export class Report {
  private readonly rows: Row[] = [];
  private readonly notes: string[] = [];

  add(row: Row): void {
    if (!FIGURE_NAME.test(row.name)) {
      throw new Error(
        `Figure name "${row.name}" is not stable-looking: use lower-case dotted words such as "object.export.rows_per_s"`,
      );
    }
    if (!Number.isFinite(row.value))
      throw new Error(`Figure ${row.name} is not a finite number: ${row.value}`);
    if (this.rows.some((r) => r.name === row.name)) throw new Error(`Figure ${row.name} was measured twice`);
    this.rows.push(row);
  }

  /** Adds figures of one section: `add(name, label, value, unit, [target, met]?)`. */
  section(
    section: string,
  ): (name: string, label: string, value: number, unit: string, target?: [string, boolean]) => void {
    return (name, label, value, unit, target) =>
      this.add({
        section,
        name,
        label,
        value,
        unit,
        ...(target ? { target: target[0], met: target[1] } : {}),
      });
  }

  note(text: string): void {
    this.notes.push(text);
  }

  get figures(): readonly Row[] {
    return this.rows;
  }

  markdown(header: string): string {
    const sections = [...new Set(this.rows.map((r) => r.section))];
    const parts = [header, ''];
    for (const section of sections) {
      parts.push(`### ${section}`, '', '| figure | value | unit | target |', '|---|---:|---|---|');
      for (const r of this.rows.filter((x) => x.section === section)) {
        const target = r.target ? `${r.target} ${r.met ? '(met)' : '(missed)'}` : '';
        parts.push(`| ${r.label} | ${formatValue(r.value)} | ${r.unit} | ${target} |`);
      }
      parts.push('');
    }
    if (this.notes.length > 0) parts.push('Notes:', '', ...this.notes.map((n) => `- ${n}`), '');
    return parts.join('\n');
  }

  async write(dir: string, header: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const json = this.rows.map(({ name, value, unit }) => ({ name, value, unit }));
    await writeFile(join(dir, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
    await writeFile(join(dir, 'latest.md'), this.markdown(header));
  }
}

function formatValue(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}
