/**
 * Air gap: bundles to and from an offline party (docs/offline.md, docs/bundles.md). Sending: what
 * waits for an offline party — its outbox, `GET /v1/parties/{id}/outbox`, sealed by the
 * coordinator at each read — or a bundle file the user picks, shown as animated QR frames
 * (packages/airgap's UR fountain code at a chosen density and speed) for the vault's camera.
 * Receiving: the party's answer read back from photos or screenshots of its frames (or the camera,
 * where the browser allows it), or from its bundle file, then posted to the coordinator's inbox
 * (`POST /v1/parties/{id}/inbox`, `{"bundle": hex}`), whose refusals are shown by their code.
 * Each bundle's header is shown, and its signature checked when its sender is pinned.
 */

import type { DensityPreset, ErrorCorrection, FrameAssembler } from '../../vendor/airgap.js';
import { inboxReceiptDecoder, outboxDecoder, partiesDecoder } from '../api-types.js';
import { type BundleSummary, bundleSignedBy, readBundleSummary } from '../bundle-header.js';
import { fill, h, saveLink } from '../dom.js';
import { ConsoleError } from '../errors.js';
import { when } from '../format.js';
import { fromHex, toHex } from '../hex.js';
import { inboxProblemBox } from '../inbox-problem.js';
import { badge, type Page, type PageContext, page, problemBox } from '../page.js';
import { loadPins } from '../trust-store.js';

const airgap = () => import('../../vendor/airgap.js');
/** A photo of a screen larger than this is refused before decoding (packages/airgap's MAX_PNG_PIXELS). */
const MAX_PIXELS = 4096 * 4096;
/** Pixels per QR module, and the quiet zone in modules (ISO/IEC 18004 asks for 4). */
const SCALE = 4;
const QUIET = 4;

/** What the file pickers offer: a `.glacis-bundle` file (docs/bundles.md), as the CLIs write it. */
const BUNDLE_ACCEPT = '.glacis-bundle,application/vnd.glacis.bundle,application/octet-stream';
const bytesOf = async (file: File) => new Uint8Array(await file.arrayBuffer());
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Draws one frame's QR symbol on `canvas`. */
async function drawFrame(canvas: HTMLCanvasElement, frame: string, ec: ErrorCorrection): Promise<number> {
  const { createQr } = await airgap();
  const symbol = createQr([{ data: frame, mode: 'alphanumeric' }], { errorCorrectionLevel: ec });
  const n = symbol.modules.size;
  const side = (n + 2 * QUIET) * SCALE;
  canvas.width = side;
  canvas.height = side;
  const g = canvas.getContext('2d');
  if (g === null) throw new ConsoleError('unsupported_browser', 'no 2D canvas');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, side, side);
  g.fillStyle = '#000';
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) if (symbol.modules.get(r, c)) g.fillRect((c + QUIET) * SCALE, (r + QUIET) * SCALE, SCALE, SCALE);
  return symbol.version;
}

/** The header of a bundle, and whether its signature is its pinned sender's. */
async function summaryBlock(ctx: PageContext, bytes: Uint8Array, s: BundleSummary): Promise<HTMLElement> {
  const pinned = loadPins()[s.sender];
  const signed = pinned === undefined ? undefined : await bundleSignedBy(ctx.subtle, bytes, fromHex(pinned, 'pin'));
  return h(
    'dl',
    { class: 'fields bundle-summary' },
    h('dt', null, 'From'),
    h(
      'dd',
      { class: 'sender' },
      s.sender,
      ' ',
      signed === undefined
        ? badge('warn', 'signature not checked: sender not pinned')
        : signed
          ? badge('ok', '✔ signed by the pinned key')
          : badge('bad', '✖ NOT signed by the pinned key'),
    ),
    h('dt', null, 'To'),
    h('dd', { class: 'recipient' }, s.recipient),
    h('dt', null, 'Sequence'),
    h('dd', null, s.sequence),
    h('dt', null, 'Bundle id'),
    h('dd', { class: 'hex' }, s.bundleId),
    h('dt', null, 'Created'),
    h('dd', null, when(new Date(s.createdAt).toISOString()), ' (the sender’s clock)'),
    h('dt', null, 'Items'),
    h('dd', null, `${s.itemCount} in ${s.length} bytes`),
  );
}

