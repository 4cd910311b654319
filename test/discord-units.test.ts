/** The Discord adapter's pure parts: the command table and the permissions it asks for. */
import { describe, expect, it } from 'vitest';
import { commandRegistrationBody, findSpec, grammarText, llmSubcommands, askCommand } from '../adapters/discord/commands.js';
import { BOT_PERMISSIONS } from '../adapters/discord/install.js';
import { parseCommand } from '../src/core/commands/grammar.js';
import { registerOrThrow } from './fakes/discord-commands.js';

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
