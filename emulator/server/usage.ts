import type { EndpointName } from './faults.ts';

/** Default daily API allowance (an Enterprise Edition org's base allowance). */
export const DEFAULT_DAILY_API_REQUESTS = 100_000;

/** Counts API requests against the daily allowance, by endpoint, plus Bulk usage for `/limits`. */
export class ApiUsage {
  private used = 0;
  private bulkQueryJobs = 0;
  private bulkQueryBytes = 0;
  private readonly byEndpoint = new Map<string, number>();

  constructor(public dailyAllowance: number) {}

  /** Counts one request; false when the allowance is already spent (the request must be refused). */
  take(endpoint: EndpointName): boolean {
    this.byEndpoint.set(endpoint, (this.byEndpoint.get(endpoint) ?? 0) + 1);
    if (this.used >= this.dailyAllowance) return false;
    this.used += 1;
    return true;
  }

  /** Records a Bulk query job (for DailyBulkV2QueryJobs). */
  addBulkQueryJob(): void {
    this.bulkQueryJobs += 1;
  }

  /** Records bytes of Bulk query results served (for DailyBulkV2QueryFileStorageMB). */
  addBulkQueryBytes(bytes: number): void {
    this.bulkQueryBytes += bytes;
  }

  /** Requests used so far. */
  get apiRequestsUsed(): number {
    return this.used;
  }

  /** Requests left today. */
  get remaining(): number {
    return Math.max(0, this.dailyAllowance - this.used);
  }

  /** Bulk query jobs created so far. */
  get bulkQueryJobsUsed(): number {
    return this.bulkQueryJobs;
  }

  /** Megabytes of Bulk query results served so far. */
  get bulkQueryMegabytesUsed(): number {
    return Math.ceil(this.bulkQueryBytes / (1024 * 1024));
  }

  /** Requests by endpoint name (refused ones included). */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.byEndpoint.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Starts a new day: everything back to zero. */
  reset(): void {
    this.used = 0;
    this.bulkQueryJobs = 0;
    this.bulkQueryBytes = 0;
    this.byEndpoint.clear();
  }
}
