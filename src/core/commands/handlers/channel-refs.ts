/**
 * Channels as admins type them in commands and as they read them back: the platform's own
 * syntax comes from its vocabulary (Slack `<#C123|general>`, Discord `<#123>`, console
 * `#general`), so this file knows no platform. `here` is the channel the command is run in.
 */
import { BotError, ErrorCode, type Vocabulary } from '../../../ports/errors.js';
import { maxDocumentChannels } from '../../../ports/knowledge.js';
import type { CommandContext } from './context.js';

/** The channel a command is run in, for `--here` / `here`; a DM has none. */
export function thisChannel(ctx: CommandContext): string {
  if (ctx.msg.isDirect) {
    throw new BotError(ErrorCode.InvalidInput, 'A direct message is not a channel: run this in the channel, or name the channels.');
  }
  return ctx.channel;
}

/**
 * The channel ids `typed` names, or null for `all` (the whole workspace). Every word must name
 * a channel: one that does not is refused with how to name it, and nothing changes.
 */
export function readChannelList(ctx: CommandContext, typed: string): string[] | null {
  const words = typed.split(/[\s,]+/).filter(Boolean);
  if (words.length === 1 && words[0]!.toLowerCase() === 'all') return null;
  const ids: string[] = [];
  for (const word of words) {
    if (word.toLowerCase() === 'all') throw new BotError(ErrorCode.CommandUsage, '`all` stands alone: `knowledge restrict <id> all`.');
    const id = word.toLowerCase() === 'here' ? thisChannel(ctx) : ctx.vocabulary.channelId(word);
    if (!id) throw new BotError(ErrorCode.InvalidInput, `\`${word.replace(/`/g, '').slice(0, 60)}\` is not a channel: ${ctx.vocabulary.channelHint}.`);
    if (!ids.includes(id)) ids.push(id);
  }
  if (ids.length === 0) throw new BotError(ErrorCode.CommandUsage, 'Name at least one channel, or `all`.');
  if (ids.length > maxDocumentChannels) {
    throw new BotError(ErrorCode.InvalidInput, `A document can be limited to at most ${maxDocumentChannels} channels; that was ${ids.length}.`);
  }
  return ids;
}

/** Where a document is used, as the platform shows channels. */
export function scopeText(channels: readonly string[], v: Vocabulary): string {
  if (channels.length === 0) return `everywhere in this ${v.workspace}`;
  return `only in ${channels.map((c) => v.channel(c)).join(', ')}`;
}
