/**
 * The Discord adapter's pure parts: the slash commands derived from the registry, the permissions
 * it asks for, the answer buttons and the reading of a thread's history.
 */
import { describe, expect, it } from 'vitest';
import { ApplicationCommandOptionType as T } from 'discord.js';
import { commandRegistrationBody, findSpec, grammarText, llmSubcommands, askCommand, type ArgSpec } from '../adapters/discord/commands.js';
import { BOT_PERMISSIONS } from '../adapters/discord/install.js';
import { readCommand } from '../src/core/commands/read-command.js';
import { commandSpecs } from '../src/core/commands/registry.js';
import { channelLimits, personaLimits } from '../src/ports/stores.js';
import { registerOrThrow } from './fakes/discord-commands.js';
import { componentErrors, customIdsOf } from './fakes/discord-components.js';
import { AnswerButtons, feedbackRows, parseAnswerButton, stopRows } from '../adapters/discord/buttons.js';
import { priorMessages, rejectHistoryRateLimit } from '../adapters/discord/thread-history.js';

describe('slash commands from the registry', () => {
  /** A value Discord would accept for each option, so no command needs its own sample. */
  const sampleFor = (o: ArgSpec): string | number | undefined =>
    o.type === T.Attachment ? undefined : o.choices ? o.choices[0] : o.type === T.String ? 'pirate' : (o.maxValue ?? o.minValue! + 1);
  const invoke = (spec: (typeof llmSubcommands)[number]) =>
    Object.fromEntries(spec.args.map((a) => [a.name, sampleFor(a)]).filter(([, v]) => v !== undefined));

  it('offers every registry command: /llm subcommands by their words, and /ask of its own', () => {
    const offered = [askCommand, ...llmSubcommands].map((s) => s.command.id).sort();
    expect(offered).toEqual(commandSpecs.map((s) => s.id).sort());
    for (const s of llmSubcommands) expect(s.path).toEqual(s.command.words);
    expect(findSpec('ask', null, null)).toBe(askCommand);
    expect(findSpec('llm', 'persona', 'create')!.command.id).toBe('persona.create');
    expect(findSpec('llm', null, 'usage')!.command.id).toBe('usage');
    expect(findSpec('llm', 'persona', 'nope')).toBeUndefined();
  });

  it('renders every subcommand as text the core grammar parses to that command', () => {
    for (const spec of [askCommand, ...llmSubcommands]) {
      const parsed = readCommand(grammarText(spec, invoke(spec)), { commandLine: true });
      expect(parsed.id, spec.command.id).toBe(spec.command.id);
    }
    expect(readCommand(grammarText(askCommand, { question: 'why: is the sky blue?' }), { commandLine: true })).toEqual({
      id: 'ask',
      args: { question: 'why: is the sky blue?' },
    });
  });

  it('keeps the grammar argument order, required options first: persona create takes name, then prompt', () => {
    const spec = findSpec('llm', 'persona', 'create')!;
    expect(spec.args.map((a) => a.name)).toEqual(['name', 'prompt', 'model', 'temperature', 'max_tokens']);
    expect(grammarText(spec, { name: 'pirate', prompt: 'Arr you are a pirate' })).toBe('persona create pirate Arr you are a pirate');
    const parsed = readCommand(grammarText(spec, { name: 'pirate', prompt: 'Arr, you are a pirate: talk like one', temperature: 0.5 }), { commandLine: true });
    expect(parsed).toEqual({ id: 'persona.create', args: { name: 'pirate', prompt: 'Arr, you are a pirate: talk like one', temperature: 0.5 } });
  });

  it('carries the core limits into the options, capped where Discord allows less', () => {
    const create = findSpec('llm', 'persona', 'create')!;
    const option = (name: string) => create.args.find((a) => a.name === name)!;
    expect(option('name').maxLength).toBe(personaLimits.name.maxLength);
    expect(option('prompt').maxLength).toBe(personaLimits.systemPrompt.maxLength);
    expect(option('temperature')).toMatchObject({ minValue: personaLimits.temperature.min, maxValue: personaLimits.temperature.max });
    expect(option('max_tokens')).toMatchObject({ minValue: personaLimits.maxTokens.min, maxValue: personaLimits.maxTokens.max });
    expect(findSpec('llm', 'channel', 'memory')!.args[0]).toMatchObject({ minValue: channelLimits.memoryMessages.min, maxValue: channelLimits.memoryMessages.max });
    // The deployment's question limit (8,000 by default) is above Discord's 6,000 cap.
    const question = (body: ReturnType<typeof commandRegistrationBody>) => body.find((c) => c.name === 'ask')!.options[0]!.max_length;
    expect(question(commandRegistrationBody())).toBe(6000);
    expect(question(commandRegistrationBody({ maxQuestionChars: 8000 }))).toBe(6000);
    expect(question(commandRegistrationBody({ maxQuestionChars: 2000 }))).toBe(2000);
  });

  it('sends pasted knowledge as "<title>: <text>" and a file upload as its title alone', () => {
    const spec = findSpec('llm', 'knowledge', 'add')!;
    const read = (values: Record<string, string>) => readCommand(grammarText(spec, values), { commandLine: true });
    expect(read({ title: 'Handbook', text: 'Lunch: noon' })).toEqual({ id: 'knowledge.add', args: { title: 'Handbook', text: 'Lunch: noon' } });
    expect(read({ title: 'Q3: plan' })).toEqual({ id: 'knowledge.add', args: { title: 'Q3 - plan' } });
    expect(read({})).toEqual({ id: 'knowledge.add', args: {} });
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
    const firstWords = [...new Set(commandSpecs.filter((s) => !s.ownSlashCommand).map((s) => s.words[0]))];
    expect(llm.options.map((o: any) => o.name)).toEqual(firstWords);
    expect(llm.options.map((o: any) => o.name).slice(0, 4)).toEqual(['persona', 'channel', 'memory', 'knowledge']);
  });

  it('labels admin subcommands "(Manage Server)" and answers settings ephemerally, questions publicly', () => {
    for (const s of llmSubcommands) {
      expect(s.description.endsWith('(Manage Server)'), s.command.id).toBe(s.command.admin);
      expect(s.ephemeral).toBe(s.command.private);
    }
    expect(askCommand.ephemeral).toBe(false);
  });

  it('asks only for View Channels, Send Messages, Send Messages in Threads and Read Message History', () => {
    expect(BOT_PERMISSIONS).toBe(274877975552n);
  });
});

