/**
 * An offline (air-gapped) party's outbox and inbox (docs/offline.md). The outbox is the bundle of
 * what waits for the party — signing packages of running requests, messages of running DKGs — built and signed by the
 * coordinator when asked, bound to the party, under a sequence the party has not seen; as JSON
 * with the bundle in hex, as the raw bundle, or as animated-QR frames. The inbox takes a bundle
 * from the party: strictly checked (orchestrator/offline-inbox.ts), all of it or nothing.
 */
import { encodeBundleFrames, renderFramePng, resolveDensity } from '@glacis/airgap';
import { fromHex, toHex } from '@glacis/protocol';
import type { FastifyReply } from 'fastify';
import type { RouteDeps, ZodApp } from './context.js';
import { inboxBody, inboxReceiptSchema, outboxQuery, outboxSchema, partyParams, problems } from './schemas.js';

const security = [{ bearerAuth: [] }];
/** Media type of a raw bundle. */
export const BUNDLE_MEDIA_TYPE = 'application/vnd.glacis.bundle';
// A bundle is at most 4 MiB; hex doubles it.
const INBOX_BODY_LIMIT = 9 * 1024 * 1024;

export function offlineRoutes(app: ZodApp, deps: RouteDeps): void {
  const { orchestrator } = deps;

  app.get(
    '/v1/parties/:partyId/outbox',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: "An offline party's pending bundle",
        security,
        params: partyParams,
        querystring: outboxQuery,
        response: {
          200: outboxSchema,
          ...problems(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const { format, density } = request.query;
      const out = await orchestrator.offlineOutbox(request.params.partyId);
      if (format === 'bundle') {
        // Raw bytes (or none), not the JSON schema's object: fastify sends a Buffer as it is, unserialized.
        const raw = reply as FastifyReply;
        if (!out.bundle) return raw.code(204).send();
        return raw
          .type(BUNDLE_MEDIA_TYPE)
          .header('Content-Disposition', `attachment; filename="coordinator+${out.partyId}+${out.sequence}.glacis-bundle"`)
          .send(Buffer.from(out.bundle));
      }
      const body = {
        partyId: out.partyId,
        bundle: out.bundle ? toHex(out.bundle) : null,
        sequence: out.sequence,
        signatureIds: out.signatureIds,
        keyIds: out.keyIds,
        operationIds: out.operationIds,
        items: out.items,
      };
      if (format !== 'qr' || !out.bundle) return body;
      const { errorCorrection } = resolveDensity(density);
      const urs = encodeBundleFrames(out.bundle, { density });
      const frames = await Promise.all(
        urs.map(async (ur) => ({ ur, png: Buffer.from(await renderFramePng(ur, { errorCorrection })).toString('base64') })),
      );
      return { ...body, frames };
    },
  );

  app.post(
    '/v1/parties/:partyId/inbox',
    {
      bodyLimit: INBOX_BODY_LIMIT,
      config: { roles: ['admin'] },
      schema: {
        summary: 'A bundle from an offline party: its preprocessed commitments and its answers',
        security,
        params: partyParams,
        body: inboxBody,
        response: { 200: inboxReceiptSchema, ...problems(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (request) => orchestrator.offlineInbox(request.params.partyId, fromHex(request.body.bundle)),
  );
}
