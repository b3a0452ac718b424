/**
 * The renderer's one connection to the app: the contract's client over the Electron bridge (the
 * preload's named functions) or, in browser mode, HTTP for calls and a WebSocket for
 * subscriptions (the page's cookie carries the token). A dropped socket is reconnected and the
 * subscriptions are made again; `connected` tells the views.
 */
import { ThumbFailure } from './thumb-loader.js';
import { ref } from 'vue';
import { z } from 'zod';
import {
  ApiCallError,
  ApiClient,
  httpCalls,
  webSocketTransport,
  type Transport,
} from '../../electron/common/client.js';
import type { BridgeOpName, BridgeTopicName, CamdBridge, Envelope } from '../../electron/common/bridge.js';

// Zod compiles fast paths with `new Function` unless told not to; the CSP forbids eval.
z.config({ jitless: true });

export const connected = ref(false);

/** Subscriptions that survive reconnections. */
interface Sub {
  topic: string;
  params: unknown;
  onEvent: (d: unknown) => void;
  off: (() => void) | null;
}

function browserTransport(): Transport {
  const calls = httpCalls('', ((url: string, init: RequestInit) => fetch(url, init)) as never);
  const subs = new Set<Sub>();
  let socket: Transport;
  let retry = 500;
  const open = () => {
    socket = webSocketTransport(
      `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws`,
      WebSocket as never,
      calls,
      {
        onOpen: () => {
          connected.value = true;
          retry = 500;
          // subscriptions made before (or before a reconnection) are made on this socket
          for (const s of subs) void socket.subscribe(s.topic, s.params, s.onEvent).then((off) => (s.off = off));
        },
        onClose: () => {
          connected.value = false;
          for (const s of subs) s.off = null;
          setTimeout(open, retry);
          retry = Math.min(retry * 2, 10_000);
        },
      },
    );
  };
  open();
  return {
    call: calls,
    subscribe: async (topic, params, onEvent) => {
      const s: Sub = { topic, params, onEvent, off: null };
      subs.add(s);
      if (connected.value) s.off = await socket.subscribe(topic, params, onEvent);
      return () => {
        subs.delete(s);
        s.off?.();
      };
    },
    close: () => socket.close(),
  };
}

function unwrap<T>(r: Envelope<T>): T {
  if (r.error) throw new ApiCallError(r.error);
  return r.result as T;
}

function electronTransport(bridge: CamdBridge): Transport {
  connected.value = true;
  return {
    call: async (op, params) => {
      const fn = bridge.ops[op as BridgeOpName];
      if (!fn) throw new ApiCallError({ message: `unknown operation '${op}'`, cause: 'not-found' });
      return unwrap(await fn(params));
    },
    subscribe: async (topic, params, onEvent) => {
      const fn = bridge.topics[topic as BridgeTopicName];
      if (!fn) throw new ApiCallError({ message: `unknown topic '${topic}'`, cause: 'not-found' });
      const { id } = unwrap(await fn(params, onEvent));
      return () => bridge.unsubscribe(id);
    },
    close: () => undefined,
  };
}

export const api = new ApiClient(window.camd ? electronTransport(window.camd) : browserTransport());

/** The message of a failure, for a form or a banner. */
export function messageOf(e: unknown): string {
  if (e instanceof ApiCallError) return e.error.message;
  return e instanceof Error ? e.message : String(e);
}

/** The spec field a failure points at, if any. */
export function fieldOf(e: unknown): string | undefined {
  return e instanceof ApiCallError ? e.error.field : undefined;
}

/** Where an image of the store is served (by id). */
export function imageSrc(id: number, kind: 'thumb' | 'file', size = 256): string {
  return window.camd
    ? `camd://app/api/images/${id}/${kind}${kind === 'thumb' ? `?size=${size}` : ''}`
    : `/api/images/${id}/${kind}${kind === 'thumb' ? `?size=${size}` : ''}`;
}

/** One thumbnail of the store, fetched (so that it can be cancelled): a ThumbFailure with the host's status when it is refused. */
export async function fetchThumb(id: number, size: number, signal: AbortSignal): Promise<Blob> {
  const r = await fetch(imageSrc(id, 'thumb', size), { signal });
  if (!r.ok) throw new ThumbFailure(r.status);
  return r.blob();
}

/** A label export as a download (an attachment: the browser's download, the desktop's save dialog). */
export function labelDownload(
  schema: number,
  format: 'csv' | 'full' | 'celeba',
  labels: 'human' | 'human+accepted',
): string {
  const q = new URLSearchParams({ schema: String(schema), format, labels });
  return `${window.camd ? 'camd://app' : ''}/api/downloads/labels?${q.toString()}`;
}
