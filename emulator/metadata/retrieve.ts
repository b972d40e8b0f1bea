/**
 * Builds a retrieve's zip in Metadata API format: `package.xml` plus the selected components'
 * files, under `unpackaged/` (or at the root with singlePackage, or under each package's name).
 */
import { zipSync } from 'fflate';
import { type ComponentData, componentKey, utf8 } from './component.ts';
import { renderMdapiFile } from './decomposed.ts';
import { buildManifest, type PackageManifest } from './package-xml.ts';
import { childFullName, type TypeRegistry } from './registry.ts';
import type { FileProperties, MetadataStore } from './store.ts';

/** Salesforce's limit on files in one retrieve. */
export const RETRIEVE_FILE_LIMIT = 10_000;

/** A problem reported in RetrieveResult.messages. */
export interface RetrieveMessage {
  readonly fileName: string;
  readonly problem: string;
}

/** What a retrieve asks for, as parsed from the SOAP RetrieveRequest. */
export interface RetrieveSpec {
  readonly apiVersion: string;
  readonly singlePackage: boolean;
  readonly unpackaged?: PackageManifest;
  readonly packageNames: string[];
  readonly specificFiles: string[];
}

/** The outcome: files to zip (or the limit error) with their properties and messages. */
export type RetrieveOutcome =
  | {
      readonly ok: true;
      readonly zip: Uint8Array;
      readonly fileProperties: FileProperties[];
      readonly messages: RetrieveMessage[];
    }
  | { readonly ok: false; readonly errorStatusCode: string; readonly errorMessage: string };

interface Pick {
  readonly component: ComponentData;
  parent: boolean;
  /** Children by child type; undefined (with parent) means all of them. */
  children?: Map<string, Set<string>>;
}

/** One package folder of the zip: its manifest and picked components. */
interface PackageSelection {
  readonly folder: string;
  readonly manifest: PackageManifest;
  readonly picks: Map<string, Pick>;
}

function isCustomObjectName(fullName: string): boolean {
  return /__(c|mdt|e|b|x|kav|ka|xo|chn|dll)$/.test(fullName);
}

class Selector {
  readonly messages: RetrieveMessage[] = [];

  constructor(
    private readonly store: MetadataStore,
    private readonly registry: TypeRegistry,
  ) {}

  /** Picks what a manifest names; `*` means every component of the type (custom objects only for CustomObject). */
  fromManifest(manifest: PackageManifest, folder: string): Map<string, Pick> {
    const picks = new Map<string, Pick>();
    const manifestName = `${folder}package.xml`;
    for (const entry of manifest.types) {
      const type = this.registry.byXmlName(entry.name);
      const child = this.registry.child(entry.name);
      // Refused types land here too: an org that has not enabled a type answers the same way.
      if (!type && !child) {
        this.messages.push({
          fileName: manifestName,
          problem: `Unknown type name '${entry.name}' specified in package.xml`,
        });
        continue;
      }
      const names = new Set<string>();
      for (const member of entry.members) {
        if (member === '*') {
          if (type?.inFolder) continue;
          let all = this.store.fullNames(entry.name, child?.parent.xmlName);
          if (entry.name === 'CustomObject') all = all.filter(isCustomObjectName);
          for (const name of all) names.add(name);
        } else {
          names.add(member);
        }
      }
      const folderType = type ? this.registry.folderTypeOf(type) : undefined;
      for (const name of names) {
        if (child) this.pickChild(picks, child.parent.xmlName, entry.name, name, manifestName);
        // package.xml names folders under their content type (Report: Sales for reports/Sales).
        else if (folderType && this.store.get(folderType.xmlName, name)) {
          this.pickComponent(picks, folderType.xmlName, name, manifestName);
        } else this.pickComponent(picks, entry.name, name, manifestName);
      }
    }
    return picks;
  }

  private pickComponent(
    picks: Map<string, Pick>,
    type: string,
    fullName: string,
    manifestName: string,
  ): void {
    const component = this.store.get(type, fullName);
    if (!component) {
      this.messages.push({
        fileName: manifestName,
        problem: `Entity of type '${type}' named '${fullName}' cannot be found`,
      });
      return;
    }
    const key = componentKey(type, fullName);
    const pick = picks.get(key);
    if (pick) {
      pick.parent = true;
      pick.children = undefined;
    } else {
      picks.set(key, { component, parent: true });
    }
  }

  private pickChild(
    picks: Map<string, Pick>,
    parentType: string,
    type: string,
    fullName: string,
    manifestName: string,
  ): void {
    const holder = this.store.childHolder(parentType, type, fullName);
    if (!holder) {
      this.messages.push({
        fileName: manifestName,
        problem: `Entity of type '${type}' named '${fullName}' cannot be found`,
      });
      return;
    }
    const { parent: component, name: childName } = holder;
    const parentName = component.fullName;
    const key = componentKey(parentType, parentName);
    let pick = picks.get(key);
    if (!pick) {
      pick = { component, parent: false, children: new Map() };
      picks.set(key, pick);
    }
    if (!pick.children) return; // the whole parent is already picked
    let set = pick.children.get(type);
    if (!set) {
      set = new Set();
      pick.children.set(type, set);
    }
    set.add(childName);
  }

