/**
 * Every chat command, declared once. Parsing, help, the README's command table and the Discord
 * slash commands are derived from this list; a command's behaviour lives in its handler, keyed
 * by id. Order matters: help, the README and Discord list commands in this order.
 */
import { maxDocumentChannels } from '../../ports/knowledge.js';
import { channelLimits, channelModes, personaLimits, promptLimits } from '../../ports/stores.js';
import { ArgProblem, type ArgsOf, type ArgValues, type CommandSpec } from './spec.js';

const personaName = {
  kind: 'word',
  name: 'name',
  label: 'persona name',
  description: `Persona name: ${personaLimits.name.maxLength} characters at most (a-z, 0-9, - or _)`,
  required: true,
  lowercase: true,
  pattern: personaLimits.name.pattern,
  rule: personaLimits.name.rule,
  maxLength: personaLimits.name.maxLength,
} as const;

/** The knowledge base keeps the first 200 characters of a title. */
const MAX_TITLE = 200;

/** `knowledge add [--here] <title>: <text>` (pasted) or `knowledge add [--here] [title]` (with an attached file). */
function parseKnowledgeAdd(rest: string): ArgValues {
  let trimmed = rest.trim();
  const here = /^--here(?:\s+|$)/i.exec(trimmed);
  if (here) trimmed = trimmed.slice(here[0].length);
  if (trimmed.startsWith('--')) throw new ArgProblem('Options such as `--file` work only in the console; here, attach the file to your message.');
  const scope = here ? { here: true } : {};
  const colon = trimmed.indexOf(':');
  if (colon > 0) {
    const title = trimmed.slice(0, colon).trim();
    const text = trimmed.slice(colon + 1).trim();
    if (title && text) return { ...scope, title, text };
  }
  return trimmed ? { ...scope, title: trimmed } : scope;
}

/** Named values (a Discord invocation) as the grammar's `[--here] <title>: <text>` or `[--here] [title]`. */
function knowledgeAddText(v: ArgValues): string {
  const words = v.here === true ? 'knowledge add --here' : 'knowledge add';
  const text = v.text === undefined ? '' : String(v.text).trim();
  // The grammar reads "<title>: <text>"; a colon inside a file's title would split it.
  const title = String(v.title ?? '').trim().replace(/:/g, ' -');
  if (!text) return `${words}${title ? ` ${title}` : ''}`;
  return `${words} ${title || text.split('\n')[0]!.slice(0, 60).replace(/:/g, ' -')}: ${text}`;
}

/** `retention <days>` sets, `retention show` (or `retention` alone) shows. */
function parseRetention(rest: string): ArgValues {
  const given = rest.trim();
  if (given === '' || given.toLowerCase() === 'show') return {};
  return { days: given };
}

