import { describe, expect, test } from 'vitest';
import { createMetrics } from './metrics.js';

describe('metrics', () => {
  test('each app gets its own registry', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.orchestrator.connectedParties(3);
    expect(await a.registry.metrics()).toContain('glacis_connected_parties 3');
    expect(await b.registry.metrics()).toContain('glacis_connected_parties 0');
  });

  test('the orchestrator port feeds the session, rejection and exclusion series', async () => {
    const m = createMetrics();
    m.orchestrator.sessionEnded('dkg', 'completed', 1.5);
    m.orchestrator.sessionEnded('signing', 'insufficient_parties', 3);
    m.orchestrator.wsRejected('bad_signature');
    m.orchestrator.partyExcluded('bob');
    const text = await m.registry.metrics();
    expect(text).toContain('glacis_dkg_sessions_total{outcome="completed"} 1');
    expect(text).toContain('glacis_signing_sessions_total{outcome="insufficient_parties"} 1');
    expect(text).toContain('glacis_session_duration_seconds_count{kind="dkg"} 1');
    expect(text).toContain('glacis_ws_rejected_total{reason="bad_signature"} 1');
    expect(text).toContain('glacis_party_exclusions_total{party="bob"} 1');
  });

  test('ROAST sessions started and shares received are counted (sessions and shares per signature in the bench)', async () => {
    const m = createMetrics();
    m.orchestrator.signingSessionStarted();
    m.orchestrator.signingSessionStarted();
    m.orchestrator.signatureShareReceived('alice');
    m.orchestrator.signatureShareReceived('alice');
    m.orchestrator.signatureShareReceived('bob');
    const text = await m.registry.metrics();
    expect(text).toContain('glacis_roast_sessions_total 2');
    expect(text).toContain('glacis_signature_shares_total{party="alice"} 2');
    expect(text).toContain('glacis_signature_shares_total{party="bob"} 1');
  });
});
