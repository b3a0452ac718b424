/// <reference types="vite/client" />
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

/** What the Electron preload exposes (absent in browser mode). */
interface CamdBridge {
  call(op: string, params: unknown): Promise<unknown>;
  subscribe(topic: string, params: unknown, onEvent: (data: unknown) => void): Promise<() => void>;
  /** The path of a dropped file or folder (Electron's webUtils.getPathForFile). */
  pathForFile(file: File): string;
  /** A native folder picker; null when cancelled. */
  pickFolder(): Promise<string | null>;
}
interface Window {
  camd?: CamdBridge;
}
