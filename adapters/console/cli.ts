/**
 * `npm run chat -- --workspace NAME --channel NAME [--user NAME] [--admin]`: a local console that
 * talks to the same engine and database as the service. Interactive on a terminal; with piped
 * input, one line in and its answer out, in order. `/quit` or `/exit` (or Ctrl-D) ends it;
 * Ctrl-C stops the answer being written and returns to the prompt, or quits at an empty prompt.
 */
import { createInterface, type Interface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, readEnvironment, type Config } from '../../src/config.js';
import { createCore, type Core } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { StartupError } from '../../src/startup-errors.js';
import { ConsoleSession } from './session.js';

const usage = 'usage: npm run chat -- --workspace NAME --channel NAME [--user NAME] [--admin]';

async function open(env: NodeJS.ProcessEnv): Promise<{ core: Core; config: Config } | number> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
  // Logs go to stderr so the conversation on stdout stays clean; warnings only unless asked.
  const logger = createLogger(env.LOG_LEVEL || 'warn', { destination: process.stderr, pretty: 'auto' });
  try {
    return { core: await createCore(config, { logger }), config };
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
}

/**
 * Ctrl-C: on a terminal readline reports it (the terminal is in raw mode); with piped input it
 * arrives as SIGINT. Either way it stops the answer in progress, or else ends the console.
 */
function onInterrupt(rl: Interface, session: ConsoleSession, interactive: boolean): void {
  let forced = false;
  const interrupt = () => {
    if (session.cancel()) {
      forced = false;
      return;
    }
    if (session.busy) {
      // A second Ctrl-C while a stopped answer still winds down: leave now.
      if (forced) process.exit(130);
      forced = true;
      return;
    }
    if (interactive && rl.line) {
      // Like a shell: Ctrl-C drops what was typed.
      process.stdout.write('\n');
      rl.write(null, { ctrl: true, name: 'u' });
      rl.prompt();
      return;
    }
    if (interactive) process.stdout.write('\n');
    rl.close();
  };
  rl.on('SIGINT', interrupt);
  process.on('SIGINT', interrupt);
}

async function main(): Promise<number> {
  let args;
  let env: NodeJS.ProcessEnv;
  try {
    env = readEnvironment();
    args = parseArgs({
      options: {
        workspace: { type: 'string' },
        channel: { type: 'string' },
        user: { type: 'string', default: env.USER || 'console-user' },
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
  const opened = await open(env);
  if (typeof opened === 'number') return opened;
  const { core } = opened;
  const interactive = Boolean(process.stdin.isTTY);
  const session = new ConsoleSession(
    core.engine,
    { workspace: args.workspace, channel: args.channel, user: args.user!, admin: args.admin! },
    process.stdout,
    interactive,
  );
  const rl = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive });
  onInterrupt(rl, session, interactive);
  if (interactive) {
    process.stdout.write(
      `Talking to the bot as ${args.user}${args.admin ? ' (admin)' : ''}. Commands start with /llm; /llm help lists them.\n` +
        'Ctrl-C stops an answer; /quit, /exit or Ctrl-D quits.\n',
    );
    rl.setPrompt(`${args.workspace}#${args.channel}> `);
    rl.prompt();
  }
  // Lines are handled strictly one after another so piped answers come out in order.
  for await (const line of rl) {
    if ((await session.line(line)) === 'quit') break;
    if (interactive) rl.prompt();
  }
  rl.close();
  await core.close();
  return 0;
}

process.exitCode = await main();
