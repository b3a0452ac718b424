/**
 * Versioned schema of the CAMD store (PRAGMA user_version = number of migrations applied).
 * This is the schema the app reads: datasets → images (→ labels); runs → metrics, checkpoints,
 * evaluations. Append new migrations; never edit an applied one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: initial schema
  `
  CREATE TABLE datasets (
    id          INTEGER PRIMARY KEY,
    root        TEXT NOT NULL UNIQUE,            -- absolute, real path of the folder
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    scanned_at  TEXT,
    image_count INTEGER NOT NULL DEFAULT 0,      -- readable images at the last scan
    bad_count   INTEGER NOT NULL DEFAULT 0       -- unreadable files at the last scan
  );

  CREATE TABLE images (
    id         INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    rel_path   TEXT NOT NULL,                    -- '/'-separated, relative to the dataset root
    bytes      INTEGER NOT NULL,
    mtime_ms   INTEGER NOT NULL,
    width      INTEGER,
    height     INTEGER,
    format     TEXT,
    sha256     TEXT,                             -- content hash (keys the decode cache)
    status     TEXT NOT NULL CHECK (status IN ('ok', 'bad')),
    error      TEXT,                             -- why a 'bad' file is unreadable
    UNIQUE (dataset_id, rel_path)
  );
  CREATE INDEX images_by_dataset_status ON images(dataset_id, status, rel_path);
  CREATE INDEX images_by_hash ON images(sha256);

  CREATE TABLE labels (
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    task     TEXT NOT NULL,                      -- e.g. 'far', 'fer'
    name     TEXT NOT NULL,                      -- attribute or 'class'
    value    REAL NOT NULL,
    split    TEXT,                               -- 'train' | 'val' | 'test'
    PRIMARY KEY (image_id, task, name)
  ) WITHOUT ROWID;

  CREATE TABLE runs (
    id             TEXT PRIMARY KEY,             -- uuid
    kind           TEXT NOT NULL CHECK (kind IN ('pretrain', 'finetune', 'eval')),
    name           TEXT,
    dataset_id     INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
    parent_run_id  TEXT REFERENCES runs(id) ON DELETE SET NULL,
    config         TEXT NOT NULL,                -- full configuration, JSON
    backend        TEXT,
    backend_detail TEXT,                         -- JSON: package, threads, why others were skipped
    status         TEXT NOT NULL CHECK (status IN ('created', 'running', 'stopped', 'done', 'failed')),
    seed           INTEGER NOT NULL,
    out_dir        TEXT,
    error          TEXT,
    last_step      INTEGER NOT NULL DEFAULT 0,
    total_steps    INTEGER,
    created_at     TEXT NOT NULL,
    started_at     TEXT,
    updated_at     TEXT,
    finished_at    TEXT
  );
  CREATE INDEX runs_by_kind_created ON runs(kind, created_at);

  CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name   TEXT NOT NULL,
    step   INTEGER NOT NULL,
    epoch  REAL,
    value  REAL NOT NULL,
    PRIMARY KEY (run_id, name, step)             -- "all metrics of these runs", one curve in order
  ) WITHOUT ROWID;
  CREATE INDEX metrics_by_run_step ON metrics(run_id, step); -- "latest step of a run"

  CREATE TABLE checkpoints (
    id         INTEGER PRIMARY KEY,
    run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step       INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('full', 'encoder')),
    path       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (run_id, step, kind)
  );

  CREATE TABLE evaluations (
    id         INTEGER PRIMARY KEY,
    run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
    epoch      INTEGER,
    split      TEXT NOT NULL,
    metric     TEXT NOT NULL,
    value      REAL NOT NULL,
    detail     TEXT,                             -- JSON: per-attribute / per-class accuracy, confusion matrix
    selected   INTEGER NOT NULL DEFAULT 0,       -- the epoch chosen by validation
    created_at TEXT NOT NULL
  );
  CREATE INDEX evaluations_by_run ON evaluations(run_id, split, metric, epoch);
  `,
  // 2: run states of the supervisor and of crash recovery ('interrupted': the process ended
  //    without recording why), the process that runs a run (pid, host, start token: a later command
  //    tells a dead run from a live one), checkpoint kinds of fine-tuning. SQLite cannot change a
  //    CHECK constraint in place: the tables are rebuilt (foreign keys are off while migrating).
  `
  CREATE TABLE runs_v2 (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('pretrain', 'finetune', 'eval')),
    name           TEXT,
    dataset_id     INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
    parent_run_id  TEXT REFERENCES runs(id) ON DELETE SET NULL,
    config         TEXT NOT NULL,
    backend        TEXT,
    backend_detail TEXT,
    status         TEXT NOT NULL CHECK (status IN ('created', 'queued', 'running', 'pausing', 'paused', 'stopping', 'stopped', 'interrupted', 'done', 'failed')),
    seed           INTEGER NOT NULL,
    out_dir        TEXT,
    error          TEXT,
    last_step      INTEGER NOT NULL DEFAULT 0,
    total_steps    INTEGER,
    created_at     TEXT NOT NULL,
    started_at     TEXT,
    updated_at     TEXT,
    finished_at    TEXT,
    pid            INTEGER,                      -- the process running it (while running)
    host           TEXT,                         -- its host name
    pid_start      TEXT                          -- its start token (tells a reused pid apart)
  );
  INSERT INTO runs_v2 (id, kind, name, dataset_id, parent_run_id, config, backend, backend_detail, status, seed, out_dir, error, last_step, total_steps, created_at, started_at, updated_at, finished_at)
    SELECT id, kind, name, dataset_id, parent_run_id, config, backend, backend_detail, status, seed, out_dir, error, last_step, total_steps, created_at, started_at, updated_at, finished_at FROM runs;
  DROP TABLE runs;
  ALTER TABLE runs_v2 RENAME TO runs;
  CREATE INDEX runs_by_kind_created ON runs(kind, created_at);
  CREATE INDEX runs_by_status ON runs(status);

  CREATE TABLE checkpoints_v2 (
    id         INTEGER PRIMARY KEY,
    run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step       INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('full', 'encoder', 'classifier', 'last')),
    path       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (run_id, step, kind)
  );
  INSERT INTO checkpoints_v2 SELECT id, run_id, step, kind, path, sha256, bytes, created_at FROM checkpoints;
  DROP TABLE checkpoints;
  ALTER TABLE checkpoints_v2 RENAME TO checkpoints;
  `,
  // 3: the wall-clock time of each metric point (ms since 1970), for curves over time; the spec a
  //    run was asked for (the app's request, kept apart from the configuration the trainer records)
  `
  ALTER TABLE metrics ADD COLUMN t REAL;
  ALTER TABLE runs ADD COLUMN spec TEXT;
  `,
];
