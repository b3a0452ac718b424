/** The rungs of the backend ladder by name; BACKEND_CHOICES_TEXT reads "auto, tensorflow, webgpu, wasm or cpu" (no TensorFlow.js import: the CLI's help uses them). */
export const BACKEND_NAMES = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendChoice = 'auto' | BackendName;

export const BACKEND_CHOICES_TEXT = `auto, ${BACKEND_NAMES.slice(0, -1).join(', ')} or ${BACKEND_NAMES.at(-1)}`;

export function isBackendChoice(s: string): s is BackendChoice {
  return s === 'auto' || (BACKEND_NAMES as readonly string[]).includes(s);
}
