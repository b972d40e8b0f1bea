/**
 * The Metadata API types the emulator knows: names, directories and suffixes as Salesforce's
 * metadata coverage report and `describeMetadata` give them, plus how each is laid out in sfdx
 * source format so a project can be turned into Metadata API format.
 */

/**
 * How a type's files look on disk:
 * - `xml`: one `Name.suffix-meta.xml` in source, `Name.suffix` in Metadata API format.
 * - `content`: a content file `Name.suffix` plus `Name.suffix-meta.xml`, identical in both formats.
 * - `bundle`: a folder `dir/Name/` whose files travel together (LWC, Aura).
 * - `resource`: static resources: `Name.resource-meta.xml` plus a file or folder of content.
 * - `decomposed`: custom objects and the like, split into one file per child in source format.
 * - `document`: documents: `Name.ext` plus `Name.document-meta.xml` (`Name.ext-meta.xml` in MDAPI).
 */
export type TypeLayout = 'xml' | 'content' | 'bundle' | 'resource' | 'decomposed' | 'document';

/** A child type stored inside its parent's file (CustomField inside CustomObject). */
export interface ChildTypeInfo {
  readonly xmlName: string;
  /** Element name inside the parent file (`fields`). */
  readonly element: string;
  /** Folder of the child files in source format (`fields`). */
  readonly directoryName: string;
  /** Source-format suffix (`field` for `Name.field-meta.xml`). */
  readonly suffix: string;
}

/** One Metadata API type. */
export interface MetadataTypeInfo {
  readonly xmlName: string;
  readonly directoryName: string;
  /** File suffix in Metadata API format; undefined for bundles. */
  readonly suffix: string | undefined;
  readonly layout: TypeLayout;
  /** True when Metadata API format carries a separate `-meta.xml` beside the content. */
  readonly metaFile: boolean;
  /** Components live in folders (`reports/Folder/Name.report`). */
  readonly inFolder: boolean;
  /** The folder type for inFolder types (ReportFolder for Report). */
  readonly folderType?: string;
  readonly children: readonly ChildTypeInfo[];
  /** Found in a project but unknown to the table; described from the project's files. */
  readonly generic?: boolean;
}

const OBJECT_CHILDREN: ChildTypeInfo[] = [
  {
    xmlName: 'BusinessProcess',
    element: 'businessProcesses',
    directoryName: 'businessProcesses',
    suffix: 'businessProcess',
  },
  {
    xmlName: 'CompactLayout',
    element: 'compactLayouts',
    directoryName: 'compactLayouts',
    suffix: 'compactLayout',
  },
  { xmlName: 'CustomField', element: 'fields', directoryName: 'fields', suffix: 'field' },
  { xmlName: 'FieldSet', element: 'fieldSets', directoryName: 'fieldSets', suffix: 'fieldSet' },
  { xmlName: 'Index', element: 'indexes', directoryName: 'indexes', suffix: 'index' },
  { xmlName: 'ListView', element: 'listViews', directoryName: 'listViews', suffix: 'listView' },
  { xmlName: 'RecordType', element: 'recordTypes', directoryName: 'recordTypes', suffix: 'recordType' },
  {
    xmlName: 'SharingReason',
    element: 'sharingReasons',
    directoryName: 'sharingReasons',
    suffix: 'sharingReason',
  },
  {
    xmlName: 'ValidationRule',
    element: 'validationRules',
    directoryName: 'validationRules',
    suffix: 'validationRule',
  },
  { xmlName: 'WebLink', element: 'webLinks', directoryName: 'webLinks', suffix: 'webLink' },
];

const TRANSLATION_CHILDREN: ChildTypeInfo[] = [
  {
    xmlName: 'CustomFieldTranslation',
    element: 'fields',
    directoryName: 'fields',
    suffix: 'fieldTranslation',
  },
];