const specs = [
  {
    id: 'ask',
    words: ['ask'],
    // No length limit here: the engine enforces the deployment's MAX_QUESTION_CHARS for every question.
    args: [{ kind: 'text', name: 'question', label: 'question', description: 'Your question', required: true }],
    admin: false,
    private: false,
    about: 'ask a question (in a mention or DM, a bare question works too)',
    examples: ['ask what is up', 'ask why: is the sky blue?'],
    ownSlashCommand: true,
  },
  { id: 'persona.list', words: ['persona', 'list'], args: [], admin: false, private: true, about: 'personas you can use', examples: ['persona list'] },
  {
    id: 'persona.show',
    words: ['persona', 'show'],
    args: [personaName],
    admin: false,
    private: true,
    about: "a persona's prompt and settings",
    examples: ['persona show pirate'],
  },
  {
    id: 'persona.create',
    words: ['persona', 'create'],
    args: [
      personaName,
      { kind: 'word', name: 'model', label: 'model', description: "Model for this persona (default: the deployment's)", flag: true, placeholder: 'M' },
      {
        kind: 'number',
        name: 'temperature',
        label: 'temperature',
        description: `Sampling temperature, ${personaLimits.temperature.min}–${personaLimits.temperature.max}`,
        flag: true,
        placeholder: 'T',
        ...personaLimits.temperature,
      },
      {
        kind: 'integer',
        name: 'max_tokens',
        label: 'max tokens',
        description: `Longest answer in tokens, ${personaLimits.maxTokens.min}–${personaLimits.maxTokens.max}`,
        flag: true,
        placeholder: 'N',
        ...personaLimits.maxTokens,
      },
      {
        kind: 'text',
        name: 'prompt',
        label: 'system prompt',
        description: `System prompt: how the persona behaves (${personaLimits.systemPrompt.maxLength} characters at most)`,
        required: true,
        placeholder: '<system prompt>',
        maxLength: personaLimits.systemPrompt.maxLength,
      },
    ],
    admin: true,
    private: true,
    about: 'add or replace a persona',
    examples: ['persona create pirate Talk like a pirate.', 'persona create bard --temperature 0.9 --max-tokens 200 You speak in verse.'],
  },
  { id: 'persona.delete', words: ['persona', 'delete'], args: [personaName], admin: true, private: true, about: 'delete a persona', examples: ['persona delete pirate'] },
  { id: 'persona.use', words: ['persona', 'use'], args: [personaName], admin: true, private: true, about: 'persona for this channel', examples: ['persona use pirate'] },
  {
    id: 'persona.default',
    words: ['persona', 'default'],
    args: [personaName],
    admin: true,
    private: true,
    about: (v) => `persona for the whole ${v.workspace}`,
    examples: ['persona default pirate'],
  },
  {
    id: 'channel.mode',
    words: ['channel', 'mode'],
    args: [{ kind: 'choice', name: 'mode', label: 'mode', description: 'mention: when mentioned; all: every message; off: never', required: true, choices: channelModes }],
    admin: true,
    private: true,
    about: 'when the bot answers in this channel',
    examples: ['channel mode all', 'channel mode OFF'],
  },
  {
    id: 'channel.memory',
    words: ['channel', 'memory'],
    args: [
      {
        kind: 'integer',
        name: 'messages',
        label: 'number of messages',
        description: `Earlier messages to remember, ${channelLimits.memoryMessages.min}–${channelLimits.memoryMessages.max}`,
        required: true,
        ...channelLimits.memoryMessages,
      },
    ],
    admin: true,
    private: true,
    about: 'how many earlier messages it remembers in this channel',
    examples: ['channel memory 12'],
  },
  {
    id: 'channel.retrieval',
    words: ['channel', 'retrieval'],
    args: [{ kind: 'choice', name: 'state', label: 'setting', description: 'on or off', required: true, choices: ['on', 'off'] }],
    admin: true,
    private: true,
    about: 'use the knowledge base in this channel',
    examples: ['channel retrieval off'],
  },
  { id: 'memory.clear', words: ['memory', 'clear'], args: [], admin: true, private: true, about: "forget this channel's conversation", examples: ['memory clear'] },
  {
    id: 'knowledge.add',
    words: ['knowledge', 'add'],
    args: [
      { kind: 'text', name: 'title', label: 'document title', description: 'Document title', maxLength: MAX_TITLE },
      { kind: 'text', name: 'text', label: 'text', description: 'Pasted text (instead of a file)' },
      { kind: 'file', name: 'attachment', label: 'file', description: 'A .txt, .md, .pdf or .html file' },
      { kind: 'switch', name: 'here', label: 'here', description: 'Use the document in this channel only (default: everywhere)' },
    ],
    admin: true,
    private: true,
    about: 'teach it a document: pasted text, or a file sent with `knowledge add [title]`',
    notes: '`--here`: only in this channel, else everywhere; a new version of a title keeps its channels; console: `knowledge add --file PATH [--here] [title]`',
    examples: ['knowledge add Holidays: We close on 24 Dec.', 'knowledge add Handbook', 'knowledge add', 'knowledge add --here Payroll: Paid on the 25th.'],
    parse: parseKnowledgeAdd,
    syntax: 'knowledge add [--here] <title>: <text>',
    fromValues: knowledgeAddText,
  },
  {
    id: 'knowledge.list',
    words: ['knowledge', 'list'],
    args: [],
    admin: true,
    private: true,
    about: 'documents it knows, and the channels each is used in',
    examples: ['knowledge list'],
  },
  {
    id: 'knowledge.restrict',
    words: ['knowledge', 'restrict'],
    args: [
      { kind: 'word', name: 'id', label: 'document id', description: 'Document id (from knowledge list)', required: true },
      {
        kind: 'text',
        name: 'channels',
        label: 'channels',
        description: 'The channels to use it in (#name ...), "here", or "all" for everywhere again',
        required: true,
        placeholder: '<channel> [<channel> ...]',
        maxLength: 2000,
      },
    ],
    admin: true,
    private: true,
    about: 'use a document only in these channels (`all`: everywhere again)',
    notes: `\`here\` names this channel; at most ${maxDocumentChannels} channels; DMs use workspace-wide documents only`,
    examples: ['knowledge restrict 3f2a9c1e #hr #people', 'knowledge restrict 3f2a9c1e all', 'knowledge restrict 3f2a9c1e here'],
  },
  {
    id: 'knowledge.remove',
    words: ['knowledge', 'remove'],
    args: [{ kind: 'word', name: 'id', label: 'document id', description: 'Document id (from knowledge list)', required: true }],
    admin: true,
    private: true,
    about: 'forget a document',
    examples: ['knowledge remove 3f2a'],
  },
  {
    id: 'retention',
    words: ['retention'],
    args: [
      {
        kind: 'integer',
        name: 'days',
        label: 'number of days',
        description: "Days to keep conversations, up to the plan's limit (leave out to show the rules)",
        min: 1,
      },
    ],
    admin: true,
    private: true,
    about: 'how long conversations are kept here (`show`: the rules for everything kept)',
    notes: "at most the plan's limit; messages older than that are deleted within the hour",
    examples: ['retention 30', 'retention show', 'retention'],
    parse: parseRetention,
    syntax: 'retention <days>|show',
  },
  { id: 'usage', words: ['usage'], args: [], admin: true, private: true, about: "today's and this month's usage against the limits", examples: ['usage'] },
  {
    id: 'audit',
    words: ['audit'],
    args: [{ kind: 'integer', name: 'page', label: 'page', description: 'Page number, 1 = newest', min: 1 }],
    admin: true,
    private: true,
    about: (v) => `the ${v.workspace}'s recent admin changes, newest first, 10 a page`,
    examples: ['audit', 'audit 2'],
  },
  {
    id: 'feedback',
    words: ['feedback'],
    args: [],
    admin: true,
    private: true,
    about: 'votes on answers today and this month, and the latest answers marked not helpful',
    examples: ['feedback'],
  },
  {
    id: 'prompts.set',
    words: ['prompts', 'set'],
    args: [
      {
        kind: 'text',
        name: 'prompts',
        label: 'prompts',
        description: `Up to ${promptLimits.count} suggested prompts, separated by |`,
        required: true,
        placeholder: '<prompt> | <prompt> ...',
        maxLength: promptLimits.count * (promptLimits.maxLength + 3),
      },
    ],
    admin: true,
    private: true,
    about: `set the suggested prompts of new assistant threads (at most ${promptLimits.count}, separated by |)`,
    examples: ['prompts set What can you do? | Summarize our holiday policy'],
  },
  { id: 'prompts.clear', words: ['prompts', 'clear'], args: [], admin: true, private: true, about: 'back to the built-in suggested prompts', examples: ['prompts clear'] },
  { id: 'prompts.list', words: ['prompts', 'list'], args: [], admin: false, private: true, about: 'the suggested prompts a new assistant thread offers', examples: ['prompts list'] },
  { id: 'help', words: ['help'], args: [], admin: false, private: true, about: 'the commands you may use', examples: ['help'] },
] as const satisfies readonly CommandSpec[];

/** Every command, in the order help, the README and Discord list them. */
export const commandSpecs: readonly CommandSpec[] = specs;

type AnyCommandSpec = (typeof specs)[number];
export type CommandId = AnyCommandSpec['id'];
export type SpecOf<K extends CommandId> = Extract<AnyCommandSpec, { id: K }>;

/** A parsed command: its id and its typed arguments. */
export type Command = { [K in CommandId]: { id: K; args: ArgsOf<SpecOf<K>['args']> } }[CommandId];
export type CommandOf<K extends CommandId> = Extract<Command, { id: K }>;

const byId = new Map<string, CommandSpec>(commandSpecs.map((s) => [s.id, s]));

export function specOf(id: CommandId): CommandSpec {
  return byId.get(id)!;
}

/** First words that take a second one (`persona`, `channel`, ...). */
export const groupWords: ReadonlySet<string> = new Set(commandSpecs.filter((s) => s.words.length > 1).map((s) => s.words[0]!));
