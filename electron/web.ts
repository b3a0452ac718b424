/**
 * `npm run web -- [--port N] [--data-dir DIR]`: CAMD Studio in a browser — the same services and
 * renderer as the desktop app, on 127.0.0.1 only, for a machine without a display (a GPU box
 * reached through an SSH tunnel) and for the end-to-end tests. Prints the URL with its token.
 */
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { App } from './services/app.js';
import { dataDirFrom } from './services/paths.js';
import { packageRoot } from './services/package-root.js';
import { startHost } from './host/http-host.js';

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run web --')
    .description('CAMD Studio in a browser, on 127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', '0')
    .option('--data-dir <dir>', "the data folder (default $CAMD_DATA_DIR, else the CLI's: $CAMD_HOME or ~/.camd)")
    .exitOverride()
    .configureOutput({ outputError: (s, w) => w(`camd web: ${s.replace(/^error: /, '')}`) });
  program.parse(process.argv);
  const o = program.opts<{ port: string; dataDir?: string }>();
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got '${o.port}'`);
  const app = new App({ dataDir: dataDirFrom(o.dataDir) });
  const host = await startHost({ app, port, staticDir: join(packageRoot(), 'renderer', 'dist') });
  process.stdout.write(`CAMD Studio: ${host.url}\ndata folder: ${app.paths.root}\n`);
  let closing = false;
  const close = async () => {
    if (closing) process.exit(130);
    closing = true;
    process.stderr.write(
      'camd web: pausing the running run (checkpoint) and closing; press Ctrl-C again to quit at once\n',
    );
    await host.close();
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void close());
  process.on('SIGTERM', () => void close());
}

main().catch((e: unknown) => {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  process.stderr.write(`camd web: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
