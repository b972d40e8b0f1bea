/**
 * Turns an sfdx project (source format, per its sfdx-project.json package directories) into
 * Metadata API components. Type folders are recognised by name anywhere in a package directory;
 * unknown folders whose XML files name their type are included generically; anything else is
 * reported, never silently dropped.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { zipSync } from 'fflate';
import { type ComponentData, componentKey, type LoadReport } from './component.ts';
import { emptyModel, putChild, readMdapiFile, readSourceChild, readSourceParent } from './decomposed.ts';
import { hasChildren, type MetadataTypeInfo, type TypeRegistry } from './registry.ts';
import { parseOrdered, rootOf, tagOf } from './xml.ts';

/** Thrown when a project folder cannot be read as an sfdx project. */
export class InvalidProjectError extends Error {
  override name = 'InvalidProjectError';
}

/** The components of one project and what could not be mapped. */
export interface LoadedProject {
  readonly components: ComponentData[];
  readonly report: LoadReport;
  /** Package names (sfdx-project.json `package`) with the keys of their components. */
  readonly packages: Map<string, string[]>;
}

/** Files tooling keeps beside source that Salesforce never receives (the CLI's default ignores). */
const IGNORED = new Set(['__tests__', 'jsconfig.json', '.eslintrc.json', '.DS_Store', 'node_modules']);

const META = '-meta.xml';

function entries(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !IGNORED.has(name) && !name.startsWith('.'))
    .sort();
}

function isDir(path: string): boolean {
  return statSync(path).isDirectory();
}

class ProjectReader {
  readonly found = new Map<string, ComponentData>();
  readonly report: LoadReport = { unmapped: [], generic: [] };
  private current: string[] = [];

  constructor(
    private readonly root: string,
    private readonly registry: TypeRegistry,
  ) {}

  readPackageDirectory(dir: string): string[] {
    this.current = [];
    this.walk(dir);
    return this.current;
  }

  private rel(path: string): string {
    return relative(this.root, path);
  }

  private unmapped(path: string, reason: string): void {
    this.report.unmapped.push({ path: this.rel(path), reason });
  }

  private add(component: ComponentData): void {
    const key = componentKey(component.type, component.fullName);
    const existing = this.found.get(key);
    if (existing?.model && component.model) {
      // The same object split over several package directories: merge parent and children.
      if (component.model.parent.length > 0) existing.model.parent = component.model.parent;
      for (const [childType, byName] of component.model.children) {
        for (const [name, node] of byName) putChild(existing.model, childType, name, node);
      }
    } else {
      this.found.set(key, component);
    }
    this.current.push(key);
  }

  private walk(dir: string): void {
    for (const name of entries(dir)) {
      const path = join(dir, name);
      if (!isDir(path)) {
        this.unmapped(path, 'file outside any metadata type folder');
        continue;
      }
      const type = this.registry.byDirectoryName(name);
      const refused = type ? undefined : this.registry.refusedDirectory(name);
      if (type) this.readTypeFolder(type, path);
      else if (refused) {
        this.unmapped(path, `${refused.xmlName} is not served by the emulator: ${refused.reason}`);
      } else if (entries(path).some((f) => f.endsWith(META))) this.readGenericFolder(path);
      else this.walk(path);
    }
  }

  private readTypeFolder(type: MetadataTypeInfo, dir: string): void {
    if (type.layout === 'bundle') this.readBundles(type, dir);
    else if (type.layout === 'decomposed') this.readDecomposed(type, dir);
    else if (type.layout === 'resource') this.readStaticResources(type, dir);
    else if (type.layout === 'site') this.readSites(type, dir);
    else this.readFiles(type, dir, '');
  }

