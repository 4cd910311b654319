/** The Discord adapter's pure parts: splitting, the coalescing writer, the command table. */
import { describe, expect, it } from 'vitest';
import { splitMessage } from '../adapters/discord/split.js';
import { ChunkedReplyWriter, type PostedMessage, type ReplySurface } from '../adapters/discord/reply-writer.js';
import { commandRegistrationBody, findSpec, grammarText, llmSubcommands, askCommand } from '../adapters/discord/commands.js';
import { BOT_PERMISSIONS } from '../adapters/discord/install.js';
import { parseCommand } from '../src/core/commands/grammar.js';
import { registerOrThrow } from './fakes/discord-commands.js';

describe('splitMessage', () => {
  it('keeps short text whole and cuts long text at line breaks, then spaces, then hard', () => {
    expect(splitMessage('hello', 10)).toEqual(['hello']);
    expect(splitMessage('aaaa bbbb\ncccc dddd', 12)).toEqual(['aaaa bbbb', 'cccc dddd']);
    expect(splitMessage('aaaa bbbb cccc', 10)).toEqual(['aaaa bbbb', 'cccc']);
    expect(splitMessage('abcdefghijklmnop', 10)).toEqual(['abcdefghij', 'klmnop']);
  });

  it('never exceeds the limit and loses no words', () => {
    const text = Array.from({ length: 3000 }, (_, i) => (i % 17 === 0 ? `line${i}\n` : `w${i}`)).join(' ');
    const pieces = splitMessage(text);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(2000);
    expect(pieces.join(' ').split(/\s+/)).toEqual(text.split(/\s+/));
  });

  it('does not move an earlier cut as the text grows (sealed messages stay sealed)', () => {
    const full = Array.from({ length: 800 }, (_, i) => `token${i}`).join(' ');
    let firstPiece: string | null = null;
    for (let n = 2100; n <= full.length; n += 97) {
      const pieces = splitMessage(full.slice(0, n));
      if (firstPiece === null) firstPiece = pieces[0]!;
      expect(pieces[0]).toBe(firstPiece);
    }
  });
});

/** An in-memory surface that records every call, with a gate to hold writes in flight. */
function recordingSurface() {
  const calls: string[] = [];
  let release: (() => void) | null = null;
  let gate: Promise<void> | null = null;
  const message = (id: number): PostedMessage => ({
    edit: async (c) => {
      if (gate) await gate;
      calls.push(`edit ${id}: ${c}`);
    },
    delete: async () => void calls.push(`delete ${id}`),
  });
  let next = 1;
  const surface: ReplySurface = {
    primary: () => message(0),
    post: async (c) => {
      calls.push(`post ${next}: ${c}`);
      return message(next++);
    },
    recover: async (_m, _c, err) => {
      throw err;
    },
  };
  return {
    surface,
    calls,
    hold() {
      gate = new Promise((r) => (release = r));
    },
    letGo() {
      gate = null;
      release?.();
    },
  };
}

describe('ChunkedReplyWriter', () => {
  it('coalesces updates made while a write is in flight into the newest one', async () => {
    const s = recordingSurface();
    const w = new ChunkedReplyWriter(s.surface, () => {});
    s.hold();
    w.schedule('a');
    w.schedule('ab');
    w.schedule('abc');
    w.schedule('abcd');
    s.letGo();
    await w.flush('abcde');
    // 'ab' to 'abcd' waited behind 'a' and were replaced by the final text before being sent.
    expect(s.calls).toEqual(['edit 0: a', 'edit 0: abcde']);
  });

  it('posts follow-ups for pieces past the limit and removes pieces a shorter final text no longer has', async () => {
    const s = recordingSurface();
    const w = new ChunkedReplyWriter(s.surface, () => {}, 10);
    await w.flush('aaaa bbbb cccc dddd');
    expect(s.calls).toEqual(['edit 0: aaaa bbbb', 'post 1: cccc dddd']);
    await w.flush('error');
    expect(s.calls.slice(2)).toEqual(['edit 0: error', 'delete 1']);
    expect(w.messageCount).toBe(1);
  });

  it('reports a failed write from flush, and keeps going for later writes', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const surface: ReplySurface = {
      primary: () => ({ edit: async () => { if (fail) throw new Error('boom'); }, delete: async () => {} }),
      post: async () => ({ edit: async () => {}, delete: async () => {} }),
      recover: async (_m, _c, err) => { throw err; },
    };
    const w = new ChunkedReplyWriter(surface, (e) => errors.push(e));
    await expect(w.flush('x')).rejects.toThrow('boom');
    fail = false;
    await expect(w.flush('y')).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
  });
});