/** Sending: an offline party's outbox, or a bundle file, as animated QR frames. */
function sendSection(ctx: PageContext, offline: readonly string[] | Error): HTMLElement {
  const parties = offline instanceof Error ? [] : offline;
  const party = h(
    'select',
    { id: 'outbox-party', disabled: parties.length === 0 },
    parties.map((p) => h('option', { value: p, selected: p === ctx.arg }, p)),
  );
  const read = h('button', { type: 'button', id: 'outbox-read', disabled: parties.length === 0 }, 'Read its outbox');
  const file = h('input', { id: 'bundle-file', type: 'file', accept: BUNDLE_ACCEPT });
  const density = h(
    'select',
    { id: 'qr-density' },
    (['low', 'medium', 'high'] as const).map((d) => h('option', { value: d, selected: d === 'medium' }, d)),
  );
  const speed = h('input', { id: 'qr-fps', type: 'number', min: 1, max: 20, value: 4 });
  const canvas = h('canvas', { class: 'qr', id: 'qr', role: 'img', 'aria-label': 'QR frame' });
  const counter = h('p', { id: 'frame-counter', role: 'status' });
  const play = h('button', { type: 'button', id: 'qr-play' }, 'Pause');
  const prev = h('button', { type: 'button', id: 'qr-prev', class: 'small' }, '◀ Frame');
  const next = h('button', { type: 'button', id: 'qr-next', class: 'small' }, 'Frame ▶');
  const info = h('div', { id: 'bundle-info' });
  const stage = h('div', { class: 'qr-stage', hidden: true }, canvas, h('div', null, counter, h('p', null, prev, ' ', play, ' ', next)));
  /** The bundle on show and where it came from (a density change redraws it, it does not fetch again). */
  let current: { bytes: Uint8Array; source: HTMLElement } | undefined;
  let frames: string[] = [];
  let ec: ErrorCorrection = 'M';
  let index = 0;
  let timer: number | undefined;
  const stop = () => {
    if (timer !== undefined) window.clearInterval(timer);
    timer = undefined;
    play.textContent = 'Play';
  };
  ctx.signal.addEventListener('abort', stop);
  const show = async (i: number) => {
    index = (i + frames.length) % frames.length;
    const version = await drawFrame(canvas, frames[index] as string, ec);
    canvas.dataset.frame = String(index);
    counter.textContent = `frame ${index + 1} of ${frames.length} (QR version ${version}, error correction ${ec})`;
  };
  const start = () => {
    stop();
    const fps = Math.min(20, Math.max(1, Number(speed.value) || 4));
    timer = window.setInterval(() => {
      show(index + 1).catch(stop);
    }, 1000 / fps);
    play.textContent = 'Pause';
  };
  const present = async () => {
    if (current === undefined) return;
    stop();
    const { bytes, source } = current;
    const summary = await readBundleSummary(ctx.subtle, bytes);
    const { encodeBundleFrames, resolveDensity, isAirgapError } = await airgap();
    const preset = density.value as DensityPreset;
    try {
      frames = encodeBundleFrames(bytes, { density: preset });
    } catch (e) {
      throw isAirgapError(e) ? new ConsoleError('invalid_bundle', `${e.code}: ${e.message}`) : e;
    }
    ec = resolveDensity(preset).errorCorrection;
    fill(
      info,
      source,
      await summaryBlock(ctx, bytes, summary),
      h('p', null, `${frames.length} frames at density ${preset}: show them to ${summary.recipient}’s camera until it has the bundle.`),
    );
    stage.hidden = false;
    await show(0);
    start();
  };
  const clear = (...children: HTMLElement[]) => {
    stop();
    current = undefined;
    stage.hidden = true;
    fill(info, ...children);
  };
  const readOutbox = async () => {
    const id = party.value;
    const out = await ctx.api.get(`/v1/parties/${encodeURIComponent(id)}/outbox`, outboxDecoder, ctx.signal);
    if (out.bundle === null) {
      clear(h('p', { class: 'notice', id: 'outbox-empty', role: 'status' }, `Nothing waits for ${id}: its outbox is empty.`));
      return;
    }
    const source = h(
      'p',
      { id: 'outbox-source' },
      `The outbox of ${id}, sealed for this read as bundle ${out.sequence}: ${out.items} item(s) for `,
      [
        ...out.signatureIds.map((sig) => h('code', { class: 'signature-id' }, sig)),
        ...out.keyIds.map((key) => h('span', null, 'key generation ', h('code', { class: 'key-id' }, key))),
        ...(out.operationIds ?? []).map((op) => h('span', null, 'operation ', h('code', { class: 'operation-id' }, op))),
      ].flatMap((item, i) => [i === 0 ? '' : ', ', item]),
      '. Each read seals a new bundle under a higher sequence: show the vault this one.',
    );
    current = { bytes: fromHex(out.bundle, 'outbox bundle'), source };
    await present();
  };
  const pickFile = async () => {
    const picked = file.files?.[0];
    if (picked === undefined) return;
    current = { bytes: await bytesOf(picked), source: h('p', { id: 'file-source' }, `The bundle file ${picked.name}.`) };
    await present();
  };
  const onError = (e: unknown) => clear(problemBox(e));
  read.addEventListener('click', () => readOutbox().catch(onError));
  file.addEventListener('change', () => pickFile().catch(onError));
  density.addEventListener('change', () => present().catch(onError));
  speed.addEventListener('change', () => {
    if (timer !== undefined) start();
  });
  play.addEventListener('click', () => (timer === undefined ? start() : stop()));
  prev.addEventListener('click', () => {
    stop();
    show(index - 1).catch(onError);
  });
  next.addEventListener('click', () => {
    stop();
    show(index + 1).catch(onError);
  });
  const partyNote =
    offline instanceof Error
      ? h('p', { class: 'notice' }, `The parties could not be listed (${offline.message}): pick a bundle file instead.`)
      : parties.length === 0
        ? h('p', { class: 'notice' }, 'No party of this coordinator is configured offline: pick a bundle file instead.')
        : null;
  return h(
    'section',
    { 'aria-labelledby': 'send-h' },
    h('h2', { id: 'send-h' }, 'To an offline party: what waits for it, as QR frames'),
    partyNote,
    h(
      'div',
      { class: 'qr-controls' },
      h('label', { for: 'outbox-party' }, 'Offline party'),
      h('span', null, party, ' ', read),
      h('label', { for: 'bundle-file' }, 'Or a bundle file'),
      file,
      h('label', { for: 'qr-density' }, 'Density'),
      density,
      h('label', { for: 'qr-fps' }, 'Frames per second'),
      speed,
    ),
    info,
    stage,
  );
}

