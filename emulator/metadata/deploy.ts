/**
 * Deploys a Metadata API zip: package.xml says what to deploy, destructiveChanges*.xml what to
 * delete. With rollbackOnError any failure leaves the org unchanged; checkOnly never changes it.
 */
import { unzipSync } from 'fflate';
import { type ComponentData, fromUtf8 } from './component.ts';
import { readPackageFolder, type ZipComponent } from './mdapi-zip.ts';
import { InvalidManifestError, type PackageManifest, parseManifest } from './package-xml.ts';
import { splitChildFullName, type TypeRegistry } from './registry.ts';
import type { MetadataStore } from './store.ts';
import { tagOf } from './xml.ts';

/** DeployOptions as the SOAP request carries them (the ones that change behaviour here). */
export interface DeployOptions {
  readonly checkOnly: boolean;
  readonly rollbackOnError: boolean;
  readonly singlePackage: boolean;
  readonly ignoreWarnings: boolean;
  readonly purgeOnDelete: boolean;
  readonly runTests: string[];
  readonly testLevel?: string;
}

/** One DeployMessage of componentSuccesses or componentFailures. */
export interface DeployMessage {
  readonly changed: boolean;
  readonly componentType: string;
  readonly created: boolean;
  readonly createdDate: string;
  readonly deleted: boolean;
  readonly fileName: string;
  readonly fullName: string;
  readonly id?: string;
  readonly problem?: string;
  readonly problemType?: 'Error' | 'Warning';
  readonly success: boolean;
}

/** The finished deploy, before it is wrapped into a DeployResult. */
export interface DeployOutcome {
  readonly status: 'Succeeded' | 'SucceededPartial' | 'Failed';
  readonly successes: DeployMessage[];
  readonly failures: DeployMessage[];
  readonly numberComponentsTotal: number;
  readonly numberComponentsDeployed: number;
  readonly numberComponentErrors: number;
  readonly errorMessage?: string;
  readonly errorStatusCode?: string;
}

const DESTRUCTIVE = ['destructiveChangesPre.xml', 'destructiveChanges.xml', 'destructiveChangesPost.xml'];

interface Planned {
  readonly entry: ZipComponent;
  readonly fileName: string;
}

/** Finds the package folder: the zip root with singlePackage, else the one folder holding package.xml. */
function packageRoot(files: Record<string, Uint8Array>, singlePackage: boolean): string | undefined {
  if (files['package.xml']) return '';
  if (singlePackage) return undefined;
  const roots = Object.keys(files)
    .filter((p) => /^[^/]+\/package\.xml$/.test(p))
    .map((p) => p.slice(0, -'package.xml'.length));
  return roots[0];
}

function failure(
  fileName: string,
  fullName: string,
  componentType: string,
  problem: string,
  now: string,
): DeployMessage {
  return {
    changed: false,
    componentType,
    created: false,
    createdDate: now,
    deleted: false,
    fileName,
    fullName,
    problem,
    problemType: 'Error',
    success: false,
  };
}

