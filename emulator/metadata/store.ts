/**
 * The org's metadata: components by type and full name, with the ids and audit dates
 * `listMetadata` and retrieve report, kept for child components (fields, list views) too.
 */
import { IdFactory } from '../org/ids.ts';
import { type ComponentData, componentKey, sameFiles } from './component.ts';
import { childFullNames, putChild } from './decomposed.ts';
import { childFullName, splitChildFullName } from './registry.ts';

/** FileProperties as listMetadata and checkRetrieveStatus return them. */
export interface FileProperties {
  readonly createdById: string;
  readonly createdByName: string;
  readonly createdDate: string;
  readonly fileName: string;
  readonly fullName: string;
  readonly id: string;
  readonly lastModifiedById: string;
  readonly lastModifiedByName: string;
  readonly lastModifiedDate: string;
  readonly manageableState: string;
  readonly type: string;
}

/** The user metadata changes are attributed to. */
export interface MetadataUser {
  readonly id: string;
  readonly name: string;
}

/** What storing one component did, for it and each child it carried. */
export interface PutOutcome {
  readonly type: string;
  readonly fullName: string;
  readonly created: boolean;
  readonly changed: boolean;
  readonly id: string;
}

/** Key prefixes of the setup entities behind each type, as their ids start in a real org. */
const KEY_PREFIXES: Record<string, string> = {
  ApexClass: '01p',
  ApexComponent: '099',
  ApexPage: '066',
  ApexTrigger: '01q',
  AuraDefinitionBundle: '0Ab',
  BusinessProcess: '019',
  CompactLayout: '0AH',
  CustomApplication: '02u',
  CustomField: '00N',
  CustomLabels: '101',
  CustomObject: '01I',
  CustomPermission: '0CP',
  CustomTab: '01r',
  Dashboard: '01Z',
  DashboardFolder: '00l',
  Document: '015',
  DocumentFolder: '00l',
  EmailFolder: '00l',
  EmailTemplate: '00X',
  FieldSet: '0IX',
  FlexiPage: '0M0',
  Flow: '301',
  FlowDefinition: '300',
  GlobalValueSet: '0Nt',
  Group: '00G',
  Layout: '00h',
  LightningComponentBundle: '0Rb',
  LightningMessageChannel: '0Mk',
  ListView: '00B',
  NamedCredential: '0XA',
  PermissionSet: '0PS',
  PermissionSetGroup: '0PG',
  Profile: '00e',
  QuickAction: '09D',
  Queue: '00G',
  RecordType: '012',
  RemoteSiteSetting: '0rp',
  Report: '00O',
  ReportFolder: '00l',
  Role: '00E',
  StaticResource: '081',
  ValidationRule: '03d',
  WebLink: '00b',
};

interface Audit {
  id: string;
  createdDate: string;
  lastModifiedDate: string;
  fileName: string;
}

/** True for standard objects (no custom suffix), which have no id of their own in listMetadata. */
function isStandardObject(type: string, fullName: string): boolean {
  return (type === 'CustomObject' || type === 'CustomObjectTranslation') && !fullName.includes('__');
}

/** In-memory metadata of one org. */
export class MetadataStore {
  private readonly components = new Map<string, ComponentData>();
  private readonly audit = new Map<string, Audit>();
  private readonly ids = new IdFactory('8m');

  constructor(
    private readonly clock: () => Date,
    private readonly user: MetadataUser,
  ) {}

  /** Every top-level component. */
  all(): ComponentData[] {
    return [...this.components.values()];
  }

  /** The component with this type and full name. */
  get(type: string, fullName: string): ComponentData | undefined {
    return this.components.get(componentKey(type, fullName));
  }

  /** The clock's time as Salesforce writes dateTimes. */
  now(): string {
    return this.clock().toISOString();
  }

  /** A fresh id for an async request (`09S` retrieve, `0Af` deploy). */
  nextId(keyPrefix: string): string {
    return this.ids.next(keyPrefix);
  }

  private touch(type: string, fullName: string, fileName: string, created: boolean, changed: boolean): Audit {
    const key = componentKey(type, fullName);
    const now = this.clock().toISOString();
    let audit = this.audit.get(key);
    if (!audit || created) {
      const prefix = KEY_PREFIXES[type] ?? '0Xm';
      const id = isStandardObject(type, fullName) ? '' : this.ids.next(prefix);
      audit = { id, createdDate: now, lastModifiedDate: now, fileName };
      this.audit.set(key, audit);
    } else if (changed) {
      audit.lastModifiedDate = now;
    }
    return audit;
  }

