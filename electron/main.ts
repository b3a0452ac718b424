/**
 * The desktop app's main process (`npm start`, or the packaged app): everything is in
 * shell/start.ts; this file only starts it and reports a failure to start.
 */
import { startShell } from './shell/start.js';

startShell({ argv: process.argv, env: process.env }).catch((e: unknown) => {
  process.stderr.write(`CAMD Studio could not start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
