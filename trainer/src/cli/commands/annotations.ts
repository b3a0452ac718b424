/** `camd annotations`' subcommands and flags; the work is in cli/annotations.ts, loaded when one runs. */
import type { Command } from 'commander';
import type { AnnotationsExportOptions, AnnotationsStartOptions } from '../annotations.js';

export function addAnnotationsCommand(program: Command): void {
  const cmd = program
    .command('annotations')
    .description(
      "the face geometry people drew in the app (landmarks, head pose): where an annotation starts, and the dataset's annotations written in the datasets' formats",
    );
  cmd
    .command('start')
    .description(
      "the bundled face model's 68 points (300W order, from its mesh; or AFLW-19's 19 picked from them) on the largest face of an image: where a landmark annotation starts when no model of the scheme exists (a model's guess, to be corrected)",
    )
    .option('--image <file>', 'the image')
    .option('--task <task>', 'landmarks, or parsing: the label map a correction starts from', 'landmarks')
    .option('--scheme <name>', "landmarks: 300w-68 (the face mesh gives no other); parsing: the map's scheme, checked")
    .option(
      '--checkpoint <file>',
      "--task parsing: a parsing model (parsing.safetensors) whose map is the start; without it the face mesh's regions (LaPa's classes)",
    )
    .option(
      '--json',
      'one JSON object: {"type":"start","points":[[x,y],…],"box":[x,y,w,h],"pose":{…}}; parsing: {"type":"start","task":"parsing","scheme",…,"png":base64}',
    )
    .action(async (opts: AnnotationsStartOptions) => (await import('../annotations.js')).startCommand(opts));
  cmd
    .command('export')
    .description(
      "write a dataset's saved landmarks, head poses or parsing label maps in a dataset format: landmarks as pts (300W: images copied with a .pts beside each), wflw (WFLW annotation list), aflw19 (HRNet's AFLW-19 CSV) or json; poses as csv, json or mat (300W-LP: images copied with Pose_Para and pt2d beside each)",
    )
    .option('--dataset <id|name>', 'the dataset, by id or name')
    .option('--task <task>', 'landmarks, pose or parsing', 'landmarks')
    .option(
      '--format <name>',
      'landmarks: pts, wflw, aflw19, json; pose: csv, json, mat; parsing: lapa (images/ and labels/*.png)',
    )
    .option(
      '--scheme <name>',
      "landmarks: 300w-68, wflw-98 or aflw-19 (default: the format's own; 300w-68 for pts and json)",
    )
    .option('--out <dir>', 'the folder to write into (made when missing)')
    .option('--db <file>', 'the store (default ~/.camd/camd.db)')
    .option('--json', 'print the report as one JSON object')
    .action(async (opts: AnnotationsExportOptions) => (await import('../annotations.js')).exportCommand(opts));
}
