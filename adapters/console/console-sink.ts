/**
 * A ReplySink for a terminal: a part prints its text as it grows (only the new tail each time)
 * and ends with a newline when closed. A terminal cannot take printed text back, so a final text
 * that does not continue what was printed goes on a line of its own after it. It has one reader,
 * so a private notice is simply printed.
 */
import type { NoticeOptions, ReplyKind, ReplyLimits, ReplyPart, ReplySink } from '../../src/ports/reply.js';

export interface ConsoleSinkOptions {
  /** Print progress as it arrives (a terminal); false prints each message once, when closed (piped output). */
  stream: boolean;
  /** @defaultValue 50 */
  minUpdateIntervalMs?: number;
}

const prefixOf = (kind: ReplyKind) => (kind === 'error' ? '[error] ' : '');

export class ConsoleReplySink implements ReplySink {
  readonly limits: ReplyLimits;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly opts: ConsoleSinkOptions = { stream: true },
  ) {
    // A terminal takes any length: a reply is never split.
    this.limits = { maxChars: Number.POSITIVE_INFINITY, minUpdateIntervalMs: opts.minUpdateIntervalMs ?? 50 };
  }

  async working(): Promise<void> {}

  /** Why the answer waits, on a line of its own ("thinking" is left out: the text follows at once). */
  async status(text: string | null): Promise<boolean> {
    if (text === null || text === this.lastStatus) return true;
    this.lastStatus = text;
    if (!/^thinking/i.test(text)) this.out.write(`(${text.replace(/…$/, '')})\n`);
    return true;
  }

  private lastStatus: string | null = null;

  async open(_index: number, text: string): Promise<ReplyPart> {
    const part = new ConsolePart(this.out, this.opts.stream);
    await part.update(text);
    return part;
  }

  async notice(text: string, options: NoticeOptions): Promise<void> {
    this.out.write(`${prefixOf(options.kind)}${text}\n`);
  }
}

class ConsolePart implements ReplyPart {
  private printed = '';

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly stream: boolean,
  ) {}

  async update(text: string): Promise<void> {
    if (!this.stream || !text.startsWith(this.printed)) return;
    this.out.write(text.slice(this.printed.length));
    this.printed = text;
  }

  async close(text: string, kind: ReplyKind): Promise<void> {
    if (this.printed && text.startsWith(this.printed)) {
      this.out.write(`${text.slice(this.printed.length)}\n`);
    } else {
      if (this.printed) this.out.write('\n');
      this.out.write(`${prefixOf(kind)}${text}\n`);
    }
    this.printed = '';
  }

  /** Printed text stays on the terminal; the line is ended so what follows starts clean. */
  async remove(): Promise<void> {
    if (this.printed) this.out.write('\n');
    this.printed = '';
  }
}
