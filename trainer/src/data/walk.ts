/**
 * The walk of a dataset folder: every image file (by extension, any case) below the root,
 * following symbolic links to folders at most once each, and every entry that is not read, named
 * with its reason — a file of another type, a hidden entry, a link that loops back to a folder
 * above it, a second way to a folder already walked, something that is not a file — or, when it
 * cannot be read at all (a broken link, a link to itself, a folder without permission), reported
 * as unreadable.
 */
import { readdir, readlink, realpath, stat } from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { IMAGE_EXTENSIONS } from './image-io.js';

export interface Candidate {
  abs: string;
  rel: string;
  bytes: number;
  mtimeMs: number;
}

/** An entry that was not read or could not be, with the reason. */
export interface NamedFile {
  path: string;
  reason: string;
}

/** How many skipped entries a report names; the count goes on past it (a folder of 100 000 text files). */
export const SKIPPED_LISTED = 1000;

export interface Walk {
  files: Candidate[];
  /** Files with other extensions (the report's `ignored`). */
  ignored: number;
  unreadable: NamedFile[];
  /** The entries not read, by path: the first SKIPPED_LISTED the walk met. */
  skipped: NamedFile[];
  skippedTotal: number;
}

const READ_TYPES = IMAGE_EXTENSIONS.map((e) => e.slice(1)).join(', ');

/** Why a file of another extension is not read. */
export function otherTypeReason(name: string): string {
  const ext = extname(name);
  return `not an image type camd reads (${ext ? ext.toLowerCase() : 'no extension'}): ${READ_TYPES} are read`;
}

function relPath(root: string, abs: string): string {
  return relative(root, abs).split(sep).join('/');
}

/** `inner` is `outer` or a folder below it (real paths). */
const within = (inner: string, outer: string) =>
  inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);

function codeOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** Why a link cannot be followed: its target is missing, is the link itself, or the links loop. */
async function brokenLinkReason(abs: string, e: unknown): Promise<string> {
  const target = await readlink(abs).catch(() => '?');
  const code = codeOf(e);
  if (code === 'ENOENT') return `a broken link to ${target} (it does not exist)`;
  if (code === 'ELOOP')
    return resolve(dirname(abs), target) === abs ? 'a link to itself' : `a link in a loop of links (to ${target})`;
  return `a link to ${target} that cannot be followed (${code})`;
}

function notAFile(st: Stats): string {
  const kind = st.isFIFO()
    ? 'a named pipe'
    : st.isSocket()
      ? 'a socket'
      : st.isCharacterDevice() || st.isBlockDevice()
        ? 'a device'
        : 'not a regular file';
  return `${kind}: not read`;
}

interface Pending {
  abs: string;
  /** The real path of the folder it names. */
  real: string;
  /** Reached through a symbolic link (what a second way to a folder is named as). */
  link: boolean;
}

class Walker {
  readonly out: Walk = { files: [], ignored: 0, unreadable: [], skipped: [], skippedTotal: 0 };
  /** Real path of each folder walked → its path in the dataset. */
  private readonly walked = new Map<string, string>();
  private readonly stack: Pending[] = [];

  constructor(private readonly root: string) {}

  skip(abs: string, reason: string): void {
    // named up to the cap, in the walk's order (sorted names, so always the same ones); counted past it
    if (++this.out.skippedTotal <= SKIPPED_LISTED) this.out.skipped.push({ path: relPath(this.root, abs), reason });
  }

  async run(): Promise<Walk> {
    this.stack.push({ abs: this.root, real: await realpath(this.root), link: false });
    while (this.stack.length) await this.folder(this.stack.pop()!);
    this.out.files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
    this.out.skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return this.out;
  }

  private async folder(dir: Pending): Promise<void> {
    const first = this.walked.get(dir.real);
    if (first !== undefined) {
      // two ways to one folder: its images are recorded once, under the path walked first
      this.skip(
        dir.abs,
        dir.link
          ? `a link to a folder walked already (as ${first || '.'}): not followed again`
          : `a folder walked already through a link (as ${first}): its images are recorded there`,
      );
      return;
    }
    this.walked.set(dir.real, relPath(this.root, dir.abs));
    let entries: Dirent[];
    try {
      entries = await readdir(dir.abs, { withFileTypes: true });
    } catch (e) {
      this.out.unreadable.push({
        path: relPath(this.root, dir.abs) || '.',
        reason: `folder cannot be read (${codeOf(e)})`,
      });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const ent of entries) await this.entry(dir, ent);
  }

  private async entry(dir: Pending, ent: Dirent): Promise<void> {
    const abs = join(dir.abs, ent.name);
    if (ent.name.startsWith('.')) {
      // hidden files, our own cache, macOS ._ files: named, their insides not searched
      this.skip(abs, `hidden (the name starts with a dot): ${ent.isDirectory() ? 'not searched' : 'not read'}`);
      return;
    }
    let st: Stats;
    try {
      st = await stat(abs); // follows links
    } catch (e) {
      const reason = ent.isSymbolicLink() ? await brokenLinkReason(abs, e) : `cannot be inspected (${codeOf(e)})`;
      this.out.unreadable.push({ path: relPath(this.root, abs), reason });
      return;
    }
    if (st.isDirectory()) return this.subfolder(dir, abs, ent.isSymbolicLink());
    if (!st.isFile()) return this.skip(abs, notAFile(st));
    if ((IMAGE_EXTENSIONS as readonly string[]).includes(extname(ent.name).toLowerCase())) {
      this.out.files.push({ abs, rel: relPath(this.root, abs), bytes: st.size, mtimeMs: Math.floor(st.mtimeMs) });
      return;
    }
    this.out.ignored++;
    this.skip(abs, otherTypeReason(ent.name));
  }

  private async subfolder(dir: Pending, abs: string, link: boolean): Promise<void> {
    let real: string;
    try {
      real = await realpath(abs);
    } catch (e) {
      this.out.unreadable.push({ path: relPath(this.root, abs), reason: `folder cannot be resolved (${codeOf(e)})` });
      return;
    }
    // a link to the folder it is in or to one above it would walk that folder again, and again
    if (link && within(dir.real, real)) {
      const to = await readlink(abs).catch(() => real);
      this.skip(
        abs,
        real === dir.real
          ? `a link to the folder it is in (a loop, to ${to}): not followed`
          : `a link to a folder above it (a loop, to ${to}): not followed`,
      );
      return;
    }
    this.stack.push({ abs, real, link });
  }
}

/** Walks `root` (a real path): the images to read and every entry that is not read, with the reason. */
export function walk(root: string): Promise<Walk> {
  return new Walker(root).run();
}
