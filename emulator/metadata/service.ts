/**
 * The Metadata API (SOAP) of one emulated org, over the metadata of sfdx projects:
 * describeMetadata, listMetadata, retrieve + checkRetrieveStatus, deploy + checkDeployStatus.
 * The HTTP layer passes each envelope to `handle`.
 */
import type { ObjectDef } from '../org/api.ts';
import type { LoadReport } from './component.ts';
import { compareText } from './decomposed.ts';
import { runDeploy, type DeployOptions, type DeployOutcome } from './deploy.ts';
import { orgObjectComponents } from './org-objects.ts';
import { manifestFromObject } from './package-xml.ts';
import { TypeRegistry } from './registry.ts';
import { runRetrieve, type RetrieveOutcome } from './retrieve.ts';
import { parseSoapRequest, SoapFault, soapFault, soapResponse } from './soap.ts';
import { loadProject } from './source-loader.ts';
import { type FileProperties, MetadataStore, type MetadataUser } from './store.ts';
import { asArray, asBoolean, asText, type XmlValue } from './xml.ts';

/** Options of `createMetadataService`. */
export interface MetadataServiceOptions {
  /** sfdx project folders (each with sfdx-project.json) whose metadata the org starts with. */
  readonly projectDirs: readonly string[];
  /** Time source for audit dates. @default - the system clock */
  readonly clock?: () => Date;
  /** The user changes are attributed to. @default - an "Emulator Admin" with a fixed id */
  readonly user?: MetadataUser;
  /** describeMetadata's organizationNamespace. @default - '' (no namespace) */
  readonly organizationNamespace?: string;
  /** API version used when a request names none. @default - '64.0' */
  readonly defaultApiVersion?: string;
  /**
   * The data org's objects (`org.describeGlobal()`): custom objects and custom fields that no
   * project describes (a generated org) become CustomObject metadata too. @default - none
   */
  readonly orgObjects?: readonly ObjectDef[];
}

/** Per-request context from the HTTP layer. */
export interface MetadataRequestContext {
  /**
   * Says whether the envelope's SessionHeader session id is valid. When it answers false the
   * request gets Salesforce's INVALID_SESSION_ID fault. Leave it out when the HTTP layer has
   * already authenticated the request.
   */
  readonly checkSession?: (sessionId: string | undefined) => boolean;
  /** API version from the URL (`/services/Soap/m/62.0`). */
  readonly apiVersion?: string;
}

/** An HTTP answer: 200 with a response envelope, or 500 with a SOAP fault. */
export interface MetadataSoapResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** A loaded component, as `components()` lists it. */
export interface ComponentSummary {
  readonly type: string;
  readonly fullName: string;
  readonly fileName: string;
}

/** The Metadata API of one org. */
export interface MetadataService {
  /** Answers one SOAP envelope posted to `/services/Soap/m/XX.X`. */
  handle(soapXml: string, ctx?: MetadataRequestContext): Promise<MetadataSoapResponse>;
  /** Every top-level component the org holds now, sorted by type then name. */
  components(): ComponentSummary[];
  /** FileProperties of every component and child of a type (as listMetadata would list them). */
  list(type: string): FileProperties[];
  /** What loading the projects could not map, and the unknown folders included generically. */
  loadReport(): LoadReport;
}

const CONTENT_TYPE = 'text/xml; charset=utf-8';
const LIST_QUERY_LIMIT = 3;

interface RetrieveJob {
  readonly outcome: RetrieveOutcome;
  checks: number;
}

interface DeployJob {
  readonly outcome: DeployOutcome;
  readonly options: DeployOptions;
  readonly createdDate: string;
  checks: number;
}

class Service implements MetadataService {
  private readonly registry = new TypeRegistry();
  private readonly store: MetadataStore;
  private readonly report: LoadReport = { unmapped: [], generic: [] };
  private readonly packages = new Map<string, string[]>();
  private readonly retrieves = new Map<string, RetrieveJob>();
  private readonly deploys = new Map<string, DeployJob>();
  private readonly user: MetadataUser;