  /** xml, content and document layouts, with folders for inFolder types. */
  private readFiles(directoryType: MetadataTypeInfo, dir: string, folder: string): void {
    const names = entries(dir);
    const folderType = this.registry.folderTypeOf(directoryType);
    for (const name of names) {
      const path = join(dir, name);
      // Several types may share a directory (`wave`, `discovery`): the suffix says which.
      const bySuffix = folderType ? undefined : this.registry.bySuffixIn(directoryType.directoryName, name);
      const type = bySuffix ?? directoryType;
      if (isDir(path)) {
        if (type.inFolder) this.readFiles(directoryType, path, folder ? `${folder}/${name}` : name);
        else this.readFiles(directoryType, path, folder);
        continue;
      }
      // Read as the directory's first type, such a file would be reported as a file of that type.
      if (!folderType && !bySuffix && this.registry.sharesDirectory(directoryType.directoryName)) {
        this.unmapped(path, `no type of the shared directory ${directoryType.directoryName} has this suffix`);
        continue;
      }
      const prefix = folder ? `${folder}/` : '';
      const target = `${type.directoryName}/${prefix}`;
      if (folderType && name.endsWith(`.${folderType.suffix}${META}`)) {
        const fullName = prefix + name.slice(0, -`.${folderType.suffix}${META}`.length);
        const files = new Map([[`${type.directoryName}/${fullName}${META}`, readFileSync(path)]]);
        this.add({
          type: folderType.xmlName,
          fullName,
          files,
          fileName: `${type.directoryName}/${fullName}`,
        });
        continue;
      }
      if (type.layout === 'document') {
        if (name.endsWith(`.document${META}`)) continue;
        const base = name.replace(/\.[^.]+$/, '');
        const meta = join(dir, `${base}.document${META}`);
        if (!existsSync(meta)) {
          this.unmapped(path, `document without its ${base}.document${META}`);
          continue;
        }
        const files = new Map([
          [`${target}${name}`, readFileSync(path)],
          [`${target}${name}${META}`, readFileSync(meta)],
        ]);
        this.add({ type: type.xmlName, fullName: prefix + name, files, fileName: `${target}${name}` });
        continue;
      }
      const suffix = `.${type.suffix}`;
      if (type.layout === 'xml') {
        const base = name.endsWith(suffix + META)
          ? name.slice(0, -(suffix + META).length)
          : name.endsWith(suffix)
            ? name.slice(0, -suffix.length)
            : undefined;
        if (base === undefined) {
          this.unmapped(path, `not a ${type.xmlName} file (expected *${suffix}${META})`);
          continue;
        }
        const fileName = `${target}${base}${suffix}`;
        if (hasChildren(type)) {
          // Labels, workflows, sharing rules: one file, but children listed and retrieved one by one.
          const model = readMdapiFile(type, readFileSync(path, 'utf8'), this.rel(path));
          this.add({ type: type.xmlName, fullName: prefix + base, files: new Map(), model, fileName });
          continue;
        }
        const files = new Map([[fileName, readFileSync(path)]]);
        this.add({ type: type.xmlName, fullName: prefix + base, files, fileName });
        continue;
      }
      // content layout: the content file leads; its -meta.xml travels with it.
      if (name.endsWith(META) && names.includes(name.slice(0, -META.length))) continue;
      if (name.endsWith(META)) {
        this.unmapped(
          path,
          `${type.xmlName} meta file without its content file ${name.slice(0, -META.length)}`,
        );
        continue;
      }
      if (!name.endsWith(suffix)) {
        this.unmapped(path, `not a ${type.xmlName} file (expected *${suffix} with *${suffix}${META})`);
        continue;
      }
      const base = name.slice(0, -suffix.length);
      const files = new Map([[`${target}${name}`, readFileSync(path)]]);
      if (names.includes(name + META)) files.set(`${target}${name}${META}`, readFileSync(path + META));
      this.add({ type: type.xmlName, fullName: prefix + base, files, fileName: `${target}${name}` });
    }
  }

  private readBundles(type: MetadataTypeInfo, dir: string): void {
    for (const name of entries(dir)) {
      const path = join(dir, name);
      if (!isDir(path)) {
        this.unmapped(path, `${type.xmlName} components are folders; a loose file is not one`);
        continue;
      }
      const files = new Map<string, Uint8Array>();
      collectFolder(path, `${type.directoryName}/${name}/`, files);
      this.add({ type: type.xmlName, fullName: name, files, fileName: `${type.directoryName}/${name}` });
    }
  }