describe('command table', () => {
  const samples: Record<string, Record<string, string | number>> = {
    'persona.show': { name: 'pirate' },
    'persona.create': { name: 'pirate', prompt: 'Arr, you are a pirate: talk like one', temperature: 0.5 },
    'persona.delete': { name: 'pirate' },
    'persona.use': { name: 'pirate' },
    'persona.default': { name: 'pirate' },
    'channel.mode': { mode: 'all' },
    'channel.memory': { messages: 12 },
    'channel.retrieval': { state: 'off' },
    'knowledge.add': { title: 'Handbook', text: 'Lunch is at noon.' },
    'knowledge.remove': { id: 'doc-1' },
  };

  it('renders every subcommand as text the core grammar parses to that command', () => {
    for (const spec of llmSubcommands) {
      const type = spec.path.join('.');
      const parsed = parseCommand(grammarText(spec, samples[type] ?? {}));
      expect(parsed.type, type).toBe(type);
    }
    expect(parseCommand(grammarText(askCommand, { question: 'why: is the sky blue?' }))).toEqual({ type: 'ask', question: 'why: is the sky blue?' });
  });

  it('keeps the grammar argument order: persona create takes name, then prompt', () => {
    const spec = findSpec('llm', 'persona', 'create')!;
    expect(spec.args.map((a) => a.name).slice(0, 2)).toEqual(['name', 'prompt']);
    expect(grammarText(spec, { name: 'pirate', prompt: 'Arr you are a pirate' })).toBe('persona create pirate Arr you are a pirate');
    const parsed = parseCommand(grammarText(spec, samples['persona.create']!));
    expect(parsed).toMatchObject({ persona: { name: 'pirate', systemPrompt: 'Arr, you are a pirate: talk like one', temperature: 0.5 } });
  });

  it('sends pasted knowledge as "<title>: <text>" and a file upload as its title alone', () => {
    const spec = findSpec('llm', 'knowledge', 'add')!;
    expect(parseCommand(grammarText(spec, { title: 'Handbook', text: 'Lunch: noon' }))).toEqual({ type: 'knowledge.add', title: 'Handbook', text: 'Lunch: noon' });
    expect(parseCommand(grammarText(spec, { title: 'Q3: plan' }))).toEqual({ type: 'knowledge.add', title: 'Q3 - plan' });
    expect(parseCommand(grammarText(spec, {}))).toEqual({ type: 'knowledge.add' });
  });

  it('refuses a persona name with a space instead of shifting it into the prompt', () => {
    expect(() => grammarText(findSpec('llm', 'persona', 'create')!, { name: 'two words', prompt: 'p' })).toThrow(/one word/);
  });

  it('produces a registration body Discord accepts, guild-only, with no member-permission gate', () => {
    const body = commandRegistrationBody();
    const registered = registerOrThrow(body, '1');
    expect(registered.map((c) => c.name)).toEqual(['ask', 'llm']);
    for (const c of body) {
      expect(c.contexts).toEqual([0]);
      expect('default_member_permissions' in c).toBe(false);
    }
    const llm = body.find((c) => c.name === 'llm')!;
    expect(llm.options.map((o: any) => o.name)).toEqual(['persona', 'channel', 'memory', 'knowledge', 'usage', 'help']);
  });

  it('asks only for View Channels, Send Messages, Send Messages in Threads and Read Message History', () => {
    expect(BOT_PERMISSIONS).toBe(274877975552n);
  });
});
