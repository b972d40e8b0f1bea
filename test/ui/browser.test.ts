/**
 * `sfbackup ui` in headless Chromium over a vault written by real backups of the emulator: a full
 * backup, then changes (a contact renamed to an HTML payload, a price changed, a property deleted)
 * and an incremental. Each screen is driven by keyboard or clicks and photographed at 1280x800 into
 * test-artifacts/ui/.
 */
import { request as httpRequest } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readUiOptions, startUi } from '../../cli/commands/ui.ts';
import { startUiServer, type RunningUi } from '../../cli/ui/server.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { parseRestoreInput } from '../../lambdas/core/restore/input.ts';
import { backup, freshStoreDir, nextSecond, startSampleOrg } from '../backup/e2e-support.ts';
import { ids, softDelete, update } from '../restore/e2e-support.ts';
import { launchChromium } from '../support/chromium.ts';

const XSS = '<img src=x onerror=alert(1)>';
const SHOTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'ui');
const ORG_ID = '00D5g0000012345EAA';

let emu: RunningEmulator;
let dir: string;
let ui: RunningUi;
let browser: { context: BrowserContext; close: () => Promise<void> };
let page: Page;
const logs: string[] = [];
const dialogs: string[] = [];
let contactId: string;
let deletedPropertyId: string;
let repricedPropertyId: string;
let propertiesAtFull: number;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  emu = await startSampleOrg('dreamhouse-lwc');
  dir = freshStoreDir();
  expect((await backup(emu, dir, 'full')).summary.status).toBe('complete');
  const properties = await ids(emu, 'Property__c');
  propertiesAtFull = properties.length;
  [deletedPropertyId, repricedPropertyId] = properties as [string, string];
  contactId = (await ids(emu, 'Contact'))[0]!;
  await nextSecond();
  await update(emu, 'Contact', [{ Id: contactId, LastName: XSS }]);
  await update(emu, 'Property__c', [{ Id: repricedPropertyId, Price__c: 123456 }]);
  await softDelete(emu, [deletedPropertyId]);
  expect((await backup(emu, dir, 'incremental')).summary.status).toBe('complete');
  const { request, problems } = readUiOptions([
    '--store',
    dir,
    '--org',
    'sample',
    '--instance-url',
    emu.instanceUrl,
    '--access-token',
    emu.accessToken,
  ]);
  expect(problems).toEqual([]);
  ui = await startUi(request!, (line) => logs.push(line));
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(ui.url);
  await page.waitForSelector('body[data-ready=true]');
});

afterAll(async () => {
  await browser?.close();
  await ui?.stop();
  await emu?.stop();
});

