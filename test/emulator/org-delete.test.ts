import { describe, expect, it } from 'vitest';
import { createOrg } from '../../emulator/org/org.ts';

function orgWithFamily() {
  const org = createOrg({ now: () => new Date('2024-01-01T00:00:00Z') });
  const parent = org.insert('Account', { Name: 'Parent' });
  const child = org.insert('Account', { Name: 'Child', ParentId: parent });
  const contact = org.insert('Contact', { LastName: 'C', AccountId: parent });
  const kase = org.insert('Case', { Subject: 'S', AccountId: parent });
  const task = org.insert('Task', { Subject: 'T', WhatId: parent });
  return { org, parent, child, contact, kase, task };
}

const ids = (org: ReturnType<typeof createOrg>, soql: string, all = false) =>
  [...org.query(soql, { includeDeleted: all }).records()].map((r) => r.Id);

describe('delete, undelete and hard delete', () => {
  it('moves a row to the recycle bin, where only queryAll sees it', () => {
    const { org, child } = orgWithFamily();
    expect(org.delete([child])).toEqual([{ id: child, success: true, errors: [] }]);
    expect(ids(org, 'SELECT Id FROM Account')).not.toContain(child);
    const all = [
      ...org
        .query(`SELECT Id, IsDeleted FROM Account WHERE Id = '${child}'`, { includeDeleted: true })
        .records(),
    ];
    expect(all).toEqual([expect.objectContaining({ Id: child, IsDeleted: true })]);
  });

  it('clears lookups on children and deletes cascading children with the parent', () => {
    const { org, parent, child, contact, kase, task } = orgWithFamily();
    org.delete([parent]);
    expect(org.retrieve('Account', child).ParentId).toBeNull();
    expect(org.retrieve('Case', kase).AccountId).toBeNull();
    expect(ids(org, 'SELECT Id FROM Contact')).toEqual([]);
    expect(ids(org, 'SELECT Id FROM Task')).toEqual([]);
    expect(ids(org, 'SELECT Id FROM Contact', true)).toEqual([contact]);
    expect(ids(org, 'SELECT Id FROM Task', true)).toEqual([task]);
  });

  it('undeletes with the same id and restores cascaded children and cleared lookups', () => {
    const { org, parent, child, contact, kase } = orgWithFamily();
    org.delete([parent]);
    expect(org.undelete([parent])).toEqual([{ id: parent, success: true, errors: [] }]);
    expect(org.retrieve('Account', parent).IsDeleted).toBe(false);
    expect(org.retrieve('Contact', contact).AccountId).toBe(parent);
    expect(org.retrieve('Account', child).ParentId).toBe(parent);
    expect(org.retrieve('Case', kase).AccountId).toBe(parent);
    expect(org.counters.undeleted).toBeGreaterThanOrEqual(3);
  });

  it('refuses to undelete a live row and to delete a row twice', () => {
    const { org, child } = orgWithFamily();
    expect(org.undelete([child])[0]).toMatchObject({
      success: false,
      errors: [{ errorCode: 'UNDELETE_FAILED' }],
    });
    org.delete([child]);
    expect(org.delete([child])[0]).toMatchObject({
      success: false,
      errors: [{ errorCode: 'ENTITY_IS_DELETED' }],
    });
    expect(org.delete(['garbage'])[0]).toMatchObject({
      success: false,
      errors: [{ errorCode: 'MALFORMED_ID' }],
    });
  });

  it('refuses to undelete a cascaded child before its parent', () => {
    const { org, parent, contact } = orgWithFamily();
    org.delete([parent]);
    expect(org.undelete([contact])[0]).toMatchObject({
      success: false,
      errors: [{ errorCode: 'UNDELETE_FAILED' }],
    });
  });

  it('hard delete removes rows for good, with the same cascade', () => {
    const { org, parent, child, contact } = orgWithFamily();
    org.hardDelete([parent]);
    expect(ids(org, 'SELECT Id FROM Account', true)).toEqual([child]);
    expect(ids(org, 'SELECT Id FROM Contact', true)).toEqual([]);
    expect(org.undelete([parent])[0]?.success).toBe(false);
    expect(org.retrieve('Account', child).ParentId).toBeNull();
    expect(org.counters.hardDeleted).toBe(3);
    expect(contact).toBeTruthy();
  });

  it('empties the recycle bin', () => {
    const { org, child } = orgWithFamily();
    org.delete([child]);
    expect(org.emptyRecycleBin().map((r) => r.id)).toEqual([child]);
    expect(ids(org, 'SELECT Id FROM Account', true)).not.toContain(child);
  });

  it('refuses to delete objects that are not deletable', () => {
    const { org } = orgWithFamily();
    expect(org.delete([org.user.id])[0]).toMatchObject({
      success: false,
      errors: [{ errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY' }],
    });
  });

  it('dumps every row including deleted ones, with blobs as base64', () => {
    const { org, child, parent } = orgWithFamily();
    org.insert('Attachment', { ParentId: parent, Name: 'x', Body: Buffer.from('hi') });
    org.delete([child]);
    const rows = [...org.dumpRows()];
    expect(rows.find((r) => r.id === child)).toMatchObject({ object: 'Account', isDeleted: true });
    expect(rows.find((r) => r.object === 'Attachment')?.values.Body).toBe(
      Buffer.from('hi').toString('base64'),
    );
    expect(org.rowCounts().Account).toEqual({ live: 1, deleted: 1 });
  });
});
