/// <reference types="vite/client" />
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

/** What the Electron preload exposes (absent in browser mode): electron/common/bridge.ts. */
interface Window {
  camd?: import('../../electron/common/bridge.js').CamdBridge;
}
