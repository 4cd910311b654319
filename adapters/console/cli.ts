/**
 * `npm run chat -- --workspace NAME --channel NAME [--user NAME] [--admin]`: a local console that
 * talks to the same engine and database as the service. Interactive on a terminal; with piped
 * input, one line in and its answer out, in order.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createCore } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { ConsoleSession } from './session.js';

const usage = 'usage: npm run chat -- --workspace NAME --channel NAME [--user NAME] [--admin]';

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        workspace: { type: 'string' },
        channel: { type: 'string' },
        user: { type: 'string', default: process.env.USER || 'console-user' },
        admin: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  if (args.help || !args.workspace || !args.channel) {
    process.stderr.write(`${usage}\n`);
    return args.help ? 0 : 2;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  // Logs go to stderr so the conversation on stdout stays clean.
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr);
  const core = await createCore(config, { logger });
  const interactive = Boolean(process.stdin.isTTY);
  const session = new ConsoleSession(
    core.engine,
    { workspace: args.workspace, channel: args.channel, user: args.user!, admin: args.admin! },
    process.stdout,
    interactive,
  );
  const rl = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive });
  const prompt = `${args.workspace}#${args.channel}> `;
  if (interactive) {
    process.stdout.write(`Talking to the bot as ${args.user}${args.admin ? ' (admin)' : ''}. Commands start with /llm; /llm help lists them. Ctrl-D quits.\n`);
    rl.setPrompt(prompt);
    rl.prompt();
  }
  // Lines are handled strictly one after another so piped answers come out in order.
  for await (const line of rl) {
    await session.line(line);
    if (interactive) rl.prompt();
  }
  await core.close();
  return 0;
}

process.exitCode = await main();
