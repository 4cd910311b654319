/** Entry point of `npm run admin -- ...`; see run.ts for the commands (or `--help`). */
import { runAdmin } from './run.js';

process.exitCode = await runAdmin(process.argv.slice(2), {
  env: process.env,
  io: {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    progress: process.stderr,
  },
});