  constructor(private readonly options: MetadataServiceOptions) {
    this.user = options.user ?? { id: '005000000000001AAA', name: 'Emulator Admin' };
    this.store = new MetadataStore(options.clock ?? (() => new Date()), this.user);
    for (const dir of options.projectDirs) {
      const project = loadProject(dir, this.registry);
      for (const component of project.components) this.store.put(component);
      this.report.unmapped.push(...project.report.unmapped);
      this.report.generic.push(...project.report.generic);
      for (const [name, keys] of project.packages)
        this.packages.set(name, [...(this.packages.get(name) ?? []), ...keys]);
    }
    const described = (name: string) => this.store.get('CustomObject', name)?.model;
    for (const component of orgObjectComponents(options.orgObjects ?? [], described))
      this.store.put(component);
  }

  components(): ComponentSummary[] {
    return this.store
      .all()
      .map((c) => ({ type: c.type, fullName: c.fullName, fileName: c.fileName }))
      .sort((a, b) => compareText(a.type, b.type) || compareText(a.fullName, b.fullName));
  }

  list(type: string): FileProperties[] {
    const child = this.registry.child(type);
    return this.store
      .fullNames(type, child?.parent.xmlName)
      .map((name) => this.store.properties(type, name))
      .filter((p): p is FileProperties => p !== undefined);
  }

  loadReport(): LoadReport {
    return this.report;
  }

  async handle(soapXml: string, ctx: MetadataRequestContext = {}): Promise<MetadataSoapResponse> {
    try {
      const request = parseSoapRequest(soapXml);
      if (ctx.checkSession && !ctx.checkSession(request.sessionId)) {
        throw new SoapFault(
          'INVALID_SESSION_ID',
          'Invalid Session ID found in SessionHeader: Illegal Session',
        );
      }
      const version = ctx.apiVersion ?? this.options.defaultApiVersion ?? '64.0';
      const result = this.dispatch(request.operation, request.args, version);
      return { status: 200, contentType: CONTENT_TYPE, body: soapResponse(request.operation, result) };
    } catch (error) {
      if (!(error instanceof SoapFault)) throw error;
      return { status: 500, contentType: CONTENT_TYPE, body: soapFault(error) };
    }
  }

  private dispatch(operation: string, args: Record<string, unknown>, version: string): XmlValue {
    switch (operation) {
      case 'describeMetadata':
        return this.describeMetadata();
      case 'listMetadata':
        return this.listMetadata(args);
      case 'retrieve':
        return this.retrieve(args, version);
      case 'checkRetrieveStatus':
        return this.checkRetrieveStatus(args);
      case 'deploy':
        return this.deploy(args);
      case 'checkDeployStatus':
        return this.checkDeployStatus(args);
      case 'checkStatus':
        return this.checkStatus(args);
      default:
        throw new SoapFault(
          'INVALID_OPERATION',
          `The emulator's Metadata API does not implement ${operation}`,
        );
    }
  }

  private describeMetadata(): XmlValue {
    const folderTypes = new Set(this.registry.all().flatMap((t) => (t.folderType ? [t.folderType] : [])));
    const metadataObjects = this.registry
      .all()
      .filter((t) => !folderTypes.has(t.xmlName))
      .map((t) => ({
        childXmlNames: t.children.map((c) => c.xmlName),
        directoryName: t.directoryName,
        inFolder: t.inFolder,
        metaFile: t.metaFile,
        suffix: t.suffix,
        xmlName: t.xmlName,
      }));
    return {
      metadataObjects,
      organizationNamespace: this.options.organizationNamespace ?? '',
      partialSaveAllowed: true,
      testRequired: false,
    };
  }

