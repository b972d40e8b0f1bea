import type { EndpointName } from './faults.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Default daily API allowance (an Enterprise Edition org's base allowance). */
export const DEFAULT_DAILY_API_REQUESTS = 100_000;

/** Counts API requests against the daily allowance, by endpoint, plus Bulk usage for `/limits`. */
export class ApiUsage {
  private used = 0;
  private bulkQueryJobs = 0;
  private bulkQueryBytes = 0;
  private bulkResultBytesSent = 0;
  private readonly byEndpoint = new Map<string, number>();

  private dayStart: number;

  constructor(
    public dailyAllowance: number,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.dayStart = now().getTime();
  }

  /** A new allowance once a day has passed on the org's clock since the counting began. */
  private rollDay(): void {
    const now = this.now().getTime();
    if (now - this.dayStart >= DAY_MS) {
      this.reset();
      this.dayStart = now;
    }
  }

  /** Counts one request; false when the allowance is already spent (the request must be refused). */
  take(endpoint: EndpointName): boolean {
    this.rollDay();
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

  /** Records bytes of Bulk results put on the wire (compressed bytes when the answer was gzipped). */
  addBulkResultBytesSent(bytes: number): void {
    this.bulkResultBytesSent += bytes;
  }

  /** Bytes of Bulk results put on the wire so far; less than the CSV served when answers were gzipped. */
  get bulkResultBytesSentTotal(): number {
    return this.bulkResultBytesSent;
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
    this.dayStart = this.now().getTime();
    this.used = 0;
    this.bulkQueryJobs = 0;
    this.bulkQueryBytes = 0;
    this.bulkResultBytesSent = 0;
    this.byEndpoint.clear();
  }
}
