import { afterAll, describe, expect, it } from 'vitest';
import { createMetadataService } from '../../emulator/metadata/index.ts';
import {
  call,
  deploy,
  envelope,
  packageXml,
  parseAnswer,
  removeProjects,
  retrieve,
  SESSION,
  unpackaged,
  writeProject,
} from './metadata-support.ts';

const NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"';
const SRC = 'force-app/main/default';

/** Types the emulator's old hand-written list lacked, laid out as `sf project retrieve` writes them. */
const PROJECT: Record<string, string> = {
  // Decomposed with topLevel decomposition: the version sits beside the bot's own file.
  [`${SRC}/bots/Helper/Helper.bot-meta.xml`]: `<Bot ${NS}><label>Helper</label></Bot>`,
  [`${SRC}/bots/Helper/v1.botVersion-meta.xml`]: `<BotVersion ${NS}><fullName>v1</fullName><entryDialog>Welcome</entryDialog></BotVersion>`,
  // Field translations are named by <name>, not <fullName>.
  [`${SRC}/objectTranslations/Account-es/Account-es.objectTranslation-meta.xml`]: `<CustomObjectTranslation ${NS}><gender>Feminine</gender></CustomObjectTranslation>`,
  [`${SRC}/objectTranslations/Account-es/Rating__c.fieldTranslation-meta.xml`]: `<CustomFieldTranslation ${NS}><label>Valoracion</label><name>Rating__c</name></CustomFieldTranslation>`,
  // Folders: a report, a dashboard and an email template, each with its folder's metadata.
  [`${SRC}/reports/Sales.reportFolder-meta.xml`]: `<ReportFolder ${NS}><name>Sales</name></ReportFolder>`,
  [`${SRC}/reports/Sales/Pipeline.report-meta.xml`]: `<Report ${NS}><name>Pipeline</name><format>Tabular</format></Report>`,
  [`${SRC}/dashboards/Exec.dashboardFolder-meta.xml`]: `<DashboardFolder ${NS}><name>Exec</name></DashboardFolder>`,
  [`${SRC}/dashboards/Exec/Board.dashboard-meta.xml`]: `<Dashboard ${NS}><title>Board</title></Dashboard>`,
  [`${SRC}/email/Notices.emailFolder-meta.xml`]: `<EmailFolder ${NS}><name>Notices</name></EmailFolder>`,
  [`${SRC}/email/Notices/Welcome.email`]: 'Hello {!Contact.FirstName}',
  [`${SRC}/email/Notices/Welcome.email-meta.xml`]: `<EmailTemplate ${NS}><name>Welcome</name><type>text</type></EmailTemplate>`,
  // Bundles: an LWC, an experience bundle (folder plus .site-meta.xml beside it), a folder static resource.
  [`${SRC}/lwc/card/card.js`]: 'export default class Card {}',
  [`${SRC}/lwc/card/card.js-meta.xml`]: `<LightningComponentBundle ${NS}><apiVersion>64.0</apiVersion></LightningComponentBundle>`,
  [`${SRC}/experiences/Portal1.site-meta.xml`]: `<ExperienceBundle ${NS}><label>Portal</label><type>Community</type></ExperienceBundle>`,
  [`${SRC}/experiences/Portal1/config/portal.json`]: '{"type":"site"}',
  [`${SRC}/experiences/Portal1/views/home.json`]: '{"id":"home"}',
  [`${SRC}/staticresources/app.resource-meta.xml`]: `<StaticResource ${NS}><contentType>application/zip</contentType></StaticResource>`,
  [`${SRC}/staticresources/app/index.html`]: '<html></html>',
  // A directory several types share, told apart by suffix, and a plain type no hand list had.
  [`${SRC}/wave/Sales.wdash`]: '{"state":{}}',
  [`${SRC}/wave/Sales.wdash-meta.xml`]: `<WaveDashboard ${NS}><masterLabel>Sales</masterLabel></WaveDashboard>`,
  [`${SRC}/wave/Deals.wlens`]: '{"state":{}}',
  [`${SRC}/wave/Deals.wlens-meta.xml`]: `<WaveLens ${NS}><masterLabel>Deals</masterLabel></WaveLens>`,
  [`${SRC}/featureParameters/Seats.featureParameterInteger-meta.xml`]: `<FeatureParameterInteger ${NS}><dataflowDirection>LmoToSubscriber</dataflowDirection><masterLabel>Seats</masterLabel><value>5</value></FeatureParameterInteger>`,
  [`${SRC}/workflows/Case.workflow-meta.xml`]: `<Workflow ${NS}><alerts><fullName>Notify</fullName><description>Tell the owner</description></alerts><rules><fullName>Escalate</fullName><active>true</active></rules></Workflow>`,
};

/** A DigitalExperienceBundle: its adapter is one the emulator does not implement. */
const REFUSED_FILES: Record<string, string> = {
  [`${SRC}/digitalExperiences/site/Portal2/Portal2.digitalExperience-meta.xml`]: `<DigitalExperienceBundle ${NS}><label>Portal2</label></DigitalExperienceBundle>`,
  [`${SRC}/digitalExperiences/site/Portal2/sfdc_cms__view/home/content.json`]: '{"type":"sfdc_cms__view"}',
};