/** [xmlName, directoryName, suffix, layout] for the plain types; extras are patched below. */
const PLAIN: ReadonlyArray<readonly [string, string, string | undefined, TypeLayout]> = [
  ['ApexClass', 'classes', 'cls', 'content'],
  ['ApexTrigger', 'triggers', 'trigger', 'content'],
  ['ApexPage', 'pages', 'page', 'content'],
  ['ApexComponent', 'components', 'component', 'content'],
  ['ApexTestSuite', 'testSuites', 'testSuite', 'xml'],
  ['ApexEmailNotifications', 'apexEmailNotifications', 'notifications', 'xml'],
  ['AppMenu', 'appMenus', 'appMenu', 'xml'],
  ['AssignmentRules', 'assignmentRules', 'assignmentRules', 'xml'],
  ['AuraDefinitionBundle', 'aura', undefined, 'bundle'],
  ['AuthProvider', 'authproviders', 'authprovider', 'xml'],
  ['AutoResponseRules', 'autoResponseRules', 'autoResponseRules', 'xml'],
  ['BrandingSet', 'brandingSets', 'brandingSet', 'xml'],
  ['CallCenter', 'callCenters', 'callCenter', 'xml'],
  ['Certificate', 'certs', 'crt', 'content'],
  ['CleanDataService', 'cleanDataServices', 'cleanDataService', 'xml'],
  ['ConnectedApp', 'connectedApps', 'connectedApp', 'xml'],
  ['ContentAsset', 'contentassets', 'asset', 'content'],
  ['CspTrustedSite', 'cspTrustedSites', 'cspTrustedSite', 'xml'],
  ['CustomApplication', 'applications', 'app', 'xml'],
  ['CustomLabels', 'labels', 'labels', 'xml'],
  ['CustomMetadata', 'customMetadata', 'md', 'xml'],
  ['CustomNotificationType', 'notificationtypes', 'notiftype', 'xml'],
  ['CustomPageWebLink', 'weblinks', 'weblink', 'xml'],
  ['CustomPermission', 'customPermissions', 'customPermission', 'xml'],
  ['CustomSite', 'sites', 'site', 'xml'],
  ['CustomTab', 'tabs', 'tab', 'xml'],
  ['DuplicateRule', 'duplicateRules', 'duplicateRule', 'xml'],
  ['EscalationRules', 'escalationRules', 'escalationRules', 'xml'],
  ['ExternalCredential', 'externalCredentials', 'externalCredential', 'xml'],
  ['ExternalDataSource', 'dataSources', 'dataSource', 'xml'],
  ['FlexiPage', 'flexipages', 'flexipage', 'xml'],
  ['Flow', 'flows', 'flow', 'xml'],
  ['FlowDefinition', 'flowDefinitions', 'flowDefinition', 'xml'],
  ['GlobalValueSet', 'globalValueSets', 'globalValueSet', 'xml'],
  ['GlobalValueSetTranslation', 'globalValueSetTranslations', 'globalValueSetTranslation', 'xml'],
  ['Group', 'groups', 'group', 'xml'],
  ['HomePageLayout', 'homePageLayouts', 'homePageLayout', 'xml'],
  ['InstalledPackage', 'installedPackages', 'installedPackage', 'xml'],
  ['Layout', 'layouts', 'layout', 'xml'],
  ['Letterhead', 'letterhead', 'letter', 'xml'],
  ['LightningComponentBundle', 'lwc', undefined, 'bundle'],
  ['LightningExperienceTheme', 'lightningExperienceThemes', 'lightningExperienceTheme', 'xml'],
  ['LightningMessageChannel', 'messageChannels', 'messageChannel', 'xml'],
  ['ManagedContentType', 'managedContentTypes', 'managedContentType', 'xml'],
  ['MatchingRules', 'matchingRules', 'matchingRule', 'xml'],
  ['NamedCredential', 'namedCredentials', 'namedCredential', 'xml'],
  ['NavigationMenu', 'navigationMenus', 'navigationMenu', 'xml'],
  ['Network', 'networks', 'network', 'xml'],
  ['PathAssistant', 'pathAssistants', 'pathAssistant', 'xml'],
  ['PermissionSet', 'permissionsets', 'permissionset', 'xml'],
  ['PermissionSetGroup', 'permissionsetgroups', 'permissionsetgroup', 'xml'],
  ['PlatformEventChannel', 'platformEventChannels', 'platformEventChannel', 'xml'],
  ['Profile', 'profiles', 'profile', 'xml'],
  ['QuickAction', 'quickActions', 'quickAction', 'xml'],
  ['Queue', 'queues', 'queue', 'xml'],
  ['RemoteSiteSetting', 'remoteSiteSettings', 'remoteSite', 'xml'],
  ['ReportType', 'reportTypes', 'reportType', 'xml'],
  ['Role', 'roles', 'role', 'xml'],
  ['Settings', 'settings', 'settings', 'xml'],
  ['SharingRules', 'sharingRules', 'sharingRules', 'xml'],
  ['StandardValueSet', 'standardValueSets', 'standardValueSet', 'xml'],
  ['StandardValueSetTranslation', 'standardValueSetTranslations', 'standardValueSetTranslation', 'xml'],
  ['StaticResource', 'staticresources', 'resource', 'resource'],
  ['TopicsForObjects', 'topicsForObjects', 'topicsForObjects', 'xml'],
  ['Translations', 'translations', 'translation', 'xml'],
  ['WaveTemplateBundle', 'waveTemplates', undefined, 'bundle'],
  ['Workflow', 'workflows', 'workflow', 'xml'],
  // Folders of the inFolder types share their content type's directory.
  ['DashboardFolder', 'dashboards', 'dashboardFolder', 'xml'],
  ['DocumentFolder', 'documents', 'documentFolder', 'xml'],
  ['EmailFolder', 'email', 'emailFolder', 'xml'],
  ['ReportFolder', 'reports', 'reportFolder', 'xml'],
];