async function shot(screen: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${screen}.png`) });
  // Readable at 1280x800 means no horizontal scroll.
  expect(
    await page.evaluate<number>('document.documentElement.scrollWidth'),
    `${screen} scrolls sideways`,
  ).toBeLessThanOrEqual(1280);
}

/** Sends a request with headers fetch would not let a caller set (Host). */
function raw(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: ui.port, path, headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const cell = (row: ReturnType<Page['locator']>, n: number) => row.locator('td, th').nth(n);

describe('sfbackup ui security', () => {
  it('listens on 127.0.0.1 only', () => {
    const address = ui.server.address();
    expect(typeof address === 'object' && address?.address).toBe('127.0.0.1');
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
  });

  it('refuses API calls without the launch token, or with a wrong one, with 403', async () => {
    expect((await fetch(`${ui.origin}/api/timeline`)).status).toBe(403);
    const wrong = await fetch(`${ui.origin}/api/timeline`, {
      headers: { 'x-sfbackup-token': 'x'.repeat(43) },
    });
    expect(wrong.status).toBe(403);
    expect(((await wrong.json()) as { error: string }).error).toContain('launch token');
    const right = await fetch(`${ui.origin}/api/timeline`, { headers: { 'x-sfbackup-token': ui.token } });
    expect(right.status).toBe(200);
  });

  it('refuses a foreign Host (DNS rebinding) and a foreign Origin, even with the token', async () => {
    const rebound = await raw('/api/timeline', {
      host: `evil.example:${ui.port}`,
      'x-sfbackup-token': ui.token,
    });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('answers only to');
    expect((await raw('/', { host: `evil.example:${ui.port}` })).status).toBe(403);
    const foreign = await raw('/api/timeline', {
      host: `127.0.0.1:${ui.port}`,
      origin: 'http://evil.example',
      'x-sfbackup-token': ui.token,
    });
    expect(foreign.status).toBe(403);
    expect((await raw('/', { host: `localhost:${ui.port}` })).status).toBe(200);
  });

  it('serves the page with a policy that runs only its own script', async () => {
    const response = await fetch(`${ui.origin}/`);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await response.text()).not.toContain(ui.token);
  });
});

describe('sfbackup ui screens', () => {
  it('shows the timeline newest first, with mode, status, rows and the latest snapshot', async () => {
    const rows = page.locator('table.timeline tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    const [newest, oldest] = [rows.nth(0), rows.nth(1)];
    expect(await cell(newest, 2).textContent()).toBe('incremental');
    expect(await cell(oldest, 2).textContent()).toBe('full');
    expect(await cell(newest, 3).textContent()).toContain('complete');
    expect(await cell(newest, 6).textContent()).toBe('latest');
    expect(await cell(oldest, 6).textContent()).toBe('');
    // The incremental exported the three changed rows: one contact, two properties.
    expect(await cell(newest, 5).textContent()).toBe('3');
    expect(Number((await cell(oldest, 5).textContent())?.replace(/,/g, ''))).toBeGreaterThan(
      propertiesAtFull,
    );
    expect(await page.locator('#session').textContent()).toContain(ORG_ID);
    await shot('timeline');
  });

  it('is usable from the keyboard, with a visible focus', async () => {
    await page.locator('body').focus();
    await page.keyboard.press('Tab');
    // The test compiles without the DOM's types, so page code is passed as text.
    const focused = await page.evaluate<{ text: string; outline: string }>(
      '({ text: document.activeElement.textContent, outline: getComputedStyle(document.activeElement).outlineStyle })',
    );
    expect(focused.text).toBe('Timeline');
    expect(focused.outline).not.toBe('none');
  });

  it('lists the objects of the full snapshot with their row counts (keyboard: Tab to the button, Enter)', async () => {
    const button = page
      .locator('table.timeline tbody tr')
      .nth(1)
      .getByRole('button', { name: 'Browse objects' });
    await button.focus();
    await page.keyboard.press('Enter');
    const property = page.locator('#objects-body tr[data-object="Property__c"]');
    await property.waitFor();
    expect(await cell(property, 1).textContent()).toBe(String(propertiesAtFull));
    expect(await cell(property, 2).textContent()).toBe('0');
    await shot('objects');
    // At the latest point one property is in the recycle bin.
    await page.selectOption('#objects-snapshot', { index: 0 });
    await page.getByRole('button', { name: 'Show objects' }).click();
    await expect.poll(() => cell(property, 2).textContent()).toBe('1');
    expect(await cell(property, 1).textContent()).toBe(String(propertiesAtFull - 1));
  });

  it('finds a record by its id in any case, and by a field value, rendering an HTML payload as text', async () => {
    await page.locator('#objects-body tr[data-object="Contact"]').getByRole('button').click();
    // The screen is ready once it has put the focus in the search box.
    await expect.poll(() => page.evaluate<string>('document.activeElement.id')).toBe('search-text');
    expect(await page.locator('#search-object').inputValue()).toBe('Contact');
    const count = page.locator('#search-body .count');
    const search = async (text: string) => {
      await page.locator('#search-text').fill(text);
      await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/search')),
        page.keyboard.press('Enter'),
      ]);
      await page.locator('#search-body:not([aria-busy])').waitFor();
      return count.textContent();
    };
    const match = page.locator(`#search-body tr[data-id="${contactId}"]`);
    expect(await search(contactId.toLowerCase())).toMatch(/^1 record matches in Contact/);
    expect(await match.count()).toBe(1);
    expect(await search('no such value anywhere')).toMatch(/^0 records match/);
    // A 15-character id typed in another case finds the record too.
    expect(await search(contactId.slice(0, 15).toUpperCase())).toMatch(/^1 record matches in Contact/);
    expect(await match.count()).toBe(1);
    expect(await search('onerror')).toMatch(/^1 record matches/);
    expect(await match.count()).toBe(1);
    await match.getByRole('button', { name: 'Fields' }).click();
    const lastName = page.locator('#search-detail tr', {
      has: page.locator('th', { hasText: /^LastName$/ }),
    });
    expect(await lastName.locator('td').textContent()).toBe(XSS);
    expect(await page.locator('main img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await shot('search');
  });

  it("shows a record's history and builds a restore input that puts its old last name back", async () => {
    await page
      .locator(`#search-body tr[data-id="${contactId}"]`)
      .getByRole('button', { name: 'History' })
      .click();
    const versions = page.locator('table.history tbody tr');
    await expect.poll(() => versions.count()).toBe(2);
    expect(await cell(versions.nth(0), 2).textContent()).toContain('created');
    expect(await cell(versions.nth(1), 2).textContent()).toContain('changed');
    expect(await cell(versions.nth(1), 3).textContent()).toContain('LastName');
    expect(await cell(versions.nth(1), 4).textContent()).toContain(XSS);
    expect(await page.locator('main img').count()).toBe(0);
    await versions.nth(0).getByRole('button', { name: 'Restore this version' }).click();
    const fields = page.locator('#history-plan-form input[name=field]');
    expect(await fields.evaluateAll((inputs) => inputs.map((i) => i.getAttribute('value')))).toContain(
      'LastName',
    );
    await shot('history');
    await page.getByRole('button', { name: 'Build restore input' }).click();
    const input = parseRestoreInput(JSON.parse((await page.locator('#restore-input').textContent()) ?? ''));
    expect(input.mode).toBe('dry-run');
    expect(input.objects).toEqual(['Contact']);
    expect(input.recordIds).toEqual([contactId]);
    expect(input.fields).toContain('Contact.LastName');
  });

  it('compares the two snapshots: per object rows deleted and changed, with the fields and their row counts', async () => {
    await page.getByRole('button', { name: 'Timeline', exact: true }).click();
    await page.getByRole('button', { name: 'Changes since previous' }).click();
    const property = page.locator('#diff-body tr[data-object="Property__c"]');
    await property.waitFor();
    expect(await cell(property, 2).textContent()).toBe('1');
    expect(await cell(property, 4).textContent()).toBe('1');
    expect(await cell(property, 5).textContent()).toContain('Price__c (1)');
    const contact = page.locator('#diff-body tr[data-object="Contact"]');
    expect(await cell(contact, 4).textContent()).toBe('1');
    expect(await cell(contact, 5).textContent()).toContain('LastName (1)');
    expect(await page.locator('#diff-body tr[data-object="Account"]').count()).toBe(0);
    await shot('diff');
  });

  it('builds the restore input for the deleted property from the diff, with a Copy button', async () => {
    await page.locator('#diff-plan-form input[value=deleted]').check();
    await page.getByRole('button', { name: 'Build restore input' }).click();
    await page.locator('#builder-body p', { hasText: 'Built from deleted rows' }).waitFor();
    const text = (await page.locator('#restore-input').textContent()) ?? '';
    const input = parseRestoreInput(JSON.parse(text));
    expect(input.mode).toBe('dry-run');
    expect(input.objects).toEqual(['Property__c']);
    expect(input.recordIds).toEqual([deletedPropertyId]);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ui.origin });
    await page.getByRole('button', { name: 'Copy' }).click();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(text);
    await shot('builder');
  });

  it('runs the dry run, and restores only after the org id is typed to confirm', async () => {
    await page.getByRole('button', { name: 'Run the dry run' }).click();
    const title = page.locator('#dry-run-title');
    await title.waitFor({ timeout: 120_000 });
    expect(await title.textContent()).toBe('Dry run: SUCCEEDED');
    expect(await page.locator('#dry-run-plan').textContent()).toMatch(/1 to undelete/);
    expect(await ids(emu, 'Property__c')).not.toContain(deletedPropertyId);
    await page.locator('#confirm-form').scrollIntoViewIfNeeded();
    await shot('dry-run');

    await page.locator('#confirm-org-id').fill(ORG_ID);
    await page.keyboard.press('Enter');
    const done = page.locator('#real-run-title');
    await done.waitFor({ timeout: 120_000 });
    expect(await done.textContent()).toBe('Restore: SUCCEEDED');
    expect(await ids(emu, 'Property__c')).toContain(deletedPropertyId);
    await shot('restore');
  });

  it('refuses a real run that no dry run precedes, and one confirmed with a malformed org id', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${ui.origin}${path}`, {
        method: 'POST',
        headers: { 'x-sfbackup-token': ui.token, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const unplanned = await post('/api/restore/run', { dryRunId: 'made-up', confirmOrgId: ORG_ID });
    expect(unplanned.status).toBe(400);
    expect(((await unplanned.json()) as { error: string }).error).toContain('No succeeded dry run');
    const malformed = await post('/api/restore/run', { dryRunId: 'made-up', confirmOrgId: 'acme' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toContain('"acme" is not an org id');
  });

  it('logs one line per request with its method, path, status and duration: no query string, nothing else', () => {
    expect(logs.some((l) => l.startsWith('POST /api/search 200'))).toBe(true);
    // The objects screen names its snapshot in the query string, which the line leaves out.
    expect(logs.some((l) => /^GET \/api\/objects 200 \d+ms$/.test(l))).toBe(true);
    for (const line of logs) expect(line).toMatch(/^[A-Z]+ \/[^?\s]* \d{3} \d+ms$/);
  });
});

describe('sfbackup ui without an org connection', () => {
  let readOnly: RunningUi;
  beforeAll(async () => {
    readOnly = await startUiServer({ store: new LocalDirectoryStore(dir), org: 'sample' });
  });
  afterAll(async () => {
    await readOnly?.stop();
  });

  it('builds the input but says how to get the dry run instead of offering one', async () => {
    const other = await browser.context.newPage();
    await other.goto(readOnly.url);
    await other.waitForSelector('body[data-ready=true]');
    await other.getByRole('button', { name: 'Changes since previous' }).click();
    await other.locator('#diff-plan-form input[value=changed]').check();
    await other.locator('#diff-plan-form input[value="Contact.LastName"]').check();
    await other.getByRole('button', { name: 'Build restore input' }).click();
    const input = parseRestoreInput(JSON.parse((await other.locator('#restore-input').textContent()) ?? ''));
    expect(input.fields).toContain('Contact.LastName');
    expect(await other.locator('#dry-run-help').textContent()).toContain('sfbackup restore');
    expect(await other.getByRole('button', { name: 'Run the dry run' }).count()).toBe(0);
    await other.close();
    const refused = await fetch(`${readOnly.origin}/api/restore/dry-run`, {
      method: 'POST',
      headers: { 'x-sfbackup-token': readOnly.token, 'content-type': 'application/json' },
      body: JSON.stringify({ input: { objects: ['Contact'] }, realMode: 'full' }),
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toContain('--instance-url');
  });
});