  /**
   * Stores a component; decomposed ones merge into what exists (deploys add, never drop,
   * children). With `dryRun` it only says what storing would do (ids of new components are empty).
   */
  put(component: ComponentData, dryRun = false): PutOutcome[] {
    if (dryRun) return this.preview(component);
    const key = componentKey(component.type, component.fullName);
    const existing = this.components.get(key);
    const outcomes: PutOutcome[] = [];
    if (component.model) {
      const target = existing?.model
        ? existing
        : { ...component, model: { parent: [], children: new Map() } };
      const model = target.model!;
      const parentChanged =
        component.model.parent.length > 0 &&
        JSON.stringify(model.parent) !== JSON.stringify(component.model.parent);
      if (component.model.parent.length > 0) model.parent = component.model.parent;
      const created = !existing;
      const audit = this.touch(
        component.type,
        component.fullName,
        component.fileName,
        created,
        parentChanged,
      );
      outcomes.push({ ...this.names(component), created, changed: parentChanged, id: audit.id });
      for (const [childType, byName] of component.model.children) {
        for (const [name, node] of byName) {
          const before = model.children.get(childType)?.get(name);
          const childCreated = before === undefined;
          const childChanged = !childCreated && JSON.stringify(before) !== JSON.stringify(node);
          putChild(model, childType, name, node);
          const fullName = childFullName(component.type, component.fullName, name);
          const childAudit = this.touch(childType, fullName, component.fileName, childCreated, childChanged);
          outcomes.push({
            type: childType,
            fullName,
            created: childCreated,
            changed: childChanged,
            id: childAudit.id,
          });
        }
      }
      this.components.set(key, target);
      return outcomes;
    }
    const created = !existing;
    const changed = !created && !sameFiles(existing.files, component.files);
    this.components.set(key, component);
    const audit = this.touch(component.type, component.fullName, component.fileName, created, changed);
    outcomes.push({ ...this.names(component), created, changed, id: audit.id });
    return outcomes;
  }

  private preview(component: ComponentData): PutOutcome[] {
    const existing = this.components.get(componentKey(component.type, component.fullName));
    const idOf = (type: string, fullName: string): string =>
      this.audit.get(componentKey(type, fullName))?.id ?? '';
    if (!component.model) {
      const created = !existing;
      const changed = !created && !sameFiles(existing.files, component.files);
      return [{ ...this.names(component), created, changed, id: idOf(component.type, component.fullName) }];
    }
    const model = existing?.model;
    const parentChanged =
      !!model &&
      component.model.parent.length > 0 &&
      JSON.stringify(model.parent) !== JSON.stringify(component.model.parent);
    const outcomes: PutOutcome[] = [
      {
        ...this.names(component),
        created: !existing,
        changed: parentChanged,
        id: idOf(component.type, component.fullName),
      },
    ];
    for (const [childType, byName] of component.model.children) {
      for (const [name, node] of byName) {
        const before = model?.children.get(childType)?.get(name);
        const fullName = childFullName(component.type, component.fullName, name);
        outcomes.push({
          type: childType,
          fullName,
          created: before === undefined,
          changed: before !== undefined && JSON.stringify(before) !== JSON.stringify(node),
          id: idOf(childType, fullName),
        });
      }
    }
    return outcomes;
  }

  private names(component: ComponentData): { type: string; fullName: string } {
    return { type: component.type, fullName: component.fullName };
  }

  /** The parent component holding a child (`CustomField` `Account.Foo__c`) and the child's own name. */
  childHolder(
    parentType: string,
    childType: string,
    fullName: string,
  ): { parent: ComponentData; name: string } | undefined {
    const split = splitChildFullName(parentType, fullName);
    if (!split) return undefined;
    const parent = this.components.get(componentKey(parentType, split[0]));
    if (!parent?.model?.children.get(childType)?.has(split[1])) return undefined;
    return { parent, name: split[1] };
  }

  /** Deletes a component or one child (`CustomField` `Account.Foo__c`); false when absent. */
  delete(type: string, fullName: string, parentType?: string): boolean {
    if (parentType) {
      const holder = this.childHolder(parentType, type, fullName);
      if (!holder) return false;
      holder.parent.model?.children.get(type)?.delete(holder.name);
      this.audit.delete(componentKey(type, fullName));
      return true;
    }
    const component = this.components.get(componentKey(type, fullName));
    if (!component) return false;
    this.components.delete(componentKey(type, fullName));
    this.audit.delete(componentKey(type, fullName));
    if (component.model) {
      for (const child of childFullNames(type, fullName, component.model))
        this.audit.delete(componentKey(child.type, child.fullName));
    }
    return true;
  }

  /** FileProperties of a component or child, as listMetadata reports it. */
  properties(type: string, fullName: string): FileProperties | undefined {
    const audit = this.audit.get(componentKey(type, fullName));
    if (!audit) return undefined;
    return {
      createdById: this.user.id,
      createdByName: this.user.name,
      createdDate: audit.createdDate,
      fileName: audit.fileName,
      fullName,
      id: audit.id,
      lastModifiedById: this.user.id,
      lastModifiedByName: this.user.name,
      lastModifiedDate: audit.lastModifiedDate,
      manageableState: 'unmanaged',
      type,
    };
  }

  /** Full names of the components of a type, children (`Parent.Child`) included. */
  fullNames(type: string, parentType?: string): string[] {
    if (parentType) {
      const names: string[] = [];
      for (const component of this.components.values()) {
        if (component.type !== parentType || !component.model) continue;
        for (const child of childFullNames(component.type, component.fullName, component.model)) {
          if (child.type === type) names.push(child.fullName);
        }
      }
      return names.sort();
    }
    return [...this.components.values()]
      .filter((c) => c.type === type)
      .map((c) => c.fullName)
      .sort();
  }
}
