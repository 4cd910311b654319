import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

describe('database', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t?.drop());

  it('migrates every table', async () => {
    const rows = await t.database.db.execute(
      sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`,
    );
    const names = (Array.isArray(rows) ? rows : (rows as any).rows).map((r: any) => r.table_name);
    expect(names).toEqual(
      expect.arrayContaining(['tenants', 'installations', 'personas', 'channel_settings', 'messages', 'usage', 'processed_events', 'audit_log', 'documents']),
    );
  });
});