  private readStaticResources(type: MetadataTypeInfo, dir: string): void {
    const names = entries(dir);
    for (const name of names) {
      if (!name.endsWith(`.resource${META}`)) continue;
      const base = name.slice(0, -`.resource${META}`.length);
      const contentName = names.find((n) => n !== name && (n === base || n.startsWith(`${base}.`)));
      const target = `${type.directoryName}/${base}.resource`;
      const files = new Map<string, Uint8Array>([[`${target}${META}`, readFileSync(join(dir, name))]]);
      if (contentName === undefined) {
        this.unmapped(join(dir, name), 'static resource without content');
        continue;
      }
      const contentPath = join(dir, contentName);
      files.set(target, isDir(contentPath) ? zipFolder(contentPath) : readFileSync(contentPath));
      this.add({ type: type.xmlName, fullName: base, files, fileName: target });
    }
    for (const name of names) {
      const base = name.replace(/\..*$/, '');
      if (!name.endsWith(`.resource${META}`) && !names.includes(`${base}.resource${META}`)) {
        this.unmapped(join(dir, name), `no ${base}.resource${META} describes it`);
      }
    }
  }

  private readDecomposed(type: MetadataTypeInfo, dir: string): void {
    for (const name of entries(dir)) {
      const path = join(dir, name);
      if (!isDir(path)) {
        if (name.endsWith(`.${type.suffix}`)) {
          // Already in Metadata API format.
          const fullName = name.slice(0, -`.${type.suffix}`.length);
          const model = readMdapiFile(type, readFileSync(path, 'utf8'), this.rel(path));
          this.add({
            type: type.xmlName,
            fullName,
            files: new Map(),
            model,
            fileName: `${type.directoryName}/${name}`,
          });
        } else {
          this.unmapped(path, `not a ${type.xmlName} folder or .${type.suffix} file`);
        }
        continue;
      }
      const model = emptyModel();
      for (const entry of entries(path)) {
        const full = join(path, entry);
        if (!isDir(full)) {
          const sibling = type.children.find((c) => entry.endsWith(`.${c.suffix}${META}`));
          if (entry === `${name}.${type.suffix}${META}`) {
            readSourceParent(model, type, readFileSync(full, 'utf8'), this.rel(full));
          } else if (type.decomposition === 'topLevel' && sibling) {
            // topLevel decomposition keeps child files beside the parent's (bots/B/v1.botVersion-meta.xml).
            const base = entry.slice(0, -`.${sibling.suffix}${META}`.length);
            const text = readFileSync(full, 'utf8');
            readSourceChild(model, type, sibling.xmlName, text, this.rel(full), base);
          } else {
            this.unmapped(full, `unexpected file in ${type.xmlName} folder ${name}`);
          }
          continue;
        }
        const child = type.children.find((c) => c.directoryName === entry);
        if (!child) {
          this.unmapped(full, `unknown ${type.xmlName} child folder`);
          continue;
        }
        for (const file of entries(full)) {
          const suffix = `.${child.suffix}${META}`;
          if (!file.endsWith(suffix)) {
            this.unmapped(join(full, file), `not a ${child.xmlName} file (expected *${suffix})`);
            continue;
          }
          const text = readFileSync(join(full, file), 'utf8');
          readSourceChild(
            model,
            type,
            child.xmlName,
            text,
            this.rel(join(full, file)),
            file.slice(0, -suffix.length),
          );
        }
      }
      const fileName = `${type.directoryName}/${name}.${type.suffix}`;
      this.add({ type: type.xmlName, fullName: name, files: new Map(), model, fileName });
    }
  }

  /** Experience bundles: a folder of files per site plus `Name.site-meta.xml` beside it. */
  private readSites(type: MetadataTypeInfo, dir: string): void {
    const names = entries(dir);
    for (const name of names) {
      const path = join(dir, name);
      if (!isDir(path)) {
        const base = name.endsWith(`.site${META}`) ? name.slice(0, -`.site${META}`.length) : undefined;
        if (base === undefined || !names.includes(base)) {
          this.unmapped(path, `not the Name.site${META} of an ${type.xmlName} folder beside it`);
        }
        continue;
      }
      const meta = `${name}.site${META}`;
      if (!names.includes(meta)) {
        this.unmapped(path, `${type.xmlName} ${name} has no ${meta} beside its folder`);
        continue;
      }
      const files = new Map<string, Uint8Array>([
        [`${type.directoryName}/${meta}`, readFileSync(join(dir, meta))],
      ]);
      collectFolder(path, `${type.directoryName}/${name}/`, files);
      this.add({ type: type.xmlName, fullName: name, files, fileName: `${type.directoryName}/${name}` });
    }
  }

