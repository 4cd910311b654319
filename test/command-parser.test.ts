/** The command registry and the one parser every platform's text goes through. */
import { describe, expect, it } from 'vitest';
import { readCommand } from '../src/core/commands/read-command.js';
import { commandSpecs, type CommandId } from '../src/core/commands/registry.js';
import { commandText } from '../src/core/commands/command-text.js';
import { helpText } from '../src/core/commands/help.js';
import { editDistance } from '../src/core/commands/edit-distance.js';
import { aboutOf, syntaxOf, type ArgSpec, type ArgValues } from '../src/core/commands/spec.js';
import { BotError, ErrorCode, vocabularies } from '../src/ports/errors.js';
import { personaLimits } from '../src/ports/stores.js';

const read = (line: string, commandLine = false) => readCommand(line, { commandLine });

/** What a line becomes: the command id, or the error code and text. */
function outcomeOf(line: string, commandLine: boolean): { id: string } | { code: string; text: string } {
  try {
    return { id: read(line, commandLine).id };
  } catch (err) {
    if (!(err instanceof BotError)) throw err;
    return { code: err.code, text: err.userText(vocabularies.console) };
  }
}

/** A value each kind of argument accepts, for round trips that need no per-command table. */
function sampleValue(arg: ArgSpec): string | number | undefined {
  switch (arg.kind) {
    case 'word':
      return 'pirate';
    case 'text':
      return `some ${arg.name}: with a colon`;
    case 'integer':
    case 'number':
      return arg.max ?? arg.min + 1;
    case 'choice':
      return arg.choices.at(-1);
    case 'file':
      return undefined;
  }
}

describe('the registry', () => {
  it('gives every command a unique id made of its words, and examples', () => {
    const ids = commandSpecs.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of commandSpecs) {
      expect(s.id).toBe(s.words.join('.'));
      expect(s.examples.length).toBeGreaterThan(0);
    }
  });

  it('keeps texts within what help and Discord show: about 80 characters, option descriptions 100', () => {
    for (const s of commandSpecs) {
      for (const v of Object.values(vocabularies)) expect(aboutOf(s, v).length, s.id).toBeLessThanOrEqual(80);
      for (const a of s.args) expect(a.description.length, `${s.id} ${a.name}`).toBeLessThanOrEqual(100);
    }
  });

  it('keeps a generic grammar readable: at most one text argument, and only last', () => {
    for (const s of commandSpecs.filter((c) => !c.parse)) {
      const positional = s.args.filter((a: ArgSpec) => !a.flag && a.kind !== 'file');
      positional.forEach((a: ArgSpec, i) => {
        if (a.kind === 'text') expect(i, `${s.id}: ${a.name}`).toBe(positional.length - 1);
      });
    }
  });

  it.each(commandSpecs.flatMap((s) => s.examples.map((e) => [e, s.id] as const)))('parses the example "%s" as %s', (example, id) => {
    expect(read(example).id).toBe(id);
    expect(read(`/llm ${example}`, true).id).toBe(id);
  });

  it('turns named values (a Discord invocation) into text that parses back to the same values', () => {
    for (const s of commandSpecs) {
      const values: ArgValues = Object.fromEntries(s.args.map((a: ArgSpec) => [a.name, sampleValue(a)]).filter(([, v]) => v !== undefined));
      const parsed = read(commandText(s, values), true);
      expect(parsed.id, s.id).toBe(s.id);
      if (!s.fromValues) expect(parsed.args, s.id).toEqual(values);
    }
  });
});

describe('parsing arguments', () => {
  it('reads each command form into typed arguments', () => {
    expect(read('/llm ask what is up', true)).toEqual({ id: 'ask', args: { question: 'what is up' } });
    expect(read('persona show Pirate')).toEqual({ id: 'persona.show', args: { name: 'pirate' } });
    expect(read('persona create bard --temperature 0.9 --max-tokens 200 You speak in verse.\nAlways.')).toEqual({
      id: 'persona.create',
      args: { name: 'bard', temperature: 0.9, max_tokens: 200, prompt: 'You speak in verse.\nAlways.' },
    });
    expect(read('persona create bard --model llama3.2:1b Terse.')).toMatchObject({ args: { model: 'llama3.2:1b', prompt: 'Terse.' } });
    expect(read('channel mode ALL')).toEqual({ id: 'channel.mode', args: { mode: 'all' } });
    expect(read('channel memory 12')).toEqual({ id: 'channel.memory', args: { messages: 12 } });
    expect(read('channel retrieval off')).toEqual({ id: 'channel.retrieval', args: { state: 'off' } });
    expect(read('knowledge add Holidays: We close on 24 Dec.')).toEqual({ id: 'knowledge.add', args: { title: 'Holidays', text: 'We close on 24 Dec.' } });
    expect(read('knowledge add Handbook')).toEqual({ id: 'knowledge.add', args: { title: 'Handbook' } });
    expect(read('knowledge add')).toEqual({ id: 'knowledge.add', args: {} });
    expect(read('knowledge remove abc')).toEqual({ id: 'knowledge.remove', args: { id: 'abc' } });
  });

  const bad: [line: string, problem: RegExp][] = [
    ['ask', /question is missing/],
    ['channel mode loud', /mode is one of: mention, all, off/],
    ['channel memory -1', /whole number from 0 to 100/],
    ['channel memory 101', /whole number from 0 to 100/],
    ['channel memory 2.5', /whole number/],
    ['persona create onlyname', /system prompt is missing/],
    ['persona create x --temperature hot prompt', /number between 0 and 2/],
    ['persona create x --temperature 2.5 prompt', /number between 0 and 2/],
    [`persona create x --max-tokens ${personaLimits.maxTokens.max + 1} prompt`, /whole number from 16 to 8192/],
    ['persona create x --max-tokens 8 prompt', /whole number from 16 to 8192/],
    [`persona create x ${'p'.repeat(personaLimits.systemPrompt.maxLength + 1)}`, /system prompt is 1–4000 characters/],
    [`persona show ${'a'.repeat(33)}`, /persona name is 1–32 characters/],
    ['persona show bad!name', /persona name is 1–32 characters/],
    ['persona create x --colour red prompt', /no option `--colour`/],
    ['persona create x --model', /`--model` needs a value/],
    ['persona show a b', /does not take `b`/],
    ['memory clear now', /takes no arguments/],
    ['knowledge add --file notes.txt', /only in the console/],
    [`knowledge add ${'t'.repeat(201)}`, /document title is 1–200 characters/],
  ];

  it.each(bad)('refuses "%s" with what is wrong and the usage line', (line, problem) => {
    const result = outcomeOf(line, true);
    expect(result).toMatchObject({ code: ErrorCode.CommandUsage });
    const text = (result as { text: string }).text;
    expect(text).toMatch(problem);
    const spec = commandSpecs.find((s) => line.startsWith(s.words.join(' ')))!;
    expect(text).toContain(`Usage: \`${syntaxOf(spec)}\``);
  });
});

