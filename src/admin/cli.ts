/** Entry point of `npm run admin -- ...`; see run.ts for the commands (or `--help`). */
import { ConfigError, readEnvironment } from '../config.js';
import { runAdmin } from './run.js';

async function main(): Promise<number> {
  let env: NodeJS.ProcessEnv;
  try {
    env = readEnvironment();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  return runAdmin(process.argv.slice(2), {
    env,
    io: {
      out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
      err: (text) => process.stderr.write(`${text}\n`),
      progress: process.stderr,
    },
  });
}

process.exitCode = await main();
