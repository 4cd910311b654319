/**
 * OAuth `state` values that work once. An install page issues one (stored with what the page
 * decided and an expiry); the callback consumes it with one `delete ... returning`, so a replayed
 * or leaked callback URL fails, on every instance sharing the database.
 */
import { randomBytes } from 'node:crypto';
import { and, eq, gt, lt } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { oauthStates } from '../db/schema.js';

export class OAuthStates {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Records a state for `platform`, valid for `ttlMs`: a fresh unguessable one, or `opts.state`
   * when the caller builds its own (a signed value) and only needs it to work once.
   */
  async issue(platform: string, opts: { state?: string; data?: Record<string, unknown>; ttlMs?: number } = {}): Promise<string> {
    const state = opts.state ?? randomBytes(32).toString('base64url');
    const { data = {}, ttlMs = 10 * 60_000 } = opts;
    const now = this.now();
    // Expired states are dropped as new ones are issued; the table stays small.
    await this.db.delete(oauthStates).where(lt(oauthStates.expiresAt, now));
    await this.db.insert(oauthStates).values({ state, platform, data, expiresAt: new Date(now.getTime() + ttlMs) });
    return state;
  }

  /** The data the state was issued with, or null if it is unknown, expired or already used. */
  async consume(platform: string, state: string): Promise<Record<string, unknown> | null> {
    const [row] = await this.db
      .delete(oauthStates)
      .where(and(eq(oauthStates.state, state), eq(oauthStates.platform, platform), gt(oauthStates.expiresAt, this.now())))
      .returning({ data: oauthStates.data });
    return row?.data ?? null;
  }
}
