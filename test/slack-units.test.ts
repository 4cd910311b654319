import { defaultSuggestedPrompts } from '../src/ports/stores.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SealingError, TokenSealer, keyFingerprint } from '../src/security/sealing.js';
import { markdownToMrkdwn } from '../adapters/slack/mrkdwn.js';
import { stripBotMention, trustedFileHost } from '../adapters/slack/inbound.js';

describe('TokenSealer', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);

  it('round-trips and never stores the plaintext', () => {
    const s = new TokenSealer(k1);
    const sealed = s.seal('xoxb-secret-token', 'row-1');
    expect(sealed.keyId).toBe(keyFingerprint(k1));
    expect(sealed.ciphertext).not.toContain('xoxb');
    expect(s.open(sealed, 'row-1')).toBe('xoxb-secret-token');
    // A fresh IV every time: the same token never seals to the same text.
    expect(s.seal('xoxb-secret-token', 'row-1').ciphertext).not.toBe(sealed.ciphertext);
  });

  it('refuses a value moved to another row or tampered with', () => {
    const s = new TokenSealer(k1);
    const sealed = s.seal('xoxb-a', 'team-A');
    expect(() => s.open(sealed, 'team-B')).toThrow(SealingError);
    const raw = Buffer.from(sealed.ciphertext.slice(3), 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(() => s.open({ ...sealed, ciphertext: `v1.${raw.toString('base64')}` }, 'team-A')).toThrow(SealingError);
  });

  it('rotates: an old key still opens, by fingerprint or label, and values are reported stale', () => {
    const before = new TokenSealer(k1);
    const sealed = before.seal('xoxb-old', 'row');
    const after = TokenSealer.fromConfig(k2.toString('base64'), `old1:${k1.toString('base64')}`);
    expect(after.currentKeyId).toBe(keyFingerprint(k2));
    expect(after.open(sealed, 'row')).toBe('xoxb-old');
    expect(after.open({ keyId: 'old1', ciphertext: sealed.ciphertext }, 'row')).toBe('xoxb-old');
    expect(after.isStale(sealed.keyId)).toBe(true);
    expect(after.isStale(after.seal('x', 'row').keyId)).toBe(false);
    // Without the old key the value cannot be opened, and the error says what to do.
    expect(() => new TokenSealer(k2).open(sealed, 'row')).toThrow(/ENCRYPTION_OLD_KEYS/);
  });

  it('rejects keys of the wrong size', () => {
    expect(() => TokenSealer.fromConfig(randomBytes(16).toString('base64'))).toThrow(SealingError);
    expect(() => TokenSealer.fromConfig(undefined)).toThrow(/ENCRYPTION_KEY/);
  });
});

describe('markdownToMrkdwn', () => {
  it('converts emphasis, headings, links and lists', () => {
    expect(markdownToMrkdwn('**bold** and *it* and __b2__')).toBe('*bold* and _it_ and *b2*');
    expect(markdownToMrkdwn('## Title\ntext')).toBe('*Title*\ntext');
    expect(markdownToMrkdwn('see [docs](https://x.test/a?b=1&c=2)')).toBe('see <https://x.test/a?b=1&amp;c=2|docs>');
    expect(markdownToMrkdwn('- one\n* two')).toBe('• one\n• two');
    expect(markdownToMrkdwn('~~gone~~')).toBe('~gone~');
  });

  it('keeps code as is (only Slack escaping) and drops the fence language', () => {
    const md = 'run `a **b** c` then\n```ts\nconst x = a < b && **c**;\n```\n**done**';
    expect(markdownToMrkdwn(md)).toBe('run `a **b** c` then\n```\nconst x = a &lt; b &amp;&amp; **c**;\n```\n*done*');
  });

  it('escapes &, <, > in prose', () => {
    expect(markdownToMrkdwn('a < b & c > d')).toBe('a &lt; b &amp; c &gt; d');
  });
});

describe('inbound helpers', () => {
  it('strips only the bot mention', () => {
    expect(stripBotMention('<@UBOT> what about <@U2>?', 'UBOT')).toBe('what about <@U2>?');
    expect(stripBotMention('hey <@UBOT|bot> help', 'UBOT')).toBe('hey help');
  });

  it('sends the bot token only to Slack file hosts or the configured API host', () => {
    expect(trustedFileHost('https://files.slack.com/files-pri/T1/x', 'https://slack.com/api/')).toBe(true);
    expect(trustedFileHost('http://127.0.0.1:5555/files/F1', 'http://127.0.0.1:5555/api/')).toBe(true);
    expect(trustedFileHost('https://evil.test/files.slack.com', 'https://slack.com/api/')).toBe(false);
    expect(trustedFileHost('http://files.slack.com/x', 'https://slack.com/api/')).toBe(false);
  });
});

describe('slack-app-manifest.json', () => {
  it('asks for exactly the scopes the install flow requests and points at the service routes', async () => {
    const { readFile } = await import('node:fs/promises');
    const { BOT_SCOPES } = await import('../adapters/slack/oauth.js');
    const manifest = JSON.parse(await readFile(new URL('../slack-app-manifest.json', import.meta.url), 'utf8'));
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...BOT_SCOPES].sort());
    expect(manifest.oauth_config.redirect_urls).toEqual(['https://YOUR_PUBLIC_URL/slack/oauth_redirect']);
    expect(manifest.settings.event_subscriptions.request_url).toBe('https://YOUR_PUBLIC_URL/slack/events');
    expect(manifest.settings.interactivity.request_url).toBe('https://YOUR_PUBLIC_URL/slack/events');
    expect(manifest.features.slash_commands.map((c: { command: string; url: string }) => [c.command, c.url])).toEqual([['/llm', 'https://YOUR_PUBLIC_URL/slack/events']]);
    // Every message event the adapter handles has its history scope.
    const events: string[] = manifest.settings.event_subscriptions.bot_events;
    const needs: Record<string, string> = { 'message.channels': 'channels:history', 'message.groups': 'groups:history', 'message.im': 'im:history', 'message.mpim': 'mpim:history', app_mention: 'app_mentions:read' };
    for (const e of events) if (needs[e]) expect(BOT_SCOPES).toContain(needs[e]);
    expect(events).toEqual(
      expect.arrayContaining(['app_mention', 'message.im', 'app_uninstalled', 'tokens_revoked', 'assistant_thread_started', 'assistant_thread_context_changed', 'app_home_opened', 'agent_session_stopped']),
    );
    // The AI-app surface: the agent view, with the scope its prompts, status and titles need.
    expect(manifest.features.agent_view.agent_description).toBeTruthy();
    expect(manifest.features.agent_view.suggested_prompts.map((p: { message: string }) => p.message)).toEqual([...defaultSuggestedPrompts]);
    expect(BOT_SCOPES).toContain('assistant:write');
  });
});
