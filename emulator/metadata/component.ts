/**
 * A metadata component as the emulator holds it: Metadata API format files for most types, a
 * model for decomposed ones (custom objects), which is rendered into `objects/X.object` on demand.
 */
import type { DecomposedModel } from './decomposed.ts';

/** One top-level component (an Apex class, a layout, a custom object with its fields...). */
export interface ComponentData {
  /** Metadata API type name (`ApexClass`). */
  readonly type: string;
  /** Full name as package.xml names it (`MyClass`, `Folder/Report`, `Account`). */
  readonly fullName: string;
  /** Files in Metadata API format, keyed by path relative to the package root. Empty for decomposed types. */
  readonly files: Map<string, Uint8Array>;
  /** The model of a decomposed component. */
  readonly model?: DecomposedModel;
  /** The path FileProperties reports (`classes/MyClass.cls`, `lwc/myCmp`, `objects/Account.object`). */
  readonly fileName: string;
}

/** Where a component came from, for the load report. */
export interface LoadProblem {
  /** Path of the file or folder, relative to the project. */
  readonly path: string;
  readonly reason: string;
}

/** What loading a project found besides its components. */
export interface LoadReport {
  /** Files and folders that could not be mapped to a Metadata API type (left out). */
  readonly unmapped: LoadProblem[];
  /** Folders of unknown types, included generically under the type their files name. */
  readonly generic: Array<{ readonly directory: string; readonly xmlName: string }>;
}

/** The key a component is stored under. */
export function componentKey(type: string, fullName: string): string {
  return `${type}\u0000${fullName}`;
}

/** Text as UTF-8 bytes. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** UTF-8 bytes as text. */
export function fromUtf8(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** True when both file maps hold the same paths with the same bytes. */
export function sameFiles(a: ReadonlyMap<string, Uint8Array>, b: ReadonlyMap<string, Uint8Array>): boolean {
  if (a.size !== b.size) return false;
  for (const [path, bytes] of a) {
    const other = b.get(path);
    if (!other || other.length !== bytes.length) return false;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== other[i]) return false;
  }
  return true;
}