/** Runs a deploy against the store and says what happened. */
export function runDeploy(
  zipBase64: string,
  options: DeployOptions,
  store: MetadataStore,
  registry: TypeRegistry,
): DeployOutcome {
  const now = store.now();
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(Buffer.from(zipBase64, 'base64'));
  } catch (error) {
    return failedWhole(`The deploy zip file could not be read: ${(error as Error).message}`, now);
  }
  const root = packageRoot(files, options.singlePackage);
  if (root === undefined) return failedWhole('No package.xml found', now);
  const fileIn = (name: string): string => root + name;
  let manifest: PackageManifest;
  const destructive: Array<{ file: string; manifest: PackageManifest }> = [];
  try {
    manifest = parseManifest(fromUtf8(files[fileIn('package.xml')]!), fileIn('package.xml'));
    for (const name of DESTRUCTIVE) {
      const bytes = files[fileIn(name)];
      if (bytes)
        destructive.push({ file: fileIn(name), manifest: parseManifest(fromUtf8(bytes), fileIn(name)) });
    }
  } catch (error) {
    if (!(error instanceof InvalidManifestError)) throw error;
    return failedWhole(error.message, now);
  }

  const folderFiles = new Map<string, Uint8Array>();
  for (const [path, bytes] of Object.entries(files)) {
    if (!path.startsWith(root) || path.endsWith('/')) continue;
    const rel = path.slice(root.length);
    if (rel === 'package.xml' || DESTRUCTIVE.includes(rel)) continue;
    folderFiles.set(rel, bytes);
  }
  const inZip = readPackageFolder(folderFiles, registry);
  const failures: DeployMessage[] = [];
  const planned = new Map<string, Planned>();
  for (const entry of manifest.types) {
    const child = registry.child(entry.name);
    const type = registry.byXmlName(entry.name);
    // Refused types land here too: an org that has not enabled a type answers the same way.
    if (!type && !child) {
      failures.push(
        failure(
          fileIn('package.xml'),
          entry.name,
          entry.name,
          `Unknown type name '${entry.name}' specified in package.xml`,
          now,
        ),
      );
      continue;
    }
    const ownerType = child ? child.parent.xmlName : entry.name;
    for (const member of entry.members) {
      const split = child && member !== '*' ? splitChildFullName(ownerType, member) : undefined;
      const ownerName = split ? split[0] : member;
      // Folders are named under their content type (Report: Sales for reports/Sales-meta.xml).
      const folderType = type?.folderType;
      const matches = inZip.filter(
        (c) =>
          (c.type === ownerType || (folderType !== undefined && c.type === folderType)) &&
          (member === '*' || c.fullName === ownerName),
      );
      const present =
        child && member !== '*'
          ? matches.filter(
              (c) =>
                !c.component?.model ||
                (split !== undefined && c.component.model.children.get(entry.name)?.has(split[1])),
            )
          : matches;
      if (present.length === 0 && member !== '*') {
        failures.push(
          failure(
            fileIn('package.xml'),
            member,
            entry.name,
            `An object '${member}' of type ${entry.name} was named in package.xml, but was not found in zipped directory`,
            now,
          ),
        );
        continue;
      }
      for (const c of present)
        planned.set(`${c.type}\u0000${c.fullName}`, { entry: c, fileName: fileIn(c.fileName) });
    }
  }

  // A refused type named in package.xml has failed above already, once.
  const named = new Set(manifest.types.map((t) => t.name));
  for (const c of inZip) {
    if (c.unreadable && !named.has(c.type)) {
      failures.push(failure(fileIn(c.fileName), c.fullName, c.type, c.problem ?? 'Unreadable file', now));
    }
  }

  const successes: DeployMessage[] = [];
  const valid: Planned[] = [];
  for (const plan of planned.values()) {
    if (plan.entry.problem || !plan.entry.component) {
      failures.push(
        failure(
          plan.fileName,
          plan.entry.fullName,
          plan.entry.type,
          plan.entry.problem ?? 'Unreadable component',
          now,
        ),
      );
    } else {
      const problem = semanticProblem(plan.entry.component, store);
      if (problem) failures.push(failure(plan.fileName, plan.entry.fullName, plan.entry.type, problem, now));
      else valid.push(plan);
    }
  }
  const errorCount = failures.length;
  const apply = !options.checkOnly && (errorCount === 0 || !options.rollbackOnError);

  for (const plan of valid) {
    for (const outcome of store.put(plan.entry.component!, !apply)) {
      successes.push({
        changed: outcome.changed,
        componentType: outcome.type,
        created: outcome.created,
        createdDate: now,
        deleted: false,
        fileName: plan.fileName,
        fullName: outcome.fullName,
        ...(outcome.id ? { id: outcome.id } : {}),
        success: true,
      });
    }
  }
  const warnings: DeployMessage[] = [];
  for (const { file, manifest: changes } of destructive) {
    for (const entry of changes.types) {
      const child = registry.child(entry.name);
      for (const member of entry.members) {
        const exists = child
          ? store.childHolder(child.parent.xmlName, entry.name, member) !== undefined
          : store.get(entry.name, member) !== undefined;
        if (!exists) {
          warnings.push({
            ...failure(
              file,
              file.slice(root.length),
              entry.name,
              `No ${entry.name} named: ${member} found`,
              now,
            ),
            problemType: 'Warning',
          });
          continue;
        }
        const id = store.properties(entry.name, member)?.id;
        if (apply) store.delete(entry.name, member, child?.parent.xmlName);
        successes.push({
          changed: false,
          componentType: entry.name,
          created: false,
          createdDate: now,
          deleted: true,
          fileName: file,
          fullName: member,
          ...(id ? { id } : {}),
          success: true,
        });
      }
    }
  }
  successes.push({
    changed: true,
    componentType: '',
    created: false,
    createdDate: now,
    deleted: false,
    fileName: fileIn('package.xml'),
    fullName: 'package.xml',
    success: true,
  });
  const deployed = successes.length - 1;
  const status =
    errorCount === 0
      ? 'Succeeded'
      : options.rollbackOnError || options.checkOnly
        ? 'Failed'
        : 'SucceededPartial';
  return {
    status,
    successes,
    failures: [...failures, ...warnings],
    numberComponentsTotal: deployed + errorCount,
    numberComponentsDeployed: deployed,
    numberComponentErrors: errorCount,
  };
}

/** What Salesforce refuses in a well-formed file: a new custom object must say at least its label. */
function semanticProblem(component: ComponentData, store: MetadataStore): string | undefined {
  const isNewCustomObject =
    component.type === 'CustomObject' &&
    component.fullName.includes('__') &&
    store.get(component.type, component.fullName) === undefined;
  if (isNewCustomObject && !component.model?.parent.some((node) => tagOf(node) === 'label')) {
    return 'Must specify a non-empty label for the CustomObject';
  }
  return undefined;
}

function failedWhole(message: string, now: string): DeployOutcome {
  return {
    status: 'Failed',
    successes: [],
    failures: [failure('package.xml', 'package.xml', '', message, now)],
    numberComponentsTotal: 0,
    numberComponentsDeployed: 0,
    numberComponentErrors: 1,
    errorMessage: message,
  };
}
