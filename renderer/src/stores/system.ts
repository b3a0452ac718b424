/** System information (backends, versions, data folder), asked once and on demand. */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api } from '../api.js';
import type { OpResult } from '../../../electron/common/contract.js';

export type BackendReport = {
  loaded?: boolean;
  reason?: string;
  package?: string;
  version?: string;
  [k: string]: unknown;
};

export const useSystem = defineStore('system', () => {
  const info = ref<OpResult<'system.info'> | null>(null);
  let pending: Promise<void> | null = null;

  function load(force = false): Promise<void> {
    if (force) pending = null;
    pending ??= api.call('system.info', {}).then((i) => void (info.value = i));
    return pending;
  }

  /** Each rung of the backend ladder: whether it loads, and why not. */
  function backends(): [string, BackendReport][] {
    const b = info.value?.backends ?? {};
    return Object.entries(b).filter(([, v]) => typeof v === 'object' && v !== null) as [string, BackendReport][];
  }

  return { info, load, backends };
});
