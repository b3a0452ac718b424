/**
 * Last words of a process that must quit at once (a second Ctrl-C, a fatal error): each running
 * job registers a hook that records its state synchronously (the store is synchronous SQLite), so
 * even a hard quit never leaves a run shown as running.
 */
const hooks = new Set<(reason: string) => void>();

/** Registers a hook; returns its removal. */
export function onHardExit(fn: (reason: string) => void): () => void {
  hooks.add(fn);
  return () => hooks.delete(fn);
}

/** Runs every hook once (errors are swallowed: the process is quitting anyway). */
export function runHardExitHooks(reason: string): void {
  for (const h of [...hooks]) {
    hooks.delete(h);
    try {
      h(reason);
    } catch {
      /* quitting */
    }
  }
}