/**
 * Children of the types kept in one file in both formats (labels, workflows, sharing rules...):
 * [child xmlName, element name in the parent file]. They are listed and retrieved one by one.
 */
const FILE_CHILDREN: Record<string, Array<readonly [string, string]>> = {
  AssignmentRules: [['AssignmentRule', 'assignmentRule']],
  AutoResponseRules: [['AutoResponseRule', 'autoResponseRule']],
  CustomLabels: [['CustomLabel', 'labels']],
  EscalationRules: [['EscalationRule', 'escalationRule']],
  MatchingRules: [['MatchingRule', 'matchingRules']],
  SharingRules: [
    ['SharingCriteriaRule', 'sharingCriteriaRules'],
    ['SharingGuestRule', 'sharingGuestRules'],
    ['SharingOwnerRule', 'sharingOwnerRules'],
    ['SharingTerritoryRule', 'sharingTerritoryRules'],
  ],
  Workflow: [
    ['WorkflowAlert', 'alerts'],
    ['WorkflowFieldUpdate', 'fieldUpdates'],
    ['WorkflowFlowAction', 'flowActions'],
    ['WorkflowKnowledgePublish', 'knowledgePublishes'],
    ['WorkflowOutboundMessage', 'outboundMessages'],
    ['WorkflowRule', 'rules'],
    ['WorkflowSend', 'send'],
    ['WorkflowTask', 'tasks'],
  ],
};

function plain(
  xmlName: string,
  directoryName: string,
  suffix: string | undefined,
  layout: TypeLayout,
): MetadataTypeInfo {
  const children = FILE_CHILDREN[xmlName] ?? [];
  return {
    xmlName,
    directoryName,
    suffix,
    layout,
    metaFile: layout === 'content' || layout === 'resource',
    inFolder: false,
    // These children stay inside their parent's file in source format too: no folder, no suffix.
    children: children.map(([name, element]) => ({ xmlName: name, element, directoryName: '', suffix: '' })),
  };
}

