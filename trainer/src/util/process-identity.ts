/**
 * Who runs a run: process id, host name and a start token, recorded with a run so that a later
 * command can tell whether the process is still there. The start token (Linux: boot id + the
 * process's start time in clock ticks) tells a live process from another one that got the same
 * pid after a crash or a reboot; elsewhere it is null and the pid alone is checked.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcessIdentity {
  pid: number;
  host: string;
  /** null where the platform gives no start time. */
  start: string | null;
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/** Start token of a process, or null where the platform does not say. */
export function startToken(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may contain spaces and parentheses)
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const starttime = rest[19]; // field 22 of proc(5); rest[0] is field 3
    const boot = bootId();
    return starttime && boot ? `${boot}:${starttime}` : null;
  } catch {
    return null;
  }
}

export function currentProcess(): ProcessIdentity {
  return { pid: process.pid, host: hostname(), start: startToken(process.pid) };
}

/**
 * Whether the recorded process still runs. 'unknown' for a process on another host (it cannot be
 * checked from here).
 */
export function processState(p: {
  pid: number | null;
  host: string | null;
  start?: string | null;
}): 'alive' | 'gone' | 'unknown' {
  if (p.pid === null || p.host === null) return 'unknown';
  if (p.host !== hostname()) return 'unknown';
  if (p.pid === process.pid) return p.start && p.start !== startToken(p.pid) ? 'gone' : 'alive';
  try {
    process.kill(p.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
    // EPERM: it exists but belongs to another user
  }
  if (p.start) {
    const now = startToken(p.pid);
    if (now !== null && now !== p.start) return 'gone'; // the pid was reused
  }
  return 'alive';
}
