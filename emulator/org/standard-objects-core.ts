import type { FieldDef, ObjectDef } from './api.ts';
import { address, picklist, picklistValues, ref, sobject, text, typed } from './schema.ts';

const LONG_TEXT = { length: 32000 };
const READ_ONLY = { createable: false, updateable: false };
const LEAD_SOURCES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'];
const INDUSTRIES = ['Agriculture', 'Banking', 'Chemicals', 'Education', 'Energy', 'Technology', 'Other'];
const RATINGS = ['Hot', 'Warm', 'Cold'];
const SALUTATIONS = ['Mr.', 'Ms.', 'Mrs.', 'Dr.', 'Prof.'];

/** `Name` of people-like objects: built from FirstName and LastName, never written directly. */
function personName(): FieldDef {
  return text('Name', 121, { label: 'Full Name', ...READ_ONLY, nameField: true, nillable: false });
}

const organization = sobject(
  {
    name: 'Organization',
    keyPrefix: '00D',
    isDeleted: false,
    flags: { createable: false, updateable: false },
  },
  [
    text('Name', 80, { nameField: true, nillable: false }),
    text('Division', 80),
    ...address(''),
    text('Phone', 40, { type: 'phone' }),
    text('PrimaryContact', 80),
    text('DefaultLocaleSidKey', 40),
    text('LanguageLocaleKey', 40),
    text('TimeZoneSidKey', 40),
    text('InstanceName', 5, READ_ONLY),
    typed('IsSandbox', 'boolean', READ_ONLY),
    text('OrganizationType', 40, READ_ONLY),
    text('NamespacePrefix', 15, READ_ONLY),
    typed('TrialExpirationDate', 'datetime', READ_ONLY),
  ],
);

const profile = sobject(
  { name: 'Profile', keyPrefix: '00e', isDeleted: false, flags: { createable: false } },
  [
    text('Name', 255, { nameField: true, nillable: false }),
    text('UserType', 40, READ_ONLY),
    text('Description', 255),
  ],
);

const userRole = sobject({ name: 'UserRole', keyPrefix: '00E', isDeleted: false }, [
  text('Name', 80, { nameField: true, nillable: false }),
  text('DeveloperName', 80, { defaultedOnCreate: true }),
  ref('ParentRoleId', ['UserRole'], { relationshipName: null }),
]);

const user = sobject({ name: 'User', keyPrefix: '005', isDeleted: false, flags: { deletable: false } }, [
  text('Username', 80, { nillable: false, unique: true, idLookup: true }),
  text('LastName', 80, { nillable: false }),
  text('FirstName', 40),
  personName(),
  text('CompanyName', 80),
  text('Department', 80),
  text('Title', 80),
  ...address(''),
  typed('Email', 'email', { length: 128, nillable: false }),
  typed('Phone', 'phone'),
  typed('MobilePhone', 'phone'),
  text('Alias', 8, { nillable: false }),
  text('CommunityNickname', 40, { defaultedOnCreate: true }),
  typed('IsActive', 'boolean', { defaultValue: true }),
  picklist(
    'TimeZoneSidKey',
    ['America/Los_Angeles', 'America/New_York', 'Europe/London', 'Europe/Paris', 'GMT'],
    {
      nillable: false,
      length: 40,
    },
  ),
  picklist('LocaleSidKey', ['en_US', 'en_GB', 'fr_FR', 'de_DE'], { nillable: false, length: 40 }),
  picklist('EmailEncodingKey', ['UTF-8', 'ISO-8859-1'], { nillable: false, length: 40 }),
  picklist('LanguageLocaleKey', ['en_US', 'fr', 'de'], { nillable: false, length: 40 }),
  ref('ProfileId', ['Profile'], { nillable: false }),
  ref('UserRoleId', ['UserRole']),
  ref('ManagerId', ['User']),
  picklist('UserType', ['Standard', 'PowerPartner', 'CsnOnly', 'Guest'], {
    ...READ_ONLY,
    defaultedOnCreate: true,
  }),
  text('FederationIdentifier', 512),
  typed('LastLoginDate', 'datetime', READ_ONLY),
]);

const group = sobject({ name: 'Group', keyPrefix: '00G', isDeleted: false }, [
  text('Name', 40, { nameField: true, nillable: false }),
  text('DeveloperName', 80, { defaultedOnCreate: true }),
  picklist('Type', ['Regular', 'Queue', 'Role', 'Organization'], {
    nillable: false,
    restrictedPicklist: true,
  }),
  typed('Email', 'email', { length: 255 }),
  typed('DoesSendEmailToMembers', 'boolean'),
]);

