/** The `sfbackup` command line: one sub-command per local face of the product. */

type Command = (args: string[]) => Promise<number>;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  emulator: {
    summary: 'run the local Salesforce org emulator',
    load: async () => (await import('./commands/emulator.ts')).run,
  },
  backup: {
    summary: 'back up an org with the synthesized backup workflow',
    load: async () => (await import('./commands/backup.ts')).run,
  },
  restore: {
    summary: 'restore from a snapshot with the synthesized restore workflow',
    load: async () => (await import('./commands/restore.ts')).run,
  },
  coverage: {
    summary: "print an org's coverage from its latest snapshot: objects exported, skipped and why",
    load: async () => (await import('./commands/coverage.ts')).run,
  },
  snapshots: {
    summary: "list an org's snapshots, newest first, and which one is latest",
    load: async () => (await import('./commands/snapshots.ts')).run,
  },
  diff: {
    summary: 'compare two snapshots: rows inserted, deleted, changed (which fields), metadata',
    load: async () => (await import('./commands/diff.ts')).run,
  },
  history: {
    summary: 'every version of one record across the snapshots (and the journal)',
    load: async () => (await import('./commands/history.ts')).run,
  },
  plan: {
    summary: 'write a restore input from a diff or a record history (a dry run by default)',
    load: async () => (await import('./commands/plan.ts')).run,
  },
  continuous: {
    summary: "check an org's continuous protection: its Event Relay, channel objects and journal",
    load: async () => (await import('./commands/continuous.ts')).run,
  },
  ui: {
    summary: 'browse the vault in a web page: snapshots, records, history, diffs, restore inputs',
    load: async () => (await import('./commands/ui.ts')).run,
  },
  erase: {
    summary:
      'erase a person from every backup of an org with the synthesized erase workflow (a dry run by default)',
    load: async () => (await import('./commands/erase.ts')).run,
  },
  'erase-replica': {
    summary: "remove from the vault's replica the versions the org's erasures removed (a dry run by default)",
    load: async () => (await import('./commands/erase-replica.ts')).run,
  },
  demo: {
    summary: 'back up a sample org, cause a disaster, restore it and verify',
    load: async () => (await import('./commands/demo.ts')).run,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)} ${c.summary}`);
  return `Usage: sfbackup <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "sfbackup <command> --help" for a command's options.\n`;
}

/** Runs the CLI with the given arguments and resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`sfbackup: unknown command "${name}".\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load())(rest);
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    process.stderr.write(`sfbackup ${name}: ${message}\n`);
    // A script that asked for JSON gets the failure as JSON too, as the one object it reads.
    if (rest.includes('--json')) {
      const failure =
        error instanceof Error ? { error: error.name, message: error.message } : { error: 'Error', message };
      process.stdout.write(`${JSON.stringify(failure)}\n`);
    }
    return 1;
  }
}
