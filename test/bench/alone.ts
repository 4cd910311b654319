/**
 * Lets a bench module run on its own (`npx tsx test/bench/NAME.ts ...`): when `moduleUrl` is the
 * script node was started with, runs `bench` with the command-line arguments, prints its result
 * as JSON and exits (1 on an error). Imported by the full bench or a test, it does nothing.
 */
export function runAlone(moduleUrl: string, bench: (args: string[]) => Promise<unknown>): void {
  if (moduleUrl !== `file://${process.argv[1]}`) return;
  bench(process.argv.slice(2)).then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