describe('metadata types beyond the common ones', () => {
  afterAll(removeProjects);

  it('loads a project of bots, translations, folders, bundles and shared directories with nothing left out', () => {
    const service = createMetadataService({ projectDirs: [writeProject(PROJECT)] });
    expect(service.loadReport()).toEqual({ unmapped: [], generic: [] });
    expect(service.components().map((c) => `${c.type}:${c.fullName}`)).toEqual([
      'Bot:Helper',
      'CustomObjectTranslation:Account-es',
      'Dashboard:Exec/Board',
      'DashboardFolder:Exec',
      'EmailFolder:Notices',
      'EmailTemplate:Notices/Welcome',
      'ExperienceBundle:Portal1',
      'FeatureParameterInteger:Seats',
      'LightningComponentBundle:card',
      'Report:Sales/Pipeline',
      'ReportFolder:Sales',
      'StaticResource:app',
      'WaveDashboard:Sales',
      'WaveLens:Deals',
      'Workflow:Case',
    ]);
    expect(service.list('BotVersion').map((p) => p.fullName)).toEqual(['Helper.v1']);
    expect(service.list('WorkflowAlert').map((p) => p.fullName)).toEqual(['Case.Notify']);
  });

  it('retrieves each of them back in Metadata API format, as package.xml names them', async () => {
    const service = createMetadataService({ projectDirs: [writeProject(PROJECT)] });
    const { result, files } = await retrieve(
      service,
      unpackaged({
        Bot: ['Helper'],
        CustomObjectTranslation: ['Account-es'],
        Dashboard: ['Exec', 'Exec/Board'],
        EmailTemplate: ['Notices', 'Notices/Welcome'],
        ExperienceBundle: ['Portal1'],
        FeatureParameterInteger: ['Seats'],
        LightningComponentBundle: ['card'],
        Report: ['Sales', 'Sales/Pipeline'],
        StaticResource: ['app'],
        WaveDashboard: ['Sales'],
        WaveLens: ['Deals'],
        WorkflowRule: ['Case.Escalate'],
      }),
    );
    expect(result.messages).toBeUndefined();
    expect(Object.keys(files).sort()).toEqual([
      'bots/Helper.bot',
      'dashboards/Exec-meta.xml',
      'dashboards/Exec/Board.dashboard',
      'email/Notices-meta.xml',
      'email/Notices/Welcome.email',
      'email/Notices/Welcome.email-meta.xml',
      'experiences/Portal1.site-meta.xml',
      'experiences/Portal1/config/portal.json',
      'experiences/Portal1/views/home.json',
      'featureParameters/Seats.featureParameterInteger',
      'lwc/card/card.js',
      'lwc/card/card.js-meta.xml',
      'objectTranslations/Account-es.objectTranslation',
      'package.xml',
      'reports/Sales-meta.xml',
      'reports/Sales/Pipeline.report',
      'staticresources/app.resource',
      'staticresources/app.resource-meta.xml',
      'wave/Deals.wlens',
      'wave/Deals.wlens-meta.xml',
      'wave/Sales.wdash',
      'wave/Sales.wdash-meta.xml',
      'workflows/Case.workflow',
    ]);
    expect(files['bots/Helper.bot']).toMatch(
      /<Bot [^>]*>\s*<botVersions>\s*<fullName>v1<\/fullName>\s*<entryDialog>Welcome<\/entryDialog>\s*<\/botVersions>\s*<label>Helper<\/label>/,
    );
    expect(files['objectTranslations/Account-es.objectTranslation']).toMatch(
      /<fields>\s*<label>Valoracion<\/label>\s*<name>Rating__c<\/name>\s*<\/fields>\s*<gender>Feminine<\/gender>/,
    );
    expect(files['workflows/Case.workflow']).toContain('<fullName>Escalate</fullName>');
    expect(files['workflows/Case.workflow']).not.toContain('Notify');
    expect(files['experiences/Portal1/views/home.json']).toBe('{"id":"home"}');
  });

  it('deploys a bot and an experience bundle that a later retrieve returns', async () => {
    const service = createMetadataService({ projectDirs: [writeProject({ [`${SRC}/.keep`]: '' })] });
    const { result } = await deploy(service, {
      'package.xml': packageXml({ Bot: ['Greeter'], ExperienceBundle: ['Shop'] }),
      'bots/Greeter.bot': `<Bot ${NS}><botVersions><fullName>v2</fullName></botVersions><label>Greeter</label></Bot>`,
      'experiences/Shop.site-meta.xml': `<ExperienceBundle ${NS}><label>Shop</label></ExperienceBundle>`,
      'experiences/Shop/config/shop.json': '{}',
    });
    expect(result.status).toBe('Succeeded');
    expect(service.list('BotVersion').map((p) => p.fullName)).toEqual(['Greeter.v2']);
    const { files } = await retrieve(service, unpackaged({ ExperienceBundle: ['Shop'] }));
    expect(files['experiences/Shop/config/shop.json']).toBe('{}');
  });
});

