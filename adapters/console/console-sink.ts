import type { FinishOptions, ReplySink } from '../../src/ports/reply.js';
/**
 * A ReplySink for a terminal: streams the growing answer to the output as it arrives (only the
 * new part each time), then ends the answer with a newline.
 */

export class ConsoleReplySink implements ReplySink {
  readonly minUpdateIntervalMs: number;
  private printed = '';
  private done!: () => void;
  /** Settles once finish() has written the whole answer. */
  readonly finished = new Promise<void>((resolve) => (this.done = resolve));

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly opts: { stream: boolean; minUpdateIntervalMs?: number } = { stream: true },
  ) {
    this.minUpdateIntervalMs = opts.minUpdateIntervalMs ?? 50;
  }

  async start(): Promise<void> {}

  async update(textSoFar: string): Promise<void> {
    if (!this.opts.stream || !textSoFar.startsWith(this.printed)) return;
    this.out.write(textSoFar.slice(this.printed.length));
    this.printed = textSoFar;
  }

  async finish(text: string, options?: FinishOptions): Promise<void> {
    const prefix = options?.kind === 'error' ? '[error] ' : '';
    if (this.printed && text.startsWith(this.printed)) {
      this.out.write(`${text.slice(this.printed.length)}\n`);
    } else {
      if (this.printed) this.out.write('\n');
      this.out.write(`${prefix}${text}\n`);
    }
    this.printed = '';
    this.done();
  }
}