describe('which lines are commands', () => {
  // [line, command line (after /llm or a slash command)?, what it becomes]
  const table: [string, boolean, CommandId | `${typeof ErrorCode.CommandUnknown}${string}` | typeof ErrorCode.CommandUsage][] = [
    ['', true, 'help'],
    ['', false, 'help'],
    ['persona list', false, 'persona.list'],
    ['what is up', false, 'ask'],
    ['what is up', true, 'command_unknown: Unknown command `what`. To ask a question, start with `ask`. `help` lists the commands.'],
    ['foo', true, 'command_unknown: Unknown command `foo`. `help` lists the commands.'],
    ['knowlege list', true, 'command_unknown: Unknown command `knowlege list`. Did you mean `knowledge list`? `help` lists the commands.'],
    ['knowlege list', false, 'command_unknown: Unknown command `knowlege list`. Did you mean `knowledge list`? `help` lists the commands.'],
    ['persona lst', false, 'command_unknown: Unknown command `persona lst`. Did you mean `persona list`? `help` lists the commands.'],
    ['persona shwo pirate', false, 'command_unknown: Unknown command `persona shwo`. Did you mean `persona show`? `help` lists the commands.'],
    ['chanel mode all', false, 'command_unknown: Unknown command `chanel mode`. Did you mean `channel mode`? `help` lists the commands.'],
    ['usgae', false, 'command_unknown: Unknown command `usgae`. Did you mean `usage`? `help` lists the commands.'],
    ['persona foo', true, 'command_unknown: Unknown command `persona foo`. `persona` takes: list, show, create, delete, use, default. `help` lists the commands.'],
    ['knowlege lst', true, 'command_unknown: Unknown command `knowlege lst`. Did you mean `knowledge list`? `help` lists the commands.'],
    // Questions that only look a little like commands stay questions in a mention.
    ['persona of a pirate?', false, 'ask'],
    ['personal list of things to pack', false, 'ask'],
    ['memory clean up please', false, 'ask'],
    ['knowlege lst', false, 'ask'],
    ['knowledge is power', false, 'ask'],
    ['help me write a poem', false, 'ask'],
    ['usage of semicolons in English', false, 'ask'],
    ['hello', false, 'ask'],
    ['as I said, what now?', false, 'ask'],
    // Two command words are a command, so bad arguments are a usage error even in a mention.
    ['channel mode loud', false, 'command_usage'],
    ['persona use a pirate voice', false, 'command_usage'],
    ['ask', false, 'command_usage'],
    ['help me', true, 'command_usage'],
    ['persona', false, 'command_usage'],
  ];

  it.each(table)('"%s" (command line: %s) → %s', (line, commandLine, expected) => {
    const result = outcomeOf(line, commandLine);
    if (expected === 'command_usage') expect(result).toMatchObject({ code: ErrorCode.CommandUsage });
    else if (expected.startsWith('command_unknown: ')) expect(result).toEqual({ code: ErrorCode.CommandUnknown, text: expected.slice('command_unknown: '.length) });
    else expect(result).toEqual({ id: expected });
  });

  it('strips a leading /llm from any line, and keeps a question whole', () => {
    expect(read('/llm persona list', true)).toEqual({ id: 'persona.list', args: {} });
    expect(read('why: is the sky blue?\nand green?')).toEqual({ id: 'ask', args: { question: 'why: is the sky blue?\nand green?' } });
  });

  it('measures typos as edits, a swap of neighbours counting once', () => {
    expect(editDistance('knowlege', 'knowledge')).toBe(1);
    expect(editDistance('hlep', 'help')).toBe(1);
    expect(editDistance('hello', 'help')).toBe(2);
    expect(editDistance('', 'abc')).toBe(3);
  });
});

describe('help', () => {
  it('lists admin commands only for admins, in the platform words', () => {
    const member = helpText(false, vocabularies.discord);
    const admin = helpText(true, vocabularies.discord);
    for (const s of commandSpecs) {
      expect(admin).toContain(syntaxOf(s));
      if (s.admin) expect(member).not.toContain(`/llm ${syntaxOf(s)}\``);
      else expect(member).toContain(`/llm ${syntaxOf(s)}\``);
    }
    expect(member).toContain('Members with Manage Server can also');
    expect(helpText(false, vocabularies.slack)).toContain('Workspace admins can also');
    expect(admin).toContain('persona for the whole server');
  });

  it('states which lines are commands', () => {
    expect(helpText(false, vocabularies.slack)).toMatch(/After `\/llm` a line must be a command/);
  });
});
