/**
 * Forgetting a user in conversation memory. Their own messages go. The bot's answers go too in
 * every conversation (a channel's timeline or a thread) in which only they asked anything: those
 * answers were written for them alone. In conversations where others asked too the answers stay,
 * since they answer the others as well; the user's words are gone from them, and the count of
 * answers kept is reported with that reason.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { ForgetCount } from './forget-count.js';

/** postgres.js returns an array of rows; PGlite returns `{ rows }`. */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

export async function forgetMessages(tx: Db, tenantId: string, userId: string): Promise<ForgetCount> {
  // The conversations they asked in, and whether anyone else asked there (an unknown asker counts as someone else).
  const talks = sql`
    with theirs as (
      select distinct channel_id, thread_id from messages where tenant_id = ${tenantId}::uuid and user_id = ${userId}
    )
    select t.channel_id, t.thread_id, exists (
      select 1 from messages m
      where m.tenant_id = ${tenantId}::uuid and m.channel_id = t.channel_id and m.thread_id = t.thread_id
        and m.role = 'user' and m.user_id is distinct from ${userId}
    ) as shared
    from theirs t`;
  const conversations = rowsOf<{ channel_id: string; thread_id: string; shared: boolean }>(await tx.execute(talks));
  let answersDeleted = 0;
  let answersKept = 0;
  for (const c of conversations) {
    const where = sql`tenant_id = ${tenantId}::uuid and channel_id = ${c.channel_id} and thread_id = ${c.thread_id} and role = 'assistant'`;
    if (c.shared) {
      const [row] = rowsOf<{ n: number }>(await tx.execute(sql`select count(*)::int as n from messages where ${where}`));
      answersKept += Number(row?.n ?? 0);
    } else {
      answersDeleted += rowsOf(await tx.execute(sql`delete from messages where ${where} returning 1`)).length;
    }
  }
  const own = rowsOf(await tx.execute(sql`delete from messages where tenant_id = ${tenantId}::uuid and user_id = ${userId} returning 1`)).length;
  return {
    deleted: own + answersDeleted,
    marked: 0,
    ...(answersKept > 0
      ? {
          kept: {
            rows: answersKept,
            why: `answers in ${conversations.filter((c) => c.shared).length} conversation(s) where others asked too (they answer the others as well; the user's own messages are gone)`,
          },
        }
      : {}),
  };
}
