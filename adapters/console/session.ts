/**
 * One console conversation: turns input lines into engine messages for a workspace and channel.
 * `knowledge add --file PATH [title]` reads a local file (only here: chat platforms attach files).
 * `/quit` and `/exit` end the conversation instead of going to the model; `cancel()` stops the
 * answer in progress through the message's abort signal.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Engine } from '../../src/core/engine.js';
import { ConsoleReplySink } from './console-sink.js';
import type { InboundFile, InboundMessage } from '../../src/ports/messages.js';
import type { ReplySink } from '../../src/ports/reply.js';

export interface ConsoleIdentity {
  workspace: string;
  channel: string;
  user: string;
  admin: boolean;
}

const mimeByExt: Record<string, string> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.pdf': 'application/pdf',
  '.html': 'text/html',
  '.htm': 'text/html',
};

/** Lines that end the console rather than reach the bot. */
const QUIT = /^\/(quit|exit)$/i;

export class ConsoleSession {
  /** The line being handled; `written` once its reply is on the screen (the engine may still be storing it). */
  private current?: { controller: AbortController; written: boolean };

  constructor(
    private readonly engine: Engine,
    private readonly who: ConsoleIdentity,
    private readonly out: NodeJS.WritableStream,
    private readonly stream: boolean,
  ) {}

  /** True while a reply is still being written. */
  get busy(): boolean {
    return this.current !== undefined && !this.current.written;
  }

  /** Stops the answer being written; false when there is none (or it was already stopped). */
  cancel(): boolean {
    if (!this.busy || this.current!.controller.signal.aborted) return false;
    this.current!.controller.abort();
    return true;
  }

  /** Handles one line and resolves once its whole answer is written; 'quit' for /quit and /exit. */
  async line(raw: string): Promise<'quit' | void> {
    const text = raw.trim();
    if (!text) return;
    if (QUIT.test(text)) return 'quit';
    const current = (this.current = { controller: new AbortController(), written: false });
    try {
      await this.send(text, current);
    } finally {
      this.current = undefined;
    }
  }

  private async send(text: string, current: { controller: AbortController; written: boolean }): Promise<void> {
    const sink = onceWritten(new ConsoleReplySink(this.out, { stream: this.stream }), () => (current.written = true));
    let attachments: InboundFile[] | undefined;
    let body = text;
    // `--here` (this channel only) may come before `--file PATH` too.
    const file = /^\/llm\s+knowledge\s+add\s+(--here\s+)?--file\s+(\S+)\s*(.*)$/i.exec(text);
    if (file) {
      const path = file[2]!;
      try {
        const size = (await stat(path)).size;
        attachments = [
          { filename: basename(path), mimeType: mimeByExt[extname(path).toLowerCase()] ?? 'application/octet-stream', size, read: () => readFile(path) },
        ];
      } catch {
        this.out.write(`[error] cannot read ${path}\n`);
        return;
      }
      body = `/llm knowledge add ${file[1] ? '--here ' : ''}${file[3] ?? ''}`.trim();
    }
    const msg: InboundMessage = {
      platform: 'console',
      tenantExternalId: this.who.workspace,
      eventId: randomUUID(),
      channelId: this.who.channel,
      threadId: null,
      caller: { userId: this.who.user, isAdmin: async () => this.who.admin },
      text: body,
      kind: 'message',
      addressed: true,
      isDirect: false,
      signal: current.controller.signal,
      ...(attachments ? { attachments } : {}),
    };
    // The engine resolves once the reply is written.
    const outcome = await this.engine.handle(msg, sink);
    if (!outcome.replied) this.out.write(`(no answer: ${outcome.status.replace('_', ' ')})\n`);
  }
}

/**
 * The sink, noting when the reply is on the screen (a part closed, or a notice printed): the
 * engine may still be storing it then, and a Ctrl-C from that moment on is for the prompt.
 */
function onceWritten(sink: ReplySink, written: () => void): ReplySink {
  return {
    limits: sink.limits,
    working: () => sink.working(),
    async open(index, text) {
      const part = await sink.open(index, text);
      return {
        update: (t) => part.update(t),
        remove: () => part.remove(),
        async close(t, kind) {
          await part.close(t, kind);
          written();
        },
      };
    },
    async notice(text, options) {
      await sink.notice(text, options);
      written();
    },
  };
}
