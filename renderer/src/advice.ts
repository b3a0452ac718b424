/** What to do about a failed run, from its error in words (the trainer's and the supervisor's messages). */
export function adviceFor(error: string | null): string | null {
  if (!error) return null;
  const e = error.toLowerCase();
  if (e.includes('out of memory') || e.includes('sigkill') || e.includes('sigabrt'))
    return 'The machine ran out of memory: lower the batch, the image size or the model size, or use a GPU backend. Resume continues from the last checkpoint.';
  if (e.includes('diverged') || e.includes('loss became'))
    return 'Training diverged: start again with a lower learning rate (or a longer warm-up).';
  if (e.includes('disk is full') || e.includes('disk full'))
    return 'The disk is full: free some space (System → disk use), then resume the run.';
  if (e.includes('decode cache') && e.includes('missing'))
    return 'A cached image vanished: resume the run; the cache is rebuilt.';
  if (e.includes('in use by')) return 'Another process works in this run folder: wait for it or stop it.';
  if (e.includes('segmentation fault') || e.includes('native code'))
    return 'The trainer crashed in native code: resume the run; if it happens again, try another backend (System shows which exist).';
  if (e.includes('interrupted') || e.includes('ended without recording'))
    return 'The process stopped without finishing: resume the run to continue from its last checkpoint.';
  return null;
}
