/**
 * ROAST sessions and signature shares per signature over a window, from the coordinator's own
 * counters (`/metrics`: glacis_roast_sessions_total, glacis_signature_shares_total). On the happy
 * path a t-of-n signature takes one session and t shares; every session more is signing work the
 * parties did for nothing (a redundant session, or one that replaced a stalled signer).
 */

/** The two counters, summed over their labels. */
export function parseRoastCounters(text) {
  let sessions = 0;
  let shares = 0;
  for (const line of text.split('\n')) {
    const m = /^(glacis_roast_sessions_total|glacis_signature_shares_total)(?:\{[^}]*\})? ([0-9.e+]+)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'glacis_roast_sessions_total') sessions += Number(m[2]);
    else shares += Number(m[2]);
  }
  return { sessions, shares };
}

async function scrape(baseUrl, token) {
  const res = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
  return parseRoastCounters(await res.text());
}

/** Starts a window: `stop(signatures)` gives sessions and shares per signature since the start. */
export async function roastWindow(baseUrl, token) {
  const before = await scrape(baseUrl, token);
  return {
    async stop(signatures) {
      const after = await scrape(baseUrl, token);
      const per = (x) => (signatures === 0 ? undefined : x / signatures);
      return { sessionsPerSignature: per(after.sessions - before.sessions), sharesPerSignature: per(after.shares - before.shares) };
    },
  };
}
