/**
 * Conversation memory per channel and per thread. The user's message is written before the
 * LLM is called so a crash loses nothing; the prompt window is bounded by a message count and a
 * token budget.
 */
import { and, desc, eq, lt } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { messages } from '../db/schema.js';
import type { TenantScope } from '../ports/tenancy.js';
import type { ConversationKey, ConversationStore, NewMessage, StoredMessage } from '../ports/stores.js';

/** Rough token count (about 4 characters a token) for budgeting before the backend counts. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export class ConversationMemory implements ConversationStore {
  constructor(private readonly db: Db) {}

  async append(
    scope: TenantScope,
    key: ConversationKey,
    msg: NewMessage,
  ): Promise<number> {
    const [row] = await this.db
      .insert(messages)
      .values({
        tenantId: scope.tenantId,
        channelId: key.channelId,
        threadId: key.threadId ?? '',
        role: msg.role,
        userId: msg.userId,
        content: msg.content,
        tokens: msg.tokens ?? estimateTokens(msg.content),
      })
      .returning({ id: messages.id });
    return row!.id;
  }

  async appendMany(
    scope: TenantScope,
    key: ConversationKey,
    msgs: NewMessage[],
  ): Promise<void> {
    if (msgs.length === 0) return;
    await this.db.insert(messages).values(
      msgs.map((m) => ({
        tenantId: scope.tenantId,
        channelId: key.channelId,
        threadId: key.threadId ?? '',
        role: m.role,
        userId: m.userId,
        content: m.content,
        tokens: m.tokens ?? estimateTokens(m.content),
      })),
    );
  }

  /**
   * The most recent messages before `beforeId` (exclusive), oldest first, at most `maxMessages`
   * and, counted from the newest, within `tokenBudget`.
   */
  async window(
    scope: TenantScope,
    key: ConversationKey,
    opts: { maxMessages: number; tokenBudget: number; beforeId?: number },
  ): Promise<StoredMessage[]> {
    if (opts.maxMessages <= 0) return [];
    const conds = [
      eq(messages.tenantId, scope.tenantId),
      eq(messages.channelId, key.channelId),
      eq(messages.threadId, key.threadId ?? ''),
    ];
    if (opts.beforeId !== undefined) conds.push(lt(messages.id, opts.beforeId));
    const rows = await this.db
      .select({ id: messages.id, role: messages.role, userId: messages.userId, content: messages.content, tokens: messages.tokens })
      .from(messages)
      .where(and(...conds))
      .orderBy(desc(messages.id))
      .limit(opts.maxMessages);
    const kept: StoredMessage[] = [];
    let used = 0;
    for (const r of rows) {
      if (used + r.tokens > opts.tokenBudget) break;
      used += r.tokens;
      kept.push(r as StoredMessage);
    }
    return kept.reverse();
  }

  async hasAny(scope: TenantScope, key: ConversationKey): Promise<boolean> {
    const rows = await this.window(scope, key, { maxMessages: 1, tokenBudget: Number.MAX_SAFE_INTEGER });
    return rows.length > 0;
  }

  /** True once the bot has answered in this thread (follow-ups there need no mention). */
  async botAnswered(scope: TenantScope, key: ConversationKey): Promise<boolean> {
    const rows = await this.db
      .select({ id: messages.id })
      .from(messages)
      .where(
        and(
          eq(messages.tenantId, scope.tenantId),
          eq(messages.channelId, key.channelId),
          eq(messages.threadId, key.threadId ?? ''),
          eq(messages.role, 'assistant'),
        ),
      )
      .limit(1);
    return rows.length > 0;
  }

  /** Forgets a channel: its timeline and every thread in it. Returns rows deleted. */
  async clearChannel(scope: TenantScope, channelId: string): Promise<number> {
    const rows = await this.db
      .delete(messages)
      .where(and(eq(messages.tenantId, scope.tenantId), eq(messages.channelId, channelId)))
      .returning({ id: messages.id });
    return rows.length;
  }
}