const recordType = sobject(
  { name: 'RecordType', keyPrefix: '012', isDeleted: false, flags: { createable: false, updateable: false } },
  [
    text('Name', 80, { nameField: true, nillable: false }),
    text('DeveloperName', 80, { nillable: false }),
    text('NamespacePrefix', 15),
    text('Description', 255),
    text('SobjectType', 40, { type: 'picklist', nillable: false }),
    typed('IsActive', 'boolean'),
  ],
);

const account = sobject({ name: 'Account', keyPrefix: '001', owner: ['User'] }, [
  ref('MasterRecordId', ['Account'], READ_ONLY),
  text('Name', 255, { label: 'Account Name', nameField: true, nillable: false }),
  picklist('Type', ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Partner', 'Other'], {
    label: 'Account Type',
  }),
  ref('ParentId', ['Account'], { label: 'Parent Account ID', childRelationshipName: 'ChildAccounts' }),
  ...address('Billing'),
  ...address('Shipping'),
  typed('Phone', 'phone', { label: 'Account Phone' }),
  typed('Fax', 'phone', { label: 'Account Fax' }),
  text('AccountNumber', 40),
  typed('Website', 'url'),
  text('Sic', 20, { label: 'SIC Code' }),
  picklist('Industry', INDUSTRIES),
  typed('AnnualRevenue', 'currency', { precision: 18, scale: 0 }),
  typed('NumberOfEmployees', 'int', { label: 'Employees', digits: 8 }),
  picklist('Ownership', ['Public', 'Private', 'Subsidiary', 'Other']),
  text('TickerSymbol', 20),
  typed('Description', 'textarea', { label: 'Account Description', ...LONG_TEXT }),
  picklist('Rating', RATINGS, { label: 'Account Rating' }),
  text('Site', 80, { label: 'Account Site' }),
  picklist('AccountSource', LEAD_SOURCES),
  typed('LastActivityDate', 'date', READ_ONLY),
]);

const contact = sobject({ name: 'Contact', keyPrefix: '003', owner: ['User'] }, [
  ref('MasterRecordId', ['Contact'], READ_ONLY),
  ref('AccountId', ['Account'], { childRelationshipName: 'Contacts', cascadeDelete: true }),
  text('LastName', 80, { nillable: false }),
  text('FirstName', 40),
  picklist('Salutation', SALUTATIONS),
  personName(),
  ...address('Other'),
  ...address('Mailing'),
  typed('Phone', 'phone', { label: 'Business Phone' }),
  typed('Fax', 'phone', { label: 'Business Fax' }),
  typed('MobilePhone', 'phone'),
  typed('HomePhone', 'phone'),
  typed('OtherPhone', 'phone'),
  typed('AssistantPhone', 'phone', { label: 'Asst. Phone' }),
  ref('ReportsToId', ['Contact'], { label: 'Reports To ID' }),
  typed('Email', 'email'),
  text('Title', 128),
  text('Department', 80),
  text('AssistantName', 40),
  picklist('LeadSource', LEAD_SOURCES),
  typed('Birthdate', 'date'),
  typed('Description', 'textarea', { label: 'Contact Description', ...LONG_TEXT }),
  typed('HasOptedOutOfEmail', 'boolean', { label: 'Email Opt Out' }),
  typed('DoNotCall', 'boolean'),
  typed('EmailBouncedDate', 'datetime'),
  typed('IsEmailBounced', 'boolean', READ_ONLY),
  typed('LastActivityDate', 'date', READ_ONLY),
]);

const lead = sobject({ name: 'Lead', keyPrefix: '00Q', owner: ['Group', 'User'] }, [
  ref('MasterRecordId', ['Lead'], READ_ONLY),
  text('LastName', 80, { nillable: false }),
  text('FirstName', 40),
  picklist('Salutation', SALUTATIONS),
  personName(),
  text('Title', 128),
  text('Company', 255, { nillable: false }),
  ...address(''),
  typed('Phone', 'phone'),
  typed('MobilePhone', 'phone'),
  typed('Fax', 'phone'),
  typed('Email', 'email'),
  typed('Website', 'url'),
  typed('Description', 'textarea', LONG_TEXT),
  picklist('LeadSource', LEAD_SOURCES),
  statusPicklist('Status', [
    'Open - Not Contacted',
    'Working - Contacted',
    'Closed - Converted',
    'Closed - Not Converted',
  ]),
  picklist('Industry', INDUSTRIES),
  picklist('Rating', RATINGS),
  typed('AnnualRevenue', 'currency', { precision: 18, scale: 0 }),
  typed('NumberOfEmployees', 'int', { digits: 8 }),
  typed('HasOptedOutOfEmail', 'boolean'),
  typed('IsConverted', 'boolean', READ_ONLY),
  typed('ConvertedDate', 'date', READ_ONLY),
  ref('ConvertedAccountId', ['Account'], READ_ONLY),
  ref('ConvertedContactId', ['Contact'], READ_ONLY),
  ref('ConvertedOpportunityId', ['Opportunity'], READ_ONLY),
  typed('IsUnreadByOwner', 'boolean'),
]);

