/**
 * Versioned schema of the CAMD store (PRAGMA user_version = number of migrations applied).
 * This is the schema the app reads: datasets → images → annotations (label schemas, fields,
 * predictions, splits); runs → metrics, checkpoints, evaluations. Append new migrations; never edit an applied one.
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
  // 4: labelling. Per dataset, label schemas (multi-label binary attributes, or one class
  //    among several), their fields (attributes, classes, optional numbers and points), soft
  //    deletion (a deleted field keeps its labels, hidden, and can be restored); annotations by
  //    labeller with their source (a person, an imported file, an accepted model prediction) and
  //    when; every change logged for undo/redo and for who-did-what; model predictions kept apart;
  //    seeded splits per schema. The labels of schema 1–3 are moved over (class names unknown to
  //    them become "class N"); `labels` stays as a read-only view of the same rows. An image whose
  //    file goes away keeps its annotations aside, by content hash, until a file with that content
  //    comes back in the dataset (a moved or renamed file keeps its labels).
  `
  CREATE TABLE label_schemas (
    id          INTEGER PRIMARY KEY,
    dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    task        TEXT NOT NULL CHECK (task IN ('far', 'fer')),   -- far: binary attributes; fer: one class
    template    TEXT,                                           -- celeba40 | rafdb7 | ferplus8 | null
    split_seed  INTEGER,                                        -- the seed of the last split made
    created_at  TEXT NOT NULL,
    UNIQUE (dataset_id, name)
  );

  CREATE TABLE label_fields (
    id          INTEGER PRIMARY KEY,
    schema_id   INTEGER NOT NULL REFERENCES label_schemas(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('attribute', 'class', 'number', 'point')),
    name        TEXT NOT NULL,
    position    INTEGER NOT NULL,
    shortcut    TEXT,                                           -- one key
    min         REAL,                                           -- numbers: bounds and unit
    max         REAL,
    unit        TEXT,
    deleted_at  TEXT                                            -- deleted: hidden with its labels, restorable
  );
  CREATE UNIQUE INDEX label_fields_live_name ON label_fields(schema_id, kind, name) WHERE deleted_at IS NULL;
  CREATE INDEX label_fields_by_schema ON label_fields(schema_id, position);

  CREATE TABLE annotations (
    image_id   INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    schema_id  INTEGER NOT NULL REFERENCES label_schemas(id) ON DELETE CASCADE,
    slot       INTEGER NOT NULL,                                -- 0: the schema's class; else a label_fields id
    labeller   TEXT NOT NULL,                                   -- who; 'import:<format>' for a label file
    value      REAL NOT NULL,                                   -- attribute 0|1; class: its label_fields id; number; point x
    y          REAL,                                            -- point y
    source     TEXT NOT NULL CHECK (source IN ('human', 'import', 'accepted')),
    run_id     TEXT,                                            -- accepted: the run that predicted it
    at         TEXT NOT NULL,
    PRIMARY KEY (image_id, schema_id, slot, labeller)
  ) WITHOUT ROWID;
  CREATE INDEX annotations_by_schema ON annotations(schema_id, slot, value);

  CREATE TABLE annotation_log (
    seq          INTEGER PRIMARY KEY,
    batch        INTEGER NOT NULL,                              -- one action (a key, a grid apply): undone together
    schema_id    INTEGER NOT NULL,
    image_id     INTEGER NOT NULL,
    slot         INTEGER NOT NULL,
    labeller     TEXT NOT NULL,
    before_value REAL, before_y REAL, before_source TEXT, before_run TEXT,   -- null value: there was none
    after_value  REAL, after_y REAL, after_source TEXT, after_run TEXT,      -- null value: removed
    at           TEXT NOT NULL,
    state        INTEGER NOT NULL DEFAULT 0                     -- 0 done, 1 undone, 2 undone and replaced by a newer action
  );
  CREATE INDEX annotation_log_by_labeller ON annotation_log(schema_id, labeller, batch);

  CREATE TABLE annotations_orphaned (
    dataset_id  INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    rel_path    TEXT NOT NULL,
    schema_id   INTEGER NOT NULL,
    slot        INTEGER NOT NULL,
    labeller    TEXT NOT NULL,
    value       REAL NOT NULL,
    y           REAL,
    source      TEXT NOT NULL,
    run_id      TEXT,
    at          TEXT NOT NULL,
    orphaned_at TEXT NOT NULL
  );
  CREATE INDEX annotations_orphaned_by_hash ON annotations_orphaned(dataset_id, sha256);
  CREATE TRIGGER images_keep_annotations BEFORE DELETE ON images WHEN OLD.sha256 IS NOT NULL BEGIN
    INSERT INTO annotations_orphaned (dataset_id, sha256, rel_path, schema_id, slot, labeller, value, y, source, run_id, at, orphaned_at)
      SELECT OLD.dataset_id, OLD.sha256, OLD.rel_path, a.schema_id, a.slot, a.labeller, a.value, a.y, a.source, a.run_id, a.at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
      FROM annotations a WHERE a.image_id = OLD.id;
  END;
  CREATE TRIGGER images_restore_annotations AFTER INSERT ON images WHEN NEW.sha256 IS NOT NULL BEGIN
    INSERT OR IGNORE INTO annotations (image_id, schema_id, slot, labeller, value, y, source, run_id, at)
      SELECT NEW.id, o.schema_id, o.slot, o.labeller, o.value, o.y, o.source, o.run_id, o.at
      FROM annotations_orphaned o JOIN label_schemas s ON s.id = o.schema_id
      WHERE o.dataset_id = NEW.dataset_id AND o.sha256 = NEW.sha256;
    DELETE FROM annotations_orphaned WHERE dataset_id = NEW.dataset_id AND sha256 = NEW.sha256;
  END;
  CREATE TRIGGER images_restore_annotations_on_update AFTER UPDATE OF sha256 ON images WHEN NEW.sha256 IS NOT NULL AND NEW.sha256 IS NOT OLD.sha256 BEGIN
    INSERT OR IGNORE INTO annotations (image_id, schema_id, slot, labeller, value, y, source, run_id, at)
      SELECT NEW.id, o.schema_id, o.slot, o.labeller, o.value, o.y, o.source, o.run_id, o.at
      FROM annotations_orphaned o JOIN label_schemas s ON s.id = o.schema_id
      WHERE o.dataset_id = NEW.dataset_id AND o.sha256 = NEW.sha256;
    DELETE FROM annotations_orphaned WHERE dataset_id = NEW.dataset_id AND sha256 = NEW.sha256;
  END;

  CREATE TABLE predictions (
    run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    image_id   INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    schema_id  INTEGER NOT NULL REFERENCES label_schemas(id) ON DELETE CASCADE,
    slot       INTEGER NOT NULL,                                -- as annotations
    value      REAL NOT NULL,                                   -- the predicted class (label_fields id) or attribute (0|1)
    confidence REAL NOT NULL,                                   -- class: its probability; attribute: max(p, 1 - p)
    probs      TEXT,                                            -- JSON: class id → probability, or [p]
    at         TEXT NOT NULL,
    PRIMARY KEY (run_id, schema_id, image_id, slot)
  ) WITHOUT ROWID;
  CREATE INDEX predictions_by_image ON predictions(image_id);

  CREATE TABLE label_splits (
    schema_id INTEGER NOT NULL REFERENCES label_schemas(id) ON DELETE CASCADE,
    image_id  INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    split     TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
    PRIMARY KEY (schema_id, image_id)
  ) WITHOUT ROWID;

  -- the labels of schema 1–3: one schema per dataset and task
  INSERT INTO label_schemas (dataset_id, name, task, created_at)
    SELECT DISTINCT i.dataset_id, CASE l.task WHEN 'far' THEN 'attributes (imported)' ELSE 'classes (imported)' END, l.task, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM labels l JOIN images i ON i.id = l.image_id WHERE l.task IN ('far', 'fer');
  INSERT INTO label_fields (schema_id, kind, name, position)
    SELECT s.id, 'attribute', n.name, row_number() OVER (PARTITION BY s.id ORDER BY n.name) - 1
    FROM (SELECT DISTINCT i.dataset_id, l.name FROM labels l JOIN images i ON i.id = l.image_id WHERE l.task = 'far') n
    JOIN label_schemas s ON s.dataset_id = n.dataset_id AND s.task = 'far';
  INSERT INTO label_fields (schema_id, kind, name, position)
    SELECT s.id, 'class', 'class ' || CAST(v.value AS INTEGER), row_number() OVER (PARTITION BY s.id ORDER BY v.value) - 1
    FROM (SELECT DISTINCT i.dataset_id, l.value FROM labels l JOIN images i ON i.id = l.image_id WHERE l.task = 'fer') v
    JOIN label_schemas s ON s.dataset_id = v.dataset_id AND s.task = 'fer';
  INSERT INTO annotations (image_id, schema_id, slot, labeller, value, source, at)
    SELECT l.image_id, s.id, f.id, 'import', l.value, 'import', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM labels l JOIN images i ON i.id = l.image_id JOIN label_schemas s ON s.dataset_id = i.dataset_id AND s.task = 'far'
    JOIN label_fields f ON f.schema_id = s.id AND f.kind = 'attribute' AND f.name = l.name WHERE l.task = 'far';
  INSERT INTO annotations (image_id, schema_id, slot, labeller, value, source, at)
    SELECT l.image_id, s.id, 0, 'import', f.id, 'import', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM labels l JOIN images i ON i.id = l.image_id JOIN label_schemas s ON s.dataset_id = i.dataset_id AND s.task = 'fer'
    JOIN label_fields f ON f.schema_id = s.id AND f.kind = 'class' AND f.name = 'class ' || CAST(l.value AS INTEGER) WHERE l.task = 'fer';
  INSERT OR IGNORE INTO label_splits (schema_id, image_id, split)
    SELECT s.id, l.image_id, l.split FROM labels l JOIN images i ON i.id = l.image_id JOIN label_schemas s ON s.dataset_id = i.dataset_id AND s.task = l.task
    WHERE l.split IN ('train', 'val', 'test');
  DROP TABLE labels;

  -- the old shape, read-only, for readers of schema 3: people's and imported labels (not accepted predictions), class as its position
  CREATE VIEW labels AS
    SELECT a.image_id, s.task,
           CASE WHEN a.slot = 0 THEN 'class' ELSE f.name END AS name,
           CASE WHEN a.slot = 0 THEN (SELECT c.position FROM label_fields c WHERE c.id = CAST(a.value AS INTEGER)) ELSE a.value END AS value,
           sp.split
    FROM annotations a JOIN label_schemas s ON s.id = a.schema_id
    LEFT JOIN label_fields f ON f.id = a.slot
    LEFT JOIN label_splits sp ON sp.schema_id = a.schema_id AND sp.image_id = a.image_id
    WHERE a.source != 'accepted' AND (a.slot = 0 OR f.kind = 'attribute');
  `,
  // 5: faces at ingest. A derived dataset (a folder of aligned face crops the trainer writes) names
  //    its source dataset and what made it; one row per detected face of a source photo, with
  //    its box, five landmarks, pose, score, what became of it (kept, too small, low score, a
  //    repeated detection of the same face, a near-duplicate collapsed, dropped by a person), the
  //    crop's path in the derived dataset, and the bundled models' suggestions (never labels).
  `
  ALTER TABLE datasets ADD COLUMN source_dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL;
  ALTER TABLE datasets ADD COLUMN derive TEXT;        -- JSON: detector, thresholds, margin, size
  CREATE TABLE faces (
    id              INTEGER PRIMARY KEY,
    dataset_id      INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,  -- the derived dataset
    source_image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    face_index      INTEGER NOT NULL,                -- order of the detector's output for that photo
    source_sha256   TEXT NOT NULL,
    score           REAL NOT NULL,
    box             TEXT NOT NULL,                   -- JSON [x, y, w, h], photo pixels
    landmarks       TEXT NOT NULL,                   -- JSON {rightEye, leftEye, nose, rightMouth, leftMouth}
    pose            TEXT NOT NULL,                   -- JSON {roll, yaw, pitch}, degrees
    status          TEXT NOT NULL CHECK (status IN ('kept', 'small', 'low-score', 'repeat', 'near-duplicate', 'dropped')),
    crop_path       TEXT,                            -- relative to the derived dataset's root (kept faces)
    outside         REAL,                            -- fraction of the crop beyond the photo (mirrored)
    dhash           TEXT,                            -- 64-bit difference hash of the crop, hex
    suggestions     TEXT,                            -- JSON: the bundled models' age/gender/expression, with their source
    UNIQUE (dataset_id, source_image_id, face_index)
  );
  CREATE INDEX faces_by_source ON faces(source_image_id);
  CREATE INDEX faces_by_crop ON faces(dataset_id, crop_path);
  -- a person's "this is not a face", kept by content so that it survives a re-scan or a move
  CREATE TABLE face_drops (
    dataset_id    INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    source_sha256 TEXT NOT NULL,
    face_index    INTEGER NOT NULL,
    dropped_at    TEXT NOT NULL,
    PRIMARY KEY (dataset_id, source_sha256, face_index)
  ) WITHOUT ROWID;
  `,
  // 6: face geometry drawn by a person: one face per image, per task and point scheme. Landmarks
  //    and pose are JSON in photo pixels / degrees; a parsing correction is a PNG label map of the
  //    image's size. `source` is where the person started from: a run's prediction ('run:<id>'),
  //    the bundled face mesh ('mesh'), or nothing ('hand'). Kept when the image is re-scanned.
  `
  CREATE TABLE geometry_labels (
    image_id    INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    task        TEXT NOT NULL CHECK (task IN ('landmarks', 'pose', 'parsing')),
    scheme      TEXT NOT NULL,                   -- 300w-68 | wflw-98 | aflw-19; ypr; lapa-11 | celebamask-19
    value       TEXT,                            -- JSON: {"points": [[x, y], ...]} or {"yaw", "pitch", "roll", "from"}
    mask        BLOB,                            -- parsing: PNG label map (8-bit grey, class index per pixel)
    source      TEXT NOT NULL,
    labeller    TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (image_id, task, scheme),
    CHECK ((task = 'parsing') = (mask IS NOT NULL)),
    CHECK ((task = 'parsing') = (value IS NULL))
  ) WITHOUT ROWID;
  CREATE INDEX geometry_labels_by_task ON geometry_labels(task, scheme);
  `,
];
