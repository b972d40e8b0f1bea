import type { OrgApi, RestRecord } from '../org/api.ts';
import { IdFactory } from '../org/ids.ts';
import { ApiError } from './errors.ts';

/** An open REST query cursor: the query, how far it was read, and a live iterator at that point. */
interface OpenCursor {
  readonly soql: string;
  readonly includeDeleted: boolean;
  readonly apiVersion: string;
  readonly tooling: boolean;
  readonly batchSize: number;
  readonly totalSize: number;
  iterator: Iterator<RestRecord>;
  position: number;
}

/** One page of a REST query. */
export interface QueryPage {
  readonly totalSize: number;
  readonly done: boolean;
  readonly records: RestRecord[];
  /** Locator id and offset of the next page, when not done. */
  readonly next?: string;
}

/** Salesforce keeps a limited number of open cursors per user; older ones are dropped. */
const MAX_OPEN_CURSORS = 50;

/** REST query locators (`01g...-2000`): pages follow each other without re-scanning. */
export class QueryLocators {
  private readonly open = new Map<string, OpenCursor>();
  private readonly ids = new IdFactory('4x');

  constructor(private readonly org: OrgApi) {}

  /** Runs a query and answers its first page. */
  first(
    soql: string,
    includeDeleted: boolean,
    apiVersion: string,
    batchSize: number,
    tooling = false,
  ): QueryPage {
    const cursor = this.org.query(soql, { includeDeleted, apiVersion, tooling });
    const totalSize = cursor.totalSize();
    if (cursor.info.countOnly) return { totalSize, done: true, records: [] };
    const open: OpenCursor = {
      soql,
      includeDeleted,
      apiVersion,
      tooling,
      batchSize,
      totalSize,
      iterator: cursor.records()[Symbol.iterator](),
      position: 0,
    };
    return this.page(this.ids.next('01g'), open, 0);
  }

  /** Answers the page at `locator` (`01g...-OFFSET`). */
  more(locator: string): QueryPage {
    const match = /^(01g[0-9A-Za-z]{12,15})-([0-9]+)$/.exec(locator);
    const open = match ? this.open.get(match[1]!) : undefined;
    if (!match || !open) {
      throw new ApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    }
    return this.page(match[1]!, open, Number(match[2]));
  }

  private page(id: string, open: OpenCursor, offset: number): QueryPage {
    if (offset !== open.position) {
      // A page asked for again (a client retry): replay the query up to that offset.
      const cursor = this.org.query(open.soql, {
        includeDeleted: open.includeDeleted,
        apiVersion: open.apiVersion,
        tooling: open.tooling,
      });
      open.iterator = cursor.records()[Symbol.iterator]();
      open.position = 0;
      while (open.position < offset && !open.iterator.next().done) open.position++;
    }
    const records: RestRecord[] = [];
    while (records.length < open.batchSize && open.position < open.totalSize) {
      const next = open.iterator.next();
      if (next.done) break;
      records.push(next.value);
      open.position++;
    }
    const done = open.position >= open.totalSize || records.length === 0;
    this.open.delete(id);
    if (done) return { totalSize: open.totalSize, done, records };
    this.open.set(id, open);
    while (this.open.size > MAX_OPEN_CURSORS) {
      const oldest = this.open.keys().next().value as string;
      this.open.delete(oldest);
    }
    return { totalSize: open.totalSize, done, records, next: `${id}-${open.position}` };
  }
}
