/**
 * The ReplySink port: what an adapter gives the engine for one reply.
 */

export interface FinishOptions {
  /** Visible only to the caller where the platform allows it (settings answers). */
  ephemeral?: boolean;
  /** 'error' lets a sink style a failure (the placeholder becomes the error text). */
  kind?: 'answer' | 'notice' | 'error';
}

/**
 * Given by an adapter to the engine for one reply. The engine calls start() once, then
 * update() with the whole text so far (already throttled to `minUpdateIntervalMs`), then
 * finish() exactly once. A sink splits text past its platform's limit.
 */
export interface ReplySink {
  /** Smallest gap between two update() calls this platform tolerates for one message. */
  readonly minUpdateIntervalMs: number;
  /** Post a placeholder (or defer) so the user sees the bot is on it. */
  start(): Promise<void>;
  update(textSoFar: string): Promise<void>;
  finish(text: string, options?: FinishOptions): Promise<void>;
}
