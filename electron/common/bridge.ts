/**
 * What the Electron preload exposes to the renderer as `window.camd` (contextBridge): one named
 * function per operation of the contract and one per topic, and three helpers of the desktop —
 * nothing generic, no ipcRenderer. Answers are envelopes (`{ result }` or `{ error }`): an Error
 * crossing the bridge keeps only its message, an envelope keeps the contract's cause and field.
 * Types only: the preload implements it, the renderer's client uses it.
 */
import type { ApiError } from './contract.js';
import type { OP_NAMES, TOPIC_NAMES } from './names.js';

export type Envelope<T = unknown> = { result: T; error?: undefined } | { error: ApiError; result?: undefined };

export type BridgeOpName = (typeof OP_NAMES)[number];
export type BridgeTopicName = (typeof TOPIC_NAMES)[number];

export interface CamdBridge {
  /** `ops['runs.list'](params)`: one operation of the contract (params checked by the main process). */
  readonly ops: { readonly [K in BridgeOpName]: (params?: unknown) => Promise<Envelope> };
  /** `topics.run(params, onEvent)`: a subscription; its id ends it with `unsubscribe`. */
  readonly topics: {
    readonly [K in BridgeTopicName]: (
      params: unknown,
      onEvent: (data: unknown) => void,
    ) => Promise<Envelope<{ id: number }>>;
  };
  unsubscribe(id: number): void;
  /** The path of a dropped file or folder (Electron's webUtils.getPathForFile); '' when it has none. */
  pathForFile(file: File): string;
  /** The native folder picker; null when cancelled. */
  pickFolder(): Promise<string | null>;
}
