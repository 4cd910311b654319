/** Channel settings and memory: admin commands that change how the bot behaves in one channel. */
import type { HandlerTable } from './context.js';

const modeText = { mention: 'only when mentioned', all: 'to every message', off: 'never (switched off)' } as const;

export const channelHandlers = {
  'channel.mode': async ({ deps, tenant, channel, actor }, { mode }) => {
    await deps.channels.set(tenant, channel, { mode });
    await deps.audit.record(tenant, actor, 'channel.mode', { channel, mode });
    return { text: `In this channel I now answer ${modeText[mode]}.` };
  },

  'channel.memory': async ({ deps, tenant, channel, actor }, { messages }) => {
    await deps.channels.set(tenant, channel, { memoryMessages: messages });
    await deps.audit.record(tenant, actor, 'channel.memory', { channel, messages });
    return { text: `In this channel I now remember the last ${messages} messages.` };
  },

  'channel.retrieval': async ({ deps, tenant, channel, actor }, { state }) => {
    const enabled = state === 'on';
    await deps.channels.set(tenant, channel, { retrieval: enabled });
    await deps.audit.record(tenant, actor, 'channel.retrieval', { channel, enabled });
    return { text: `Knowledge base ${state} in this channel.` };
  },

  'memory.clear': async ({ deps, tenant, channel, actor }) => {
    const n = await deps.memory.clearChannel(tenant, channel);
    await deps.audit.record(tenant, actor, 'memory.clear', { channel, messages: n });
    return { text: `Forgot ${n} message${n === 1 ? '' : 's'} in this channel.` };
  },
} satisfies Partial<HandlerTable>;