  /** Picks the components owning the named files (`unpackaged/classes/A.cls` or `classes/A.cls`). */
  fromFiles(paths: string[], picks: Map<string, Pick>): void {
    const wanted = new Set(paths.map((p) => p.replace(/^unpackaged\//, '')));
    for (const component of this.store.all()) {
      const files = component.model ? [component.fileName] : [...component.files.keys(), component.fileName];
      if (files.some((f) => wanted.has(f))) {
        picks.set(componentKey(component.type, component.fullName), { component, parent: true });
      }
    }
  }
}

/** Renders one pick's files and FileProperties under `folder`. */
function renderPick(
  pick: Pick,
  folder: string,
  registry: TypeRegistry,
  store: MetadataStore,
  files: Record<string, Uint8Array>,
  properties: FileProperties[],
): void {
  const { component } = pick;
  const withFolder = (p: FileProperties): FileProperties => ({ ...p, fileName: folder + p.fileName });
  if (component.model) {
    const type = registry.byXmlName(component.type);
    if (!type) return;
    const selection =
      pick.children || !pick.parent ? { parent: pick.parent, children: pick.children } : undefined;
    files[folder + component.fileName] = utf8(renderMdapiFile(type, component.model, selection));
    if (pick.parent) {
      const own = store.properties(component.type, component.fullName);
      if (own) properties.push(withFolder(own));
    }
    for (const [childType, byName] of component.model.children) {
      const wanted = pick.children ? pick.children.get(childType) : undefined;
      if (pick.children && !wanted) continue;
      for (const name of byName.keys()) {
        if (wanted && !wanted.has(name)) continue;
        const props = store.properties(childType, childFullName(component.type, component.fullName, name));
        if (props) properties.push(withFolder(props));
      }
    }
    return;
  }
  for (const [path, bytes] of component.files) files[folder + path] = bytes;
  const own = store.properties(component.type, component.fullName);
  if (own) properties.push(withFolder(own));
}

/** Runs a retrieve against the store. */
export function runRetrieve(
  spec: RetrieveSpec,
  store: MetadataStore,
  registry: TypeRegistry,
  packages: ReadonlyMap<string, string[]>,
): RetrieveOutcome {
  const selector = new Selector(store, registry);
  const selections: PackageSelection[] = [];
  const version = spec.unpackaged?.version ?? spec.apiVersion;
  const unpackagedFolder = spec.singlePackage ? '' : 'unpackaged/';
  if (spec.unpackaged || spec.specificFiles.length > 0) {
    const manifest = spec.unpackaged ?? { types: [], version };
    const picks = selector.fromManifest(manifest, unpackagedFolder);
    if (spec.specificFiles.length > 0) selector.fromFiles(spec.specificFiles, picks);
    selections.push({ folder: unpackagedFolder, manifest: { ...manifest, version }, picks });
  }
  for (const name of spec.packageNames) {
    const keys = packages.get(name);
    if (!keys) {
      selector.messages.push({
        fileName: `${name}/package.xml`,
        problem: `No package named '${name}' found`,
      });
      continue;
    }
    const picks = new Map<string, Pick>();
    const byType = new Map<string, string[]>();
    for (const key of keys) {
      const [type = '', fullName = ''] = key.split('\u0000');
      const component = store.get(type, fullName);
      if (!component) continue;
      picks.set(key, { component, parent: true });
      byType.set(type, [...(byType.get(type) ?? []), fullName]);
    }
    const types = [...byType].map(([typeName, members]) => ({ name: typeName, members }));
    const folder =
      spec.singlePackage && spec.packageNames.length === 1 && selections.length === 0 ? '' : `${name}/`;
    selections.push({ folder, manifest: { fullName: name, types, version }, picks });
  }

  const files: Record<string, Uint8Array> = {};
  const fileProperties: FileProperties[] = [];
  for (const selection of selections) {
    for (const pick of selection.picks.values())
      renderPick(pick, selection.folder, registry, store, files, fileProperties);
    files[`${selection.folder}package.xml`] = utf8(buildManifest(selection.manifest));
  }
  const count = Object.keys(files).length;
  if (count > RETRIEVE_FILE_LIMIT) {
    return {
      ok: false,
      errorStatusCode: 'LIMIT_EXCEEDED',
      errorMessage: `LIMIT_EXCEEDED: Too many files in retrieve call, limit is: ${RETRIEVE_FILE_LIMIT}`,
    };
  }
  for (const selection of selections) {
    const now = store.now();
    fileProperties.push({
      createdById: '',
      createdByName: '',
      createdDate: now,
      fileName: `${selection.folder}package.xml`,
      fullName: `${selection.folder}package.xml`,
      id: '',
      lastModifiedById: '',
      lastModifiedByName: '',
      lastModifiedDate: now,
      manageableState: 'unmanaged',
      type: 'Package',
    });
  }
  fileProperties.sort((a, b) => a.fileName.localeCompare(b.fileName) || a.fullName.localeCompare(b.fullName));
  const zip = zipSync(files, { mtime: new Date('2000-01-01T00:00:00Z') });
  return { ok: true, zip, fileProperties, messages: selector.messages };
}