/** Receiving: frames from images or the camera, or a bundle file; then the inbox. */
function receiveSection(ctx: PageContext): HTMLElement {
  const images = h('input', { id: 'frame-images', type: 'file', accept: 'image/*', multiple: true });
  const bundleFile = h('input', { id: 'response-file', type: 'file', accept: BUNDLE_ACCEPT });
  const progress = h('p', { id: 'scan-progress', role: 'status' }, 'No frame read yet.');
  const skipped = h('ul', { id: 'scan-skipped' });
  const result = h('div', { id: 'response' });
  const video = h('video', { class: 'camera', hidden: true, muted: true, playsinline: true });
  const camera = h('button', { type: 'button', id: 'camera' }, 'Scan with the camera');
  let assembler: FrameAssembler | undefined;
  let stream: MediaStream | undefined;
  const stopCamera = () => {
    for (const t of stream?.getTracks() ?? []) t.stop();
    stream = undefined;
    video.hidden = true;
    camera.textContent = 'Scan with the camera';
  };
  ctx.signal.addEventListener('abort', stopCamera);

  const received = async (bytes: Uint8Array) => {
    stopCamera();
    const summary = await readBundleSummary(ctx.subtle, bytes);
    const outcome = h('div', { id: 'inbox-outcome', role: 'status' });
    const post = h('button', { type: 'button', id: 'post-inbox' }, `Deliver to the coordinator (POST /v1/parties/${summary.sender}/inbox)`);
    post.addEventListener('click', () => {
      post.disabled = true;
      const path = `/v1/parties/${encodeURIComponent(summary.sender)}/inbox`;
      ctx.api.post(path, { bundle: toHex(bytes) }, inboxReceiptDecoder, { signal: ctx.signal }).then(
        (r) => {
          post.textContent = 'Delivered';
          fill(
            outcome,
            h(
              'p',
              { class: 'verified', id: 'inbox-accepted' },
              `Delivered: the coordinator accepted bundle ${r.sequence} from ${r.partyId}, with ${r.answers} answer(s) and ${r.commitments} preprocessed commitment(s).`,
            ),
          );
        },
        (e: unknown) => {
          post.disabled = false;
          fill(outcome, inboxProblemBox(e, summary.sender) ?? problemBox(e));
        },
      );
    });
    const save = saveLink(
      'save-bundle',
      `${summary.sender}+${summary.recipient}+${summary.sequence}.glacis-bundle`,
      'Save the bundle file',
      () => new Blob([bytes.slice().buffer], { type: 'application/vnd.glacis.bundle' }),
    );
    fill(result, h('h3', null, 'The bundle'), await summaryBlock(ctx, bytes, summary), h('p', null, post, ' ', save), outcome);
  };
  const onError = (e: unknown) => fill(result, problemBox(e));

  const push = async (frame: string): Promise<boolean> => {
    const { createFrameAssembler } = await airgap();
    assembler ??= createFrameAssembler();
    const p = assembler.push(frame);
    if (p.state === 'complete') {
      progress.textContent = 'Transfer complete.';
      await received(p.bundle);
      return true;
    }
    progress.textContent = `${p.frames} distinct frames of a ${p.fragments}-fragment transfer: keep scanning.`;
    return false;
  };

  const scan = async (source: CanvasImageSource, width: number, height: number): Promise<string | null> => {
    if (width * height > MAX_PIXELS)
      throw new ConsoleError('invalid_bundle', `an image of ${width} × ${height} pixels is too large to read`);
    const canvas = new OffscreenCanvas(width, height);
    const g = canvas.getContext('2d');
    if (g === null) throw new ConsoleError('unsupported_browser', 'no 2D canvas');
    g.drawImage(source, 0, 0);
    const { jsQR } = await airgap();
    return jsQR(g.getImageData(0, 0, width, height).data, width, height)?.data ?? null;
  };

  images.addEventListener('change', () => {
    (async () => {
      fill(skipped);
      for (const f of Array.from(images.files ?? [])) {
        try {
          const bitmap = await createImageBitmap(f);
          const text = await scan(bitmap, bitmap.width, bitmap.height);
          bitmap.close();
          if (text === null) throw new ConsoleError('invalid_bundle', 'no QR code found');
          if (await push(text)) return;
        } catch (e) {
          const { isAirgapError } = await airgap();
          skipped.append(h('li', null, h('strong', null, f.name), `: ${isAirgapError(e) ? `${e.code}: ${e.message}` : message(e)}`));
        }
      }
    })().catch(onError);
  });
  bundleFile.addEventListener('change', () => {
    const f = bundleFile.files?.[0];
    if (f !== undefined) bytesOf(f).then(received).catch(onError);
  });
  camera.addEventListener('click', () => {
    if (stream !== undefined) {
      stopCamera();
      return;
    }
    if (navigator.mediaDevices?.getUserMedia === undefined) {
      progress.textContent = 'This browser offers no camera here (it needs https:// or localhost, and a camera).';
      return;
    }
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: 'environment' } })
      .then(async (s) => {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        camera.textContent = 'Stop the camera';
        await video.play();
        const tick = async () => {
          if (stream !== s || ctx.signal.aborted) return;
          const text = video.videoWidth > 0 ? await scan(video, video.videoWidth, video.videoHeight) : null;
          if (text !== null && (await push(text).catch(() => false))) return;
          window.setTimeout(() => tick().catch(onError), 150);
        };
        await tick();
      })
      .catch((e: unknown) => {
        progress.textContent = `No camera: ${message(e)}`;
      });
  });
  const reset = h('button', { type: 'button', class: 'small', id: 'scan-reset' }, 'Start over');
  reset.addEventListener('click', () => {
    assembler = undefined;
    progress.textContent = 'No frame read yet.';
    fill(skipped);
    fill(result);
  });
  return h(
    'section',
    { 'aria-labelledby': 'receive-h' },
    h('h2', { id: 'receive-h' }, 'From an offline party: its answer'),
    h(
      'div',
      { class: 'qr-controls' },
      h('label', { for: 'frame-images' }, 'Photos or screenshots of its frames'),
      images,
      h('span', null, 'Or'),
      h('span', null, camera),
      h('label', { for: 'response-file' }, 'Or its bundle file'),
      bundleFile,
    ),
    video,
    h('p', null, progress, ' ', reset),
    skipped,
    result,
  );
}

/** The offline parties, for the outbox; the error when they cannot be listed (the file still works). */
async function offlineParties(ctx: PageContext): Promise<string[] | Error> {
  try {
    const { parties } = await ctx.api.get('/v1/parties', partiesDecoder, ctx.signal);
    return parties.filter((p) => p.mode === 'offline').map((p) => p.partyId);
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    return e instanceof Error ? e : new Error(String(e));
  }
}

async function render(ctx: PageContext): Promise<void> {
  fill(ctx.main, h('h1', null, 'Air gap'), sendSection(ctx, await offlineParties(ctx)), receiveSection(ctx));
}

export const airgapPage: Page = page('airgap', 'Air gap', render);
