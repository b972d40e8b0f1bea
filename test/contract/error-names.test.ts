import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorName } from '../../contract/workflow-contract.ts';

const LAMBDAS = fileURLToPath(new URL('../../lambdas/', import.meta.url));

/** Arguments for the error classes whose constructors take more than a message. */
const ARGUMENTS: Readonly<Record<string, readonly unknown[]>> = {
  InvalidRestoreRequestError: [[{ field: 'mode', problem: 'unknown.', fix: 'write "dry-run".' }]],
  UnknownSnapshotError: ['latest', 'the vault holds no snapshot'],
  OrgMismatchError: ['00D000000000001AAA', '00D000000000002AAA'],
  RestoreVerificationError: [1, 'restores/x/report.json'],
  MetadataDeployError: [true, [{ component: 'CustomField:A__c.B__c', problem: 'missing' }]],
  MetadataVerificationError: [['CustomField:A__c.B__c differs']],
  InvalidStoreKeyError: ['/x', 'keys are relative'],
  InvalidEraseRequestError: [[{ field: 'mode', problem: 'unknown.', fix: 'write "dry-run".' }]],
};

type ErrorClass = new (...args: unknown[]) => Error;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** Every exported class of lambdas/ that extends Error, with the module that exports it. */
async function exportedErrorClasses(): Promise<Map<ErrorClass, string>> {
  const classes = new Map<ErrorClass, string>();
  for (const file of await sourceFiles(LAMBDAS)) {
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      if (
        typeof value === 'function' &&
        value.prototype instanceof Error &&
        !classes.has(value as ErrorClass)
      ) {
        classes.set(value as ErrorClass, path.relative(LAMBDAS, file));
      }
    }
  }
  return classes;
}

function construct(errorClass: ErrorClass): Error {
  return new errorClass(...(ARGUMENTS[errorClass.name] ?? ['a message']));
}

describe('the contract names every error the runtime throws', () => {
  it('gives every exported error class of lambdas/ a name from ErrorName, and no name to two classes', async () => {
    // GIVEN every exported error class
    const classes = await exportedErrorClasses();
    const known = new Set<string>(Object.values(ErrorName));
    // WHEN each is constructed
    const owners = new Map<string, string[]>();
    for (const [errorClass, file] of classes) {
      const name = construct(errorClass).name;
      owners.set(name, [...(owners.get(name) ?? []), `${errorClass.name} (${file})`]);
    }
    // THEN its name is in the contract and belongs to it alone
    const unknown = [...owners].filter(([name]) => !known.has(name)).map(([name, by]) => `${name}: ${by}`);
    const shared = [...owners]
      .filter(([, by]) => by.length > 1)
      .map(([name, by]) => `${name}: ${by.join(', ')}`);
    expect(unknown).toEqual([]);
    expect(shared).toEqual([]);
  });

  it('has, for every ErrorName value, an error class whose instances report that name', async () => {
    const names = new Set([...(await exportedErrorClasses()).keys()].map((c) => construct(c).name));
    const missing = Object.entries(ErrorName)
      .filter(([, name]) => !names.has(name))
      .map(([key, name]) => `${key}: ${name}`);
    expect(missing).toEqual([]);
  });
});
