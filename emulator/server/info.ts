import type { EmulatorContext, Handler } from './context.ts';
import { identityUrl } from './oauth.ts';

/** Release label of an API version (`62.0` is Winter '25). */
export function releaseLabel(version: string): string {
  const v = Math.trunc(Number(version));
  const season = v % 3;
  if (season === 0) return `Spring '${String((v - 60) / 3 + 24).padStart(2, '0')}`;
  if (season === 1) return `Summer '${String((v - 61) / 3 + 24).padStart(2, '0')}`;
  return `Winter '${String((v - 62) / 3 + 25).padStart(2, '0')}`;
}

/** Every version from `min` to `max` inclusive, as `NN.0` strings. */
export function versionRange(min: number, max: number): string[] {
  const out: string[] = [];
  for (let v = min; v <= max; v++) out.push(`${v}.0`);
  return out;
}

/** GET /services/data: the versions list. */
export const versionsList: Handler = async (ctx) => ({
  status: 200,
  body: ctx.versions.map((version) => ({
    label: releaseLabel(version),
    url: `/services/data/v${version}`,
    version,
  })),
});

/** GET /services/data/vXX.X: the resources of a version. */
export const resources: Handler = async (ctx, req) => {
  const base = `/services/data/v${req.version}`;
  const names = [
    'tooling',
    'metadata',
    'jobs',
    'sobjects',
    'query',
    'queryAll',
    'composite',
    'limits',
    'search',
    'recent',
    'tabs',
    'theme',
  ];
  const body: Record<string, string> = {};
  for (const name of names) body[name] = `${base}/${name}`;
  body.identity = identityUrl(ctx);
  return { status: 200, body };
};

function limit(max: number, remaining: number): { Max: number; Remaining: number } {
  return { Max: max, Remaining: Math.max(0, remaining) };
}

/** The `/limits` document: the daily API allowance as counted here, other limits static. */
export function limitsDocument(ctx: EmulatorContext): Record<string, { Max: number; Remaining: number }> {
  const { usage } = ctx;
  const rows = Object.values(ctx.org.rowCounts()).reduce((n, c) => n + c.live + c.deleted, 0);
  // Salesforce counts 2 KB of data storage per row.
  const dataMb = Math.ceil((rows * 2) / 1024);
  return {
    ActiveScratchOrgs: limit(0, 0),
    AnalyticsExternalDataSizeMB: limit(40960, 40960),
    ConcurrentAsyncGetReportInstances: limit(200, 200),
    ConcurrentSyncReportRuns: limit(20, 20),
    DailyAnalyticsDataflowJobExecutions: limit(60, 60),
    DailyApiRequests: limit(usage.dailyAllowance, usage.remaining),
    DailyAsyncApexExecutions: limit(250000, 250000),
    DailyBulkApiBatches: limit(15000, 15000),
    DailyBulkV2QueryFileStorageMB: limit(976562, 976562 - usage.bulkQueryMegabytesUsed),
    DailyBulkV2QueryJobs: limit(10000, 10000 - usage.bulkQueryJobsUsed),
    DailyDurableGenericStreamingApiEvents: limit(10000, 10000),
    DailyDurableStreamingApiEvents: limit(10000, 10000),
    DailyGenericStreamingApiEvents: limit(10000, 10000),
    DailyScratchOrgs: limit(0, 0),
    DailyStandardVolumePlatformEvents: limit(10000, 10000),
    DailyStreamingApiEvents: limit(10000, 10000),
    DailyWorkflowEmails: limit(1890, 1890),
    DataStorageMB: limit(1024, 1024 - dataMb),
    FileStorageMB: limit(10240, 10240),
    HourlyAsyncReportRuns: limit(1200, 1200),
    HourlyDashboardRefreshes: limit(200, 200),
    HourlyDashboardResults: limit(5000, 5000),
    HourlyDashboardStatuses: limit(999999999, 999999999),
    HourlyODataCallout: limit(10000, 10000),
    HourlySyncReportRuns: limit(500, 500),
    HourlyTimeBasedWorkflow: limit(1000, 1000),
    MassEmail: limit(5000, 5000),
    PermissionSets: limit(1500, 1500),
    SingleEmail: limit(5000, 5000),
    StreamingApiConcurrentClients: limit(2000, 2000),
  };
}

/** GET /limits. */
export const limits: Handler = async (ctx) => ({ status: 200, body: limitsDocument(ctx) });
