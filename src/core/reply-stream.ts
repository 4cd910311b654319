/**
 * Streams a growing answer into a ReplySink at a bounded cadence: at most one update in
 * flight, never closer together than the sink's minUpdateIntervalMs, always the newest text.
 * finish() drops any pending progress edit so the final answer goes out first.
 */
import type { Logger } from '../logger.js';
import type { FinishOptions, ReplySink } from '../ports/reply.js';

export class ThrottledReply {
  private latest = '';
  private sent = '';
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private finished = false;

  constructor(
    private readonly sink: ReplySink,
    private readonly logger?: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {}

  push(textSoFar: string): void {
    if (this.finished) return;
    this.latest = textSoFar;
    this.schedule();
  }

  async finish(text: string, options?: FinishOptions): Promise<void> {
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.inFlight) await this.inFlight;
    await this.sink.finish(text, options);
  }

  private schedule(): void {
    if (this.timer || this.inFlight || this.latest === this.sent) return;
    const wait = Math.max(0, this.lastSentAt + this.sink.minUpdateIntervalMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (this.finished || this.latest === this.sent) return;
    const text = this.latest;
    this.sent = text;
    this.lastSentAt = this.now();
    this.inFlight = this.sink
      .update(text)
      .catch((err) => {
        // A failed progress edit (rate limit, network) must not lose the answer: the final
        // text still goes out through finish().
        this.logger?.warn({ err: String(err) }, 'progress update failed');
      })
      .finally(() => {
        this.inFlight = null;
        this.schedule();
      });
  }
}
