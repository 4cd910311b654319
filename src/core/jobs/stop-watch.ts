/**
 * Stop requests for answers this instance runs. A stop pressed on this instance aborts the
 * answer at once; one pressed on another instance is written to the job's row, and this watch
 * looks for such rows among its running jobs every half second (only while some run).
 */
import type { Logger } from '../../logger.js';
import { AnswerStopped } from '../../ports/engine.js';
import type { JobStore } from '../../ports/jobs.js';

export class StopWatch {
  private readonly controllers = new Map<string, AbortController>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    private readonly store: Pick<JobStore, 'stopRequests'>,
    private readonly owner: string,
    private readonly logger: Logger,
    private readonly everyMs = 500,
  ) {}

  /** Watches a running job; its controller is aborted with AnswerStopped when someone stops it. */
  watch(jobId: string, controller: AbortController): void {
    this.controllers.set(jobId, controller);
    if (!this.timer) {
      this.timer = setInterval(() => void this.poll(), this.everyMs);
      this.timer.unref();
    }
  }

  unwatch(jobId: string): void {
    this.controllers.delete(jobId);
    if (this.controllers.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Stops a job running here; false when it does not run on this instance. */
  stopHere(jobId: string, by: string): boolean {
    const controller = this.controllers.get(jobId);
    if (!controller) return false;
    if (!controller.signal.aborted) controller.abort(new AnswerStopped(by));
    return true;
  }

  private async poll(): Promise<void> {
    if (this.polling || this.controllers.size === 0) return;
    this.polling = true;
    try {
      for (const { id, by } of await this.store.stopRequests(this.owner, [...this.controllers.keys()])) this.stopHere(id, by);
    } catch (err) {
      // The database is away: a stop pressed elsewhere waits for it; one pressed here already worked.
      this.logger.debug({ err }, 'stop requests could not be read');
    } finally {
      this.polling = false;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.controllers.clear();
  }
}