describe('metadata types the emulator does not serve', () => {
  afterAll(removeProjects);

  it('reports their files when a project is loaded instead of dropping them', () => {
    const service = createMetadataService({ projectDirs: [writeProject({ ...PROJECT, ...REFUSED_FILES })] });
    expect(service.loadReport().unmapped).toEqual([
      {
        path: `${SRC}/digitalExperiences`,
        reason: expect.stringMatching(/^DigitalExperienceBundle is not served by the emulator: /),
      },
    ]);
  });

  it('reports a file in a directory several types share whose suffix names none of them', () => {
    const service = createMetadataService({
      projectDirs: [writeProject({ ...PROJECT, [`${SRC}/wave/Odd.wunknown`]: '{"state":{}}' })],
    });
    expect(service.loadReport().unmapped).toEqual([
      { path: `${SRC}/wave/Odd.wunknown`, reason: 'no type of the shared directory wave has this suffix' },
    ]);
    expect(service.components().filter((c) => c.fullName.startsWith('Odd'))).toEqual([]);
  });

  it('fails a deploy of a refused type whose files are in the zip though package.xml does not name it', async () => {
    const service = createMetadataService({ projectDirs: [writeProject(PROJECT)] });
    const file = 'digitalExperiences/site/Portal2/Portal2.digitalExperience-meta.xml';

    const deployed = await deploy(service, {
      'package.xml': packageXml({ WaveLens: ['Deals'] }),
      [file]: REFUSED_FILES[`${SRC}/${file}`] as string,
      'wave/Deals.wlens': '{"state":{}}',
      'wave/Deals.wlens-meta.xml': `<WaveLens ${NS}><masterLabel>Deals</masterLabel></WaveLens>`,
    });

    expect(deployed.result.status).toBe('Failed');
    const details = deployed.result.details as { componentFailures: Array<Record<string, unknown>> };
    expect(details.componentFailures).toEqual([
      expect.objectContaining({
        componentType: 'DigitalExperienceBundle',
        problem: "Unknown type name 'DigitalExperienceBundle' specified in package.xml",
        problemType: 'Error',
      }),
    ]);
  });

  it('fails a deploy of a file in a directory several types share whose suffix names none of them', async () => {
    const service = createMetadataService({ projectDirs: [writeProject(PROJECT)] });

    const deployed = await deploy(service, {
      'package.xml': packageXml({ WaveLens: ['Deals'] }),
      'wave/Deals.wlens': '{"state":{}}',
      'wave/Deals.wlens-meta.xml': `<WaveLens ${NS}><masterLabel>Deals</masterLabel></WaveLens>`,
      'wave/Odd.wunknown': '{"state":{}}',
    });

    expect(deployed.result.status).toBe('Failed');
    const details = deployed.result.details as { componentFailures: Array<Record<string, unknown>> };
    expect(details.componentFailures).toEqual([
      expect.objectContaining({
        problem: 'No metadata type of the wave directory has the suffix of Odd.wunknown',
        problemType: 'Error',
      }),
    ]);
  });

  it('answers listMetadata as an org that has not enabled the type', async () => {
    const service = createMetadataService({ projectDirs: [writeProject(REFUSED_FILES)] });
    const answer = await service.handle(
      envelope(
        'listMetadata',
        '<queries><type>DigitalExperienceBundle</type></queries><asOfVersion>64.0</asOfVersion>',
      ),
      { checkSession: (id) => id === SESSION },
    );
    expect(answer.status).toBe(500);
    expect(parseAnswer(answer.body).fault).toMatchObject({
      faultcode: 'sf:INVALID_TYPE',
      faultstring: 'INVALID_TYPE: Cannot use: DigitalExperienceBundle in this organization',
    });
    // The rest of the call still works for served types.
    expect(await call(service, 'listMetadata', '<queries><type>ApexClass</type></queries>')).toEqual([]);
  });

  it("warns in the retrieve's messages and fails a deploy naming the type, with Salesforce's text", async () => {
    const service = createMetadataService({ projectDirs: [writeProject(REFUSED_FILES)] });
    const { result } = await retrieve(service, unpackaged({ DigitalExperienceBundle: ['site/Portal2'] }));
    expect(result.messages).toEqual([
      {
        fileName: 'package.xml',
        problem: "Unknown type name 'DigitalExperienceBundle' specified in package.xml",
      },
    ]);
    const deployed = await deploy(service, {
      'package.xml': packageXml({ DigitalExperienceBundle: ['site/Portal2'] }),
      'digitalExperiences/site/Portal2/Portal2.digitalExperience-meta.xml': REFUSED_FILES[
        `${SRC}/digitalExperiences/site/Portal2/Portal2.digitalExperience-meta.xml`
      ] as string,
    });
    expect(deployed.result.status).toBe('Failed');
    const details = deployed.result.details as { componentFailures: Array<Record<string, unknown>> };
    expect(details.componentFailures).toEqual([
      expect.objectContaining({
        problem: "Unknown type name 'DigitalExperienceBundle' specified in package.xml",
        problemType: 'Error',
      }),
    ]);
  });
});