  private listMetadata(args: Record<string, unknown>): XmlValue {
    const queries = asArray<Record<string, unknown>>(args.queries);
    if (queries.length > LIST_QUERY_LIMIT) {
      throw new SoapFault(
        'LIMIT_EXCEEDED',
        `Too many queries in listMetadata call, limit is: ${LIST_QUERY_LIMIT}`,
      );
    }
    const out: FileProperties[] = [];
    for (const query of queries) {
      const typeName = asText(query.type) ?? '';
      const folder = asText(query.folder);
      const type = this.registry.byXmlName(typeName);
      // A type Salesforce knows but the emulator cannot serve answers as a real org does for a
      // type the org has not enabled.
      if (this.registry.refused(typeName))
        throw new SoapFault('INVALID_TYPE', `Cannot use: ${typeName} in this organization`);
      if (!type && !this.registry.child(typeName))
        throw new SoapFault('INVALID_TYPE', `Unknown type:${typeName}`);
      let props = this.list(typeName);
      if (type?.inFolder) props = folder ? props.filter((p) => p.fullName.startsWith(`${folder}/`)) : [];
      out.push(...props);
    }
    return out.map((p) => ({ ...p }));
  }

  private retrieve(args: Record<string, unknown>, version: string): XmlValue {
    const request = (args.request ?? {}) as Record<string, unknown>;
    const unpackaged =
      request.unpackaged && typeof request.unpackaged === 'object'
        ? manifestFromObject(request.unpackaged)
        : undefined;
    const packageNames = asArray(request.packageNames).map((n) => asText(n) ?? '');
    const specificFiles = asArray(request.specificFiles).map((n) => asText(n) ?? '');
    if (!unpackaged && packageNames.length === 0 && specificFiles.length === 0) {
      throw new SoapFault(
        'INVALID_CROSS_REFERENCE_KEY',
        'The retrieve request names no package, packageNames or specificFiles',
      );
    }
    const outcome = runRetrieve(
      {
        apiVersion: asText(request.apiVersion) ?? version,
        singlePackage: asBoolean(request.singlePackage, false),
        unpackaged,
        packageNames,
        specificFiles,
      },
      this.store,
      this.registry,
      this.packages,
    );
    const id = this.store.nextId('09S');
    this.retrieves.set(id, { outcome, checks: 0 });
    return { done: false, id, state: 'Queued' };
  }

  private checkRetrieveStatus(args: Record<string, unknown>): XmlValue {
    const id = asText(args.asyncProcessId) ?? '';
    const job = this.retrieves.get(id);
    if (!job) throw new SoapFault('INVALID_ID_FIELD', `Invalid retrieve id: ${id}`);
    const includeZip = asBoolean(args.includeZip, true);
    job.checks++;
    // The first check finds the job still running, as a real org's asynchronous retrieve does.
    if (job.checks === 1) return { done: false, id, status: 'InProgress', success: false };
    const { outcome } = job;
    if (!outcome.ok) {
      return {
        done: true,
        errorMessage: outcome.errorMessage,
        errorStatusCode: outcome.errorStatusCode,
        id,
        status: 'Failed',
        success: false,
      };
    }
    return {
      done: true,
      fileProperties: outcome.fileProperties.map((p) => ({ ...p })),
      id,
      messages: outcome.messages.map((m) => ({ fileName: m.fileName, problem: m.problem })),
      status: 'Succeeded',
      success: true,
      zipFile: includeZip ? Buffer.from(outcome.zip).toString('base64') : undefined,
    };
  }

  /** The deprecated generic status call older clients poll with; it advances the job like the specific checks. */
  private checkStatus(args: Record<string, unknown>): XmlValue {
    const id = asText(args.asyncProcessId) ?? '';
    const retrieveJob = this.retrieves.get(id);
    const deployJob = this.deploys.get(id);
    const job = retrieveJob ?? deployJob;
    if (!job) throw new SoapFault('INVALID_ID_FIELD', `Invalid async process id: ${id}`);
    job.checks++;
    if (job.checks === 1) return { done: false, id, state: 'InProgress' };
    if (retrieveJob && !retrieveJob.outcome.ok) {
      const { errorMessage, errorStatusCode } = retrieveJob.outcome;
      return { done: true, id, message: errorMessage, state: 'Error', statusCode: errorStatusCode };
    }
    if (deployJob?.outcome.status === 'Failed') {
      const { errorMessage, errorStatusCode } = deployJob.outcome;
      return {
        done: true,
        id,
        message: errorMessage ?? 'The deploy failed',
        state: 'Error',
        statusCode: errorStatusCode,
      };
    }
    return { done: true, id, state: 'Completed' };
  }

