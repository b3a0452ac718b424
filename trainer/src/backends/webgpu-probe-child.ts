/**
 * Run as a child process by the webgpu rung before it touches Dawn in-process: asks Dawn for an
 * adapter and prints it as one JSON line. Dawn writes its reasons (and noise) to the native
 * stderr, which the parent captures for the diagnosis instead of the user's terminal.
 */
import { adapterOptions, describeAdapter, gpuEntry } from './webgpu.js';

const software = process.argv.includes('--software');
const gpu = await gpuEntry(software);
const adapter = gpu ? await gpu.requestAdapter(adapterOptions(software)) : null;
process.stdout.write(
  `${JSON.stringify({ package: gpu !== null, adapter: adapter ? describeAdapter(adapter) : null })}\n`,
);
process.exit(0);
