/**
 * The services' event bus: what changes (runs, jobs, datasets, a run's events, metric points) is
 * published once by topic; each transport's subscriptions listen here. Listeners are isolated: a
 * failing one never stops the others or the publisher.
 */
import type { RunEvent } from 'camd-studio/trainer/protocol';
import type { TopicEvent, TopicName } from '../common/contract.js';

/** What is published by topic; a run's events carry the run they belong to (subscribers filter on it). */
export type BusEvent<K extends TopicName> = K extends 'run' ? { run: string; event: RunEvent } : TopicEvent<K>;

type Listener<K extends TopicName> = (e: BusEvent<K>) => void;

export class EventBus {
  private readonly listeners = new Map<TopicName, Set<Listener<TopicName>>>();

  on<K extends TopicName>(topic: K, fn: Listener<K>): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(fn as Listener<TopicName>);
    return () => set.delete(fn as Listener<TopicName>);
  }

  emit<K extends TopicName>(topic: K, e: BusEvent<K>): void {
    for (const fn of this.listeners.get(topic) ?? []) {
      try {
        fn(e);
      } catch {
        /* a broken subscriber (a closed socket…) must not stop the others */
      }
    }
  }

  /** Listeners of a topic (for tests and diagnostics). */
  count(topic: TopicName): number {
    return this.listeners.get(topic)?.size ?? 0;
  }
}
