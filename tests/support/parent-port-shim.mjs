// Loaded with --import into the child processes tests/support/fake-electron.ts forks in place of
// Electron utility processes: `process.parentPort` as Electron gives it (messages as { data }),
// over Node's IPC channel. Listening is added only when asked (an idle channel keeps no process alive).
if (process.send) {
  process.parentPort = {
    on(event, listener) {
      if (event === 'message') process.on('message', (m) => listener({ data: m }));
    },
    postMessage(m) {
      process.send(m);
    },
  };
}