/** A required picklist whose first value is the default, as Status-like standard fields are. */
function statusPicklist(name: string, values: readonly string[]): FieldDef {
  return picklist(name, values, {
    nillable: false,
    defaultedOnCreate: true,
    defaultValue: values[0] ?? null,
    picklistValues: picklistValues(values, true),
  });
}

const opportunity = sobject({ name: 'Opportunity', keyPrefix: '006', owner: ['User'] }, [
  ref('AccountId', ['Account'], { childRelationshipName: 'Opportunities', cascadeDelete: true }),
  typed('IsPrivate', 'boolean', { label: 'Private' }),
  text('Name', 120, { nameField: true, nillable: false }),
  typed('Description', 'textarea', LONG_TEXT),
  picklist(
    'StageName',
    ['Prospecting', 'Qualification', 'Needs Analysis', 'Proposal/Price Quote', 'Closed Won', 'Closed Lost'],
    { label: 'Stage', nillable: false },
  ),
  typed('Amount', 'currency', { precision: 18, scale: 2 }),
  typed('Probability', 'percent', { precision: 3, scale: 0 }),
  typed('ExpectedRevenue', 'currency', { ...READ_ONLY, calculated: true }),
  typed('TotalOpportunityQuantity', 'double', { precision: 18, scale: 2 }),
  typed('CloseDate', 'date', { nillable: false }),
  picklist('Type', ['Existing Customer - Upgrade', 'New Customer', 'Other'], { label: 'Opportunity Type' }),
  text('NextStep', 255),
  picklist('LeadSource', LEAD_SOURCES),
  typed('IsClosed', 'boolean', READ_ONLY),
  typed('IsWon', 'boolean', READ_ONLY),
  picklist('ForecastCategoryName', ['Pipeline', 'Best Case', 'Commit', 'Omitted', 'Closed'], {
    label: 'Forecast Category',
  }),
  typed('HasOpportunityLineItem', 'boolean', READ_ONLY),
  typed('FiscalYear', 'int', { ...READ_ONLY, digits: 4 }),
  typed('FiscalQuarter', 'int', { ...READ_ONLY, digits: 1 }),
  typed('LastActivityDate', 'date', READ_ONLY),
]);

const caseObject = sobject({ name: 'Case', keyPrefix: '500', owner: ['Group', 'User'] }, [
  ref('MasterRecordId', ['Case'], READ_ONLY),
  text('CaseNumber', 30, {
    ...READ_ONLY,
    autoNumber: true,
    displayFormat: '{00000000}',
    nameField: true,
    nillable: false,
    defaultedOnCreate: true,
  }),
  ref('ContactId', ['Contact'], { childRelationshipName: 'Cases' }),
  ref('AccountId', ['Account'], { childRelationshipName: 'Cases' }),
  ref('ParentId', ['Case'], { childRelationshipName: 'Cases' }),
  text('SuppliedName', 80, { label: 'Web Name' }),
  typed('SuppliedEmail', 'email', { label: 'Web Email' }),
  text('SuppliedPhone', 40, { label: 'Web Phone' }),
  text('SuppliedCompany', 80, { label: 'Web Company' }),
  picklist('Type', ['Mechanical', 'Electrical', 'Electronic', 'Structural', 'Other'], { label: 'Case Type' }),
  statusPicklist('Status', ['New', 'Working', 'Escalated', 'Closed']),
  picklist('Reason', ['Installation', 'Equipment Complexity', 'Performance', 'Breakdown', 'Other'], {
    label: 'Case Reason',
  }),
  picklist('Origin', ['Phone', 'Email', 'Web'], { label: 'Case Origin' }),
  text('Subject', 255),
  picklist('Priority', ['Medium', 'High', 'Low'], {
    defaultedOnCreate: true,
    defaultValue: 'Medium',
    picklistValues: picklistValues(['Medium', 'High', 'Low'], true),
  }),
  typed('Description', 'textarea', LONG_TEXT),
  typed('IsClosed', 'boolean', READ_ONLY),
  typed('ClosedDate', 'datetime', READ_ONLY),
  typed('IsEscalated', 'boolean'),
]);

/** Organization, users, accounts, contacts, leads, opportunities, cases and their helpers. */
export const CORE_OBJECTS: readonly ObjectDef[] = [
  organization,
  profile,
  userRole,
  user,
  group,
  recordType,
  account,
  contact,
  lead,
  opportunity,
  caseObject,
];