describe('answer buttons', () => {
  const id = '0b7e6f7e-1d2c-4b8e-9a51-3f0c2d9e4a10';

  it('carries the contract ids, within what Discord accepts (custom_id at most 100, label at most 80)', () => {
    const rows = [...stopRows(id), ...feedbackRows(id)];
    expect(componentErrors(rows)).toEqual([]);
    expect(customIdsOf(stopRows(id))).toEqual([`answer_stop:${id}`]);
    expect(customIdsOf(feedbackRows(id))).toEqual([`answer_feedback:positive:${id}`, `answer_feedback:negative:${id}`]);
  });

  it('puts Stop on a live message, the votes only on the message that ends an answer, and nothing without an answer id', () => {
    const buttons = new AnswerButtons(id);
    expect(buttons.live()).toEqual(stopRows(id));
    expect(buttons.final('answer', true)).toEqual(feedbackRows(id));
    expect(buttons.final('answer', false)).toEqual([]);
    expect(buttons.final('error', true)).toEqual([]);
    expect(buttons.final('notice', true)).toEqual([]);
    const none = new AnswerButtons(undefined);
    expect([none.live(), none.final('answer', true)]).toEqual([[], []]);
  });

  it('reads a click back from its id: ours, malformed ours, or not ours at all', () => {
    expect(parseAnswerButton(`answer_stop:${id}`)).toEqual({ action: 'stop', answerId: id });
    expect(parseAnswerButton(`answer_feedback:negative:${id}`)).toEqual({ action: 'feedback', value: 'negative', answerId: id });
    for (const bad of ['answer_stop', 'answer_stop:', `answer_feedback:${id}`, `answer_feedback:meh:${id}`, `answer_stop:${id}:extra`, 'answer_stop:a b'])
      expect(parseAnswerButton(bad), bad).toBe('malformed');
    expect(parseAnswerButton('poll:1')).toBeNull();
    expect(parseAnswerButton('answer_stopper:1')).toBeNull();
  });
});

describe('thread history', () => {
  const bot = '200000000000000001';
  const msg = (id: string, author: string, content: string, type = 0) => ({ id, type, content, author: { id: author } });

  it("turns a newest-first page into turns oldest first: the bot's own as the assistant's, mentions of it taken out", () => {
    const page = [
      msg('5', '7', `<@${bot}> what now?`, 19),
      msg('4', bot, '⏳ Thinking…'),
      msg('3', bot, 'Restart the worker.'),
      msg('2', '8', ''),
      msg('1', '7', 'the worker is stuck'),
      msg('0', '7', 'joined', 7),
    ];
    expect(priorMessages(page, bot)).toEqual([
      { role: 'user', userId: '7', text: 'the worker is stuck' },
      { role: 'assistant', userId: null, text: 'Restart the worker.' },
      { role: 'user', userId: '7', text: 'what now?' },
    ]);
  });

  it('fails only a rate-limited read of channel messages at once; every other rate limit is waited out', () => {
    expect(rejectHistoryRateLimit({ method: 'GET', route: '/channels/:id/messages' })).toBe(true);
    expect(rejectHistoryRateLimit({ method: 'get', route: '/channels/:id/messages' })).toBe(true);
    expect(rejectHistoryRateLimit({ method: 'POST', route: '/channels/:id/messages' })).toBe(false);
    expect(rejectHistoryRateLimit({ method: 'PATCH', route: '/channels/:id/messages/:id' })).toBe(false);
    expect(rejectHistoryRateLimit({ method: 'PATCH', route: '/webhooks/:id/:token/messages/:id' })).toBe(false);
  });
});
