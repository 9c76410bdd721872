/**
 * One link per coordinator instance the party pins (docs/operations.md, "Several coordinators").
 * The instances share one coordinator identity key, so every link is a `CoordinatorClient` with
 * the same pinned key, and the party speaks to nothing else.
 *
 * An answer goes back over the link that carried the session's last message: the instance that
 * runs a request or a DKG is the one that sent its messages, and session ids name the instance
 * life that made them. A message of a session no link carried (a `key_sync`, or an answer whose
 * link dropped) goes over every connected link; an instance ignores what is not its own. So does
 * every message of a session all instances share (`sharedSessions`: the policy channel, whose
 * reports each instance shows and acts on).
 */
import type { Envelope } from '@glacis/protocol';
import { type CoordinatorClient, type CoordinatorClientOptions, createCoordinatorClient } from './coordinator-client.js';

export interface CoordinatorLinksOptions extends Omit<CoordinatorClientOptions, 'url'> {
  /** Every pinned instance's party endpoint (ws:// or wss://); at least one. */
  urls: readonly string[];
  /** Session ids that name no one instance: what the party sends in them goes to every instance. */
  sharedSessions?: readonly string[];
}

/** Sessions remembered per link; far more than are ever open at once. */
const MAX_ROUTES = 10_000;

/** Links to every instance, behaving as one CoordinatorClient: connected while any link is. */
export function createCoordinatorLinks(o: CoordinatorLinksOptions): CoordinatorClient {
  if (o.urls.length === 0) throw new RangeError('createCoordinatorLinks: no coordinator URL');
  const route = new Map<string, CoordinatorClient>(); // sessionId → the link that carried it last
  const shared = new Set(o.sharedSessions ?? []);
  let up = 0;
  const links: CoordinatorClient[] = o.urls.map((url) => {
    const link: CoordinatorClient = createCoordinatorClient({
      ...o,
      url,
      onEnvelope(env) {
        if (!shared.has(env.sessionId)) {
          route.delete(env.sessionId);
          route.set(env.sessionId, link);
          if (route.size > MAX_ROUTES) route.delete(route.keys().next().value as string);
        }
        o.onEnvelope(env);
      },
      onConnected() {
        up++;
        o.onConnected();
      },
      onDisconnected() {
        up--;
        if (up === 0) o.onDisconnected();
      },
    });
    return link;
  });
  if (links.length === 1) return links[0] as CoordinatorClient;

  return {
    get connected() {
      return links.some((l) => l.connected);
    },
    start() {
      for (const l of links) l.start();
    },
    send(env: Envelope) {
      const via = route.get(env.sessionId);
      if (via?.send(env)) return true;
      let sent = false;
      for (const l of links) sent = l.send(env) || sent;
      return sent;
    },
    async stop() {
      await Promise.all(links.map((l) => l.stop()));
    },
  };
}
