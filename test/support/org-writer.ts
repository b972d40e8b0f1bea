/**
 * The org's public APIs as a user or an integration changes an org: REST sObject Collections,
 * SOAP undelete and emptyRecycleBin, a Bulk API 2.0 hardDelete job. Each call expects success.
 */
import { XMLParser } from 'fast-xml-parser';
import jsforce from 'jsforce';
import { expect } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';

const xml = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false });

/** The org's public APIs, as a user or an integration would change the org. */
export class OrgWriter {
  private readonly conn: jsforce.Connection;
  constructor(
    private readonly emu: RunningEmulator,
    private readonly apiVersion = '62.0',
  ) {
    this.conn = new jsforce.Connection({
      instanceUrl: emu.instanceUrl,
      accessToken: emu.accessToken,
      version: apiVersion,
    });
  }

  private async rest(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.emu.instanceUrl}/services/data/v${this.apiVersion}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.emu.accessToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const answer = await response.text();
    expect(response.status, `${method} ${path}: ${answer}`).toBe(200);
    return JSON.parse(answer);
  }

  /** Collections insert (allOrNone false); answers the new ids. */
  async insert(object: string, rows: Record<string, unknown>[]): Promise<string[]> {
    const records = rows.map((r) => ({ attributes: { type: object }, ...r }));
    const results = (await this.rest('POST', '/composite/sobjects', { allOrNone: false, records })) as {
      id?: string;
      success: boolean;
      errors: unknown[];
    }[];
    expect(
      results.filter((r) => !r.success),
      `insert ${object}`,
    ).toEqual([]);
    return results.map((r) => r.id!);
  }

  /** Collections update. */
  async update(object: string, rows: Record<string, unknown>[]): Promise<void> {
    const records = rows.map((r) => ({ attributes: { type: object }, ...r }));
    const results = (await this.rest('PATCH', '/composite/sobjects', { allOrNone: false, records })) as {
      success: boolean;
    }[];
    expect(
      results.filter((r) => !r.success),
      `update ${object}`,
    ).toEqual([]);
  }

  /** Collections delete: to the recycle bin. */
  async softDelete(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.rest('DELETE', `/composite/sobjects?allOrNone=false&ids=${ids.join(',')}`);
  }

  /** SOAP undelete; rows deleted with their parent come back only with it, and say so. */
  async undelete(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.soap('undelete', ids);
  }

  /** SOAP emptyRecycleBin: purges rows from the recycle bin for good. */
  async emptyRecycleBin(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.soap('emptyRecycleBin', ids);
  }

  /** Bulk API 2.0 hardDelete job. */
  async hardDelete(object: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const job = await this.conn.bulk2.loadAndWaitForResults({
      object,
      operation: 'hardDelete',
      input: `Id\n${ids.join('\n')}\n`,
      pollInterval: 20,
      pollTimeout: 30_000,
    });
    expect(job.failedResults, `hardDelete ${object}`).toEqual([]);
  }

  private async soap(operation: string, ids: readonly string[]): Promise<void> {
    const envelope =
      '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">' +
      `<soapenv:Header><urn:SessionHeader><urn:sessionId>${this.emu.accessToken}</urn:sessionId></urn:SessionHeader></soapenv:Header>` +
      `<soapenv:Body><urn:${operation}>${ids.map((id) => `<urn:ids>${id}</urn:ids>`).join('')}</urn:${operation}></soapenv:Body></soapenv:Envelope>`;
    const response = await fetch(`${this.emu.instanceUrl}/services/Soap/u/${this.apiVersion}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml', soapaction: operation },
      body: envelope,
    });
    const answer = await response.text();
    expect(response.status, `${operation}: ${answer}`).toBe(200);
    const body = (xml.parse(answer) as { Envelope: { Body: Record<string, unknown> } }).Envelope.Body;
    expect(Object.keys(body), answer).toEqual([`${operation}Response`]);
  }
}
