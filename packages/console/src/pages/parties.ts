/**
 * Parties: connection, last seen, mode, policy version, keys needing repair (the fields
 * `GET /v1/parties` has; those still to come are shown when they arrive), readiness, exclusions,
 * smoothed latency and a chart of the last hour (`GET /v1/latency`), and whether the identity key
 * the coordinator pins is the one the user pinned. Refreshes every 10 s.
 */
import { type LatencySummary, latencyDecoder, type Party, partiesDecoder } from '../api-types.js';
import { latencyChart } from '../chart.js';
import { fill, h } from '../dom.js';
import { isConsoleError } from '../errors.js';
import { ago, shortHex, when } from '../format.js';
import { badge, type Page, type PageContext, page } from '../page.js';
import { loadPins } from '../trust-store.js';

const REFRESH_MS = 10_000;

const optional = <T>(v: T | undefined, show: (v: T) => string | HTMLElement): string | HTMLElement => (v === undefined ? '—' : show(v));

function identityCell(p: Party, pins: Readonly<Record<string, string>>): HTMLElement {
  const pin = pins[p.partyId];
  const key = h('span', { class: 'hex', title: p.identityKey }, shortHex(p.identityKey, 12));
  if (pin === undefined) return h('span', null, key, ' ', badge('warn', 'not pinned'));
  if (pin !== p.identityKey) return h('span', null, key, ' ', badge('bad', 'DIFFERS from your pin'));
  return h('span', null, key, ' ', badge('ok', 'matches your pin'));
}

async function load(ctx: PageContext): Promise<{ parties: Party[]; latency: LatencySummary | undefined }> {
  const { parties } = await ctx.api.get('/v1/parties', partiesDecoder, ctx.signal);
  let latency: LatencySummary | undefined;
  try {
    latency = await ctx.api.get('/v1/latency', latencyDecoder, ctx.signal);
  } catch (e) {
    // An older coordinator without the summary: the table goes on without charts.
    if (!(isConsoleError(e, 'http') && e.status === 404)) throw e;
  }
  return { parties, latency };
}

function draw(ctx: PageContext, parties: readonly Party[], latency: LatencySummary | undefined): void {
  const pins = loadPins();
  const now = ctx.now();
  const connected = parties.filter((p) => p.connected).length;
  fill(
    ctx.main,
    h('h1', null, 'Parties'),
    h(
      'p',
      null,
      `${connected} of ${parties.length} parties connected. Updated ${new Date(now).toLocaleTimeString()}; refreshes every ${REFRESH_MS / 1000} s.`,
    ),
    h(
      'table',
      { class: 'list', id: 'parties' },
      h('caption', null, 'Every configured party as the coordinator sees it; signing latency per minute over the last hour'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...[
            'Party',
            'Connection',
            'Last seen',
            'Mode',
            'Policy version',
            'Needs repair',
            'Ready',
            'Excluded',
            'Latency',
            'Last hour',
            'Identity key',
          ].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        null,
        parties.map((p) => {
          const buckets = latency?.parties.find((x) => x.partyId === p.partyId)?.buckets ?? [];
          return h(
            'tr',
            { 'data-party': p.partyId },
            h('th', { scope: 'row' }, p.partyId),
            h('td', null, p.connected ? badge('ok', '● connected') : badge('bad', '○ disconnected')),
            h('td', { title: when(p.lastSeenAt) }, ago(p.lastSeenAt, now)),
            h(
              'td',
              null,
              optional(p.mode, (m) => m),
            ),
            h(
              'td',
              null,
              optional(p.policyVersion, (v) => (v === null ? '—' : String(v))),
            ),
            h(
              'td',
              null,
              optional(p.needsRepair, (keys) => (keys.length === 0 ? 'none' : badge('bad', keys.join(', ')))),
            ),
            h('td', null, optional(p.ready, String)),
            h('td', null, optional(p.excludedCount, String)),
            h(
              'td',
              null,
              optional(p.latencyMs, (ms) => (ms === null ? '—' : `${ms.toFixed(1)} ms`)),
            ),
            h(
              'td',
              null,
              latency === undefined
                ? '—'
                : latencyChart(p.partyId, buckets, {
                    windowSeconds: latency.windowSeconds,
                    bucketSeconds: latency.bucketSeconds,
                    nowMs: now,
                  }),
            ),
            h('td', null, identityCell(p, pins)),
          );
        }),
      ),
    ),
  );
}

export const partiesPage: Page = page('parties', 'Parties', async (ctx) => {
  const { parties, latency } = await load(ctx);
  draw(ctx, parties, latency);
  ctx.status(`${parties.length} parties loaded`);
  ctx.every(REFRESH_MS, async () => {
    const next = await load(ctx);
    draw(ctx, next.parties, next.latency);
  });
});
