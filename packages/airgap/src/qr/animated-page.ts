/**
 * The frames as one self-contained HTML page that cycles them, for the screen a camera scans:
 * every image inline as a data: URI, no external resource, and a Content-Security-Policy in the
 * page itself that allows nothing but its own inline blocks (by SHA-256 hash) and data: images.
 * Two variants: `script` (a small script cycles the frames, shows "frame i / n", pauses on a click
 * or the space bar) and `css` (a CSS animation, no script at all, for viewers that run none).
 */
import { createHash } from 'node:crypto';

/** Options for `renderAnimatedPage`. */
export interface AnimatedPageOptions {
  /** Shown above the code: what is being carried (escaped here). */
  readonly title: string;
  /** Frames a second, 1 to 30 (default 4: most phone scanners keep up). */
  readonly framesPerSecond?: number;
  readonly variant?: 'script' | 'css';
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const cspHash = (block: string) => `'sha256-${createHash('sha256').update(block, 'utf8').digest('base64')}'`;

/** The same for every page, so its hash is too; the interval comes from a data attribute. */
const CYCLE_SCRIPT = `(() => {
  const box = document.getElementById('frames');
  const frames = [...box.querySelectorAll('img')];
  const counter = document.getElementById('counter');
  let i = 0;
  let paused = false;
  const show = () => {
    frames.forEach((f, j) => { f.hidden = j !== i; });
    counter.textContent = 'frame ' + (i + 1) + ' / ' + frames.length + (paused ? ' (paused)' : '');
  };
  const toggle = () => { paused = !paused; show(); };
  box.addEventListener('click', toggle);
  document.addEventListener('keydown', (e) => { if (e.key === ' ') { e.preventDefault(); toggle(); } });
  setInterval(() => { if (!paused) { i = (i + 1) % frames.length; show(); } }, Number(box.dataset.intervalMs));
  show();
})();`;

const BASE_STYLE = `body{margin:0;background:#fff;color:#000;font:16px system-ui,sans-serif;text-align:center}
h1{font-size:18px;margin:12px}#frames{position:relative;display:inline-block;cursor:pointer}
#frames img{display:block;image-rendering:pixelated;width:min(90vmin,720px);height:auto}
#frames img[hidden]{display:none}
#counter,p{margin:8px;color:#333}`;

/** The page, as HTML text. `pngs` are the frames in display order. */
export function renderAnimatedPage(pngs: readonly Uint8Array[], opts: AnimatedPageOptions): string {
  const fps = opts.framesPerSecond ?? 4;
  if (!(Number.isInteger(fps) && fps >= 1 && fps <= 30)) throw new RangeError('framesPerSecond: an integer from 1 to 30');
  if (pngs.length === 0) throw new RangeError('no frames');
  const variant = opts.variant ?? 'script';
  const imgs = pngs.map(
    (png, i) =>
      `<img alt="QR frame ${i + 1}"${variant === 'script' && i > 0 ? ' hidden' : ''} src="data:image/png;base64,${Buffer.from(png).toString('base64')}">`,
  );
  let style = BASE_STYLE;
  let script = '';
  if (variant === 'script') {
    script = CYCLE_SCRIPT;
  } else {
    // Each frame is visible for the first 1/n of a period of n/fps seconds, started i/fps late.
    const period = pngs.length / fps;
    const share = 100 / pngs.length;
    style += `\n#frames img{visibility:hidden;animation:glacis-cycle ${period}s step-end infinite}
#frames img:not(:first-child){position:absolute;top:0;left:0}
@keyframes glacis-cycle{0%{visibility:visible}${share.toFixed(4)}%{visibility:hidden}}
${pngs.map((_, i) => `#frames img:nth-child(${i + 1}){animation-delay:${(i / fps).toFixed(3)}s}`).join('\n')}`;
  }
  const csp = [
    "default-src 'none'",
    'img-src data:',
    `style-src ${cspHash(style)}`,
    `script-src ${script === '' ? "'none'" : cspHash(script)}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const help = variant === 'script' ? 'Click or press space to pause.' : 'The frames cycle by themselves; no script runs.';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.title)}</title>
<style>${style}</style>
</head>
<body>
<h1>${escapeHtml(opts.title)}</h1>
<div id="frames" data-interval-ms="${Math.round(1000 / fps)}">
${imgs.join('\n')}
</div>
<p id="counter">${pngs.length} frames, ${fps} a second</p>
<p>Scan until the reader reports the transfer complete; frames may be missed, in any order. ${help}</p>
${script === '' ? '' : `<script>${script}</script>\n`}</body>
</html>
`;
}