const SPECIAL: MetadataTypeInfo[] = [
  {
    xmlName: 'CustomObject',
    directoryName: 'objects',
    suffix: 'object',
    layout: 'decomposed',
    metaFile: false,
    inFolder: false,
    children: OBJECT_CHILDREN,
  },
  {
    xmlName: 'CustomObjectTranslation',
    directoryName: 'objectTranslations',
    suffix: 'objectTranslation',
    layout: 'decomposed',
    metaFile: false,
    inFolder: false,
    children: TRANSLATION_CHILDREN,
  },
  { ...plain('Dashboard', 'dashboards', 'dashboard', 'xml'), inFolder: true, folderType: 'DashboardFolder' },
  {
    ...plain('Document', 'documents', undefined, 'document'),
    metaFile: true,
    inFolder: true,
    folderType: 'DocumentFolder',
  },
  { ...plain('EmailTemplate', 'email', 'email', 'content'), inFolder: true, folderType: 'EmailFolder' },
  { ...plain('Report', 'reports', 'report', 'xml'), inFolder: true, folderType: 'ReportFolder' },
];

/** Every known type, in describeMetadata order (alphabetical by xmlName). */
export const METADATA_TYPES: readonly MetadataTypeInfo[] = [
  ...PLAIN.map(([n, d, s, l]) => plain(n, d, s, l)),
  ...SPECIAL,
].sort((a, b) => a.xmlName.localeCompare(b.xmlName));

/**
 * Type lookups for one org: the known types plus generic ones discovered in a loaded project
 * (an unknown folder whose XML files name their type in the root element).
 */
export class TypeRegistry {
  private readonly byName = new Map<string, MetadataTypeInfo>();
  private readonly byDirectory = new Map<string, MetadataTypeInfo>();
  private readonly childByName = new Map<string, { parent: MetadataTypeInfo; child: ChildTypeInfo }>();

  constructor() {
    for (const t of METADATA_TYPES) this.add(t);
  }

  /** Registers a type; the first type claiming a directory keeps it, except inFolder types. */
  add(type: MetadataTypeInfo): void {
    this.byName.set(type.xmlName, type);
    const holder = this.byDirectory.get(type.directoryName);
    const isFolderType = METADATA_TYPES.some((t) => t.folderType === type.xmlName);
    if (!holder || (type.inFolder && !isFolderType)) this.byDirectory.set(type.directoryName, type);
    for (const child of type.children) this.childByName.set(child.xmlName, { parent: type, child });
  }

  /** Every type, alphabetical by xmlName. */
  all(): MetadataTypeInfo[] {
    return [...this.byName.values()].sort((a, b) => a.xmlName.localeCompare(b.xmlName));
  }

  /** The type with this xmlName, or undefined. */
  byXmlName(xmlName: string): MetadataTypeInfo | undefined {
    return this.byName.get(xmlName);
  }

  /** The decomposed parent type and child description of a child type name (CustomField). */
  child(xmlName: string): { parent: MetadataTypeInfo; child: ChildTypeInfo } | undefined {
    return this.childByName.get(xmlName);
  }

  /** The content type whose components live in this directory, or undefined. */
  byDirectoryName(directoryName: string): MetadataTypeInfo | undefined {
    return this.byDirectory.get(directoryName);
  }

  /** The folder type of an inFolder type (ReportFolder for Report). */
  folderTypeOf(type: MetadataTypeInfo): MetadataTypeInfo | undefined {
    return type.folderType ? this.byName.get(type.folderType) : undefined;
  }
}

/** True when a type's components are held as a parent with named children (objects, labels, workflows). */
export function hasChildren(type: MetadataTypeInfo): boolean {
  return type.children.length > 0;
}

/**
 * The full name of a child: `Parent.Child` (`Account.Phone__c`), except custom labels, which are
 * named alone because all of them live in the one `CustomLabels` component.
 */
export function childFullName(parentType: string, parentName: string, childName: string): string {
  return parentType === 'CustomLabels' ? childName : `${parentName}.${childName}`;
}

/** Splits a child's full name into its parent's name and its own; undefined when it has no parent part. */
export function splitChildFullName(parentType: string, fullName: string): [string, string] | undefined {
  if (parentType === 'CustomLabels') return ['CustomLabels', fullName];
  const dot = fullName.indexOf('.');
  return dot > 0 ? [fullName.slice(0, dot), fullName.slice(dot + 1)] : undefined;
}