  private deploy(args: Record<string, unknown>): XmlValue {
    const zip = asText(args.ZipFile);
    if (!zip) throw new SoapFault('INVALID_CROSS_REFERENCE_KEY', 'The deploy request carries no ZipFile');
    const raw = (args.DeployOptions ?? {}) as Record<string, unknown>;
    const options: DeployOptions = {
      checkOnly: asBoolean(raw.checkOnly, false),
      rollbackOnError: asBoolean(raw.rollbackOnError, true),
      singlePackage: asBoolean(raw.singlePackage, false),
      ignoreWarnings: asBoolean(raw.ignoreWarnings, false),
      purgeOnDelete: asBoolean(raw.purgeOnDelete, false),
      runTests: asArray(raw.runTests).map((t) => asText(t) ?? ''),
      testLevel: asText(raw.testLevel),
    };
    const createdDate = this.store.now();
    const outcome = runDeploy(zip, options, this.store, this.registry);
    const id = this.store.nextId('0Af');
    this.deploys.set(id, { outcome, options, createdDate, checks: 0 });
    return { done: false, id, state: 'Queued' };
  }

  private checkDeployStatus(args: Record<string, unknown>): XmlValue {
    const id = asText(args.asyncProcessId) ?? '';
    const job = this.deploys.get(id);
    if (!job) throw new SoapFault('INVALID_ID_FIELD', `Invalid deploy id: ${id}`);
    const includeDetails = asBoolean(args.includeDetails, false);
    job.checks++;
    const { outcome, options } = job;
    // The first check finds the deploy still running, as a real org's asynchronous deploy does.
    const running = job.checks === 1;
    const status = running ? 'InProgress' : outcome.status;
    const done = !running;
    const now = this.store.now();
    return {
      checkOnly: options.checkOnly,
      completedDate: done ? now : undefined,
      createdBy: this.user.id,
      createdByName: this.user.name,
      createdDate: job.createdDate,
      details: includeDetails && done ? this.details(outcome) : undefined,
      done,
      errorMessage: done ? outcome.errorMessage : undefined,
      errorStatusCode: done ? outcome.errorStatusCode : undefined,
      id,
      ignoreWarnings: options.ignoreWarnings,
      lastModifiedDate: now,
      numberComponentErrors: done ? outcome.numberComponentErrors : 0,
      numberComponentsDeployed: done ? outcome.numberComponentsDeployed : 0,
      numberComponentsTotal: outcome.numberComponentsTotal,
      numberTestErrors: 0,
      numberTestsCompleted: 0,
      numberTestsTotal: 0,
      rollbackOnError: options.rollbackOnError,
      runTestsEnabled: false,
      startDate: job.createdDate,
      status,
      success: done && (status === 'Succeeded' || status === 'SucceededPartial'),
    };
  }

  private details(outcome: DeployOutcome): XmlValue {
    const message = (m: DeployOutcome['successes'][number]): XmlValue => ({
      changed: m.changed,
      componentType: m.componentType,
      created: m.created,
      createdDate: m.createdDate,
      deleted: m.deleted,
      fileName: m.fileName,
      fullName: m.fullName,
      id: m.id,
      problem: m.problem,
      problemType: m.problemType,
      success: m.success,
    });
    return {
      componentFailures: outcome.failures.map(message),
      componentSuccesses: outcome.successes.map(message),
      runTestResult: { numFailures: 0, numTestsRun: 0, totalTime: 0 },
    };
  }
}

/** Creates the Metadata API of an org holding the metadata of the given sfdx projects. */
export function createMetadataService(options: MetadataServiceOptions): MetadataService {
  return new Service(options);
}