  /** An unknown folder: each `Name.suffix-meta.xml` names its type in its root element. */
  private readGenericFolder(dir: string): void {
    const directory = basename(dir);
    const names = entries(dir);
    for (const name of names) {
      const path = join(dir, name);
      if (isDir(path) || !name.endsWith(META)) {
        if (!names.includes(name + META))
          this.unmapped(path, `no ${name}${META} in unknown folder ${directory}`);
        continue;
      }
      const stem = name.slice(0, -META.length);
      const dot = stem.lastIndexOf('.');
      const root = rootOf(parseOrdered(readFileSync(path, 'utf8')));
      if (dot <= 0 || !root) {
        this.unmapped(path, 'cannot tell the metadata type of this file');
        continue;
      }
      const suffix = stem.slice(dot + 1);
      const xmlName = tagOf(root);
      const hasContent = names.includes(stem);
      let type = this.registry.byXmlName(xmlName);
      if (!type) {
        type = {
          xmlName,
          directoryName: directory,
          suffix,
          layout: hasContent ? 'content' : 'xml',
          metaFile: hasContent,
          inFolder: false,
          children: [],
          generic: true,
        };
        this.registry.add(type);
        this.report.generic.push({ directory: this.rel(dir), xmlName });
      }
      const target = `${type.directoryName}/${stem}`;
      const files = new Map<string, Uint8Array>();
      if (hasContent) {
        files.set(target, readFileSync(join(dir, stem)));
        files.set(`${target}${META}`, readFileSync(path));
      } else {
        files.set(target, readFileSync(path));
      }
      this.add({ type: type.xmlName, fullName: stem.slice(0, dot), files, fileName: target });
    }
  }
}

/** Adds a folder's files, recursively, to `files` under `prefix` (tooling files left out). */
function collectFolder(folder: string, prefix: string, files: Map<string, Uint8Array>): void {
  for (const entry of entries(folder)) {
    const full = join(folder, entry);
    if (isDir(full)) collectFolder(full, `${prefix}${entry}/`, files);
    else files.set(`${prefix}${entry}`, readFileSync(full));
  }
}

/** A folder's files as one zip (a static resource folder becomes a zip resource). */
function zipFolder(dir: string): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  const collect = (folder: string, prefix: string): void => {
    for (const entry of readdirSync(folder).sort()) {
      const full = join(folder, entry);
      if (isDir(full)) collect(full, `${prefix}${entry}/`);
      else files[`${prefix}${entry}`] = readFileSync(full);
    }
  };
  collect(dir, '');
  return zipSync(files, { mtime: new Date('2000-01-01T00:00:00Z') });
}

interface PackageDirectory {
  path: string;
  package?: string;
}

/** Loads every package directory of the sfdx project at `projectDir`. */
export function loadProject(projectDir: string, registry: TypeRegistry): LoadedProject {
  const configPath = join(projectDir, 'sfdx-project.json');
  if (!existsSync(configPath)) {
    throw new InvalidProjectError(
      `${projectDir} has no sfdx-project.json; pass the root folder of an sfdx project`,
    );
  }
  let config: { packageDirectories?: PackageDirectory[] };
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8')) as typeof config;
  } catch (error) {
    throw new InvalidProjectError(`${configPath} is not valid JSON: ${(error as Error).message}`);
  }
  const dirs = config.packageDirectories ?? [];
  if (!Array.isArray(dirs) || dirs.length === 0) {
    throw new InvalidProjectError(
      `${configPath} lists no packageDirectories; add at least one { "path": ... }`,
    );
  }
  const reader = new ProjectReader(projectDir, registry);
  const packages = new Map<string, string[]>();
  for (const dir of dirs) {
    const path = join(projectDir, dir.path);
    if (!existsSync(path) || !isDir(path)) {
      throw new InvalidProjectError(`${configPath}: package directory "${dir.path}" does not exist`);
    }
    const keys = reader.readPackageDirectory(path);
    if (dir.package) packages.set(dir.package, [...(packages.get(dir.package) ?? []), ...keys]);
  }
  return { components: [...reader.found.values()], report: reader.report, packages };
}
