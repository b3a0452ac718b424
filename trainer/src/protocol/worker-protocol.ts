/**
 * The `camd worker` protocol: newline-delimited JSON both ways, validated both ways.
 *
 *   in  (stdin, or Electron's process.parentPort where there is no stdin)
 *       {"cmd":"start","kind":"pretrain"|"finetune"|"eval","spec":{…}}   one job a worker
 *       {"cmd":"stop"}                                                   finish the step, write, done
 *       {"cmd":"ping","id":…}                                            answered with pong
 *   out (stdout, one object a line)
 *       {"type":"ready","pid":…,"version":"…"}   once, first
 *       {"type":"pong","id":…}
 *       every RunEvent of the job (protocol/events.ts), ending with done or error
 *
 * The worker exits when its job ends: 0 completed or stopped, else the exit code of the error's
 * cause (util/errors.ts EXIT_CODE).
 */
import { z } from 'zod';
import { RUN_KINDS, RunEvent } from './events.js';

export const WorkerCommand = z.discriminatedUnion('cmd', [
  z.object({ cmd: z.literal('start'), kind: z.enum(RUN_KINDS), spec: z.record(z.string(), z.unknown()) }).strict(),
  z.object({ cmd: z.literal('stop') }).strict(),
  z.object({ cmd: z.literal('ping'), id: z.union([z.string(), z.number()]) }).strict(),
]);
export type WorkerCommand = z.infer<typeof WorkerCommand>;

export const ReadyMessage = z.object({ type: z.literal('ready'), pid: z.number().int(), version: z.string() });
export const PongMessage = z.object({ type: z.literal('pong'), id: z.union([z.string(), z.number()]) });

export const WorkerMessage = z.discriminatedUnion('type', [...RunEvent.options, ReadyMessage, PongMessage]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;
